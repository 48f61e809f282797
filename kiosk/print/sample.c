/* The bilingual transaction receipt: Arabic block, English block, and the sample of it. */
#include "kiosk/print/print.h"
#include "kiosk/print/print-priv.h"

#include <stdio.h>
#include <string.h>

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


static const char *word(const struct block_lang *l, const char *key) { return i18n_get(l->i18n, l->lang, key); }

/*
 * The catalogue's template with {name} replaced by value: "{amount} د.إ" reads right to left
 * as amount then dirham sign, "AED {amount}" in English. A template without the placeholder
 * is refused: a receipt must never lose its amount to a translation.
 */
static int fill_in(const char *tmpl, const char *name, const char *value, char *out, size_t size,
	struct kio_error *err)
{
	const char *at = strstr(tmpl, name);
	if (!at)
		return kio_fail(err, KIO_ERR_INVALID, "print: catalogue text \"%s\" has no %s", tmpl, name);
	snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + strlen(name));
	return 0;
}

static int money(const struct block_lang *l, int64_t fils, char *out, size_t size, struct kio_error *err)
{
	char num[40], local[80];
	print_format_fils(fils, num, sizeof(num));
	print_localize_digits(l->i18n, l->lang, num, local, sizeof(local));
	return fill_in(word(l, "receipt.money"), "{amount}", local, out, size, err);
}

/* "3 notes", "ورقتان نقديتان": the language's plural form for n. A form that stands for one
 * number only may leave {count} out (Arabic says "two notes" without the 2). */
static void note_count(const struct block_lang *l, unsigned n, char *out, size_t size)
{
	const char *tmpl = i18n_nget(l->i18n, l->lang, "receipt.notes.count", n);
	char num[16], local[40];
	snprintf(num, sizeof(num), "%u", n);
	print_localize_digits(l->i18n, l->lang, num, local, sizeof(local));
	const char *at = strstr(tmpl, "{count}");
	if (at)
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, local, at + strlen("{count}"));
	else
		snprintf(out, size, "%s", tmpl);
}

/* "2 × AED 100": the count and the note's face value in the language's words and digits. */
static int denom_label(const struct block_lang *l, const struct print_denom *d, char *out, size_t size,
	struct kio_error *err)
{
	char num[40], local[80], note[120], count[120];
	print_localize_digits(l->i18n, l->lang, print_format_note_value(d->value_fils, num, sizeof(num)), local,
		sizeof(local));
	if (fill_in(word(l, "receipt.money"), "{amount}", local, note, sizeof(note), err) != 0)
		return err->code;
	snprintf(num, sizeof(num), "%lld", (long long)d->count);
	print_localize_digits(l->i18n, l->lang, num, local, sizeof(local));
	if (fill_in(word(l, "receipt.notes.denom"), "{count}", local, count, sizeof(count), err) != 0)
		return err->code;
	return fill_in(count, "{note}", note, out, size, err);
}

