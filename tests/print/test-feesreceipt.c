/*
 * The receipt of a fees transaction (kiosk/txreceipt.c, kiosk/print/fees.c), built from a real
 * ledger for every way a basket ends: its text lines in both languages checked, its PNG written
 * in the build directory (argv[1]) for a person to look at, its QR codes decoded from the PNG
 * by zbarimg as a phone would, and the proof verified by `kiosk receipt verify --db` (argv[3]).
 * argv[2] is the catalogue directory the names come from.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/config.h"
#include "kiosk/core/image.h"
#define LOG_MODULE "test-feesreceipt"
#include "kiosk/core/log.h"
#include "kiosk/core/vcode.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/print/print.h"
#include "kiosk/txreceipt.h"
#include "tests/common/ledgerfix.h"

#define NOW INT64_C(1805005920) /* 2027-03-14 10:32 in Dubai */
#define CARD "7840123456789012"
#define DEV "essp:001C962C"
#define RID1 "0b6c3f44-9f1e-4c55-8a1e-2f0d4d3b9a01"
#define RID2 "0b6c3f44-9f1e-4c55-8a1e-2f0d4d3b9a02"
#define FINE INT64_C(60000) /* a police fine, AED 600.00 */
#define BILL INT64_C(25000) /* a DEWA bill, AED 250.00 */

static struct text_engine *engine;
static struct i18n *i18n;
static struct catalogue *cat;
static struct core_config cfg;
static const char *out_dir = ".", *kiosk_exe;

static void credit_note(struct lfix *f, int64_t value_fils) { lfix_credit_note(f, DEV, value_fils); }

/* A police fine by traffic file number and a DEWA bill by account number, AED 850.00. */
static struct ledger_tx open_basket(struct lfix *f)
{
	struct ledger_fee_line lines[] = {lfix_fee_line("police", "police-fines", "10012345", NULL, FINE),
					  lfix_fee_line("dewa", "dewa-bill", "2001234567", NULL, BILL)};
	struct ledger_tx tx;
	struct kio_error err = {0};
	if (ledger_basket_open(f->l, NOW - 300, "en", lines, 2, &tx, &err) != 0)
		g_error("ledger_basket_open: %s", err.msg);
	return tx;
}

static void result(struct lfix *f, int64_t tx, int n, enum ledger_line_status st, const char *ref)
{
	struct kio_error err = {0};
	if (ledger_basket_line_result(f->l, tx, n, st, ref, NOW - 60, &err) != 0)
		g_error("line %d: %s", n, err.msg);
}

static void voucher_in(struct lfix *f, int64_t tx, const char *first15, const char *rid, int64_t fils, char code[17])
{
	int d = vcode_damm(first15, 15);
	snprintf(code, 17, "%s%c", first15, d);
	struct kio_error err = {0};
	/* The redemption's intent first (basket.c invariant 15): rid names the test's case only. */
	char intended[37];
	(void)rid;
	if (ledger_basket_voucher_intent(f->l, tx, code, fils, NOW - 121, intended, &err) != 0 ||
	    ledger_basket_voucher_paid(f->l, tx, code, intended, fils, NOW - 120, &err) != 0)
		g_error("voucher paid: %s", err.msg);
}

static struct ledger_basket_end close_basket(struct lfix *f, int64_t tx, enum ledger_rest_to to, const char *card)
{
	struct ledger_basket_end end;
	struct kio_error err = {0};
	if (ledger_basket_close(f->l, tx, NOW, to, card, 30, &end, &err) != 0)
		g_error("close: %s", err.msg);
	if (ledger_check(f->l, &err) != 0)
		g_error("ledger_check: %s", err.msg);
	return end;
}

/* The receipt's text: every want present, every unwanted absent. */
static void expect(const char *text, const char *const *want, const char *const *unwanted)
{
	for (size_t i = 0; want && want[i]; i++)
		if (!strstr(text, want[i]))
			g_error("the receipt lacks \"%s\":\n%s", want[i], text);
	for (size_t i = 0; unwanted && unwanted[i]; i++)
		if (strstr(text, unwanted[i]))
			g_error("the receipt holds \"%s\":\n%s", unwanted[i], text);
}

static char *run(const char *const *argv, int *status)
{
	char *out = NULL, *errs = NULL;
	GError *gerr = NULL;
	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errs, status, &gerr))
		g_error("%s: %s", argv[0], gerr->message);
	if (errs && errs[0])
		g_test_message("%s: %s", argv[0], errs);
	g_free(errs);
	return out;
}

