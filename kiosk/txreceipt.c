/* A ledger transaction's receipt: read from the ledger, drawn by kiosk/print, sent to the
 * receipt printer, its send and print recorded in the ledger. */
#define LOG_MODULE "txreceipt"
#include "kiosk/txreceipt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/print/print.h"
#include "kiosk/proof/proof.h"

_Static_assert(TXRECEIPT_QR_MAX == PROOF_QR_TEXT_MAX + 1, "room for the proof's QR text");
_Static_assert(PRINT_FEES_LINES_MAX == LEDGER_BASKET_MAX, "kiosk/print draws every line a basket holds");

static void job_id(int64_t seq, int64_t sends, char out[TXRECEIPT_JOB_MAX])
{
	if (sends > 1)
		snprintf(out, TXRECEIPT_JOB_MAX, "TXN-%06" PRId64 "-R%" PRId64, seq, sends);
	else
		snprintf(out, TXRECEIPT_JOB_MAX, "TXN-%06" PRId64, seq);
}

bool txreceipt_job_seq(const char *id, int64_t *seq)
{
	if (strncmp(id, "TXN-", 4) != 0)
		return false;
	const char *p = id + 4;
	int64_t v = 0;
	size_t digits = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (digits < 6 || v < 1)
		return false;
	if (*p == '-') { /* "-R<n>", n >= 2 */
		if (p[1] != 'R' || p[2] < '1' || p[2] > '9')
			return false;
		for (p += 2; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p != '\0')
		return false;
	*seq = v;
	return true;
}

/* The QR text of tx's signed record (docs/receipts.md) into out; false (logged) when it
 * cannot be made, and the receipt then prints without it: the customer's proof of payment is
 * the paper and the ledger, the QR lets others check it. paid_fils: everything paid in (a
 * top-up's cash; a basket's cash and vouchers); lines: a top-up is one, a basket its lines. */
static bool proof_text(struct ledger *ledger, const struct core_config *cfg, const struct ledger_tx *tx,
		       int64_t paid_fils, int64_t lines, char *out, size_t cap)
{
	struct proof_receipt r = {.seq = tx->seq, .time_s = tx->ended_s, .paid_fils = paid_fils, .lines = lines};
	snprintf(r.kiosk_id, sizeof(r.kiosk_id), "%s", cfg->kiosk_id);
	snprintf(r.currency, sizeof(r.currency), "AED");
	if (!proof_uuid_parse(tx->uuid, r.tx_uuid)) {
		LOG_ERR("receipt of transaction %" PRId64 ": uuid '%s' is not a uuid: printed without its QR", tx->seq,
			tx->uuid);
		return false;
	}
	uint8_t seed[PROOF_SEED_BYTES];
	struct proof_key key;
	ledger_derive_key(ledger, PROOF_SEED_LABEL, seed);
	proof_key_from_seed(seed, &key);
	explicit_bzero(seed, sizeof(seed));
	struct kio_error err = {0};
	int rc = proof_qr_text(&r, &key, out, cap, &err);
	proof_key_wipe(&key);
	if (rc) {
		LOG_ERR("receipt of transaction %" PRId64 ": %s: printed without its QR", tx->seq, err.msg);
		return false;
	}
	return true;
}

/* The top-up's document (print_doc_add_txn): one line, the card credited with all of it. */
static int topup_doc(struct ledger *ledger, const struct i18n *i18n, const struct core_config *cfg,
		     const struct ledger_tx *tx, const char *reference, bool duplicate, struct print_doc *doc, char *qr,
		     size_t qr_cap, struct kio_error *err)
{
	struct ledger_denom denoms[LEDGER_DENOMS_MAX];
	size_t n_denoms = 0;
	int rc = ledger_tx_notes_by_denom(ledger, tx->id, denoms, LEDGER_DENOMS_MAX, &n_denoms, err);
	if (rc)
		return rc;
	struct print_denom pd[LEDGER_DENOMS_MAX];
	for (size_t i = 0; i < n_denoms; i++)
		pd[i] = (struct print_denom){denoms[i].value_fils, denoms[i].count};
	struct print_txn t = {
		.kiosk_name_ar = i18n_get(i18n, LANG_AR, "card.issuer"),
		.kiosk_name_en = i18n_get(i18n, LANG_EN, "card.issuer"),
		.kiosk_id = cfg->kiosk_id,
		.when_s = tx->ended_s,
		.reference = reference,
		.service_ar = i18n_get(i18n, LANG_AR, "receipt.service.topup"),
		.service_en = i18n_get(i18n, LANG_EN, "receipt.service.topup"),
		.card_number = tx->card[0] ? tx->card : NULL,
		.amount_fils = tx->credited_fils,
		.paid_fils = tx->paid_fils,
		.notes = (unsigned)tx->notes,
		.txn_id = tx->uuid,
		.denoms = pd,
		.n_denoms = n_denoms,
		.credited_fils = tx->credited_fils,
		.no_change = true,
		.recovered = tx->recovered,
		.duplicate = duplicate,
	};
	qr[0] = '\0';
	if (proof_text(ledger, cfg, tx, tx->paid_fils, 1, qr, qr_cap))
		t.proof_qr = qr;
	return print_doc_add_txn(doc, &t, i18n, err);
}

static enum print_fees_result line_result(const struct ledger_line_result *r)
{
	/* basket_close and recovery decide every line before the end (invariant 9): an ended
	 * transaction's line without one is a corrupt store, refused by the caller. */
	switch (r->status) {
	case LEDGER_LINE_PAID: return PRINT_FEES_PAID;
	case LEDGER_LINE_REFUSED: return PRINT_FEES_REFUSED;
	case LEDGER_LINE_OFFLINE: return PRINT_FEES_OFFLINE;
	case LEDGER_LINE_UNPAID: return PRINT_FEES_UNPAID;
	case LEDGER_LINE_UNCONFIRMED: return PRINT_FEES_UNCONFIRMED;
	}
	return PRINT_FEES_RESULT_COUNT;
}

/* Whether a catalogue text may go on paper: no bidi override in either language. */
static bool text_printable(const struct cat_text *t)
{
	return !i18n_has_bidi_override(t->en) && !i18n_has_bidi_override(t->ar);
}

/* Every voucher paid into fees transaction tx_id: *out (caller frees) holds *n. The ledger
 * sets no bound on how many vouchers a basket takes, so neither does the receipt: one that
 * listed a fixed number could never be printed for a basket paid with more (recovery would
 * give it up), and the customer would lose the record of what they paid. */
static int read_vouchers(struct ledger *ledger, int64_t tx_id, struct ledger_voucher_paid **out, size_t *n,
			 struct kio_error *err)
{
	/* ledger_basket_vouchers says KIO_ERR_INVALID for more than max (tx_id is a fees
	 * transaction: its lines were read): twice the room until they fit. */
	enum { FIRST = 16, LAST = 1 << 16 };
	int rc = 0;
	*out = NULL;
	for (size_t max = FIRST; max <= LAST; max *= 2) {
		*out = xrealloc(*out, max * sizeof(**out));
		rc = ledger_basket_vouchers(ledger, tx_id, *out, max, n, err);
		if (rc != KIO_ERR_INVALID)
			break;
	}
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* A fees transaction's document (print_doc_add_fees), read from the ledger alone: its lines
 * named from the catalogue, their results, the cash by note value, the vouchers paid in, the
 * rest and where it went. A line whose entity or service the catalogue does not know (none
 * loaded, or replaced since) prints its ids: the receipt, and the voucher code on it, matter
 * more than the names. */
static int fees_doc(struct ledger *ledger, const struct i18n *i18n, const struct core_config *cfg,
		    const struct catalogue *cat, const struct ledger_tx *tx, const char *reference, bool duplicate,
		    struct print_doc *doc, char *qr, size_t qr_cap, struct kio_error *err)
{
	struct ledger_fee_line lines[LEDGER_BASKET_MAX];
	struct ledger_line_result results[LEDGER_BASKET_MAX];
	struct ledger_voucher_paid *vouchers = NULL;
	struct print_fees_voucher *pv = NULL;
	struct ledger_denom denoms[LEDGER_DENOMS_MAX];
	struct ledger_basket_end end;
	size_t n = 0, n_results = 0, n_vouchers = 0, n_denoms = 0;
	int rc = ledger_basket_lines(ledger, tx->id, lines, LEDGER_BASKET_MAX, &n, err);
	if (!rc)
		rc = ledger_basket_results(ledger, tx->id, results, LEDGER_BASKET_MAX, &n_results, err);
	if (!rc)
		rc = read_vouchers(ledger, tx->id, &vouchers, &n_vouchers, err);
	if (!rc)
		rc = ledger_tx_notes_by_denom(ledger, tx->id, denoms, LEDGER_DENOMS_MAX, &n_denoms, err);
	if (!rc)
		rc = ledger_basket_end_get(ledger, tx->id, &end, err);
	if (rc)
		goto out_free;
	if (n_results != n) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "receipt: transaction %" PRId64 ": %zu lines, %zu results", tx->seq, n,
			      n_results);
		goto out_free;
	}
	struct print_fees_line pl[LEDGER_BASKET_MAX];
	for (size_t k = 0; k < n; k++) {
		if (!results[k].decided) {
			rc = kio_fail(err, KIO_ERR_CORRUPT, "receipt: transaction %" PRId64 " ended with line %zu undecided",
				      tx->seq, k + 1);
			goto out_free;
		}
		const struct cat_entity *e = cat ? catalogue_entity(cat, lines[k].entity) : NULL;
		const struct cat_service *s = e ? catalogue_service(e, lines[k].service) : NULL;
		/* A name print_doc_add_fees would refuse (the catalogue loader lets a bidi override
		 * through) must not cost the customer the receipt, nor stall recovery's queue of
		 * receipts on one that can never print: the ids print instead. */
		if (s && (!text_printable(&e->name) || !text_printable(&s->name) ||
			  (s->has_reference && !text_printable(&s->reference.name)))) {
			LOG_WARN("receipt of transaction %" PRId64 ": line %zu %s/%s: the catalogue's names hold a bidi "
				 "override: its ids print",
				 tx->seq, k + 1, lines[k].entity, lines[k].service);
			e = NULL, s = NULL;
		} else if (!s) {
			LOG_WARN("receipt of transaction %" PRId64 ": line %zu %s/%s is not in the catalogue: its ids print",
				 tx->seq, k + 1, lines[k].entity, lines[k].service);
			e = NULL;
		}
		pl[k] = (struct print_fees_line){
			.entity_en = e ? e->name.en : lines[k].entity,
			.entity_ar = e ? e->name.ar : lines[k].entity,
			.service_en = s ? s->name.en : lines[k].service,
			.service_ar = s ? s->name.ar : lines[k].service,
			.ref_name_en = s && s->has_reference ? s->reference.name.en : NULL,
			.ref_name_ar = s && s->has_reference ? s->reference.name.ar : NULL,
			.reference = lines[k].reference,
			.amount_fils = lines[k].amount_fils,
			.result = line_result(&results[k]),
			.host_ref = results[k].host_ref,
		};
	}
	struct print_denom pd[LEDGER_DENOMS_MAX];
	for (size_t i = 0; i < n_denoms; i++)
		pd[i] = (struct print_denom){denoms[i].value_fils, denoms[i].count};
	pv = xcalloc(n_vouchers ? n_vouchers : 1, sizeof(*pv));
	for (size_t i = 0; i < n_vouchers; i++)
		pv[i] = (struct print_fees_voucher){vouchers[i].code, vouchers[i].value_fils};
	struct print_fees f = {
		.kiosk_name_ar = i18n_get(i18n, LANG_AR, "card.issuer"),
		.kiosk_name_en = i18n_get(i18n, LANG_EN, "card.issuer"),
		.kiosk_id = cfg->kiosk_id,
		.when_s = tx->ended_s,
		.reference = reference,
		.txn_id = tx->uuid,
		.lines = pl,
		.n_lines = n,
		.cash_fils = tx->paid_fils,
		.notes = (unsigned)tx->notes,
		.denoms = pd,
		.n_denoms = n_denoms,
		.vouchers_in = pv,
		.n_vouchers_in = n_vouchers,
		.lines_fils = end.lines_fils,
		.paid_fils = end.paid_fils,
		.rest_fils = end.rest_fils,
		.rest_card = end.rest_to == LEDGER_REST_CARD ? end.card : NULL,
		.rest_voucher = end.rest_to == LEDGER_REST_VOUCHER ? end.voucher : NULL,
		.voucher_expires_s = end.voucher_expires_s,
		.recovered = tx->recovered,
		.duplicate = duplicate,
	};
	qr[0] = '\0';
	if (proof_text(ledger, cfg, tx, end.paid_fils, (int64_t)n, qr, qr_cap))
		f.proof_qr = qr;
	rc = print_doc_add_fees(doc, &f, i18n, err);
out_free:
	free(pv);
	free(vouchers);
	return rc;
}