static int block(struct print_doc *doc, const struct print_txn *t, const struct block_lang *l,
	struct kio_error *err)
{
	struct print_style row = {.size_px = PRINT_SIZE_BODY, .dir = l->dir};
	struct print_style strong = row;
	strong.bold = true;
	strong.size_px = PRINT_SIZE_LARGE;
	char v[160], w[160];
	/* Kiosk id, date, reference and card number read left to right in both languages:
	 * isolated, so an Arabic line neither reverses nor reorders them. */
	print_doc_row(doc, &row, word(l, "receipt.kiosk"), print_ltr(t->kiosk_id, v, sizeof(v)));
	char when[40];
	print_localize_digits(l->i18n, l->lang, print_format_time(t->when_s, w, sizeof(w)), when, sizeof(when));
	print_doc_row(doc, &row, word(l, "receipt.date"), print_ltr(when, v, sizeof(v)));
	print_doc_row(doc, &row, word(l, "receipt.reference"), print_ltr(t->reference, v, sizeof(v)));
	if (t->txn_id)
		print_doc_row(doc, &row, word(l, "receipt.txn_id"), print_ltr(t->txn_id, v, sizeof(v)));
	print_doc_row(doc, &row, word(l, "receipt.service"), l->arabic ? t->service_ar : t->service_en);
	if (t->card_number)
		print_doc_row(doc, &row, word(l, "receipt.card"),
			print_ltr(print_format_card_number(t->card_number, true, w, sizeof(w)), v,
				sizeof(v)));
	int64_t total = t->amount_fils + t->fee_fils;
	if (money(l, t->amount_fils, v, sizeof(v), err) != 0)
		return err->code;
	print_doc_row(doc, &row, word(l, "receipt.amount"), v);
	if (t->fee_fils) {
		money(l, t->fee_fils, v, sizeof(v), err);
		print_doc_row(doc, &row, word(l, "receipt.fee"), v);
	}
	money(l, total, v, sizeof(v), err);
	print_doc_row(doc, &strong, word(l, "receipt.total"), v);
	money(l, t->paid_fils, v, sizeof(v), err);
	print_doc_row(doc, &row, word(l, "receipt.paid"), v);
	if (t->notes) {
		note_count(l, t->notes, v, sizeof(v));
		print_doc_row(doc, &row, word(l, "receipt.notes"), v);
	}
	for (size_t i = 0; i < t->n_denoms; i++) {
		if (denom_label(l, &t->denoms[i], w, sizeof(w), err) != 0)
			return err->code;
		money(l, t->denoms[i].value_fils * t->denoms[i].count, v, sizeof(v), err);
		print_doc_row(doc, &row, w, v);
	}
	int64_t credited = t->credited_fils ? t->credited_fils : t->paid_fils - total;
	if (credited > 0) {
		money(l, credited, v, sizeof(v), err);
		print_doc_row(doc, &row, word(l, "receipt.credit"), v);
	}
	struct print_style note = {.size_px = PRINT_SIZE_BODY, .dir = l->dir};
	if (t->recovered) {
		print_doc_space(doc, 6);
		struct print_style warn = note;
		warn.bold = true;
		print_doc_text(doc, &warn, word(l, "receipt.recovered"));
	}
	if (t->no_change) {
		print_doc_space(doc, 6);
		print_doc_text(doc, &note, word(l, "receipt.no_change"));
	}
	return 0;
}

/* Every figure a real transaction adds is checked before anything is added. */
static int check_denoms(const struct print_txn *t, struct kio_error *err)
{
	if (t->n_denoms && !t->denoms)
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: note values missing", t->reference);
	for (size_t i = 0; i < t->n_denoms; i++) {
		const struct print_denom *d = &t->denoms[i];
		/* A UAE note is at most AED 1,000: far below where value x count could overflow. */
		if (d->value_fils <= 0 || d->count <= 0 || d->value_fils > INT64_MAX / 2 / d->count)
			return kio_fail(err, KIO_ERR_INVALID, "print: %s: %lld notes of %lld fils", t->reference,
				(long long)d->count, (long long)d->value_fils);
	}
	return 0;
}

int print_doc_add_txn(struct print_doc *doc, const struct print_txn *t, const struct i18n *i18n,
	struct kio_error *err)
{
	if (!i18n || !t->kiosk_name_en || !t->kiosk_name_ar || !t->kiosk_id || !t->reference ||
		!t->service_en || !t->service_ar)
		return kio_fail(err, KIO_ERR_INVALID, "print: transaction receipt with a field missing");
	/* Fields come from the configuration, the host and the flows, not the checked catalogues
	 * (issue 9): an override would reorder the receipt's figures. */
	const struct {
		const char *name, *text;
	} fields[] = {{"kiosk name", t->kiosk_name_en}, {"kiosk name", t->kiosk_name_ar},
		{"kiosk id", t->kiosk_id}, {"reference", t->reference}, {"service", t->service_en},
		{"service", t->service_ar}, {"card number", t->card_number ? t->card_number : ""}};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (i18n_has_bidi_override(fields[i].text))
			return kio_fail(err, KIO_ERR_INVALID,
				"print: %s: the %s holds a bidi override (U+202A..U+202E)", t->reference,
				fields[i].name);
	if (t->amount_fils < 0 || t->fee_fils < 0 || t->paid_fils < 0 || t->credited_fils < 0 ||
		t->amount_fils > INT64_MAX / 2 || t->fee_fils > INT64_MAX / 2)
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: amounts out of range", t->reference);
	if (t->txn_id && i18n_has_bidi_override(t->txn_id))
		return kio_fail(err, KIO_ERR_INVALID,
			"print: %s: the transaction id holds a bidi override (U+202A..U+202E)", t->reference);
	if (check_denoms(t, err) != 0)
		return err->code;
	/* The QR is encoded once before anything is added, so a text it cannot hold leaves the
	 * document as it was. */
	if (t->proof_qr) {
		struct print_doc *probe = print_doc_new();
		int rc = print_doc_qr(probe, t->proof_qr, err);
		print_doc_free(probe);
		if (rc != 0)
			return rc;
	}
	struct print_style title_ar = {.size_px = PRINT_SIZE_TITLE, .bold = true,
		.dir = TEXT_DIR_RTL, .align = TEXT_ALIGN_CENTER};
	struct print_style title_en = title_ar;
	title_en.dir = TEXT_DIR_LTR;
	struct print_style name_ar = {.size_px = PRINT_SIZE_BODY, .dir = TEXT_DIR_RTL,
		.align = TEXT_ALIGN_CENTER};
	struct print_style name_en = name_ar;
	name_en.dir = TEXT_DIR_LTR;

