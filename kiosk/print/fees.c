/* The bilingual receipt of a fees transaction (issue 13): its lines and their results, the
 * money paid in, what became of the rest, the new e-voucher's code as a QR, the signed proof. */
#include "kiosk/print/print.h"
#include "kiosk/print/print-priv.h"

#include "kiosk/core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The catalogue's word (named so for the catalogue check, which reads word(l, "id")). */
static const char *word(const struct block_lang *l, const char *key) { return print_word(l, key); }

static const char *result_word(const struct block_lang *l, enum print_fees_result r)
{
	switch (r) {
	case PRINT_FEES_PAID: return word(l, "receipt.fees.status.paid");
	case PRINT_FEES_REFUSED: return word(l, "receipt.fees.status.refused");
	case PRINT_FEES_OFFLINE: return word(l, "receipt.fees.status.offline");
	case PRINT_FEES_UNPAID: return word(l, "receipt.fees.status.unpaid");
	case PRINT_FEES_UNCONFIRMED: return word(l, "receipt.fees.status.unconfirmed");
	case PRINT_FEES_RESULT_COUNT: break;
	}
	return "?"; /* check() refused it before */
}

static bool digits16(const char *s)
{
	if (!s || strlen(s) != 16)
		return false;
	for (size_t i = 0; i < 16; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "9123 4567 8901 2345": the new voucher's code as the customer types it at the next kiosk. */
static void voucher_groups(const char *code, char *out, size_t size)
{
	snprintf(out, size, "%.4s %.4s %.4s %.4s", code, code + 4, code + 8, code + 12);
}

static int check(const struct print_fees *f, struct kio_error *err)
{
	if (!f->kiosk_name_en || !f->kiosk_name_ar || !f->kiosk_id || !f->reference || !f->txn_id || !f->lines)
		return kio_fail(err, KIO_ERR_INVALID, "print: fees receipt with a field missing");
	if (f->n_lines < 1 || f->n_lines > PRINT_FEES_LINES_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: %zu lines (1..%d)", f->reference, f->n_lines,
			PRINT_FEES_LINES_MAX);
	/* Names and references come from the catalogue files, the host and the customer: an
	 * override would reorder the receipt's figures (issue 9). */
	const char *fields[] = {f->kiosk_name_en, f->kiosk_name_ar, f->kiosk_id, f->reference, f->txn_id};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (i18n_has_bidi_override(fields[i]))
			return kio_fail(err, KIO_ERR_INVALID, "print: %s: a field holds a bidi override", f->reference);
	int64_t sum = 0;
	for (size_t k = 0; k < f->n_lines; k++) {
		const struct print_fees_line *ln = &f->lines[k];
		if (!ln->entity_en || !ln->entity_ar || !ln->service_en || !ln->service_ar)
			return kio_fail(err, KIO_ERR_INVALID, "print: %s: line %zu has no name", f->reference, k + 1);
		const char *texts[] = {ln->entity_en, ln->entity_ar, ln->service_en, ln->service_ar,
			ln->ref_name_en ? ln->ref_name_en : "", ln->ref_name_ar ? ln->ref_name_ar : "",
			ln->reference ? ln->reference : "", ln->host_ref ? ln->host_ref : ""};
		for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
			if (i18n_has_bidi_override(texts[i]))
				return kio_fail(err, KIO_ERR_INVALID, "print: %s: line %zu holds a bidi override",
					f->reference, k + 1);
		if (ln->amount_fils <= 0 || ln->amount_fils > INT64_MAX / 16 || (unsigned)ln->result >= PRINT_FEES_RESULT_COUNT)
			return kio_fail(err, KIO_ERR_INVALID, "print: %s: line %zu: amount %lld fils, result %d",
				f->reference, k + 1, (long long)ln->amount_fils, (int)ln->result);
		sum += ln->amount_fils;
	}
	int64_t in = f->cash_fils;
	if (f->n_denoms && !f->denoms)
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: note values missing", f->reference);
	int64_t notes_sum = 0;
	for (size_t i = 0; i < f->n_denoms; i++) {
		const struct print_denom *d = &f->denoms[i];
		if (d->value_fils <= 0 || d->count <= 0 || d->value_fils > INT64_MAX / 16 / d->count)
			return kio_fail(err, KIO_ERR_INVALID, "print: %s: %lld notes of %lld fils", f->reference,
				(long long)d->count, (long long)d->value_fils);
		notes_sum += d->value_fils * d->count;
	}
	if (f->n_denoms && notes_sum != f->cash_fils)
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: notes add up to %lld fils, cash is %lld",
			f->reference, (long long)notes_sum, (long long)f->cash_fils);
	if (f->n_vouchers_in && !f->vouchers_in)
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: vouchers missing", f->reference);
	for (size_t i = 0; i < f->n_vouchers_in; i++) {
		if (!digits16(f->vouchers_in[i].code) || f->vouchers_in[i].value_fils <= 0 ||
			f->vouchers_in[i].value_fils > INT64_MAX / 16)
			return kio_fail(err, KIO_ERR_INVALID, "print: %s: voucher %zu paid in is not 16 digits and a value",
				f->reference, i + 1);
		in += f->vouchers_in[i].value_fils;
	}
	/* The figures must say what the ledger's invariant 9 says, or the paper lies. */
	if (f->cash_fils < 0 || f->lines_fils < 0 || f->lines_fils > sum || in != f->paid_fils ||
		f->rest_fils != f->paid_fils - f->lines_fils || f->rest_fils < 0)
		return kio_fail(err, KIO_ERR_INVALID,
			"print: %s: amounts do not add up (cash %lld + vouchers = paid %lld, lines %lld, rest %lld)",
			f->reference, (long long)f->cash_fils, (long long)f->paid_fils, (long long)f->lines_fils,
			(long long)f->rest_fils);
	bool to_card = f->rest_card != NULL, to_voucher = f->rest_voucher != NULL;
	if ((to_card && !digits16(f->rest_card)) || (to_voucher && !digits16(f->rest_voucher)))
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: the rest's card or voucher is not 16 digits",
			f->reference);
	if ((f->rest_fils > 0) != (to_card || to_voucher) || (to_card && to_voucher))
		return kio_fail(err, KIO_ERR_INVALID, "print: %s: a rest of %lld fils %s", f->reference,
			(long long)f->rest_fils, to_card && to_voucher ? "goes two places" : "and where it went disagree");
	return 0;
}

