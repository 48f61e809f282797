/*
 * What the kiosk prints: formatting, receipt documents (size, ink, the logical text, RTL and
 * LTR rows, numbers in order, wrapping), the card face, and the sample receipt and a card
 * going through the real drivers into the device models, written as PNGs in the build
 * directory (argv[1]) for a person to look at.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/host/escpos/escpos-receipt.h"
#include "drivers/host/evolis/evolis-card.h"
#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/core/image.h"
#define LOG_MODULE "test-print"
#include "kiosk/core/log.h"
#include "kiosk/print/print.h"
#include "tests/common/devloop.h"

static struct text_engine *engine;
static struct i18n *i18n; /* this build's catalogues (build/locales) */
static const char *out_dir = ".";

static void test_format(void)
{
	char b[64];
	g_assert_cmpstr(print_format_fils(0, b, sizeof(b)), ==, "0.00");
	g_assert_cmpstr(print_format_fils(5, b, sizeof(b)), ==, "0.05");
	g_assert_cmpstr(print_format_fils(15000, b, sizeof(b)), ==, "150.00");
	g_assert_cmpstr(print_format_fils(100000, b, sizeof(b)), ==, "1,000.00");
	g_assert_cmpstr(print_format_fils(123456789, b, sizeof(b)), ==, "1,234,567.89");
	g_assert_cmpstr(print_format_fils(-50, b, sizeof(b)), ==, "-0.50");
	g_assert_cmpstr(print_format_fils(INT64_MAX, b, sizeof(b)), ==,
		"92,233,720,368,547,758.07");
	g_assert_cmpstr(print_format_fils(INT64_MIN, b, sizeof(b)), ==,
		"-92,233,720,368,547,758.08");
	g_assert_cmpstr(print_format_time(1805005920, b, sizeof(b)), ==, "2027-03-14 10:32");
	g_assert_cmpstr(print_format_time(0, b, sizeof(b)), ==, "1970-01-01 04:00");
	g_assert_cmpstr(print_format_card_number("6001234567890123", false, b, sizeof(b)), ==,
		"6001 2345 6789 0123");
	g_assert_cmpstr(print_format_card_number("6001234567890123", true, b, sizeof(b)), ==,
		"•••• •••• •••• 0123");
	g_assert_cmpstr(print_format_card_number("12345", false, b, sizeof(b)), ==, "1234 5");
	g_assert_cmpstr(print_format_card_number("6001234567890123", false, b, 10), ==,
		"6001 2345");
	g_assert_cmpstr(print_ltr("TXN-1", b, sizeof(b)), ==, "\u2066TXN-1\u2069");
	g_assert_cmpstr(print_format_note_value(10000, b, sizeof(b)), ==, "100");
	g_assert_cmpstr(print_format_note_value(100000, b, sizeof(b)), ==, "1,000");
	g_assert_cmpstr(print_format_note_value(500, b, sizeof(b)), ==, "5");
	g_assert_cmpstr(print_format_note_value(1050, b, sizeof(b)), ==, "10.50");
	g_assert_cmpstr(print_format_note_value(0, b, sizeof(b)), ==, "0");
}

static struct print_receipt *render(struct print_doc *doc, int width)
{
	struct print_receipt *r = NULL;
	struct kio_error err;
	if (print_doc_render(doc, engine, width, &r, &err) != 0)
		g_error("render: %s", err.msg);
	return r;
}

static bool ink(const struct receipt_image *im, int x, int y)
{
	return im->bits[(size_t)y * (size_t)im->stride + (size_t)x / 8] & (0x80u >> (x % 8));
}

/* Ink extent: columns [*x0, *x1] and count. */
static size_t extent(const struct receipt_image *im, int *x0, int *x1)
{
	size_t n = 0;
	*x0 = im->width;
	*x1 = -1;
	for (int y = 0; y < im->height; y++)
		for (int x = 0; x < im->width; x++)
			if (ink(im, x, y)) {
				n++;
				if (x < *x0)
					*x0 = x;
				if (x > *x1)
					*x1 = x;
			}
	return n;
}

static const char sample_text[] =
	"إيصال دفع\n"
	"Payment Receipt\n"
	"كشك الدرهم الإلكتروني، البرشاء\n"
	"e-Dirham Kiosk, Al Barsha\n"
	"---\n"
	"رقم الكشك\tKSK-DXB-0042\n"
	"التاريخ\t2027-03-14 10:32\n"
	"المرجع\tTXN-2027-000123\n"
	"الخدمة\tتعبئة بطاقة الدرهم الإلكتروني\n"
	"رقم البطاقة\t•••• •••• •••• 0123\n"
	"المبلغ\t150.00 د.إ\n"
	"الإجمالي\t150.00 د.إ\n"
	"المدفوع نقداً\t200.00 د.إ\n"
	"أضيف إلى البطاقة\t50.00 د.إ\n"
	"---\n"
	"Kiosk\tKSK-DXB-0042\n"
	"Date\t2027-03-14 10:32\n"
	"Reference\tTXN-2027-000123\n"
	"Service\te-Dirham card top-up\n"
	"Card\t•••• •••• •••• 0123\n"
	"Amount\tAED 150.00\n"
	"Total\tAED 150.00\n"
	"Paid in cash\tAED 200.00\n"
	"Credited to card\tAED 50.00\n"
	"---\n"
	"شكراً لاستخدامكم خدمة الدرهم الإلكتروني\n"
	"Thank you for using e-Dirham\n";

