/* Databases a crash left behind, for run-recovery.sh, made through the ledger's own API: an
 * open top-up with notes paid, one whose recovery receipt was sent but never reported
 * printed, one with a note still in the acceptor's path, one with a note journey nothing can
 * decide, an open fees basket paid beyond its total, recovery receipts that can never print
 * ahead of one that can; and what became of a transaction. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/clock.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/tx.h"

#define CARD "7840123456789012"
/* The simulated validator (drivers/sim/essp: serial 0x001C962C, AED 10/50/100 in channels
 * 2/4/5). */
#define DEV "essp:001C962C"
#define EPOCH INT64_C(1798761000) /* ten minutes before the kiosk's virtual clock starts */

struct db {
	struct ledger *l;
	struct core_clock *clock;
	struct ledger_notes *notes;
};

static int fail(const char *what, const struct kio_error *err)
{
	fprintf(stderr, "recovery-tool: %s: %s\n", what, err->msg);
	return 1;
}

static int db_open(const char *path, struct db *d)
{
	struct kio_error err = {0};
	if (ledger_open(path, &d->l, &err) != 0)
		return fail("open", &err);
	d->clock = core_clock_new(true, EPOCH);
	d->notes = ledger_notes_new(d->l, d->clock);
	return 0;
}

/* As a power cut leaves it: nothing ended, nothing more written. */
static void db_close(struct db *d)
{
	ledger_notes_free(d->notes);
	core_clock_free(d->clock);
	ledger_close(d->l);
}

/* A note that went all the way into the cashbox, credited (and so booked) on the way. */
static int stacked_note(struct db *d, uint8_t ch, int64_t fils)
{
	struct kio_error err = {0};
	struct cash_journal *j = ledger_notes_journal(d->notes);
	struct cash_note n = {.device = DEV, .channel = ch, .value_fils = fils, .state = CASH_NOTE_ESCROW,
			      .counters_known = true};
	if (cash_journal_begin(j, &n, &err) != 0 ||
	    cash_journal_advance(j, n.id, CASH_NOTE_ACCEPTED, "kiosk: accept", &err) != 0 ||
	    cash_journal_advance(j, n.id, CASH_NOTE_CREDITED, "poll: NOTE CREDIT", &err) != 0 ||
	    cash_journal_advance(j, n.id, CASH_NOTE_STACKED, "poll: STACKED", &err) != 0)
		return fail("note", &err);
	return 0;
}

/* Transaction 1: a top-up in Arabic with AED 100, 100 and 50 paid, left open. */
static int open_tx(struct db *d, struct ledger_tx *tx)
{
	struct kio_error err = {0};
	if (ledger_tx_open(d->l, EPOCH, LEDGER_TX_TOPUP, "ar", CARD, tx, &err) != 0)
		return fail("open transaction", &err);
	return stacked_note(d, 5, 10000) || stacked_note(d, 5, 10000) || stacked_note(d, 4, 5000);
}

/* Recovery ran and sent the receipt; the kiosk died before the printer answered. */
static int sent(struct db *d)
{
	struct ledger_tx tx;
	struct kio_error err = {0};
	struct ledger_tx *list = NULL;
	size_t n = 0;
	if (open_tx(d, &tx) != 0)
		return 1;
	if (ledger_tx_recover(d->l, EPOCH + 60, &list, &n, &err) != 0)
		return fail("recover", &err);
	free(list);
	if (ledger_receipt_sent(d->l, tx.id, EPOCH + 61, NULL, &err) != 0)
		return fail("sent", &err);
	return 0;
}

/* Beside the open transaction, a note the acceptor held with no counters snapshot: after a
 * restart nothing can prove whether it went in (essp-cash.c invariant 5). */
static int undecided(struct db *d)
{
	struct ledger_tx tx;
	struct kio_error err = {0};
	if (open_tx(d, &tx) != 0)
		return 1;
	struct cash_note n = {.device = DEV, .channel = 2, .value_fils = 1000, .state = CASH_NOTE_ESCROW,
			      .counters_known = false};
	if (cash_journal_begin(ledger_notes_journal(d->notes), &n, &err) != 0)
		return fail("undecided note", &err);
	return 0;
}

/* Beside the open transaction, an AED 100 note the kiosk had accepted when it died, its
 * counters snapshot at stacked 0: run-recovery.sh gives the validator a stacked counter of 1,
 * so the acceptor's SETTLE proves it went into the cashbox and credits it. */
static int in_path(struct db *d)
{
	struct ledger_tx tx;
	struct kio_error err = {0};
	if (open_tx(d, &tx) != 0)
		return 1;
	struct cash_journal *j = ledger_notes_journal(d->notes);
	struct cash_note n = {.device = DEV, .channel = 5, .value_fils = 10000, .state = CASH_NOTE_ESCROW,
			      .counters_known = true, .stacked_before = 0};
	if (cash_journal_begin(j, &n, &err) != 0 ||
	    cash_journal_advance(j, n.id, CASH_NOTE_ACCEPTED, "kiosk: accept", &err) != 0)
		return fail("note in the path", &err);
	return 0;
}

/* Transaction 1: a fees basket in English, a police fine (AED 150.00) and a DEWA bill
 * (AED 50.00), with AED 100, 100 and 50 paid, left open before the host was asked. */
static int fees(struct db *d)
{
	struct kio_error err = {0};
	struct ledger_fee_line lines[2] = {{.entity = "police", .service = "police-fines", .reference = "10012345",
					    .amount_fils = 15000},
					   {.entity = "dewa", .service = "dewa-bill", .reference = "2001234567",
					    .amount_fils = 5000}};
	if (ledger_basket_open(d->l, EPOCH, "en", lines, 2, NULL, &err) != 0)
		return fail("open basket", &err);
	return stacked_note(d, 5, 10000) || stacked_note(d, 5, 10000) || stacked_note(d, 4, 5000);
}