static int block(struct print_doc *doc, const struct print_fees *f, const struct block_lang *l,
	struct kio_error *err)
{
	struct print_style row = {.size_px = PRINT_SIZE_BODY, .dir = l->dir};
	struct print_style head = row;
	head.bold = true;
	struct print_style strong = head;
	strong.size_px = PRINT_SIZE_LARGE;
	char v[200], w[200], x[200];
	print_doc_row(doc, &row, word(l, "receipt.kiosk"), print_ltr(f->kiosk_id, v, sizeof(v)));
	print_localize_digits(l->i18n, l->lang, print_format_time(f->when_s, w, sizeof(w)), x, sizeof(x));
	print_doc_row(doc, &row, word(l, "receipt.date"), print_ltr(x, v, sizeof(v)));
	print_doc_row(doc, &row, word(l, "receipt.reference"), print_ltr(f->reference, v, sizeof(v)));
	print_doc_row(doc, &row, word(l, "receipt.txn_id"), print_ltr(f->txn_id, v, sizeof(v)));
	print_doc_row(doc, &row, word(l, "receipt.service"), word(l, "receipt.service.fees"));
	for (size_t k = 0; k < f->n_lines; k++) {
		const struct print_fees_line *ln = &f->lines[k];
		print_doc_space(doc, 6);
		snprintf(w, sizeof(w), "%zu", k + 1);
		print_localize_digits(l->i18n, l->lang, w, x, sizeof(x));
		if (print_fill_in(word(l, "receipt.fees.line"), "{n}", x, w, sizeof(w), err) != 0)
			return err->code;
		/* One heading names the line ("Item 1: Dubai Police – Traffic fines"), and its
		 * amount stands against its result: a basket of ten stays a receipt, not a scroll. */
		char *heading = xasprintf("%s: %s – %s", w, l->arabic ? ln->entity_ar : ln->entity_en,
			l->arabic ? ln->service_ar : ln->service_en);
		print_doc_text(doc, &head, heading);
		free(heading);
		if (ln->reference && ln->reference[0]) {
			const char *name = l->arabic ? ln->ref_name_ar : ln->ref_name_en;
			print_doc_row(doc, &row, name ? name : word(l, "receipt.fees.reference"),
				print_ltr(ln->reference, v, sizeof(v)));
		}
		if (print_money(l, ln->amount_fils, v, sizeof(v), err) != 0)
			return err->code;
		print_doc_row(doc, &row, result_word(l, ln->result), v);
		if (ln->host_ref && ln->host_ref[0])
			print_doc_row(doc, &row, word(l, "receipt.fees.host_ref"), print_ltr(ln->host_ref, v, sizeof(v)));
	}
	print_doc_space(doc, 6);
	print_money(l, f->lines_fils, v, sizeof(v), err);
	print_doc_row(doc, &row, word(l, "receipt.fees.items_paid"), v);
	if (f->cash_fils > 0 || f->n_vouchers_in == 0) {
		print_money(l, f->cash_fils, v, sizeof(v), err);
		print_doc_row(doc, &row, word(l, "receipt.paid"), v);
	}
	if (f->notes) {
		print_note_count(l, f->notes, v, sizeof(v));
		print_doc_row(doc, &row, word(l, "receipt.notes"), v);
	}
	for (size_t i = 0; i < f->n_denoms; i++) {
		if (print_denom_label(l, &f->denoms[i], w, sizeof(w), err) != 0)
			return err->code;
		print_money(l, f->denoms[i].value_fils * f->denoms[i].count, v, sizeof(v), err);
		print_doc_row(doc, &row, w, v);
	}
	for (size_t i = 0; i < f->n_vouchers_in; i++) {
		/* Only the last four digits: the code may still hold value at the host (a voucher
		 * used in part keeps its code), and a receipt left in the tray must not spend it. */
		print_ltr(print_format_card_number(f->vouchers_in[i].code, true, w, sizeof(w)), x, sizeof(x));
		if (print_fill_in(word(l, "receipt.fees.voucher_in"), "{code}", x, w, sizeof(w), err) != 0)
			return err->code;
		print_money(l, f->vouchers_in[i].value_fils, v, sizeof(v), err);
		print_doc_row(doc, &row, w, v);
	}
	print_money(l, f->paid_fils, v, sizeof(v), err);
	print_doc_row(doc, &strong, word(l, "receipt.fees.total_paid"), v);
	if (f->rest_card) {
		print_money(l, f->rest_fils, v, sizeof(v), err);
		print_doc_row(doc, &head, word(l, "receipt.credit"), v);
		print_doc_row(doc, &row, word(l, "receipt.card"),
			print_ltr(print_format_card_number(f->rest_card, true, w, sizeof(w)), v, sizeof(v)));
	} else if (f->rest_voucher) {
		print_money(l, f->rest_fils, v, sizeof(v), err);
		print_doc_row(doc, &head, word(l, "receipt.fees.voucher_new"), v);
		voucher_groups(f->rest_voucher, w, sizeof(w));
		print_doc_row(doc, &head, word(l, "receipt.fees.voucher_code"), print_ltr(w, v, sizeof(v)));
		print_localize_digits(l->i18n, l->lang, print_format_time(f->voucher_expires_s, w, sizeof(w)), x,
			sizeof(x));
		print_doc_row(doc, &row, word(l, "receipt.fees.voucher_expires"), print_ltr(x, v, sizeof(v)));
	}
	struct print_style note = {.size_px = PRINT_SIZE_BODY, .dir = l->dir};
	if (f->recovered) {
		print_doc_space(doc, 6);
		struct print_style warn = note;
		warn.bold = true;
		print_doc_text(doc, &warn, word(l, "receipt.fees.recovered"));
	}
	print_doc_space(doc, 6);
	print_doc_text(doc, &note, word(l, "receipt.no_change"));
	return 0;
}

