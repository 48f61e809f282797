/*
 * The receipt of one ledger transaction: built from what the ledger booked (the card number,
 * the notes paid into it by value, what it credited, whether recovery completed it), never
 * from what a screen counted, drawn by kiosk/print and sent to the receipt printer.
 *
 * Use: when a transaction is completed (the done screen, the fees flow at DONE, or start-up
 * recovery), call txreceipt_print with its ledger id; it prints a top-up or a fees receipt by
 * the transaction's kind. When the printer reports the job printed
 * (RECEIPT_EV_PRINTED), txreceipt_printed records it: the app's receipt listener already
 * passes every event to recovery_on_receipt_event (kiosk/recovery.h), which does so for every
 * transaction receipt, so a screen only prints and watches its job's event. The job id is the receipt's
 * reference, made from the transaction number alone, so the simulated printer files it
 * predictably as OUT/receipt-<job>.png and .txt:
 *
 *   first print of transaction 42     job "TXN-000042"
 *   a later print of it (DUPLICATE)   job "TXN-000042-R<n>", n = the how-manieth send (2, 3...)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/config.h"
#include "kiosk/core/err.h"
#include "kiosk/core/i18n.h"
#include "kiosk/devices.h"
#include "kiosk/ledger/store.h"
#include "kiosk/text/text.h"

/* Room for a job id and its NUL ("TXN-" + 19 digits + "-R" + 19 digits fits). */
#define TXRECEIPT_JOB_MAX 48

/* Room for the signed record's QR text and its NUL (kiosk/proof: PROOF_QR_TEXT_MAX + 1). */
#define TXRECEIPT_QR_MAX 513

struct catalogue;
struct print_doc;

/*
 * Prints the receipt of completed transaction tx_id, of either kind, from the ledger alone;
 * the entry point for every transaction receipt: the top-up's done screen, the fees flow at
 * DONE (after ledger_basket_close), and start-up recovery (kiosk/recovery.c).
 *
 * Both languages; kiosk id, reference ("TXN-" and the number, 6 digits or more), transaction
 * id (uuid), date and time of its end in Gulf time, notes by value, "no change", the recovery
 * line when recovery ended it, and the signed proof QR (docs/receipts.md).
 *  - A top-up: the card masked to its last four digits, amount paid and credited; the QR says
 *    one line and the cash paid.
 *  - A fees transaction (docs/receipts.md, "The fees receipt"): each line with its entity and
 *    service named from cat in each language (the ids when cat is NULL or lacks them), its
 *    reference under the service's reference name, amount and result (paid, refused, accepted
 *    offline, not paid, to be confirmed) and the entity's payment reference; the vouchers paid
 *    in, masked to their last four digits; what the lines took; the total paid (cash and
 *    vouchers); the rest: the card credited (masked), or the new e-voucher's code in full in
 *    groups of four, its amount and expiry, and the code again as a QR of its own; the QR says
 *    the basket's number of lines and the total paid.
 * The ledger records the send before the receipt goes out (ledger_receipt_sent): a transaction
 * whose receipt was sent before prints marked DUPLICATE. now_s is the wall time of the send.
 * job_out (may be NULL) gets the job id; the printer's RECEIPT_EV_PRINTED or _FAILED follows.
 * Borrows everything. Errors, err filled: KIO_ERR_NOT_FOUND for an unknown id,
 * KIO_ERR_INVALID for a transaction that is not completed (a cancelled one has no receipt;
 * an open one is not over) or a receipt that cannot be drawn on the paper (a QR wider than
 * it), KIO_ERR_CORRUPT for a fees transaction whose records do not make a whole receipt (a
 * line without its result), KIO_ERR_NO_DEVICE / KIO_ERR_BUSY when the printer is offline or
 * cannot print now (all of these checked before the send is recorded, so the next try is no
 * DUPLICATE), KIO_ERR_IO when the store cannot record the send (nothing printed), or the
 * printer's refusal of the job (then the send was counted: the next try says DUPLICATE).
 */
int txreceipt_print(struct devices *devices, struct ledger *ledger, struct text_engine *engine,
		    const struct i18n *i18n, const struct core_config *cfg, const struct catalogue *cat, int64_t tx_id,
		    int64_t now_s, char job_out[TXRECEIPT_JOB_MAX], struct kio_error *err);

/* The document txreceipt_print draws for tx_id (duplicate: marked DUPLICATE), appended to doc,
 * without a printer and without recording a send: for tests and tools. qr_out (may be NULL)
 * gets the proof QR's text ("" when the receipt has none). Errors as txreceipt_print's before
 * the printer is asked; doc may then hold part of it. */
int txreceipt_doc(struct ledger *ledger, const struct i18n *i18n, const struct core_config *cfg,
		  const struct catalogue *cat, int64_t tx_id, bool duplicate, struct print_doc *doc,
		  char qr_out[TXRECEIPT_QR_MAX], struct kio_error *err);

/* The transaction number a job id names ("TXN-000042" or "TXN-000042-R2" -> 42): false for
 * another job (a test print, a card). */
bool txreceipt_job_seq(const char *job_id, int64_t *seq);

/* The printer printed job_id: records it in the ledger (ledger_receipt_printed), so a
 * recovery receipt is not due any more. *tx_id (may be NULL) gets the transaction's id.
 * KIO_ERR_NOT_FOUND when job_id is no transaction receipt's (nothing recorded). */
int txreceipt_printed(struct ledger *ledger, const char *job_id, int64_t now_s, int64_t *tx_id,
		      struct kio_error *err);
/* The printer reported job_id failed (paper out, cover open, offline mid-job): records it in
 * the ledger (ledger_receipt_failed), so a reprint knows the receipt never came out whole.
 * Errors as txreceipt_printed. */
int txreceipt_failed(struct ledger *ledger, const char *job_id, int64_t now_s, int64_t *tx_id,
		     struct kio_error *err);