static void test_sample_receipt(void)
{
	struct print_doc *doc = print_doc_new();
	struct print_txn t;
	struct kio_error err;
	print_txn_sample(&t);
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	struct print_receipt *r = render(doc, 0);
	g_assert_cmpint(r->image.width, ==, 576);
	g_assert_cmpint(r->image.stride, ==, 72);
	/* 27 lines of 24-36 px text, rules, margins: between 8 and 20 cm of paper. */
	g_assert_cmpint(r->image.height, >, 640);
	g_assert_cmpint(r->image.height, <, 1600);
	int x0, x1;
	size_t n = extent(&r->image, &x0, &x1);
	g_assert_cmpuint(n, >, 20000);
	g_assert_cmpint(x0, >=, 8);   /* margins stay white */
	g_assert_cmpint(x1, <=, 567);
	g_assert_cmpstr(r->text, ==, sample_text);

	/* A fee line appears when there is a fee; a bad transaction is refused. */
	struct print_doc *d2 = print_doc_new();
	t.fee_fils = 250;
	g_assert_cmpint(print_doc_add_txn(d2, &t, i18n, &err), ==, 0);
	struct print_receipt *r2 = render(d2, 0);
	g_assert_nonnull(strstr(r2->text, "Fee\tAED 2.50\n"));
	g_assert_nonnull(strstr(r2->text, "Total\tAED 152.50\n"));
	g_assert_nonnull(strstr(r2->text, "الرسوم\t2.50 د.إ\n"));
	t.amount_fils = -1;
	g_assert_cmpint(print_doc_add_txn(d2, &t, i18n, &err), ==, KIO_ERR_INVALID);
	print_receipt_free(r2);
	print_doc_free(d2);
	print_receipt_free(r);
	print_doc_free(doc);
}

/* A real top-up's receipt (kiosk/txreceipt.c fills it from the ledger): the transaction id,
 * the card masked to its last four digits, the notes by value, the amount credited, no change,
 * and, when recovery completed it, the recovery line; a reprint says DUPLICATE. */
static void write_png(const struct receipt_image *im, const char *path)
{
	struct kio_error err;
	if (core_png_write_ink(path, im->width, im->height, im->stride, im->bits, &err) != 0)
		g_error("%s: %s", path, err.msg);
}

static const struct print_denom topup_denoms[] = {{10000, 2}, {5000, 1}, {1000, 3}};

static void topup_txn(struct print_txn *t)
{
	*t = (struct print_txn){
		.kiosk_name_en = "e-Dirham Kiosk",
		.kiosk_name_ar = "كشك الدرهم الإلكتروني",
		.kiosk_id = "KSK-DXB-0042",
		.when_s = 1805005920, /* 2027-03-14 06:32 UTC: 10:32 in Dubai */
		.reference = "TXN-000042",
		.service_en = "e-Dirham card top-up",
		.service_ar = "تعبئة بطاقة الدرهم الإلكتروني",
		.card_number = "7840123456789012",
		.amount_fils = 28000,
		.paid_fils = 28000,
		.notes = 6,
		.txn_id = "0b9f6c1e-3c2a-4d7e-9f10-2a4b6c8d0e1f",
		.denoms = topup_denoms,
		.n_denoms = G_N_ELEMENTS(topup_denoms),
		.credited_fils = 28000,
		.no_change = true,
	};
}

static const char topup_text[] =
	"إيصال دفع\n"
	"Payment Receipt\n"
	"كشك الدرهم الإلكتروني\n"
	"e-Dirham Kiosk\n"
	"---\n"
	"رقم الكشك\tKSK-DXB-0042\n"
	"التاريخ\t2027-03-14 10:32\n"
	"المرجع\tTXN-000042\n"
	"معرّف المعاملة\t0b9f6c1e-3c2a-4d7e-9f10-2a4b6c8d0e1f\n"
	"الخدمة\tتعبئة بطاقة الدرهم الإلكتروني\n"
	"رقم البطاقة\t•••• •••• •••• 9012\n"
	"المبلغ\t280.00 د.إ\n"
	"الإجمالي\t280.00 د.إ\n"
	"المدفوع نقداً\t280.00 د.إ\n"
	"الأوراق النقدية\t6 أوراق نقدية\n"
	"2 × 100 د.إ\t200.00 د.إ\n"
	"1 × 50 د.إ\t50.00 د.إ\n"
	"3 × 10 د.إ\t30.00 د.إ\n"
	"أضيف إلى البطاقة\t280.00 د.إ\n"
	"هذا الكشك لا يعيد الباقي.\n"
	"---\n"
	"Kiosk\tKSK-DXB-0042\n"
	"Date\t2027-03-14 10:32\n"
	"Reference\tTXN-000042\n"
	"Transaction ID\t0b9f6c1e-3c2a-4d7e-9f10-2a4b6c8d0e1f\n"
	"Service\te-Dirham card top-up\n"
	"Card\t•••• •••• •••• 9012\n"
	"Amount\tAED 280.00\n"
	"Total\tAED 280.00\n"
	"Paid in cash\tAED 280.00\n"
	"Banknotes\t6 notes\n"
	"2 × AED 100\tAED 200.00\n"
	"1 × AED 50\tAED 50.00\n"
	"3 × AED 10\tAED 30.00\n"
	"Credited to card\tAED 280.00\n"
	"This kiosk gives no change.\n"
	"---\n"
	"شكراً لاستخدامكم خدمة الدرهم الإلكتروني\n"
	"Thank you for using e-Dirham\n";