int print_doc_add_fees(struct print_doc *doc, const struct print_fees *f, const struct i18n *i18n,
	struct kio_error *err)
{
	if (!i18n)
		return kio_fail(err, KIO_ERR_INVALID, "print: fees receipt without catalogues");
	int rc = check(f, err);
	if (rc != 0)
		return rc;
	const struct block_lang ar = {i18n, LANG_AR, TEXT_DIR_RTL, true};
	const struct block_lang en = {i18n, LANG_EN, TEXT_DIR_LTR, false};
	/* Every template and QR is tried on a scratch document first, so a bad catalogue or a
	 * text the QR cannot hold leaves doc as it was. */
	struct print_doc *probe = print_doc_new();
	rc = block(probe, f, &ar, err);
	if (rc == 0)
		rc = block(probe, f, &en, err);
	if (rc == 0 && f->rest_voucher)
		rc = print_doc_qr(probe, f->rest_voucher, err);
	if (rc == 0 && f->proof_qr)
		rc = print_doc_qr(probe, f->proof_qr, err);
	print_doc_free(probe);
	if (rc != 0)
		return rc;

	struct print_style title_ar = {.size_px = PRINT_SIZE_TITLE, .bold = true, .dir = TEXT_DIR_RTL,
		.align = TEXT_ALIGN_CENTER};
	struct print_style title_en = title_ar;
	title_en.dir = TEXT_DIR_LTR;
	struct print_style name_ar = {.size_px = PRINT_SIZE_BODY, .dir = TEXT_DIR_RTL, .align = TEXT_ALIGN_CENTER};
	struct print_style name_en = name_ar;
	name_en.dir = TEXT_DIR_LTR;
	struct print_style cap_ar = name_ar, cap_en = name_en;
	cap_ar.size_px = cap_en.size_px = PRINT_SIZE_SMALL;
	if (f->duplicate) {
		print_doc_text(doc, &title_ar, word(&ar, "receipt.duplicate"));
		print_doc_text(doc, &title_en, word(&en, "receipt.duplicate"));
		print_doc_space(doc, 6);
	}
	print_doc_text(doc, &title_ar, word(&ar, "receipt.title"));
	print_doc_text(doc, &title_en, word(&en, "receipt.title"));
	print_doc_space(doc, 6);
	print_doc_text(doc, &name_ar, f->kiosk_name_ar);
	print_doc_text(doc, &name_en, f->kiosk_name_en);
	print_doc_rule(doc);
	block(doc, f, &ar, err);
	print_doc_rule(doc);
	block(doc, f, &en, err);
	print_doc_rule(doc);
	if (f->rest_voucher) {
		/* The voucher's own QR carries only its 16 digits (QR numeric mode, a 21-module
		 * symbol): what a kiosk's scanner types for the customer. It is apart from the proof's
		 * QR, with the code written under it, so neither is taken for the other. */
		char code[32], ltr[48];
		voucher_groups(f->rest_voucher, code, sizeof(code));
		print_doc_text(doc, &cap_ar, word(&ar, "receipt.fees.voucher_scan"));
		print_doc_text(doc, &cap_en, word(&en, "receipt.fees.voucher_scan"));
		print_doc_qr(doc, f->rest_voucher, err);
		struct print_style big = {.size_px = PRINT_SIZE_LARGE, .bold = true, .dir = TEXT_DIR_LTR,
			.align = TEXT_ALIGN_CENTER};
		print_doc_text(doc, &big, print_ltr(code, ltr, sizeof(ltr)));
		print_doc_rule(doc);
	}
	print_doc_text(doc, &name_ar, word(&ar, "receipt.thanks"));
	print_doc_text(doc, &name_en, word(&en, "receipt.thanks"));
	if (f->proof_qr) {
		print_doc_space(doc, 6);
		print_doc_text(doc, &cap_ar, word(&ar, "receipt.verify"));
		print_doc_text(doc, &cap_en, word(&en, "receipt.verify"));
		print_doc_qr(doc, f->proof_qr, err);
	}
	if (f->duplicate) {
		print_doc_space(doc, 6);
		print_doc_text(doc, &title_ar, word(&ar, "receipt.duplicate"));
		print_doc_text(doc, &title_en, word(&en, "receipt.duplicate"));
	}
	return 0;
}