/* "AED 1,234.50" at p (after the tab) in fils; -1 when it is not a sum. */
static int64_t fils_at(const char *p)
{
	if (strncmp(p, "AED ", 4) != 0)
		return -1;
	int64_t v = 0;
	int decimals = -1;
	for (p += 4; *p && *p != '\n'; p++) {
		if (*p == ',')
			continue;
		if (*p == '.' && decimals < 0)
			decimals = 0;
		else if (*p >= '0' && *p <= '9' && decimals < 2)
			v = v * 10 + (*p - '0'), decimals += decimals >= 0;
		else
			return -1;
	}
	return decimals == 2 ? v : -1;
}

/* The figures of the receipt's English block add up to the fils, as the ledger's invariant 9
 * says: cash + each voucher paid in = total paid = paid for the items + the rest (to a card
 * or a new voucher). Each row is read off the paper, none taken from the ledger. */
static void expect_sums(const char *text)
{
	int64_t cash = 0, vouchers = 0, total = -1, items = -1, rest = 0;
	int n_vouchers = 0;
	char **rows = g_strsplit(text, "\n", -1);
	for (char **r = rows; *r; r++) {
		const char *tab = strchr(*r, '\t');
		if (!tab)
			continue;
		int64_t v = fils_at(tab + 1);
		if (g_str_has_prefix(*r, "Paid in cash\t"))
			cash = v;
		else if (g_str_has_prefix(*r, "Paid by e-voucher "))
			vouchers += v, n_vouchers++;
		else if (g_str_has_prefix(*r, "Total paid\t"))
			total = v;
		else if (g_str_has_prefix(*r, "Paid for the items\t"))
			items = v;
		else if (g_str_has_prefix(*r, "Balance as a new e-voucher\t") || g_str_has_prefix(*r, "Credited to card\t"))
			rest = v;
		else
			continue;
		if (v < 0)
			g_error("the receipt's row is not a sum: %s", *r);
	}
	g_strfreev(rows);
	if (total < 0 || items < 0 || cash + vouchers != total || items + rest != total)
		g_error("the receipt does not add up: cash %" G_GINT64_FORMAT " + %d vouchers %" G_GINT64_FORMAT
			" vs total %" G_GINT64_FORMAT " = items %" G_GINT64_FORMAT " + rest %" G_GINT64_FORMAT ":\n%s",
			cash, n_vouchers, vouchers, total, items, rest, text);
}

/*
 * Draws transaction tx_id's receipt, writes receipt-fees-<name>.png, and reads its QR codes
 * back from the pixels: the proof (verified with the ledger's key, saying `lines` lines and
 * `paid` paid) and, when voucher is not NULL, the new voucher's 16 digits. Returns the text
 * (caller frees).
 */