int txreceipt_doc(struct ledger *ledger, const struct i18n *i18n, const struct core_config *cfg,
		  const struct catalogue *cat, int64_t tx_id, bool duplicate, struct print_doc *doc,
		  char qr_out[TXRECEIPT_QR_MAX], struct kio_error *err)
{
	struct ledger_tx tx;
	int rc = ledger_tx_get(ledger, tx_id, &tx, err);
	if (rc)
		return rc;
	if (tx.state != LEDGER_TX_COMPLETED)
		return kio_fail(err, KIO_ERR_INVALID, "receipt: transaction %" PRId64 " is %s: no receipt", tx.seq,
				ledger_tx_state_name(tx.state));
	char reference[TXRECEIPT_JOB_MAX], qr[TXRECEIPT_QR_MAX];
	job_id(tx.seq, 1, reference);
	switch (tx.kind) {
	case LEDGER_TX_TOPUP:
		rc = topup_doc(ledger, i18n, cfg, &tx, reference, duplicate, doc, qr, sizeof(qr), err);
		break;
	case LEDGER_TX_FEES:
		rc = fees_doc(ledger, i18n, cfg, cat, &tx, reference, duplicate, doc, qr, sizeof(qr), err);
		break;
	default:
		rc = kio_fail(err, KIO_ERR_INVALID, "receipt: transaction %" PRId64 " is of kind %d", tx.seq, (int)tx.kind);
		break;
	}
	if (rc == 0 && qr_out)
		snprintf(qr_out, TXRECEIPT_QR_MAX, "%s", qr);
	return rc;
}