static void test_topup_receipt(void)
{
	struct print_txn t;
	struct kio_error err;
	topup_txn(&t);
	struct print_doc *doc = print_doc_new();
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	struct print_receipt *r = render(doc, 0);
	g_assert_cmpstr(r->text, ==, topup_text);
	/* No digit of the card number but the last four anywhere on it. */
	g_assert_null(strstr(r->text, "7840"));
	g_assert_null(strstr(r->text, "0123"));
	g_assert_null(strstr(r->text, "5678"));
	char *png = g_strdup_printf("%s/receipt-topup.png", out_dir);
	write_png(&r->image, png);
	g_free(png);
	int x0, x1;
	g_assert_cmpuint(extent(&r->image, &x0, &x1), >, 20000);
	g_assert_cmpint(x0, >=, 8);
	g_assert_cmpint(x1, <=, 567);
	print_receipt_free(r);
	print_doc_free(doc);

	/* Completed by recovery, printed a second time. */
	t.recovered = true;
	t.duplicate = true;
	doc = print_doc_new();
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	r = render(doc, 0);
	g_assert_true(g_str_has_prefix(r->text, "نسخة مكررة\nDUPLICATE\nإيصال دفع\n"));
	g_assert_true(g_str_has_suffix(r->text, "Thank you for using e-Dirham\nنسخة مكررة\nDUPLICATE\n"));
	g_assert_nonnull(strstr(r->text, "أضيف إلى البطاقة\t280.00 د.إ\n"
					 "عملية مستعادة بعد انقطاع: أُعيد تشغيل الكشك أثناء هذه العملية، فأُكملت "
					 "بالمبلغ النقدي الذي استلمه.\n"
					 "هذا الكشك لا يعيد الباقي.\n"));
	g_assert_nonnull(strstr(r->text, "Credited to card\tAED 280.00\n"
					 "Recovered after an interruption: the kiosk restarted during this payment "
					 "and completed it with the cash it had received.\n"
					 "This kiosk gives no change.\n"));
	png = g_strdup_printf("%s/receipt-topup-recovered.png", out_dir);
	write_png(&r->image, png);
	g_test_message("receipts: %s/receipt-topup.png and %s", out_dir, png);
	g_free(png);
	print_receipt_free(r);
	print_doc_free(doc);

	/* Bad figures are refused before anything is added. */
	struct print_denom bad[] = {{10000, 0}};
	t.denoms = bad;
	t.n_denoms = 1;
	doc = print_doc_new();
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "0 notes of 10000 fils"));
	bad[0] = (struct print_denom){-100, 1};
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, KIO_ERR_INVALID);
	t.n_denoms = 0;
	t.credited_fils = -1;
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, KIO_ERR_INVALID);
	t.credited_fils = 0;
	t.txn_id = "\u202Eevil";
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, KIO_ERR_INVALID);
	print_doc_free(doc);
}

static bool ink_at(const struct receipt_image *im, int x, int y)
{
	return im->bits[(size_t)y * (size_t)im->stride + (size_t)x / 8] & (0x80u >> (x % 8));
}

/* The ink's bounding box; false when there is none. */
static bool ink_box(const struct receipt_image *im, int *x0, int *y0, int *x1, int *y1)
{
	*x0 = im->width, *y0 = im->height, *x1 = -1, *y1 = -1;
	for (int y = 0; y < im->height; y++)
		for (int x = 0; x < im->width; x++)
			if (ink_at(im, x, y)) {
				*x0 = MIN(*x0, x), *x1 = MAX(*x1, x), *y0 = MIN(*y0, y), *y1 = MAX(*y1, y);
			}
	return *x1 >= 0;
}

/* The QR element: drawn module for module as libqrencode encodes the text, each module m x m
 * dots, centred, a quiet zone of 4 white modules all round; the smaller module on narrow
 * paper, a refusal on paper too narrow for that. */
static void check_qr(const char *text, int width, int m)
{
	struct kio_error err;
	struct print_doc *doc = print_doc_new();
	g_assert_cmpint(print_doc_qr(doc, text, &err), ==, 0);
	struct print_receipt *r = NULL;
	g_assert_cmpint(print_doc_render(doc, engine, width, &r, &err), ==, 0);
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	g_assert_nonnull(q);
	int x0, y0, x1, y1;
	g_assert_true(ink_box(&r->image, &x0, &y0, &x1, &y1));
	/* Finder patterns fill three corners: the ink box is the symbol. */
	g_assert_cmpint(x1 - x0 + 1, ==, q->width * m);
	g_assert_cmpint(y1 - y0 + 1, ==, q->width * m);
	int side = (q->width + 8) * m;
	g_assert_cmpint(x0 - 4 * m, ==, (width - side) / 2);
	g_assert_cmpint(y0 - 4 * m, >=, 0);
	g_assert_cmpint(r->image.height - 1 - y1, >=, 4 * m);
	for (int row = 0; row < q->width; row++)
		for (int col = 0; col < q->width; col++) {
			bool dark = q->data[row * q->width + col] & 1;
			for (int dy = 0; dy < m; dy++)
				for (int dx = 0; dx < m; dx++)
					if (ink_at(&r->image, x0 + col * m + dx, y0 + row * m + dy) != dark)
						g_error("module (%d,%d) dot (%d,%d) is not %s", col, row, dx, dy,
							dark ? "dark" : "light");
		}
	char *want = g_strdup_printf("QR\t%s\n", text);
	g_assert_cmpstr(r->text, ==, want);
	g_test_message("QR of %zu characters: version %d, %d modules, %d dots a module, %.1f mm wide at 203 dpi",
		       strlen(text), q->version, q->width, m, q->width * m / 8.0);
	g_free(want);
	QRcode_free(q);
	print_receipt_free(r);
	print_doc_free(doc);
}

static const char receipt_qr_text[] =
	"EDK1:AEAQCAQMJNJUWLKELBBC2MBQGQZAGBDSW6OQKBABFICRAD4PVVN5TS2GT6QWK4EGO4UJKDQGARVZMHKAA4BDVGAIANAUK"
	"RAJAEAQUQADGVTKMMERBF7Q5IGL6Y2QQPHVCDNYHIW2C4SDWY2DTXKSTIEXVVGNT3SD44NO52VCVXFM6SU7M5E2HNI6WV255PO"
	"65BTNFJDMCJJQU";