static char *receipt(struct lfix *f, int64_t tx_id, const char *name, bool duplicate, const char *voucher,
		     const char *paid)
{
	struct kio_error err = {0};
	struct print_doc *doc = print_doc_new();
	char qr[TXRECEIPT_QR_MAX];
	if (txreceipt_doc(f->l, i18n, &cfg, cat, tx_id, duplicate, doc, qr, &err) != 0)
		g_error("txreceipt_doc: %s", err.msg);
	struct print_receipt *r = NULL;
	if (print_doc_render(doc, engine, cfg.receipt_width_dots, &r, &err) != 0)
		g_error("render: %s", err.msg);
	g_assert_true(g_str_has_prefix(qr, "EDK1:"));
	char *png = g_strdup_printf("%s/receipt-fees-%s.png", out_dir, name);
	if (core_png_write_ink(png, r->image.width, r->image.height, r->image.stride, r->image.bits, &err) != 0)
		g_error("%s: %s", png, err.msg);
	char *txt = g_strdup_printf("%s/receipt-fees-%s.txt", out_dir, name);
	g_assert_cmpint(print_receipt_write_text(r, txt, &err), ==, 0);
	g_test_message("fees receipt %s: %s (%dx%d)", name, png, r->image.width, r->image.height);
	char *text = g_strdup(r->text);
	print_receipt_free(r);
	print_doc_free(doc);
	char *want_qr = g_strdup_printf("QR\t%s\n", qr);
	expect(text, (const char *const[]){want_qr, NULL}, NULL);
	g_free(want_qr);
	expect_sums(text);

	char *zbarimg = g_find_program_in_path("zbarimg");
	bool have_zbarimg = zbarimg != NULL;
	g_free(zbarimg);
	if (!have_zbarimg) {
		g_test_message("no zbarimg (zbar-tools): the QR codes are not read back");
	} else {
		int status = 0;
		char *codes = run((const char *const[]){"zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png, NULL}, &status);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		/* Exactly the proof, and the voucher's code when there is one: nothing else. */
		char **got = g_strsplit(g_strstrip(codes), "\n", -1);
		g_assert_cmpuint(g_strv_length(got), ==, voucher ? 2 : 1);
		g_assert_true(g_strv_contains((const char *const *)got, qr));
		if (voucher)
			g_assert_true(g_strv_contains((const char *const *)got, voucher));
		g_strfreev(got);
		g_free(codes);
		char *verified = run((const char *const[]){kiosk_exe, "receipt", "verify", "--db", f->path, qr, NULL},
				     &status);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		char *paid_line = g_strdup_printf("paid: %s", paid);
		struct ledger_tx tx;
		g_assert_cmpint(ledger_tx_get(f->l, tx_id, &tx, &err), ==, 0);
		char *uuid_line = g_strdup_printf("transaction uuid: %s", tx.uuid);
		expect(verified, (const char *const[]){"lines: 2\n", paid_line, uuid_line, "reference: TXN-", NULL}, NULL);
		g_free(uuid_line);
		g_free(paid_line);
		g_free(verified);
	}
	g_free(txt);
	g_free(png);
	return text;
}

/* Rows both receipts share: the kiosk, the lines named from the catalogue in each language. */
static const char *const lines_named[] = {
	"Item 1: Dubai Police – Traffic fines\n", "Traffic file number\t10012345\n",
	"Item 2: Dubai Electricity and Water Authority (DEWA) – Electricity and water bill\n",
	"Account number\t2001234567\n", "البند 1: شرطة دبي – المخالفات المرورية\n", "رقم الملف المروري\t10012345\n",
	"Service\tGovernment fees\n", "This kiosk gives no change.\n", NULL};

static void test_paid_exactly(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	credit_note(&f, 50000), credit_note(&f, 20000), credit_note(&f, 10000), credit_note(&f, 5000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1001");
	result(&f, tx.id, 2, LEDGER_LINE_OFFLINE, NULL);
	struct ledger_basket_end end = close_basket(&f, tx.id, LEDGER_REST_NONE, NULL);
	g_assert_cmpint(end.rest_fils, ==, 0);
	char *text = receipt(&f, tx.id, "exact", false, NULL, "AED 850.00 (85000 fils)");
	expect(text, lines_named, NULL);
	expect(text,
	       (const char *const[]){"\nPaid\tAED 600.00\n", "Payment reference\tP-1001\n", "Accepted offline\tAED 250.00\n",
				     "Paid for the items\tAED 850.00\n", "Paid in cash\tAED 850.00\n",
				     "Banknotes\t4 notes\n", "1 × AED 500\tAED 500.00\n", "1 × AED 50\tAED 50.00\n",
				     "Total paid\tAED 850.00\n", "مدفوع\t600.00 د.إ\n", "مقبول دون اتصال\t250.00 د.إ\n",
				     "إجمالي المدفوع\t850.00 د.إ\n", "Reference\tTXN-000001\n", NULL},
	       (const char *const[]){"Credited to card", "e-voucher", "DUPLICATE", "Recovered", NULL});
	g_free(text);
	lfix_free(&f);
}

static void test_overpaid_to_card(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	credit_note(&f, 100000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "D-1");
	close_basket(&f, tx.id, LEDGER_REST_CARD, CARD);
	char *text = receipt(&f, tx.id, "card", false, NULL, "AED 1,000.00 (100000 fils)");
	expect(text, lines_named, NULL);
	expect(text,
	       (const char *const[]){"Paid for the items\tAED 850.00\n", "Total paid\tAED 1,000.00\n",
				     "Credited to card\tAED 150.00\n", "Card\t•••• •••• •••• 9012\n",
				     "أضيف إلى البطاقة\t150.00 د.إ\n", NULL},
	       (const char *const[]){"7840", "e-voucher", NULL});
	g_free(text);
	lfix_free(&f);
}

/* The rest to a voucher: its code in full (groups of four) in both blocks, its amount and
 * expiry, and the code alone as a QR of its own. */
static void check_voucher(const char *text, const struct ledger_basket_end *end, const char *amount_en,
			  const char *amount_ar)
{
	char groups[20];
	vcode_format(end->voucher, groups);
	char *en = g_strdup_printf("Balance as a new e-voucher\t%s\n", amount_en);
	char *ar = g_strdup_printf("الرصيد المتبقي في قسيمة إلكترونية جديدة\t%s\n", amount_ar);
	char *code_en = g_strdup_printf("e-Voucher code\t%s\n", groups);
	char *code_ar = g_strdup_printf("رمز القسيمة الإلكترونية\t%s\n", groups);
	char *qr = g_strdup_printf("QR\t%s\n", end->voucher);
	char when[40], *until = NULL;
	print_format_time(end->voucher_expires_s, when, sizeof(when));
	until = g_strdup_printf("Valid until\t%s\n", when);
	g_assert_cmpint(end->voucher_expires_s, ==, NOW + 30 * 86400);
	expect(text, (const char *const[]){en, ar, code_en, code_ar, qr, until, "Your e-voucher: scan or type", NULL},
	       (const char *const[]){"Credited to card", NULL});
	g_free(until);
	g_free(qr);
	g_free(code_ar);
	g_free(code_en);
	g_free(ar);
	g_free(en);
}

static void test_overpaid_to_voucher(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	credit_note(&f, 100000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "D-1");
	struct ledger_basket_end end = close_basket(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	char *text = receipt(&f, tx.id, "voucher", false, end.voucher, "AED 1,000.00 (100000 fils)");
	expect(text, lines_named, NULL);
	check_voucher(text, &end, "AED 150.00", "150.00 د.إ");
	g_free(text);
	lfix_free(&f);
}

static void test_refused_to_voucher(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	credit_note(&f, 50000), credit_note(&f, 20000), credit_note(&f, 10000), credit_note(&f, 5000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_REFUSED, NULL);
	struct ledger_basket_end end = close_basket(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	char *text = receipt(&f, tx.id, "refused", false, end.voucher, "AED 850.00 (85000 fils)");
	expect(text, lines_named, NULL);
	expect(text,
	       (const char *const[]){"Refused, not paid\tAED 250.00\n", "مرفوض، لم يُدفع\t250.00 د.إ\n",
				     "Paid for the items\tAED 600.00\n", "Total paid\tAED 850.00\n", NULL},
	       NULL);
	check_voucher(text, &end, "AED 250.00", "250.00 د.إ");
	g_free(text);
	lfix_free(&f);
}

/* Cancelled with AED 500 paid, short of AED 850: nothing is paid at the host, all of it is a
 * voucher. */
static void test_underpaid_cancel(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	credit_note(&f, 50000);
	struct ledger_basket_end end = close_basket(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	char *text = receipt(&f, tx.id, "cancelled", false, end.voucher, "AED 500.00 (50000 fils)");
	expect(text, lines_named, NULL);
	expect(text,
	       (const char *const[]){"Not paid\tAED 600.00\n", "غير مدفوع\t600.00 د.إ\n", "Paid for the items\tAED 0.00\n",
				     "Total paid\tAED 500.00\n", NULL},
	       (const char *const[]){"\nPaid\tAED", NULL});
	check_voucher(text, &end, "AED 500.00", "500.00 د.إ");
	g_free(text);
	lfix_free(&f);
}

static void test_voucher_in_full(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	char code[17];
	voucher_in(&f, tx.id, "912345678901234", RID1, FINE + BILL, code);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "D-1");
	close_basket(&f, tx.id, LEDGER_REST_NONE, NULL);
	char *text = receipt(&f, tx.id, "voucher-full", false, NULL, "AED 850.00 (85000 fils)");
	char *en = g_strdup_printf("Paid by e-voucher •••• •••• •••• %s\tAED 850.00\n", code + 12);
	char *ar = g_strdup_printf("مدفوع بقسيمة إلكترونية •••• •••• •••• %s\t850.00 د.إ\n", code + 12);
	expect(text, (const char *const[]){en, ar, "Total paid\tAED 850.00\n", NULL},
	       /* Paid by voucher alone: no cash row, no code but its last four digits. */
	       (const char *const[]){"Paid in cash", "9123", "Banknotes", NULL});
	g_free(ar);
	g_free(en);
	g_free(text);
	lfix_free(&f);
}

/* A spent voucher's code is printed masked: its first twelve digits appear nowhere, in a row
 * or grouped in fours. Not a shorter prefix: the uuid, a new voucher's random code and the QR
 * text may hold any four digits by chance (a CI run once found "9555" in a new code). */
static void expect_code_hidden(const char *text, const char *code)
{
	char hidden[13], grouped[15];
	snprintf(hidden, sizeof(hidden), "%.12s", code);
	snprintf(grouped, sizeof(grouped), "%.4s %.4s %.4s", code, code + 4, code + 8);
	expect(text, (const char *const[]){NULL}, (const char *const[]){hidden, grouped, NULL});
}

static void test_voucher_in_part(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	char code[17];
	voucher_in(&f, tx.id, "987654321098765", RID2, FINE, code);
	credit_note(&f, 20000), credit_note(&f, 5000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "D-1");
	close_basket(&f, tx.id, LEDGER_REST_NONE, NULL);
	char *text = receipt(&f, tx.id, "voucher-part", false, NULL, "AED 850.00 (85000 fils)");
	char *en = g_strdup_printf("Paid by e-voucher •••• •••• •••• %s\tAED 600.00\n", code + 12);
	expect(text,
	       (const char *const[]){en, "Paid in cash\tAED 250.00\n", "1 × AED 200\tAED 200.00\n",
				     "Total paid\tAED 850.00\n", NULL},
	       (const char *const[]){NULL});
	expect_code_hidden(text, code);
	g_free(en);
	g_free(text);
	lfix_free(&f);
}

/* A voucher worth more than the basket: it is paid in whole (one-time), and what it leaves
 * over is a new voucher, printed in full beside the spent one's last four digits. */
static void test_voucher_remainder(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	char code[17];
	voucher_in(&f, tx.id, "955554444333322", RID1, 100000, code);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "D-1");
	struct ledger_basket_end end = close_basket(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	char *text = receipt(&f, tx.id, "voucher-remainder", false, end.voucher, "AED 1,000.00 (100000 fils)");
	char *en = g_strdup_printf("Paid by e-voucher •••• •••• •••• %s\tAED 1,000.00\n", code + 12);
	expect(text, (const char *const[]){en, "Paid for the items\tAED 850.00\n", "Total paid\tAED 1,000.00\n", NULL},
	       (const char *const[]){"Paid in cash", NULL});
	expect_code_hidden(text, code);
	check_voucher(text, &end, "AED 150.00", "150.00 د.إ");
	g_free(en);
	g_free(text);
	lfix_free(&f);
}

/* More vouchers than a receipt once listed (TXRECEIPT_VOUCHERS_MAX, 16): seventeen of AED 50
 * pay the AED 850.00 basket, and every one of them is on the paper. */
static void test_many_vouchers(void)
{
	/* As many vouchers as a basket takes (the ledger refuses a redemption past
	 * LEDGER_BASKET_INTENTS_MAX): AED 50 each, the last paying what is left of AED 850, so
	 * every one is a line of its own and none is dropped by a fixed-size list. */
	enum { N = LEDGER_BASKET_INTENTS_MAX };
	const int64_t each = 5000, last = 85000 - (N - 1) * each;
	g_assert_cmpint(last, >, 0);
	g_assert_cmpint(last, <, 100000); /* printed below without a thousands separator */
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	char codes[N][17];
	for (int k = 0; k < N; k++) {
		char first15[16], rid[37];
		snprintf(first15, sizeof(first15), "9%014d", 70000 + k);
		snprintf(rid, sizeof(rid), "0b6c3f44-9f1e-4c55-8a1e-2f0d4d3b9b%02d", k);
		voucher_in(&f, tx.id, first15, rid, k == N - 1 ? last : each, codes[k]);
	}
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "D-1");
	close_basket(&f, tx.id, LEDGER_REST_NONE, NULL);
	char *text = receipt(&f, tx.id, "many-vouchers", false, NULL, "AED 850.00 (85000 fils)");
	for (int k = 0; k < N; k++) {
		int64_t v = k == N - 1 ? last : each;
		char *en = g_strdup_printf("Paid by e-voucher •••• •••• •••• %s\tAED %lld.%02lld\n", codes[k] + 12,
					   (long long)(v / 100), (long long)(v % 100));
		expect(text, (const char *const[]){en, NULL}, NULL);
		g_free(en);
	}
	expect(text, (const char *const[]){"Total paid\tAED 850.00\n", NULL}, (const char *const[]){"Paid in cash", NULL});
	g_free(text);
	lfix_free(&f);
}

/* A kiosk that died with the basket paid in full: recovery ends it with the lines to be
 * confirmed at the host and the rest on a voucher; reprinted, it says DUPLICATE. */
static void test_recovered_unconfirmed(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	credit_note(&f, 100000);
	struct ledger_tx *list = NULL;
	size_t n = 0;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_tx_recover(f.l, NOW, &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_true(list[0].recovered);
	free(list);
	struct ledger_basket_end end;
	g_assert_cmpint(ledger_basket_end_get(f.l, tx.id, &end, &err), ==, 0);
	g_assert_cmpint(end.rest_to, ==, LEDGER_REST_VOUCHER);
	char *text = receipt(&f, tx.id, "recovered", false, end.voucher, "AED 1,000.00 (100000 fils)");
	char groups[20];
	vcode_format(end.voucher, groups);
	char *code = g_strdup_printf("e-Voucher code\t%s\n", groups);
	expect(text,
	       (const char *const[]){"To be confirmed\tAED 600.00\n", "قيد التأكيد\t600.00 د.إ\n",
				     "Recovered after an interruption: the kiosk restarted during this payment.",
				     "عملية مستعادة بعد انقطاع", "Balance as a new e-voucher\tAED 150.00\n", code, NULL},
	       (const char *const[]){"DUPLICATE", NULL});
	g_free(text);
	text = receipt(&f, tx.id, "recovered-duplicate", true, end.voucher, "AED 1,000.00 (100000 fils)");
	g_assert_true(g_str_has_prefix(text, "نسخة مكررة\nDUPLICATE\n"));
	g_assert_true(g_str_has_suffix(text, "نسخة مكررة\nDUPLICATE\n"));
	expect(text, (const char *const[]){code, NULL}, NULL);
	g_free(code);
	g_free(text);
	lfix_free(&f);
}

/* No receipt for a basket cancelled with nothing paid, nor for one still open; a basket whose
 * entity the catalogue does not know prints its ids. */
static void test_refusals_and_unknown_names(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct kio_error err = {0};
	struct ledger_tx tx = open_basket(&f);
	struct print_doc *doc = print_doc_new();
	g_assert_cmpint(txreceipt_doc(f.l, i18n, &cfg, cat, tx.id, false, doc, NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "is open"));
	close_basket(&f, tx.id, LEDGER_REST_NONE, NULL);
	g_assert_cmpint(txreceipt_doc(f.l, i18n, &cfg, cat, tx.id, false, doc, NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "is cancelled"));
	print_doc_free(doc);

	tx = open_basket(&f);
	credit_note(&f, 100000);
	close_basket(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	doc = print_doc_new();
	g_assert_cmpint(txreceipt_doc(f.l, i18n, &cfg, NULL, tx.id, false, doc, NULL, &err), ==, 0);
	struct print_receipt *r = NULL;
	g_assert_cmpint(print_doc_render(doc, engine, 576, &r, &err), ==, 0);
	expect(r->text, (const char *const[]){"Item 1: police – police-fines\n", "Reference number\t10012345\n", NULL},
	       NULL);
	print_receipt_free(r);
	r = NULL;
	/* Paper too narrow for the QR codes: an error, never a receipt drawn over itself. */
	g_assert_cmpint(print_doc_render(doc, engine, 128, &r, &err), ==, KIO_ERR_INVALID);
	g_assert_null(r);
	print_doc_free(doc);
	lfix_free(&f);
}

/* A catalogue name holding a bidi override (the loader does not refuse one) would make the
 * receipt refused, and a recovery receipt retried for ever with the voucher's code never
 * printed: the line prints its ids instead. */
static void test_catalogue_override_falls_back(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_tx tx = open_basket(&f);
	credit_note(&f, 100000);
	struct ledger_basket_end end = close_basket(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	struct cat_entity *police = (struct cat_entity *)catalogue_entity(cat, "police");
	g_assert_nonnull(police);
	struct cat_text saved = police->name;
	snprintf(police->name.ar, sizeof(police->name.ar), "شرطة \u202E دبي");
	struct kio_error err = {0};
	struct print_doc *doc = print_doc_new();
	int rc = txreceipt_doc(f.l, i18n, &cfg, cat, tx.id, false, doc, NULL, &err);
	police->name = saved;
	if (rc != 0)
		g_error("txreceipt_doc: %s", err.msg);
	struct print_receipt *r = NULL;
	g_assert_cmpint(print_doc_render(doc, engine, 576, &r, &err), ==, 0);
	char groups[20];
	vcode_format(end.voucher, groups);
	char *code = g_strdup_printf("e-Voucher code\t%s\n", groups);
	expect(r->text, (const char *const[]){"Item 1: police – police-fines\n", "البند 1: police – police-fines\n", "Item 2: Dubai Electricity", code, NULL},
	       (const char *const[]){"\u202E", NULL});
	g_free(code);
	print_receipt_free(r);
	print_doc_free(doc);
	lfix_free(&f);
}

/* The longest basket: ten lines, each with a payment reference, and a voucher for the rest.
 * Every line is on the paper, and the receipt stays within what a roll gives between two cuts
 * (the simulated printer's max_page_rows, 16384 dots: 2 m). */
static void test_ten_lines(void)
{
	struct lfix f;
	lfix_new(&f, "fees-receipt", NOW - 600);
	struct ledger_fee_line lines[LEDGER_BASKET_MAX];
	for (int k = 0; k < LEDGER_BASKET_MAX; k++)
		lines[k] = lfix_fee_line(k % 2 ? "dewa" : "police", k % 2 ? "dewa-bill" : "police-fines", "10012345", NULL, 5000);
	struct ledger_tx tx;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_open(f.l, NOW - 300, "ar", lines, LEDGER_BASKET_MAX, &tx, &err), ==, 0);
	credit_note(&f, 100000);
	for (int k = 1; k <= LEDGER_BASKET_MAX; k++)
		result(&f, tx.id, k, LEDGER_LINE_PAID, "P-0123456789");
	close_basket(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	struct print_doc *doc = print_doc_new();
	g_assert_cmpint(txreceipt_doc(f.l, i18n, &cfg, cat, tx.id, true, doc, NULL, &err), ==, 0);
	struct print_receipt *r = NULL;
	g_assert_cmpint(print_doc_render(doc, engine, cfg.receipt_width_dots, &r, &err), ==, 0);
	expect(r->text, (const char *const[]){"Item 10: Dubai Electricity", "البند 10: ", "Balance as a new e-voucher\tAED 500.00\n", NULL}, NULL);
	g_test_message("ten lines, a voucher, DUPLICATE: %d dots, %.0f mm of paper at 203 dpi", r->image.height,
		       r->image.height / 8.0);
	g_assert_cmpint(r->image.height, <, 16384);
	char *png = g_strdup_printf("%s/receipt-fees-ten-lines.png", out_dir);
	g_assert_cmpint(core_png_write_ink(png, r->image.width, r->image.height, r->image.stride, r->image.bits, &err), ==, 0);
	g_free(png);
	print_receipt_free(r);
	print_doc_free(doc);
	lfix_free(&f);
}

/* print_doc_add_fees refuses figures that do not add up, leaving the document untouched. */
static void test_figures_checked(void)
{
	struct print_fees_line ln = {.entity_en = "Dubai Police", .entity_ar = "شرطة دبي", .service_en = "Fines",
				     .service_ar = "المخالفات", .reference = "10012345", .amount_fils = 1000,
				     .result = PRINT_FEES_PAID};
	struct print_fees f = {.kiosk_name_en = "K", .kiosk_name_ar = "ك", .kiosk_id = "KIOSK-0001",
			       .reference = "TXN-000001", .txn_id = "0b9f6c1e-3c2a-4d7e-9f10-2a4b6c8d0e1f",
			       .lines = &ln, .n_lines = 1, .cash_fils = 2000, .lines_fils = 1000, .paid_fils = 2000,
			       .rest_fils = 1000, .rest_voucher = "9123456789012345"};
	struct kio_error err = {0};
	struct print_doc *doc = print_doc_new();
	g_assert_cmpint(print_doc_add_fees(doc, &f, i18n, &err), ==, 0);
	struct print_fees bad = f;
	bad.rest_fils = 999; /* the rest is not paid - lines */
	g_assert_cmpint(print_doc_add_fees(doc, &bad, i18n, &err), ==, KIO_ERR_INVALID);
	bad = f;
	bad.rest_voucher = NULL; /* a rest that went nowhere */
	g_assert_cmpint(print_doc_add_fees(doc, &bad, i18n, &err), ==, KIO_ERR_INVALID);
	bad = f;
	bad.rest_card = CARD; /* two places */
	g_assert_cmpint(print_doc_add_fees(doc, &bad, i18n, &err), ==, KIO_ERR_INVALID);
	bad = f;
	bad.rest_voucher = "912345678901234"; /* 15 digits */
	g_assert_cmpint(print_doc_add_fees(doc, &bad, i18n, &err), ==, KIO_ERR_INVALID);
	bad = f;
	bad.paid_fils = 2500; /* more than cash + vouchers */
	g_assert_cmpint(print_doc_add_fees(doc, &bad, i18n, &err), ==, KIO_ERR_INVALID);
	bad = f;
	struct print_fees_line evil = ln;
	evil.reference = "\u202E54321";
	bad.lines = &evil;
	g_assert_cmpint(print_doc_add_fees(doc, &bad, i18n, &err), ==, KIO_ERR_INVALID);
	bad = f;
	bad.n_lines = 0;
	g_assert_cmpint(print_doc_add_fees(doc, &bad, i18n, &err), ==, KIO_ERR_INVALID);
	struct print_receipt *r = NULL;
	g_assert_cmpint(print_doc_render(doc, engine, 576, &r, &err), ==, 0);
	/* One receipt: the refused ones added nothing. */
	char **parts = g_strsplit(r->text, "Payment Receipt\n", -1);
	g_assert_cmpuint(g_strv_length(parts), ==, 2);
	g_strfreev(parts);
	print_receipt_free(r);
	print_doc_free(doc);
}

/* The page check's rule 6 on paper (print_doc_render logs each number it would show backwards,
 * kiosk/core/bidinum.h): none on any receipt above, in either language. */
static int backwards_logged;
static char backwards_last[256];

static void on_log(void *user, enum log_level level, const char *module, const char *msg)
{
	if (level == LOG_ERROR && strstr(msg, "backwards after Arabic")) {
		backwards_logged++;
		snprintf(backwards_last, sizeof(backwards_last), "%s", msg);
	}
}

static void test_numbers_in_order(void)
{
	if (backwards_logged)
		g_error("%d receipt item(s) show a number backwards; the last: %s", backwards_logged, backwards_last);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc != 4) {
		fprintf(stderr, "usage: test-feesreceipt OUT_DIR CATALOGUE_DIR KIOSK\n");
		return 2;
	}
	out_dir = argv[1];
	kiosk_exe = argv[3];
	struct kio_error err = {0};
	if (text_engine_new(NULL, &engine, &err) != 0 || i18n_load(NULL, &i18n, &err) != 0 ||
	    catalogue_load_dir(argv[2], &cat, &err) != 0) {
		fprintf(stderr, "set-up: %s\n", err.msg);
		return 1;
	}
	core_config_defaults(&cfg);
	g_test_add_func("/fees-receipt/paid-exactly", test_paid_exactly);
	g_test_add_func("/fees-receipt/overpaid-to-card", test_overpaid_to_card);
	g_test_add_func("/fees-receipt/overpaid-to-voucher", test_overpaid_to_voucher);
	g_test_add_func("/fees-receipt/refused-to-voucher", test_refused_to_voucher);
	g_test_add_func("/fees-receipt/underpaid-cancel", test_underpaid_cancel);
	g_test_add_func("/fees-receipt/voucher-in-full", test_voucher_in_full);
	g_test_add_func("/fees-receipt/voucher-in-part", test_voucher_in_part);
	g_test_add_func("/fees-receipt/voucher-remainder", test_voucher_remainder);
	g_test_add_func("/fees-receipt/many-vouchers", test_many_vouchers);
	g_test_add_func("/fees-receipt/recovered-unconfirmed", test_recovered_unconfirmed);
	g_test_add_func("/fees-receipt/refusals-and-unknown-names", test_refusals_and_unknown_names);
	g_test_add_func("/fees-receipt/catalogue-override-falls-back", test_catalogue_override_falls_back);
	g_test_add_func("/fees-receipt/ten-lines", test_ten_lines);
	g_test_add_func("/fees-receipt/figures-checked", test_figures_checked);
	g_test_add_func("/fees-receipt/numbers-in-order", test_numbers_in_order);
	log_set_sink(on_log, NULL);
	log_set_sink_level(LOG_ERROR);
	int rc = g_test_run();
	catalogue_free(cat);
	i18n_free(i18n);
	text_engine_free(engine);
	return rc;
}