/* Recovery receipts queued behind ones that can never print (recovery.c invariant 8):
 * transaction 1 recovered with notes of 17 values (a dataset changed under the acceptor): more
 * than a receipt lists (LEDGER_DENOMS_MAX), so it can never be drawn; transaction 2 recovered
 * and sent RECOVERY_RECEIPT_TRIES times, never reported printed; transaction 3 the open top-up
 * of open_tx, whose receipt can print. */
static int stuck(struct db *d)
{
	struct ledger_tx tx;
	struct kio_error err = {0};
	struct ledger_tx *list = NULL;
	size_t n = 0;
	if (ledger_tx_open(d->l, EPOCH, LEDGER_TX_TOPUP, "en", CARD, &tx, &err) != 0)
		return fail("open transaction 1", &err);
	for (int k = 0; k <= LEDGER_DENOMS_MAX; k++)
		if (stacked_note(d, 1 + k % 8, 1000 * (k + 1)) != 0)
			return 1;
	if (ledger_tx_recover(d->l, EPOCH + 10, &list, &n, &err) != 0)
		return fail("recover 1", &err);
	free(list);
	if (ledger_tx_open(d->l, EPOCH + 20, LEDGER_TX_TOPUP, "en", CARD, &tx, &err) != 0)
		return fail("open transaction 2", &err);
	if (stacked_note(d, 4, 5000) != 0)
		return 1;
	if (ledger_tx_recover(d->l, EPOCH + 30, &list, &n, &err) != 0)
		return fail("recover 2", &err);
	free(list);
	for (int k = 0; k < 3; k++)
		if (ledger_receipt_sent(d->l, tx.id, EPOCH + 40 + k, NULL, &err) != 0 ||
		    ledger_receipt_failed(d->l, tx.id, EPOCH + 40 + k, &err) != 0)
			return fail("receipt 2 sent and failed", &err);
	return open_tx(d, &tx);
}

/* What became of fees transaction seq: "voucher=CODE rest=FILS lines=STATUS,STATUS". */
static int show_fees(struct db *d, int64_t seq)
{
	struct ledger_tx tx;
	struct ledger_basket_end end;
	struct ledger_line_result r[LEDGER_BASKET_MAX];
	size_t n = 0;
	struct kio_error err = {0};
	if (ledger_tx_get_seq(d->l, seq, &tx, &err) != 0 || ledger_basket_end_get(d->l, tx.id, &end, &err) != 0 ||
	    ledger_basket_results(d->l, tx.id, r, LEDGER_BASKET_MAX, &n, &err) != 0)
		return fail("show-fees", &err);
	printf("voucher=%s rest=%" PRId64 " lines=", end.voucher[0] ? end.voucher : "none", end.rest_fils);
	for (size_t k = 0; k < n; k++)
		printf("%s%s", k ? "," : "", r[k].decided ? ledger_line_status_name(r[k].status) : "undecided");
	printf("\n");
	return 0;
}

/* "completed recovered=1 credited=25000 notes=3 receipts-due=0 invariants=ok" */
static int show(struct db *d, int64_t seq)
{
	struct ledger_tx tx;
	struct kio_error err = {0};
	if (ledger_tx_get_seq(d->l, seq, &tx, &err) != 0)
		return fail("show", &err);
	int64_t *due = NULL;
	size_t n_due = 0;
	if (ledger_receipts_due(d->l, &due, &n_due, &err) != 0)
		return fail("receipts due", &err);
	free(due);
	struct kio_error check = {0};
	int holds = ledger_check(d->l, &check);
	printf("%s recovered=%d credited=%" PRId64 " notes=%" PRId64 " receipts-due=%zu invariants=%s\n",
	       ledger_tx_state_name(tx.state), tx.recovered, tx.credited_fils, tx.notes, n_due,
	       holds == 0 ? "ok" : check.msg);
	return 0;
}

int main(int argc, char **argv)
{
	bool shows = strcmp(argv[argc > 1 ? 1 : 0], "show") == 0 || strcmp(argv[argc > 1 ? 1 : 0], "show-fees") == 0;
	if (argc < 3 || shows != (argc == 4) || argc > 4) {
		fprintf(stderr,
			"usage: recovery-tool open|sent|in-path|undecided|fees|stuck DB, recovery-tool show|show-fees DB SEQ\n");
		return 2;
	}
	struct db d;
	if (db_open(argv[2], &d) != 0)
		return 1;
	struct ledger_tx tx;
	int rc;
	if (strcmp(argv[1], "open") == 0)
		rc = open_tx(&d, &tx);
	else if (strcmp(argv[1], "sent") == 0)
		rc = sent(&d);
	else if (strcmp(argv[1], "in-path") == 0)
		rc = in_path(&d);
	else if (strcmp(argv[1], "undecided") == 0)
		rc = undecided(&d);
	else if (strcmp(argv[1], "fees") == 0)
		rc = fees(&d);
	else if (strcmp(argv[1], "stuck") == 0)
		rc = stuck(&d);
	else if (strcmp(argv[1], "show") == 0)
		rc = show(&d, strtoll(argv[3], NULL, 10));
	else if (strcmp(argv[1], "show-fees") == 0)
		rc = show_fees(&d, strtoll(argv[3], NULL, 10));
	else {
		fprintf(stderr, "recovery-tool: unknown command '%s'\n", argv[1]);
		rc = 2;
	}
	db_close(&d);
	return rc;
}
