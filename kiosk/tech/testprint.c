/* The technician's test receipt and test card. */
#include "kiosk/tech/testprint.h"

#include <stdio.h>

#define LOG_MODULE "testprint"
#include "kiosk/core/log.h"
#include "kiosk/print/print.h"

int tech_test_receipt(const struct tech_print_ctx *ctx, unsigned seq, char *job_out, size_t job_cap,
		      struct kio_error *err)
{
	snprintf(job_out, job_cap, "TEST-%04u", seq);
	const struct print_style banner = {.size_px = PRINT_SIZE_LARGE, .bold = true, .align = TEXT_ALIGN_CENTER};
	struct print_doc *doc = print_doc_new();
	print_doc_text(doc, &banner, i18n_get(ctx->i18n, LANG_AR, "testprint.banner"));
	print_doc_text(doc, &banner, i18n_get(ctx->i18n, LANG_EN, "testprint.banner"));
	print_doc_rule(doc);
	/* The sample transaction shows every kind of line a real receipt has, under this kiosk's
	 * id, today's date and the test job's reference. */
	struct print_txn txn;
	print_txn_sample(&txn);
	txn.kiosk_id = ctx->cfg->kiosk_id;
	txn.when_s = ctx->wall_s;
	txn.reference = job_out;
	txn.kiosk_name_ar = i18n_get(ctx->i18n, LANG_AR, "card.issuer");
	txn.kiosk_name_en = i18n_get(ctx->i18n, LANG_EN, "card.issuer");
	int rc = print_doc_add_txn(doc, &txn, ctx->i18n, err);
	print_doc_rule(doc);
	print_doc_text(doc, &banner, i18n_get(ctx->i18n, LANG_AR, "testprint.banner"));
	print_doc_text(doc, &banner, i18n_get(ctx->i18n, LANG_EN, "testprint.banner"));
	struct print_receipt *receipt = NULL;
	if (rc == 0)
		rc = print_doc_render(doc, ctx->engine, ctx->cfg->receipt_width_dots, &receipt, err);
	if (rc == 0)
		rc = devices_print_receipt(ctx->devices, job_out, &receipt->image, receipt->text, err);
	if (rc == 0)
		LOG_INFO("receipt: test print %s sent (%d x %d dots)", job_out, receipt->image.width,
			 receipt->image.height);
	print_receipt_free(receipt);
	print_doc_free(doc);
	return rc;
}

int tech_test_card(const struct tech_print_ctx *ctx, unsigned seq, char *number_out, size_t number_cap,
		   struct kio_error *err)
{
	snprintf(number_out, number_cap, "99%014u", seq);
	const struct print_card card = {
		.issuer_ar = i18n_get(ctx->i18n, LANG_AR, "card.issuer"),
		.issuer_en = i18n_get(ctx->i18n, LANG_EN, "card.issuer"),
		.number = number_out,
		.issued_s = ctx->wall_s,
	};
	struct print_card_face *face = NULL;
	int rc = print_card_face_render(ctx->engine, ctx->i18n, &card, &face, err);
	if (rc == 0) {
		struct card_issuer *iss = devices_card(ctx->devices);
		struct cardprn_image image = print_card_face_image(face);
		rc = iss->ops->issue(iss, number_out, &image);
		if (rc != 0)
			kio_fail(err, rc, "card: test card refused: %s", kio_strerror(rc));
	}
	if (rc == 0)
		LOG_INFO("card: test card ••%s sent", number_out + 12);
	print_card_face_free(face);
	return rc;
}