static void test_qr(void)
{
	check_qr(receipt_qr_text, 576, PRINT_QR_MODULE_DOTS);
	check_qr("hello, world", 576, PRINT_QR_MODULE_DOTS);
	check_qr(receipt_qr_text, 200, PRINT_QR_MODULE_DOTS_MIN); /* 57 modules x 4 > 184 dots */
	/* A paper width that is no multiple of 8: the coverage's last dots go into a part byte. */
	check_qr("hello, world", 203, PRINT_QR_MODULE_DOTS);
	check_qr("hello, world", 205, PRINT_QR_MODULE_DOTS);
	struct kio_error err;
	struct print_doc *doc = print_doc_new();
	g_assert_cmpint(print_doc_qr(doc, receipt_qr_text, &err), ==, 0);
	struct print_receipt *r = NULL;
	g_assert_cmpint(print_doc_render(doc, engine, 128, &r, &err), ==, KIO_ERR_INVALID);
	g_assert_null(r);
	g_assert_nonnull(strstr(err.msg, "wider than 128 dots"));
	g_assert_cmpint(print_doc_qr(doc, "", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(print_doc_qr(doc, NULL, &err), ==, KIO_ERR_INVALID);
	char *huge = g_strnfill(PRINT_QR_TEXT_MAX + 1, 'A');
	g_assert_cmpint(print_doc_qr(doc, huge, &err), ==, KIO_ERR_INVALID);
	/* Every text up to the limit encodes (version 40-M holds 2,331 bytes). */
	huge[PRINT_QR_TEXT_MAX] = '\0';
	g_assert_cmpint(print_doc_qr(doc, huge, &err), ==, 0);
	g_free(huge);
	print_doc_free(doc);

	/* The top-up receipt with its QR: the caption in both languages, then the code, after the
	 * thanks; a text the QR cannot hold refused with nothing added. */
	struct print_txn t;
	topup_txn(&t);
	t.proof_qr = receipt_qr_text;
	doc = print_doc_new();
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	r = render(doc, 0);
	char *tail = g_strdup_printf("Thank you for using e-Dirham\n"
				     "امسح الرمز للتحقق من أن هذا الإيصال أصلي\n"
				     "Scan to check this receipt is genuine\n"
				     "QR\t%s\n",
				     receipt_qr_text);
	g_assert_true(g_str_has_suffix(r->text, tail));
	g_free(tail);
	char *png = g_strdup_printf("%s/receipt-topup-qr.png", out_dir);
	write_png(&r->image, png);
	g_test_message("receipt with its QR: %s", png);
	g_free(png);
	print_receipt_free(r);
	print_doc_free(doc);
	char *too_long = g_strnfill(PRINT_QR_TEXT_MAX + 1, 'B');
	t.proof_qr = too_long;
	doc = print_doc_new();
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(print_doc_render(doc, engine, 0, &r, &err), ==, KIO_ERR_INVALID); /* still empty */
	g_free(too_long);
	print_doc_free(doc);
}

/* A row's label sits at the start edge and its value at the end edge, in both directions,
 * and the row is exactly its label alone plus its value alone. */
static void check_row(enum text_dir dir, const char *label, const char *value)
{
	struct print_style st = {.dir = dir};
	struct print_doc *both = print_doc_new(), *lab = print_doc_new(), *val = print_doc_new();
	print_doc_row(both, &st, label, value);
	print_doc_row(lab, &st, label, "");
	print_doc_row(val, &st, "", value);
	struct print_receipt *rb = render(both, 0), *rl = render(lab, 0), *rv = render(val, 0);
	int lx0, lx1, vx0, vx1;
	g_assert_cmpuint(extent(&rl->image, &lx0, &lx1), >, 50);
	g_assert_cmpuint(extent(&rv->image, &vx0, &vx1), >, 50);
	/* Flush: within the margin (8), the room kept for ink past an advance (2) and a glyph's
	 * own side bearing (4). */
	if (dir == TEXT_DIR_RTL) {
		g_assert_cmpint(lx1, >=, 576 - 8 - 2 - 4); /* label flush right */
		g_assert_cmpint(vx0, <=, 8 + 2 + 4);       /* value flush left */
		g_assert_cmpint(vx1, <, lx0);
	} else {
		g_assert_cmpint(lx0, <=, 8 + 2 + 4);
		g_assert_cmpint(vx1, >=, 576 - 8 - 2 - 4);
		g_assert_cmpint(lx1, <, vx0);
	}
	g_assert_cmpint(rb->image.height, ==, rl->image.height);
	for (int y = 0; y < rb->image.height; y++)
		for (int x = 0; x < 576; x++)
			g_assert_cmpint(ink(&rb->image, x, y), ==,
				ink(&rl->image, x, y) || ink(&rv->image, x, y));
	print_receipt_free(rb);
	print_receipt_free(rl);
	print_receipt_free(rv);
	print_doc_free(both);
	print_doc_free(lab);
	print_doc_free(val);
}

static void test_rows_align(void)
{
	check_row(TEXT_DIR_RTL, "المبلغ", "150.00 د.إ");
	check_row(TEXT_DIR_RTL, "المرجع", "\u2066TXN-2027-000123\u2069");
	check_row(TEXT_DIR_LTR, "Amount", "AED 150.00");
}

/* Visual left-to-right clusters of line 0. */
static int clusters(const char *s, enum text_dir dir, uint32_t *out, int max)
{
	struct text_style ts = {.size_px = 24, .dir = dir};
	struct text_layout *l = text_layout_new(engine, s, strlen(s), &ts);
	g_assert_nonnull(l);
	int n = text_layout_line_glyphs(l, 0);
	for (int i = 0; i < n && i < max; i++) {
		struct text_glyph_info g;
		g_assert_true(text_layout_glyph(l, 0, i, &g));
		out[i] = g.cluster;
	}
	text_layout_free(l);
	return n;
}

/* Digits at byte offsets [from, to) of s appear left to right in logical order. */
static void assert_digits_in_order(const char *s, enum text_dir dir, size_t from, size_t to)
{
	uint32_t c[128];
	int n = clusters(s, dir, c, 128);
	uint32_t last = 0;
	bool any = false;
	for (int i = 0; i < n; i++) {
		if (c[i] < from || c[i] >= to)
			continue;
		if (any && c[i] <= last)
			g_error("\"%s\": cluster %u after %u, left to right: the number is reversed", s,
				c[i], last);
		last = c[i];
		any = true;
	}
	g_assert_true(any);
}

static void test_numbers_keep_order(void)
{
	/* An amount before the dirham sign in an Arabic line: the digits left to right, the sign
	 * to their left (read right to left: amount, then sign). */
	const char *amount = "150.00 د.إ";
	assert_digits_in_order(amount, TEXT_DIR_RTL, 0, 6);
	uint32_t c[32];
	int n = clusters(amount, TEXT_DIR_RTL, c, 32);
	g_assert_cmpint(n, >, 6);
	g_assert_cmpuint(c[n - 1], <, 6); /* the rightmost glyph belongs to the number */
	g_assert_cmpuint(c[0], >=, 7);    /* the leftmost to the sign */

	/* References, dates and grouped card numbers isolated inside Arabic keep their order
	 * whole, groups included (the isolate controls, 3 bytes each end, sit outside). */
	char b[96];
	const char *ref = print_ltr("TXN-2027-000123", b, sizeof(b));
	assert_digits_in_order(ref, TEXT_DIR_RTL, 3, strlen(ref) - 3);
	char d[64];
	const char *date = print_ltr(print_format_time(1805005920, d, sizeof(d)), b, sizeof(b));
	assert_digits_in_order(date, TEXT_DIR_RTL, 3, strlen(date) - 3);
	const char *card = print_ltr("6001 2345 6789 0123", b, sizeof(b));
	assert_digits_in_order(card, TEXT_DIR_RTL, 3, strlen(card) - 3);
	/* Without the isolate, the groups of a card number in an Arabic line would run right
	 * to left: this is why rows isolate them. */
	n = clusters("6001 2345", TEXT_DIR_RTL, c, 32);
	g_assert_cmpuint(c[0], >=, 5);
}

static void test_wrapping(void)
{
	struct print_doc *one = print_doc_new(), *many = print_doc_new();
	print_doc_text(one, NULL, "Short");
	print_doc_text(many, NULL,
		"This line is far too long to fit on eighty millimetre paper at this size, so the "
		"engine must wrap it at the printer width instead of cutting it off at the edge.");
	struct print_receipt *r1 = render(one, 0), *rm = render(many, 0);
	g_assert_cmpint(rm->image.height, >=, r1->image.height + 2 * 24);
	int x0, x1;
	extent(&rm->image, &x0, &x1);
	g_assert_cmpint(x1, <=, 567);
	/* A value too long for its row goes under its label, end-aligned. */
	struct print_doc *row = print_doc_new();
	struct print_style ar = {.dir = TEXT_DIR_RTL};
	print_doc_row(row, &ar, "الخدمة",
		"تعبئة بطاقة الدرهم الإلكتروني مع رسوم خدمة إضافية للمعاملات الحكومية");
	struct print_receipt *rr = render(row, 0);
	g_assert_cmpint(rr->image.height, >=, r1->image.height + 24);
	/* A narrower paper. */
	struct print_receipt *r512 = render(many, 512);
	g_assert_cmpint(r512->image.width, ==, 512);
	g_assert_cmpint(r512->image.stride, ==, 64);
	print_receipt_free(r1);
	print_receipt_free(rm);
	print_receipt_free(rr);
	print_receipt_free(r512);
	print_doc_free(one);
	print_doc_free(many);
	print_doc_free(row);
	struct print_doc *empty = print_doc_new();
	struct print_receipt *r = NULL;
	struct kio_error err;
	g_assert_cmpint(print_doc_render(empty, engine, 0, &r, &err), ==, KIO_ERR_INVALID);
	g_assert_null(r);
	print_doc_free(empty);
}

/* Receipts are laid out through the engine's bounded layout cache, shared with the screens:
 * the same receipt is the same dots whether its lines are hits, or were evicted by a thousand
 * other strings (more than the cache holds) and laid out again. */
static void test_same_dots_through_the_cache(void)
{
	struct print_txn t;
	struct kio_error err;
	print_txn_sample(&t);
	struct print_doc *doc = print_doc_new();
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	struct print_receipt *first = render(doc, 0), *hit = render(doc, 0);
	struct text_style st = {.size_px = 24, .max_width = 500};
	for (int i = 0; i < 1000; i++) {
		char s[64];
		snprintf(s, sizeof(s), "churn %d المعاملة", i);
		g_assert_nonnull(text_layout(engine, s, &st));
	}
	struct print_receipt *evicted = render(doc, 0);
	size_t bytes = (size_t)first->image.height * (size_t)first->image.stride;
	g_assert_cmpint(hit->image.height, ==, first->image.height);
	g_assert_cmpint(evicted->image.height, ==, first->image.height);
	g_assert_cmpmem(hit->image.bits, bytes, first->image.bits, bytes);
	g_assert_cmpmem(evicted->image.bits, bytes, first->image.bits, bytes);
	print_receipt_free(first);
	print_receipt_free(hit);
	print_receipt_free(evicted);
	print_doc_free(doc);
}

static struct print_card sample_card(void)
{
	return (struct print_card){.issuer_ar = "كشك الدرهم الإلكتروني، البرشاء", .issuer_en = "e-Dirham Kiosk, Al Barsha",
		.number = "6001234567890123", .issued_s = 1805005920};
}

static void test_card_face(void)
{
	struct print_card card = sample_card();
	struct print_card_face *f = NULL;
	struct kio_error err;
	g_assert_cmpint(print_card_face_render(engine, i18n, &card, &f, &err), ==, 0);
	g_assert_cmpint(f->width, ==, 1016);
	g_assert_cmpint(f->height, ==, 648);
	size_t black = 0;
	for (size_t i = 0; i < 1016u * 648u; i++) {
		g_assert_cmpuint(f->rgba[i * 4 + 3], ==, 255);
		black += f->rgba[i * 4] < 128;
	}
	g_assert_cmpuint(black, >, 20000);
	g_assert_cmpuint(black, <, 1016u * 648u / 4);
	struct cardprn_image im = print_card_face_image(f);
	g_assert_true(im.rgba == f->rgba && im.stride == 1016 * 4);
	print_card_face_free(f);
	card.number = "6001-2345";
	g_assert_cmpint(print_card_face_render(engine, i18n, &card, &f, &err), ==, KIO_ERR_INVALID);
	card.number = "";
	g_assert_cmpint(print_card_face_render(engine, i18n, &card, &f, &err), ==, KIO_ERR_INVALID);
}

/* A translation that drops the amount (or the date) must stop the kiosk before anything is
 * printed: the catalogues are compiled with one Arabic template broken, and refused at load.
 * (print_doc_add_txn still refuses a template without {amount} of its own, behind it.) */
static int load_broken_catalogue(const char *from, const char *to, struct kio_error *err)
{
	char *dir = g_dir_make_tmp("print-i18n-XXXXXX", NULL);
	for (int i = 0; i < 2; i++) {
		const char *lang = i ? "en" : "ar";
		char *src = g_strdup_printf("%s/locales/%s.po", g_getenv("KIOSK_SOURCE_DIR"), lang);
		char *text = NULL;
		g_assert_true(g_file_get_contents(src, &text, NULL, NULL));
		if (i == 0) {
			char **parts = g_strsplit(text, from, -1);
			g_assert_cmpuint(g_strv_length(parts), ==, 2);
			g_free(text);
			text = g_strjoinv(to, parts);
			g_strfreev(parts);
		}
		char *po = g_strdup_printf("%s/%s.po", dir, lang);
		char *lc = g_strdup_printf("%s/%s/LC_MESSAGES", dir, lang);
		char *mo = g_strdup_printf("%s/kiosk.mo", lc);
		g_assert_true(g_file_set_contents(po, text, -1, NULL));
		g_assert_cmpint(g_mkdir_with_parents(lc, 0700), ==, 0);
		char *cmd = g_strdup_printf("'%s' -o '%s' '%s'", g_getenv("MSGFMT"), mo, po);
		g_assert_cmpint(system(cmd), ==, 0);
		g_free(cmd), g_free(mo), g_free(lc), g_free(po), g_free(text), g_free(src);
	}
	struct i18n *cat = NULL;
	int rc = i18n_load(dir, &cat, err);
	i18n_free(cat);
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(dir);
	return rc;
}

static void test_templates_keep_figures(void)
{
	struct kio_error err;
	g_assert_nonnull(g_getenv("MSGFMT"));
	g_assert_cmpint(load_broken_catalogue("msgstr \"{amount} د.إ\"", "msgstr \"د.إ\"", &err), ==,
		KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "'receipt.money' lost {amount}"));
	g_assert_cmpint(load_broken_catalogue("msgstr \"تاريخ الإصدار {date}\"", "msgstr \"تاريخ الإصدار\"",
				&err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "'card.issued' lost {date}"));
}

/* Text from outside the catalogues with a bidi override is refused, nothing added (issue 9). */
static void test_refuses_bidi_overrides(void)
{
	struct kio_error err;
	struct print_doc *doc = print_doc_new();
	struct print_txn t;
	print_txn_sample(&t);
	t.service_ar = "تعبئة \xE2\x80\xAE" "150.00";
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "the service holds a bidi override"));
	print_txn_sample(&t);
	t.kiosk_name_en = "\xE2\x80\xAA" "e-Dirham Kiosk";
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "the kiosk name holds a bidi override"));
	struct print_receipt *r = NULL;
	g_assert_cmpint(print_doc_render(doc, engine, 0, &r, &err), ==, KIO_ERR_INVALID); /* still empty */
	/* An isolate is the right tool and passes. */
	print_txn_sample(&t);
	t.service_en = "Top-up \xE2\x81\xA6" "A-1\xE2\x81\xA9";
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	print_doc_free(doc);

	struct print_card card = sample_card();
	card.issuer_ar = "\xE2\x80\xAB" "كشك";
	struct print_card_face *f = NULL;
	g_assert_cmpint(print_card_face_render(engine, i18n, &card, &f, &err), ==, KIO_ERR_INVALID);
	g_assert_null(f);
	g_assert_nonnull(strstr(err.msg, "bidi override"));
}

