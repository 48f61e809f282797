/* The bilingual transaction receipt: Arabic block, English block, and the sample of it. */
#include "kiosk/print/print.h"

#include <stdio.h>

void print_txn_sample(struct print_txn *out)
{
	*out = (struct print_txn){
		.kiosk_name_en = "e-Dirham Kiosk, Al Barsha",
		.kiosk_name_ar = "كشك الدرهم الإلكتروني، البرشاء",
		.kiosk_id = "KSK-DXB-0042",
		.when_s = 1805005920, /* 2027-03-14 10:32 in Dubai */
		.reference = "TXN-2027-000123",
		.service_en = "e-Dirham card top-up",
		.service_ar = "تعبئة بطاقة الدرهم الإلكتروني",
		.card_number = "6001234567890123",
		.amount_fils = 15000,
		.fee_fils = 0,
		.paid_fils = 20000,
	};
}

/* One language's block: rows in that language's direction. */
struct lang {
	enum text_dir dir;
	const char *kiosk, *date, *ref, *service, *card, *amount, *fee, *total, *paid, *credit;
	bool arabic;
};

static const struct lang ar = {TEXT_DIR_RTL, "رقم الكشك", "التاريخ", "المرجع", "الخدمة",
	"رقم البطاقة", "المبلغ", "الرسوم", "الإجمالي", "المدفوع نقداً", "أضيف إلى البطاقة", true};
static const struct lang en = {TEXT_DIR_LTR, "Kiosk", "Date", "Reference", "Service", "Card",
	"Amount", "Fee", "Total", "Paid in cash", "Credited to card", false};

/* "150.00 د.إ" reads right to left as amount then dirham sign; "AED 150.00" in English. */
static const char *money(const struct lang *l, int64_t fils, char *out, size_t size)
{
	char num[40];
	print_format_fils(fils, num, sizeof(num));
	if (l->arabic)
		snprintf(out, size, "%s د.إ", num);
	else
		snprintf(out, size, "AED %s", num);
	return out;
}

static void block(struct print_doc *doc, const struct print_txn *t, const struct lang *l)
{
	struct print_style row = {.size_px = PRINT_SIZE_BODY, .dir = l->dir};
	struct print_style strong = row;
	strong.bold = true;
	strong.size_px = PRINT_SIZE_LARGE;
	char v[160], w[160];
	/* Kiosk id, date, reference and card number read left to right in both languages:
	 * isolated, so an Arabic line neither reverses nor reorders them. */
	print_doc_row(doc, &row, l->kiosk, print_ltr(t->kiosk_id, v, sizeof(v)));
	print_doc_row(doc, &row, l->date,
		print_ltr(print_format_time(t->when_s, w, sizeof(w)), v, sizeof(v)));
	print_doc_row(doc, &row, l->ref, print_ltr(t->reference, v, sizeof(v)));
	print_doc_row(doc, &row, l->service, l->arabic ? t->service_ar : t->service_en);
	if (t->card_number)
		print_doc_row(doc, &row, l->card,
			print_ltr(print_format_card_number(t->card_number, true, w, sizeof(w)), v,
				sizeof(v)));
	int64_t total = t->amount_fils + t->fee_fils;
	print_doc_row(doc, &row, l->amount, money(l, t->amount_fils, v, sizeof(v)));
	if (t->fee_fils)
		print_doc_row(doc, &row, l->fee, money(l, t->fee_fils, v, sizeof(v)));
	print_doc_row(doc, &strong, l->total, money(l, total, v, sizeof(v)));
	print_doc_row(doc, &row, l->paid, money(l, t->paid_fils, v, sizeof(v)));
	if (t->paid_fils > total)
		print_doc_row(doc, &row, l->credit, money(l, t->paid_fils - total, v, sizeof(v)));
}

int print_doc_add_txn(struct print_doc *doc, const struct print_txn *t, struct kio_error *err)
{
	if (!t->kiosk_name_en || !t->kiosk_name_ar || !t->kiosk_id || !t->reference ||
		!t->service_en || !t->service_ar)
		return kio_fail(err, KIO_ERR_INVALID, "print: transaction receipt with a field missing");
	if (t->amount_fils < 0 || t->fee_fils < 0 || t->paid_fils < 0 ||
		t->amount_fils > INT64_MAX / 2 || t->fee_fils > INT64_MAX / 2)
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: amounts out of range", t->reference);
	struct print_style title_ar = {.size_px = PRINT_SIZE_TITLE, .bold = true,
		.dir = TEXT_DIR_RTL, .align = TEXT_ALIGN_CENTER};
	struct print_style title_en = title_ar;
	title_en.dir = TEXT_DIR_LTR;
	struct print_style name_ar = {.size_px = PRINT_SIZE_BODY, .dir = TEXT_DIR_RTL,
		.align = TEXT_ALIGN_CENTER};
	struct print_style name_en = name_ar;
	name_en.dir = TEXT_DIR_LTR;

	print_doc_text(doc, &title_ar, "إيصال دفع");
	print_doc_text(doc, &title_en, "Payment Receipt");
	print_doc_space(doc, 6);
	print_doc_text(doc, &name_ar, t->kiosk_name_ar);
	print_doc_text(doc, &name_en, t->kiosk_name_en);
	print_doc_rule(doc);
	block(doc, t, &ar);
	print_doc_rule(doc);
	block(doc, t, &en);
	print_doc_rule(doc);
	print_doc_text(doc, &name_ar, "شكراً لاستخدامكم خدمة الدرهم الإلكتروني");
	print_doc_text(doc, &name_en, "Thank you for using e-Dirham");
	return 0;
}