	const struct block_lang ar = {i18n, LANG_AR, TEXT_DIR_RTL, true};
	const struct block_lang en = {i18n, LANG_EN, TEXT_DIR_LTR, false};
	/* The amount template is checked before anything is added, so a bad catalogue leaves
	 * the document as it was. */
	char probe[160];
	if (money(&ar, 0, probe, sizeof(probe), err) != 0 || money(&en, 0, probe, sizeof(probe), err) != 0)
		return err->code;
	if (t->n_denoms && (denom_label(&ar, &t->denoms[0], probe, sizeof(probe), err) != 0 ||
			       denom_label(&en, &t->denoms[0], probe, sizeof(probe), err) != 0))
		return err->code;
	if (t->duplicate) {
		print_doc_text(doc, &title_ar, word(&ar, "receipt.duplicate"));
		print_doc_text(doc, &title_en, word(&en, "receipt.duplicate"));
		print_doc_space(doc, 6);
	}
	print_doc_text(doc, &title_ar, word(&ar, "receipt.title"));
	print_doc_text(doc, &title_en, word(&en, "receipt.title"));
	print_doc_space(doc, 6);
	print_doc_text(doc, &name_ar, t->kiosk_name_ar);
	print_doc_text(doc, &name_en, t->kiosk_name_en);
	print_doc_rule(doc);
	block(doc, t, &ar, err);
	print_doc_rule(doc);
	block(doc, t, &en, err);
	print_doc_rule(doc);
	print_doc_text(doc, &name_ar, word(&ar, "receipt.thanks"));
	print_doc_text(doc, &name_en, word(&en, "receipt.thanks"));
	if (t->proof_qr) {
		struct print_style cap_ar = name_ar, cap_en = name_en;
		cap_ar.size_px = cap_en.size_px = PRINT_SIZE_SMALL;
		print_doc_space(doc, 6);
		print_doc_text(doc, &cap_ar, word(&ar, "receipt.verify"));
		print_doc_text(doc, &cap_en, word(&en, "receipt.verify"));
		if (print_doc_qr(doc, t->proof_qr, err) != 0)
			return err->code;
	}
	if (t->duplicate) {
		print_doc_space(doc, 6);
		print_doc_text(doc, &title_ar, word(&ar, "receipt.duplicate"));
		print_doc_text(doc, &title_en, word(&en, "receipt.duplicate"));
	}
	return 0;
}

/* ---- the helpers the fees receipt shares (print-priv.h) ---- */

const char *print_word(const struct block_lang *l, const char *key) { return word(l, key); }

int print_fill_in(const char *tmpl, const char *name, const char *value, char *out, size_t size,
	struct kio_error *err)
{
	return fill_in(tmpl, name, value, out, size, err);
}

int print_money(const struct block_lang *l, int64_t fils, char *out, size_t size, struct kio_error *err)
{
	return money(l, fils, out, size, err);
}

void print_note_count(const struct block_lang *l, unsigned n, char *out, size_t size)
{
	note_count(l, n, out, size);
}

int print_denom_label(const struct block_lang *l, const struct print_denom *d, char *out, size_t size,
	struct kio_error *err)
{
	return denom_label(l, d, out, size, err);
}
