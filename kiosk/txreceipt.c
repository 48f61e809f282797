/* A ledger transaction's receipt: read from the ledger, drawn by kiosk/print, sent to the
 * receipt printer, its send and print recorded in the ledger. */
#define LOG_MODULE "txreceipt"
#include "kiosk/txreceipt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/print/print.h"
#include "kiosk/proof/proof.h"

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
 * the paper and the ledger, the QR lets others check it. A top-up is one line. */
static bool proof_text(struct ledger *ledger, const struct core_config *cfg, const struct ledger_tx *tx, char *out,
		       size_t cap)
{
	struct proof_receipt r = {.seq = tx->seq, .time_s = tx->ended_s, .paid_fils = tx->paid_fils, .lines = 1};
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

int txreceipt_print(struct devices *devices, struct ledger *ledger, struct text_engine *engine,
		    const struct i18n *i18n, const struct core_config *cfg, int64_t tx_id, int64_t now_s,
		    char job_out[TXRECEIPT_JOB_MAX], struct kio_error *err)
{
	struct ledger_tx tx;
	int rc = ledger_tx_get(ledger, tx_id, &tx, err);
	if (rc)
		return rc;
	if (tx.state != LEDGER_TX_COMPLETED)
		return kio_fail(err, KIO_ERR_INVALID, "receipt: transaction %" PRId64 " is %s: no receipt", tx.seq,
				ledger_tx_state_name(tx.state));
	struct ledger_denom denoms[LEDGER_DENOMS_MAX];
	size_t n_denoms = 0;
	rc = ledger_tx_notes_by_denom(ledger, tx_id, denoms, LEDGER_DENOMS_MAX, &n_denoms, err);
	if (rc)
		return rc;
	struct print_denom pd[LEDGER_DENOMS_MAX];
	for (size_t i = 0; i < n_denoms; i++)
		pd[i] = (struct print_denom){denoms[i].value_fils, denoms[i].count};

	/* A printer that cannot print now is refused before the send is counted: the next try
	 * would say DUPLICATE of a receipt that never came out. */
	struct receipt_printer *prn = devices_receipt(devices);
	struct receipt_status st;
	prn->ops->get_status(prn, &st);
	if (st.state != DEV_STATE_OK && st.state != DEV_STATE_WARNING)
		return kio_fail(err, st.state == DEV_STATE_OFFLINE ? KIO_ERR_NO_DEVICE : KIO_ERR_BUSY,
				"receipt: transaction %" PRId64 ": the printer cannot print now (%s, %s)", tx.seq,
				dev_state_name(st.state), receipt_fault_name(st.fault));
	/* Recorded before the receipt can come out: a crash after this reprints it marked
	 * DUPLICATE rather than never (tx.c, "Receipts"). */
	int64_t sends = 0;
	rc = ledger_receipt_sent(ledger, tx_id, now_s, &sends, err);
	if (rc)
		return rc;
	bool again = sends > 1;
	char reference[TXRECEIPT_JOB_MAX], job[TXRECEIPT_JOB_MAX];
	job_id(tx.seq, 1, reference);
	/* A reprint has a job id of its own: the printer's events and files keep each apart. */
	job_id(tx.seq, sends, job);

	struct print_txn t = {
		.kiosk_name_ar = i18n_get(i18n, LANG_AR, "card.issuer"),
		.kiosk_name_en = i18n_get(i18n, LANG_EN, "card.issuer"),
		.kiosk_id = cfg->kiosk_id,
		.when_s = tx.ended_s,
		.reference = reference,
		.service_ar = i18n_get(i18n, LANG_AR, "receipt.service.topup"),
		.service_en = i18n_get(i18n, LANG_EN, "receipt.service.topup"),
		.card_number = tx.card[0] ? tx.card : NULL,
		.amount_fils = tx.credited_fils,
		.paid_fils = tx.paid_fils,
		.notes = (unsigned)tx.notes,
		.txn_id = tx.uuid,
		.denoms = pd,
		.n_denoms = n_denoms,
		.credited_fils = tx.credited_fils,
		.no_change = true,
		.recovered = tx.recovered,
		.duplicate = again,
	};
	char qr[PROOF_QR_TEXT_MAX + 1];
	if (proof_text(ledger, cfg, &tx, qr, sizeof(qr)))
		t.proof_qr = qr;
	struct print_doc *doc = print_doc_new();
	struct print_receipt *receipt = NULL;
	rc = print_doc_add_txn(doc, &t, i18n, err);
	if (rc == 0)
		rc = print_doc_render(doc, engine, cfg->receipt_width_dots, &receipt, err);
	if (rc == 0)
		rc = devices_print_receipt(devices, job, &receipt->image, receipt->text, err);
	if (rc == 0) {
		LOG_INFO("receipt %s of transaction %" PRId64 " (%s) sent%s%s; QR %s", job, tx.seq, tx.uuid,
			 tx.recovered ? ", recovered" : "", again ? ", DUPLICATE" : "", t.proof_qr ? t.proof_qr : "none");
		if (job_out)
			snprintf(job_out, TXRECEIPT_JOB_MAX, "%s", job);
	}
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