int txreceipt_print(struct devices *devices, struct ledger *ledger, struct text_engine *engine,
		    const struct i18n *i18n, const struct core_config *cfg, const struct catalogue *cat, int64_t tx_id,
		    int64_t now_s, char job_out[TXRECEIPT_JOB_MAX], struct kio_error *err)
{
	/* The document is made and laid out once before the send is recorded: a transaction the
	 * ledger cannot give whole, or a receipt that cannot be drawn on this paper, is an error
	 * with nothing counted, never a receipt with a part missing or overlapping. */
	struct print_doc *doc = print_doc_new();
	struct print_receipt *receipt = NULL;
	char qr[TXRECEIPT_QR_MAX];
	int rc = txreceipt_doc(ledger, i18n, cfg, cat, tx_id, false, doc, qr, err);
	if (rc == 0)
		rc = print_doc_render(doc, engine, cfg->receipt_width_dots, &receipt, err);
	print_doc_free(doc);
	doc = NULL;
	if (rc)
		goto out;
	struct ledger_tx tx;
	rc = ledger_tx_get(ledger, tx_id, &tx, err);
	if (rc)
		goto out;

	/* A printer that cannot print now is refused before the send is counted: the next try
	 * would say DUPLICATE of a receipt that never came out. */
	struct receipt_printer *prn = devices_receipt(devices);
	struct receipt_status st;
	prn->ops->get_status(prn, &st);
	if (st.state != DEV_STATE_OK && st.state != DEV_STATE_WARNING) {
		rc = kio_fail(err, st.state == DEV_STATE_OFFLINE ? KIO_ERR_NO_DEVICE : KIO_ERR_BUSY,
			      "receipt: transaction %" PRId64 ": the printer cannot print now (%s, %s)", tx.seq,
			      dev_state_name(st.state), receipt_fault_name(st.fault));
		goto out;
	}
	/* Recorded before the receipt can come out: a crash after this reprints it marked
	 * DUPLICATE rather than never (tx.c, "Receipts"). */
	int64_t sends = 0;
	rc = ledger_receipt_sent(ledger, tx_id, now_s, &sends, err);
	if (rc)
		goto out;
	bool again = sends > 1;
	char job[TXRECEIPT_JOB_MAX];
	/* A reprint has a job id of its own: the printer's events and files keep each apart. */
	job_id(tx.seq, sends, job);
	if (again) {
		print_receipt_free(receipt);
		receipt = NULL;
		doc = print_doc_new();
		rc = txreceipt_doc(ledger, i18n, cfg, cat, tx_id, true, doc, qr, err);
		if (rc == 0)
			rc = print_doc_render(doc, engine, cfg->receipt_width_dots, &receipt, err);
	}
	if (rc == 0)
		rc = devices_print_receipt(devices, job, &receipt->image, receipt->text, err);
	if (rc == 0) {
		LOG_INFO("receipt %s of %s transaction %" PRId64 " (%s) sent%s%s; QR %s", job, ledger_tx_kind_name(tx.kind),
			 tx.seq, tx.uuid, tx.recovered ? ", recovered" : "", again ? ", DUPLICATE" : "",
			 qr[0] ? qr : "none");
		if (job_out)
			snprintf(job_out, TXRECEIPT_JOB_MAX, "%s", job);
	}
out:
	print_receipt_free(receipt);
	print_doc_free(doc);
	return rc;
}

/* The printer's word on job: recorded on its transaction by record (printed or failed). */
static int record_job(struct ledger *ledger, const char *job, int64_t now_s, int64_t *tx_id,
		      int (*record)(struct ledger *, int64_t, int64_t, struct kio_error *), struct kio_error *err)
{
	int64_t seq = 0;
	if (!txreceipt_job_seq(job, &seq))
		return kio_fail(err, KIO_ERR_NOT_FOUND, "receipt: job %s is no transaction's", job);
	struct ledger_tx tx;
	int rc = ledger_tx_get_seq(ledger, seq, &tx, err);
	if (rc == 0)
		rc = record(ledger, tx.id, now_s, err);
	if (rc == 0 && tx_id)
		*tx_id = tx.id;
	return rc;
}

int txreceipt_printed(struct ledger *ledger, const char *job, int64_t now_s, int64_t *tx_id, struct kio_error *err)
{
	return record_job(ledger, job, now_s, tx_id, ledger_receipt_printed, err);
}

int txreceipt_failed(struct ledger *ledger, const char *job, int64_t now_s, int64_t *tx_id, struct kio_error *err)
{
	return record_job(ledger, job, now_s, tx_id, ledger_receipt_failed, err);
}