/* The note count takes each language's plural form (Arabic: 1 and 2 without the figure). */
static void test_note_count(void)
{
	static const struct {
		unsigned n;
		const char *ar, *en;
	} cases[] = {
		{1, "الأوراق النقدية\tورقة نقدية واحدة\n", "Banknotes\t1 note\n"},
		{2, "الأوراق النقدية\tورقتان نقديتان\n", "Banknotes\t2 notes\n"},
		{7, "الأوراق النقدية\t7 أوراق نقدية\n", "Banknotes\t7 notes\n"},
		{11, "الأوراق النقدية\t11 ورقة نقدية\n", "Banknotes\t11 notes\n"},
		{102, "الأوراق النقدية\t102 ورقة نقدية\n", "Banknotes\t102 notes\n"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct print_doc *doc = print_doc_new();
		struct print_txn t;
		struct kio_error err;
		print_txn_sample(&t);
		t.notes = cases[i].n;
		g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
		struct print_receipt *r = render(doc, 0);
		g_assert_nonnull(strstr(r->text, cases[i].ar));
		g_assert_nonnull(strstr(r->text, cases[i].en));
		print_receipt_free(r);
		print_doc_free(doc);
	}
}

/* `ui.digits = eastern`: the Arabic block's amounts, count and date in Eastern Arabic digits;
 * identifiers and the English block stay Western. */
static void test_eastern_digits(void)
{
	struct print_doc *doc = print_doc_new();
	struct print_txn t;
	struct kio_error err;
	print_txn_sample(&t);
	t.notes = 3;
	t.amount_fils = 125000;
	t.paid_fils = 125000;
	i18n_set_eastern_digits(i18n, true);
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	i18n_set_eastern_digits(i18n, false);
	struct print_receipt *r = render(doc, 0);
	static const char *const has[] = {
		"المبلغ\t١٬٢٥٠٫٠٠ د.إ\n", "الإجمالي\t١٬٢٥٠٫٠٠ د.إ\n", "الأوراق النقدية\t٣ أوراق نقدية\n",
		"التاريخ\t٢٠٢٧-٠٣-١٤ ١٠:٣٢\n", "رقم الكشك\tKSK-DXB-0042\n", "المرجع\tTXN-2027-000123\n",
		"رقم البطاقة\t•••• •••• •••• 0123\n", "Amount\tAED 1,250.00\n", "Banknotes\t3 notes\n",
		"Date\t2027-03-14 10:32\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(has); i++)
		if (!strstr(r->text, has[i]))
			g_error("no \"%s\" in:\n%s", has[i], r->text);
	print_receipt_free(r);
	print_doc_free(doc);

	/* Western stays the default: the same receipt as before the option existed. */
	char b[64];
	g_assert_cmpstr(print_localize_digits(i18n, LANG_AR, "1,250.00", b, sizeof(b)), ==, "1,250.00");
	i18n_set_eastern_digits(i18n, true);
	g_assert_cmpstr(print_localize_digits(i18n, LANG_AR, "1,250.00", b, sizeof(b)), ==, "١٬٢٥٠٫٠٠");
	g_assert_cmpstr(print_localize_digits(i18n, LANG_EN, "1,250.00", b, sizeof(b)), ==, "1,250.00");
	i18n_set_eastern_digits(i18n, false);
}

/* ---- through the drivers and the models, to PNG ---- */

struct loop_fx {
	struct devloop loop;
	struct receipt_printer *prn;
	struct card_issuer *iss;
	int printed, issued, failed;
};

static void on_receipt(void *user, const struct receipt_event *ev)
{
	struct loop_fx *f = user;
	f->printed += ev->kind == RECEIPT_EV_PRINTED;
	f->failed += ev->kind == RECEIPT_EV_FAILED;
}

static void on_card(void *user, const struct cardprn_event *ev)
{
	struct loop_fx *f = user;
	f->issued += ev->kind == CARDPRN_EV_ISSUED;
	f->failed += ev->kind == CARDPRN_EV_FAILED;
}

static void service(void *user)
{
	struct loop_fx *f = user;
	if (f->prn)
		f->prn->ops->service(f->prn);
	if (f->iss)
		f->iss->ops->service(f->iss);
}

static bool job_done(void *user)
{
	struct loop_fx *f = user;
	return f->printed + f->issued + f->failed > 0;
}

static void test_sample_through_printer(void)
{
	struct kio_error err;
	struct print_doc *doc = print_doc_new();
	struct print_txn t;
	print_txn_sample(&t);
	g_assert_cmpint(print_doc_add_txn(doc, &t, i18n, &err), ==, 0);
	struct print_receipt *r = render(doc, 0);

	struct loop_fx f = {0};
	devloop_init(&f.loop);
	struct sim_escpos *sim;
	g_assert_cmpint(sim_escpos_new(NULL, &sim, &err), ==, 0);
	struct sim_model model;
	sim_model_escpos(&model, sim);
	struct transport *tr = transport_sim_new("receipt", &model, f.loop.clock);
	transport_set_wake(tr, devloop_wake, &f.loop);
	f.loop.service = service;
	f.loop.service_user = &f;
	g_assert_cmpint(escpos_receipt_new(tr, f.loop.timers, NULL, &f.prn, &err), ==, 0);
	f.prn->on_event = on_receipt;
	f.prn->on_event_user = &f;
	devloop_run_for(&f.loop, 500);
	g_assert_cmpint(f.prn->ops->print(f.prn, t.reference, &r->image), ==, 0);
	g_assert_true(devloop_run_until(&f.loop, job_done, &f, 30000));
	g_assert_cmpint(f.printed, ==, 1);
	g_assert_cmpuint(sim_escpos_receipt_count(sim), ==, 1);
	const struct sim_escpos_page *pg = sim_escpos_receipt(sim, 0);
	for (int y = 0; y < r->image.height; y++)
		for (int x = 0; x < 576; x++)
			g_assert_cmpint(sim_escpos_page_get(pg, x, y), ==, ink(&r->image, x, y));

	char *png = g_strdup_printf("%s/receipt-%s.png", out_dir, t.reference);
	char *txt = g_strdup_printf("%s/receipt-%s.txt", out_dir, t.reference);
	g_assert_cmpint(sim_escpos_page_write_png(pg, png, &err), ==, 0);
	g_assert_cmpint(print_receipt_write_text(r, txt, &err), ==, 0);
	gchar *back = NULL;
	g_assert_true(g_file_get_contents(txt, &back, NULL, NULL));
	g_assert_cmpstr(back, ==, sample_text);
	g_test_message("receipt: %s (%dx%d) and %s", png, pg->width, pg->height, txt);
	g_free(back);
	g_free(png);
	g_free(txt);

	f.prn->ops->destroy(f.prn);
	transport_free(tr);
	sim_escpos_free(sim);
	devloop_fini(&f.loop);
	print_receipt_free(r);
	print_doc_free(doc);
}

static void test_card_through_printer(void)
{
	struct kio_error err;
	struct print_card card = sample_card();
	struct print_card_face *face = NULL;
	g_assert_cmpint(print_card_face_render(engine, i18n, &card, &face, &err), ==, 0);

	struct loop_fx f = {0};
	devloop_init(&f.loop);
	struct sim_evolis *sim;
	g_assert_cmpint(sim_evolis_new(NULL, &sim, &err), ==, 0);
	struct sim_model model;
	sim_model_evolis(&model, sim);
	struct transport *tr = transport_sim_new("card", &model, f.loop.clock);
	transport_set_wake(tr, devloop_wake, &f.loop);
	f.loop.service = service;
	f.loop.service_user = &f;
	g_assert_cmpint(evolis_card_new(tr, f.loop.timers, NULL, &f.iss, &err), ==, 0);
	f.iss->on_event = on_card;
	f.iss->on_event_user = &f;
	devloop_run_for(&f.loop, 1000);
	struct cardprn_image im = print_card_face_image(face);
	g_assert_cmpint(f.iss->ops->issue(f.iss, card.number, &im), ==, 0);
	g_assert_true(devloop_run_until(&f.loop, job_done, &f, 120000));
	g_assert_cmpint(f.issued, ==, 1);
	const struct sim_evolis_card *c = sim_evolis_card(sim, 0);
	g_assert_cmpstr(c->track2, ==, card.number);
	for (int y = 0; y < 648; y++)
		for (int x = 0; x < 1016; x++)
			g_assert_cmpint(sim_evolis_card_get(c, x, y), ==,
				face->rgba[((size_t)y * 1016 + (size_t)x) * 4] < 128);
	char *png = g_strdup_printf("%s/card-%s.png", out_dir, card.number);
	char *rgba = g_strdup_printf("%s/card-%s-front.png", out_dir, card.number);
	g_assert_cmpint(sim_evolis_card_write_png(c, png, &err), ==, 0);
	g_assert_cmpint(core_png_write_rgba(rgba, face->width, face->height, face->stride,
		face->rgba, &err), ==, 0);
	g_test_message("card: %s (printed) and %s (front sent)", png, rgba);
	g_free(png);
	g_free(rgba);

	f.iss->ops->destroy(f.iss);
	transport_free(tr);
	sim_evolis_free(sim);
	devloop_fini(&f.loop);
	print_card_face_free(face);
}

/* The page check's rule 6 on paper (print_doc_render, kiosk/core/bidinum.h): every error it
 * logs is counted here; each receipt the tests above build, in both languages and with Eastern
 * digits, must log none. */
static int backwards_logged;
static char backwards_last[256];

static void on_log(void *user, enum log_level level, const char *module, const char *msg)
{
	if (level == LOG_ERROR && strstr(msg, "backwards after Arabic")) {
		backwards_logged++;
		snprintf(backwards_last, sizeof(backwards_last), "%s", msg);
	}
}

/* A number joined by "-" after Arabic in a paragraph or in a row's cell is logged, naming it;
 * isolated (print_ltr) it is not; the receipt is drawn all the same (money paid must get its
 * paper). */
static void test_numbers_backwards_logged(void)
{
	int before = backwards_logged;
	struct print_style st = {.dir = TEXT_DIR_RTL};
	struct print_doc *doc = print_doc_new();
	print_doc_text(doc, &st, "اتصل على 800-4444");
	struct print_receipt *r = render(doc, 0);
	g_assert_cmpint(backwards_logged, ==, before + 1);
	g_assert_nonnull(strstr(backwards_last, "item 1"));
	g_assert_nonnull(strstr(backwards_last, "\"800-4444\""));
	print_receipt_free(r);
	print_doc_free(doc);

	doc = print_doc_new();
	print_doc_row(doc, &st, "الهاتف", "اتصل 2027-03-14");
	r = render(doc, 0);
	g_assert_cmpint(backwards_logged, ==, before + 2);
	g_assert_nonnull(strstr(backwards_last, "\"2027-03-14\""));
	print_receipt_free(r);
	print_doc_free(doc);

	char b[64], t[96];
	doc = print_doc_new();
	snprintf(t, sizeof(t), "اتصل على %s", print_ltr("800-4444", b, sizeof(b)));
	print_doc_text(doc, &st, t);
	print_doc_row(doc, &st, "الهاتف", "800-4444"); /* a cell of its own: no Arabic before it */
	r = render(doc, 0);
	g_assert_cmpint(backwards_logged, ==, before + 2);
	print_receipt_free(r);
	print_doc_free(doc);
	backwards_logged = before;
}

static void test_receipts_keep_numbers(void)
{
	if (backwards_logged)
		g_error("%d receipt item(s) show a number backwards; the last: %s", backwards_logged, backwards_last);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc > 1)
		out_dir = argv[1];
	struct kio_error err;
	if (text_engine_new(NULL, &engine, &err) != 0) {
		fprintf(stderr, "text engine: %s\n", err.msg);
		return 1;
	}
	if (i18n_load(NULL, &i18n, &err) != 0) {
		fprintf(stderr, "catalogues: %s\n", err.msg);
		return 1;
	}
	g_test_add_func("/print/format", test_format);
	g_test_add_func("/print/sample-receipt", test_sample_receipt);
	g_test_add_func("/print/topup-receipt", test_topup_receipt);
	g_test_add_func("/print/qr", test_qr);
	g_test_add_func("/print/rows-align", test_rows_align);
	g_test_add_func("/print/numbers-keep-order", test_numbers_keep_order);
	g_test_add_func("/print/wrapping", test_wrapping);
	g_test_add_func("/print/same-dots-through-the-cache", test_same_dots_through_the_cache);
	g_test_add_func("/print/card-face", test_card_face);
	g_test_add_func("/print/templates-keep-figures", test_templates_keep_figures);
	g_test_add_func("/print/note-count", test_note_count);
	g_test_add_func("/print/refuses-bidi-overrides", test_refuses_bidi_overrides);
	g_test_add_func("/print/eastern-digits", test_eastern_digits);
	g_test_add_func("/print/sample-through-printer", test_sample_through_printer);
	g_test_add_func("/print/card-through-printer", test_card_through_printer);
	g_test_add_func("/print/numbers-backwards-logged", test_numbers_backwards_logged);
	g_test_add_func("/print/receipts-keep-numbers", test_receipts_keep_numbers);
	log_set_sink(on_log, NULL);
	log_set_sink_level(LOG_ERROR);
	int rc = g_test_run();
	text_engine_free(engine);
	i18n_free(i18n);
	return rc;
}
