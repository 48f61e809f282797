/* Tests of the sync's ledger side (kiosk/ledger/sync-state.h) and the drain (kiosk/sync/
 * drain.h) over an in-process host (fake-host.h): ack all, partial, duplicates, a gap, a
 * conflict, a broken chain, 500s with a capped, jittered backoff, a timeout, malformed and
 * impossible answers marking nothing; SIGKILL at every named kill point of the sync, then a
 * restart that resends and marks nothing twice; offline limits; the worker thread. */
#define LOG_MODULE "test-sync"
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake-host.h"
#include "tests/common/ledgerfix.h"
#include "tests/common/syncwait.h"
#include "kiosk/core/config.h"
#include "kiosk/core/log.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/sync-state.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/sync/drain.h"
#include "kiosk/sync/sync-priv.h"
#include "kiosk/sync/sync.h"

#define CARD "7841000024680132"
#define CARD2 "7841000013579022"
#define NOW 1798761600
#define DEV "essp:001C962C"
#define TOPUPS 3
#define RECS (4 * TOPUPS) /* tx, tx_item, payment, tx_end each */

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
	sqlite3_stmt *st = NULL;
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* One completed top-up of one note to card, through the note journal as the kiosk books it. */
static void topup(struct ledger *l, struct cash_journal *j, const char *card, int64_t fils)
{
	struct kio_error err = {0};
	struct ledger_tx tx;
	if (ledger_tx_open(l, NOW, LEDGER_TX_TOPUP, "en", card, &tx, &err) != 0)
		g_error("open: %s", err.msg);
	struct cash_note note = {.device = DEV, .channel = 4, .value_fils = fils, .state = CASH_NOTE_ESCROW,
				 .counters_known = true};
	g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "accept", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_CREDITED, "credit", &err), ==, 0);
	if (ledger_tx_complete(l, tx.id, NOW, NULL, &err) != 0)
		g_error("complete: %s", err.msg);
}

/* A fees basket of lines n_lines (amounts), paid with one note of paid_fils (0: none), each
 * line then given its status, closed with the rest to card (or a voucher when card is NULL). */
static void basket(struct ledger *l, struct cash_journal *j, const int64_t *amounts, const enum ledger_line_status *st,
		   size_t n, int64_t paid_fils, const char *card)
{
	struct kio_error err = {0};
	struct ledger_fee_line lines[LEDGER_BASKET_MAX];
	memset(lines, 0, sizeof(lines));
	for (size_t k = 0; k < n; k++) {
		snprintf(lines[k].entity, sizeof(lines[k].entity), "police");
		snprintf(lines[k].service, sizeof(lines[k].service), "fines");
		lines[k].amount_fils = amounts[k];
	}
	struct ledger_tx tx;
	if (ledger_basket_open(l, NOW, "en", lines, n, &tx, &err) != 0)
		g_error("basket open: %s", err.msg);
	if (paid_fils > 0) {
		struct cash_note note = {.device = DEV, .channel = 4, .value_fils = paid_fils, .state = CASH_NOTE_ESCROW,
					 .counters_known = true};
		g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, 0);
		g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "accept", &err), ==, 0);
		g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_CREDITED, "credit", &err), ==, 0);
		for (size_t k = 0; k < n; k++)
			if (ledger_basket_line_result(l, tx.id, (int)k + 1, st[k], NULL, NOW, &err) != 0)
				g_error("line %zu: %s", k + 1, err.msg);
	}
	struct ledger_basket_end end;
	int64_t due = 0, paid = 0;
	g_assert_cmpint(ledger_basket_due(l, tx.id, &due, &paid, &err), ==, 0);
	enum ledger_rest_to to = card ? LEDGER_REST_CARD : LEDGER_REST_VOUCHER;
	if (ledger_basket_close(l, tx.id, NOW, to, card, 30, &end, &err) != 0 &&
	    ledger_basket_close(l, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, &end, &err) != 0)
		g_error("basket close: %s", err.msg);
}

/* A ledger with `n` top-ups of AED 50 to CARD, closed again (the kiosk's connection is not the
 * sync's). */
static char *ledger_with_topups(int n)
{
	char *path = lfix_temp_db("kiosk-sync");
	struct kio_error err = {0};
	struct ledger *l = NULL;
	if (ledger_open(path, &l, &err) != 0)
		g_error("ledger_open: %s", err.msg);
	struct core_clock *clock = core_clock_new(true, NOW);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	for (int k = 0; k < n; k++)
		topup(l, ledger_notes_journal(notes), CARD, 5000);
	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
	return path;
}

struct fix {
	char *path;
	struct ledger_sync *ls;
	struct fake_host_state *host;
	struct fake_transport *t;
	struct sync_drain *d;
	uint32_t rnd;
};

static int64_t fixed_wall(void *user)
{
	(void)user;
	return NOW + 100;
}

static void fix_new(struct fix *f, int batch)
{
	memset(f, 0, sizeof(*f));
	f->path = ledger_with_topups(TOPUPS);
	struct kio_error err = {0};
	if (ledger_sync_open(f->path, true, &f->ls, &err) != 0)
		g_error("ledger_sync_open: %s", err.msg);
	f->host = g_new0(struct fake_host_state, 1);
	f->t = fake_transport_new(f->host);
	struct sync_drain_config cfg = {batch, 100, 1000};
	f->d = sync_drain_new(f->ls, &f->t->base, &cfg);
	sync_drain_set_wall(f->d, fixed_wall, NULL);
}

static void fix_free(struct fix *f)
{
	sync_drain_free(f->d);
	f->t->base.free(&f->t->base);
	ledger_sync_close(f->ls);
	g_free(f->host);
	lfix_remove_db(f->path);
}

static struct ledger_sync_status status(struct fix *f)
{
	struct ledger_sync_status st;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_sync_status_read(f->ls, &st, &err), ==, 0);
	return st;
}

static void assert_sync_holds(struct fix *f)
{
	struct kio_error err = {0};
	if (ledger_sync_check(f->ls, &err) != 0)
		g_error("%s", err.msg);
}

static struct sync_drain_outcome once(struct fix *f)
{
	struct sync_drain_outcome o;
	struct kio_error err = {0};
	g_assert_cmpint(sync_drain_once(f->d, &o, &err), ==, 0);
	assert_sync_holds(f);
	return o;
}

static int64_t sent_rows(struct fix *f)
{
	return query_int(f->path, "SELECT count(*) FROM outbox WHERE sent_s IS NOT NULL");
}

/* Every record at the host holds the kiosk's MAC (what the host holds is what was booked). */
static void assert_host_matches(struct fix *f, int64_t upto)
{
	struct ledger_sync_batch b;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_sync_batch_read(f->ls, 0, 500, &b, &err), ==, 0);
	for (int64_t rec = 1; rec <= upto; rec++) {
		char *needle = g_strdup_printf("\"rec\":%" G_GINT64_FORMAT ",", rec);
		const char *at = strstr(b.body, needle);
		g_assert_nonnull(at);
		const char *mac = strstr(at, "\"mac\":\"");
		g_assert_nonnull(mac);
		g_assert_cmpint(strncmp(mac + 7, f->host->macs[rec], 64), ==, 0);
		g_free(needle);
	}
	ledger_sync_batch_clear(&b);
}

/* ---- the ledger side ---- */

static void test_batch_and_ack(void)
{
	struct fix f;
	fix_new(&f, 5);
	struct kio_error err = {0};
	struct ledger_sync_status st = status(&f);
	g_assert_cmpint(st.last_rec, ==, RECS);
	g_assert_cmpint(st.queue_depth, ==, RECS);
	g_assert_cmpint(st.oldest_unsynced_rec, ==, 1);
	g_assert_cmpint(st.oldest_unsynced_s, ==, NOW);
	g_assert_cmpint(st.outbox_pending, ==, TOPUPS);
	g_assert_cmpint(st.last_ok_s, ==, 0);
	struct ledger_sync_batch b;
	g_assert_cmpint(ledger_sync_batch_read(f.ls, 2, 3, &b, &err), ==, 0);
	g_assert_cmpint(b.n, ==, 3);
	g_assert_cmpint(b.first_rec, ==, 3);
	g_assert_cmpint(b.last_rec, ==, 5);
	g_assert_true(g_str_has_prefix(b.body, "{\"records\":[{\"rec\":3,\"type\":\"payment\","));
	ledger_sync_batch_clear(&b);
	g_assert_cmpint(ledger_sync_batch_read(f.ls, RECS, 5, &b, &err), ==, 0);
	g_assert_cmpint(b.n, ==, 0);
	g_assert_null(b.body);
	/* Records 1..3: no transaction is whole yet (its tx_end is record 4). */
	int64_t marked = -1;
	g_assert_cmpint(ledger_sync_ack(f.ls, 3, NOW + 1, &marked, &err), ==, 0);
	g_assert_cmpint(marked, ==, 0);
	g_assert_cmpint(sent_rows(&f), ==, 0);
	g_assert_cmpint(ledger_sync_ack(f.ls, 4, NOW + 2, &marked, &err), ==, 0);
	g_assert_cmpint(marked, ==, 1);
	g_assert_cmpint(query_int(f.path, "SELECT sent_s FROM outbox WHERE tx_rec = 1"), ==, NOW + 2);
	assert_sync_holds(&f);
	/* The same acknowledgement again: nothing moves, nothing is marked twice. */
	g_assert_cmpint(ledger_sync_ack(f.ls, 4, NOW + 3, &marked, &err), ==, 0);
	g_assert_cmpint(marked, ==, 0);
	g_assert_cmpint(query_int(f.path, "SELECT sent_s FROM outbox WHERE tx_rec = 1"), ==, NOW + 2);
	g_assert_cmpint(query_int(f.path, "SELECT acked_s FROM sync_state"), ==, NOW + 2);
	g_assert_cmpint(query_int(f.path, "SELECT last_ok_s FROM sync_state"), ==, NOW + 3);
	/* Invariants 1 and 2: below the stored acknowledgement, beyond the last record. */
	g_assert_cmpint(ledger_sync_ack(f.ls, 3, NOW, NULL, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpstr(err.msg, ==, "host acknowledged record 3, below its earlier acknowledgement 4");
	g_assert_cmpint(ledger_sync_ack(f.ls, RECS + 1, NOW, NULL, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpstr(err.msg, ==, "host acknowledged record 13, beyond the ledger's last record 12");
	g_assert_cmpint(status(&f).acked_rec, ==, 4);
	g_assert_cmpint(sent_rows(&f), ==, 1);
	/* The trigger holds it for any other program too. */
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(f.path, &db), ==, SQLITE_OK);
	char *msg = NULL;
	g_assert_cmpint(sqlite3_exec(db, "UPDATE sync_state SET acked_rec = 1", NULL, NULL, &msg), !=, SQLITE_OK);
	g_assert_cmpstr(msg, ==, "ledger: the host's acknowledgement never moves backwards");
	sqlite3_free(msg);
	g_assert_cmpint(sqlite3_exec(db, "DELETE FROM sync_state", NULL, NULL, &msg), !=, SQLITE_OK);
	sqlite3_free(msg);
	sqlite3_close(db);
	/* An error is recorded with its time and counted. */
	g_assert_cmpint(ledger_sync_error(f.ls, NOW + 9, "host answered 500", &err), ==, 0);
	st = status(&f);
	g_assert_cmpstr(st.last_error, ==, "host answered 500");
	g_assert_cmpint(st.last_error_s, ==, NOW + 9);
	g_assert_cmpint(st.attempts, ==, 1);
	g_assert_cmpint(st.oldest_unsynced_rec, ==, 5);
	g_assert_cmpint(st.queue_depth, ==, RECS - 4);
	/* Invariant 3 checked: a row marked sent that the host never acknowledged (another
	 * program's write) is caught by ledger_sync_check and by the ledger's own ledger_check. */
	g_assert_cmpint(sqlite3_open(f.path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE outbox SET sent_s = 1 WHERE tx_rec = 5", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	g_assert_cmpint(ledger_sync_check(f.ls, &err), ==, KIO_ERR_CORRUPT);
	g_assert_cmpstr(err.msg, ==,
			"ledger sync: invariant 3 broken: an outbox row is marked sent before its transaction was"
			" acknowledged, or not after");
	struct ledger *l = NULL;
	g_assert_cmpint(ledger_open(f.path, &l, &err), ==, 0);
	g_assert_cmpint(ledger_check(l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "invariant 3 broken"));
	ledger_close(l);
	fix_free(&f);
}

static void test_open_refusals(void)
{
	struct ledger_sync *ls = NULL;
	struct kio_error err = {0};
	char *path = lfix_temp_db("kiosk-sync");
	g_assert_cmpint(ledger_sync_open(path, false, &ls, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_nonnull(strstr(err.msg, "no such file"));
	g_assert_null(ls);
	g_assert_true(g_file_set_contents(path, "not a database at all, just words, quite a few of them", -1, NULL));
	g_assert_cmpint(ledger_sync_open(path, false, &ls, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "is not a kiosk ledger"));
	g_unlink(path);
	/* A ledger of schema 6 (a kiosk not yet started with this version). */
	g_assert_cmpint(ledger_test_build_at(path, 6, &err), ==, 0);
	g_assert_cmpint(ledger_sync_open(path, false, &ls, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "schema version 6 has no sync state yet"));
	g_unlink(path);
	/* Another program's SQLite file. */
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version = 3", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	g_assert_cmpint(ledger_sync_open(path, false, &ls, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "is not a kiosk ledger (no ledger tables)"));
	lfix_remove_db(path);
}

/* ---- the drain ---- */

static void test_ack_all(void)
{
	struct fix f;
	fix_new(&f, 5);
	struct sync_drain_outcome o = once(&f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_PROGRESS);
	g_assert_cmpint(o.first_rec, ==, 1);
	g_assert_cmpint(o.last_rec, ==, 5);
	g_assert_cmpint(o.acked, ==, 5);
	g_assert_cmpint(o.applied, ==, 5);
	g_assert_cmpint(o.marked, ==, 1);
	g_assert_true(o.reachable);
	o = once(&f);
	g_assert_cmpint(o.first_rec, ==, 6);
	g_assert_cmpint(o.last_rec, ==, 10);
	o = once(&f);
	g_assert_cmpint(o.last_rec, ==, RECS);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_PROGRESS);
	o = once(&f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_IDLE);
	g_assert_cmpint(f.t->exchanges, ==, 3);
	g_assert_cmpint(f.host->applied, ==, RECS);
	g_assert_cmpint(f.host->duplicates, ==, 0);
	assert_host_matches(&f, RECS);
	g_assert_cmpint(sent_rows(&f), ==, TOPUPS);
	struct ledger_sync_status st = status(&f);
	g_assert_cmpint(st.acked_rec, ==, RECS);
	g_assert_cmpint(st.queue_depth, ==, 0);
	g_assert_cmpint(st.oldest_unsynced_rec, ==, 0);
	g_assert_cmpint(st.last_ok_s, ==, NOW + 100);
	fix_free(&f);
}

static void test_partial_ack(void)
{
	struct fix f;
	fix_new(&f, 5);
	f.host->apply_max = 3;
	struct sync_drain_outcome o = once(&f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_PROGRESS);
	g_assert_cmpint(o.acked, ==, 3);
	/* Nothing whole yet: tx 1 ends at record 4. */
	g_assert_cmpint(o.marked, ==, 0);
	g_assert_cmpint(sent_rows(&f), ==, 0);
	o = once(&f);
	g_assert_cmpint(o.first_rec, ==, 4); /* right after the host's acked (invariant 1) */
	g_assert_cmpint(o.acked, ==, 6);
	g_assert_cmpint(o.marked, ==, 1);
	while ((o = once(&f)).result == SYNC_DRAIN_PROGRESS)
		;
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_IDLE);
	g_assert_cmpint(f.host->applied, ==, RECS);
	g_assert_cmpint(f.host->duplicates, ==, 0);
	g_assert_cmpint(sent_rows(&f), ==, TOPUPS);
	assert_host_matches(&f, RECS);
	fix_free(&f);
}

/* The host already holds records 1..8 (it committed, its answer was lost): they come back as
 * duplicates, only 9..12 are applied, and each outbox row is marked once. */
static void test_duplicate_ack(void)
{
	struct fix f;
	fix_new(&f, 12);
	struct ledger_sync_batch b;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_sync_batch_read(f.ls, 0, 12, &b, &err), ==, 0);
	/* Feed the first 8 through the fake host's own path, as an earlier exchange did. */
	fake_script(f.t, KIO_ERR_TIMEOUT, 0, NULL);
	f.host->apply_max = 8;
	struct sync_drain_outcome o = once(&f); /* the answer is "lost": a timeout */
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_BACKOFF);
	g_assert_cmpint(f.host->applied, ==, 0);
	struct sync_request req = {"POST", "/v1/records", b.body, b.len, NOW, NULL};
	struct sync_response resp;
	g_assert_cmpint(f.t->base.exchange(&f.t->base, &req, &resp, &err), ==, 0);
	sync_response_clear(&resp);
	ledger_sync_batch_clear(&b);
	g_assert_cmpint(f.host->acked, ==, 8);
	f.host->apply_max = 0;
	o = once(&f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_PROGRESS);
	g_assert_cmpint(o.first_rec, ==, 1);
	g_assert_cmpint(o.acked, ==, RECS);
	g_assert_cmpint(o.duplicates, ==, 8);
	g_assert_cmpint(o.applied, ==, 4);
	g_assert_cmpint(o.marked, ==, TOPUPS);
	g_assert_cmpint(f.host->applied, ==, RECS); /* 8 before + 4: none twice */
	g_assert_cmpint(once(&f).result, ==, SYNC_DRAIN_IDLE);
	fix_free(&f);
}

/* The host lost records (restored from a backup): it answers sequence_gap with acked 2, the
 * drain sends again from 3 without moving the ledger's acknowledgement back. */
static void test_sequence_gap_resume(void)
{
	struct fix f;
	fix_new(&f, 5);
	g_assert_cmpint(once(&f).acked, ==, 5);
	f.host->acked = 2;
	struct sync_drain_outcome o = once(&f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_RESUME);
	g_assert_cmpint(o.first_rec, ==, 6);
	g_assert_cmpint(o.acked, ==, 2);
	g_assert_cmpint(status(&f).acked_rec, ==, 5); /* invariant 3 */
	o = once(&f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_PROGRESS);
	g_assert_cmpint(o.first_rec, ==, 3);
	g_assert_cmpint(o.acked, ==, 7);
	g_assert_cmpint(status(&f).acked_rec, ==, 7);
	while ((o = once(&f)).result == SYNC_DRAIN_PROGRESS)
		;
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_IDLE);
	g_assert_cmpint(status(&f).acked_rec, ==, RECS);
	assert_host_matches(&f, RECS);
	g_assert_cmpint(sent_rows(&f), ==, TOPUPS);
	fix_free(&f);
}

static void assert_fault(struct fix *f, enum sync_fault fault, int64_t rec, const char *code)
{
	struct sync_drain_outcome o = once(f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_FAULT);
	g_assert_cmpint(o.fault, ==, fault);
	g_assert_cmpint(o.fault_rec, ==, rec);
	g_assert_nonnull(strstr(o.why, code));
	int exchanges = f->t->exchanges;
	/* Invariant 4: never again from this drain, nothing marked, nothing deleted. */
	for (int k = 0; k < 5; k++)
		g_assert_cmpint(once(f).result, ==, SYNC_DRAIN_FAULT);
	g_assert_cmpint(f->t->exchanges, ==, exchanges);
	struct ledger_sync_status st = status(f);
	g_assert_cmpint(st.acked_rec, ==, 0);
	g_assert_cmpint(st.last_rec, ==, RECS);
	g_assert_nonnull(strstr(st.last_error, code));
	g_assert_cmpint(sent_rows(f), ==, 0);
	int64_t frec = 0;
	char why[256];
	g_assert_cmpint(sync_drain_fault(f->d, &frec, why, sizeof(why)), ==, fault);
	g_assert_cmpint(frec, ==, rec);
}

static void test_conflict_fault(void)
{
	struct fix f;
	fix_new(&f, 5);
	/* The host holds records 1..3, and another record 3 than this kiosk's (another kiosk's,
	 * a restored database...). */
	struct ledger_sync_batch b;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_sync_batch_read(f.ls, 0, 3, &b, &err), ==, 0);
	struct sync_request req = {"POST", "/v1/records", b.body, b.len, NOW, NULL};
	struct sync_response resp;
	g_assert_cmpint(f.t->base.exchange(&f.t->base, &req, &resp, &err), ==, 0);
	sync_response_clear(&resp);
	ledger_sync_batch_clear(&b);
	g_assert_cmpint(f.host->acked, ==, 3);
	f.host->macs[3][0] = f.host->macs[3][0] == '0' ? '1' : '0';
	assert_fault(&f, SYNC_FAULT_CONFLICT, 3, "record_conflict");
	fix_free(&f);
}

static void test_chain_broken_fault(void)
{
	struct fix f;
	fix_new(&f, 5);
	fake_script(f.t, 0, 422, "{\"error\": {\"code\": \"chain_broken\", \"message\": \"MAC\", \"rec\": 2}}");
	assert_fault(&f, SYNC_FAULT_CHAIN_BROKEN, 2, "chain_broken");
	fix_free(&f);
}

static uint32_t script_random(void *user)
{
	struct fix *f = user;
	f->rnd = f->rnd * 1103515245u + 12345u; /* a known sequence */
	return f->rnd;
}

/* 500s: each delay in [min, cap], cap doubling from min to max and staying there, drawn from
 * the injected random source; a success resets it. */
static void test_backoff_500(void)
{
	struct fix f;
	fix_new(&f, 5);
	sync_drain_set_random(f.d, script_random, &f);
	for (int k = 0; k < 8; k++)
		fake_script(f.t, 0, 500, "<html>oops</html>");
	static const int caps[] = {100, 200, 400, 800, 1000, 1000, 1000, 1000};
	uint32_t mirror = 0;
	for (int k = 0; k < 8; k++) {
		struct sync_drain_outcome o = once(&f);
		g_assert_cmpint(o.result, ==, SYNC_DRAIN_BACKOFF);
		g_assert_true(o.reachable);
		g_assert_cmpint(sync_drain_backoff_cap(f.d), ==, caps[k]);
		mirror = mirror * 1103515245u + 12345u;
		g_assert_cmpint(o.delay_ms, ==, 100 + (int)(mirror % (uint32_t)(caps[k] - 100 + 1)));
		g_assert_cmpint(o.delay_ms, >=, 100);
		g_assert_cmpint(o.delay_ms, <=, caps[k]);
		g_assert_cmpstr(o.why, ==, "host answered 500 (no error code)");
	}
	struct ledger_sync_status st = status(&f);
	g_assert_cmpint(st.attempts, ==, 8);
	g_assert_cmpint(st.acked_rec, ==, 0);
	g_assert_cmpstr(st.last_error, ==, "host answered 500 (no error code)");
	g_assert_cmpint(once(&f).result, ==, SYNC_DRAIN_PROGRESS);
	g_assert_cmpint(status(&f).attempts, ==, 0);
	g_assert_cmpint(sync_drain_backoff_cap(f.d), ==, 100);
	fix_free(&f);
}

static void test_timeout_marks_nothing(void)
{
	struct fix f;
	fix_new(&f, 5);
	fake_script(f.t, KIO_ERR_TIMEOUT, 0, NULL);
	struct sync_drain_outcome o = once(&f);
	g_assert_cmpint(o.result, ==, SYNC_DRAIN_BACKOFF);
	g_assert_false(o.reachable);
	g_assert_cmpstr(o.why, ==, "fake host: no answer within 5000 ms");
	g_assert_cmpint(status(&f).acked_rec, ==, 0);
	g_assert_cmpstr(status(&f).last_error, ==, "fake host: no answer within 5000 ms");
	g_assert_cmpint(sent_rows(&f), ==, 0);
	g_assert_cmpint(once(&f).result, ==, SYNC_DRAIN_PROGRESS);
	fix_free(&f);
}

/* Malformed, impossible or hostile answers to a batch of 1..5: each refused, nothing marked. */
static void test_bad_answers_mark_nothing(void)
{
	static const struct {
		int status;
		const char *body, *why;
	} cases[] = {
		{200, "{\"acked\": 5.0}", "'acked' has a fraction or an exponent (an integer is needed)"},
		{200, "{\"acked\": 5", "not JSON"},
		{200, "{\"acked\": 99}", "acked 99 is beyond the last record sent 5"},
		{200, "{\"acked\": 5, \"applied\": -5}", "'applied' is -5, below 0"},
		{200, "{\"acked\": 18446744073709551621}", "an integer beyond 64 bits"},
		{200, "{\"acked\": 0}", "host acknowledged none of records 1..5"},
		{409, "{\"error\": {\"code\": \"sequence_gap\", \"acked\": 0}}", "(no gap)"},
		{418, "{\"error\": {\"code\": \"teapot\"}}", "unknown error code 'teapot'"},
		{403, "{\"error\": {\"code\": \"unknown_certificate\", \"message\": \"who\"}}",
		 "host answered 403 unknown_certificate: who"},
	};
	struct fix f;
	fix_new(&f, 5);
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++)
		fake_script(f.t, 0, cases[k].status, cases[k].body);
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		struct sync_drain_outcome o = once(&f);
		g_assert_cmpint(o.result, ==, SYNC_DRAIN_BACKOFF);
		if (!strstr(o.why, cases[k].why))
			g_error("case %zu: %s", k, o.why);
		g_assert_cmpint(status(&f).acked_rec, ==, 0);
		g_assert_cmpint(sent_rows(&f), ==, 0);
		g_assert_cmpint(f.t->last_first, ==, 1);
	}
	g_assert_cmpint(status(&f).attempts, ==, (int64_t)G_N_ELEMENTS(cases));
	g_assert_cmpint(once(&f).result, ==, SYNC_DRAIN_PROGRESS);
	fix_free(&f);
}

/* ---- kill points ---- */

static const char *const kill_points[] = {"sync-before-send", "sync-host-answered", "sync-ack-written", "sync-acked"};

struct killer {
	const char *point;
	int target, hits;
};

static void on_point(void *user, const char *point)
{
	struct killer *k = user;
	if (strcmp(point, k->point) == 0 && ++k->hits == k->target)
		raise(SIGKILL);
}

/* The child drains (batch 5) over the host in shared memory and dies at the point's
 * target-th hit; the parent restarts the drain on the same files. */
static void test_kill_points(void)
{
	for (size_t p = 0; p < G_N_ELEMENTS(kill_points); p++) {
		for (int target = 1; target <= 3; target++) {
			char *path = ledger_with_topups(TOPUPS);
			struct fake_host_state *host = mmap(NULL, sizeof(*host), PROT_READ | PROT_WRITE,
							    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			g_assert_true(host != MAP_FAILED);
			memset(host, 0, sizeof(*host));
			pid_t pid = fork();
			g_assert_cmpint(pid, >=, 0);
			if (pid == 0) {
				struct ledger_sync *ls = NULL;
				struct kio_error err = {0};
				if (ledger_sync_open(path, true, &ls, &err) != 0)
					_exit(91);
				struct killer k = {kill_points[p], target, 0};
				ledger_sync_set_checkpoint(ls, on_point, &k);
				struct fake_transport *t = fake_transport_new(host);
				struct sync_drain_config cfg = {5, 100, 1000};
				struct sync_drain *d = sync_drain_new(ls, &t->base, &cfg);
				struct sync_drain_outcome o;
				for (int n = 0; n < 10; n++)
					if (sync_drain_once(d, &o, &err) != 0 || o.result != SYNC_DRAIN_PROGRESS)
						break;
				_exit(0);
			}
			int wstatus = 0;
			g_assert_cmpint(waitpid(pid, &wstatus, 0), ==, pid);
			g_assert_true(WIFSIGNALED(wstatus));
			g_assert_cmpint(WTERMSIG(wstatus), ==, SIGKILL);
			int64_t host_before = host->acked;
			int64_t acked_before = query_int(path, "SELECT acked_rec FROM sync_state");
			/* Before the ack's commit nothing of the killed batch is marked; after it, all. */
			bool committed = strcmp(kill_points[p], "sync-acked") == 0;
			g_assert_cmpint(acked_before, ==, MIN(RECS, committed ? 5 * target : 5 * (target - 1)));
			bool host_has_batch = strcmp(kill_points[p], "sync-before-send") != 0;
			g_assert_cmpint(host_before, ==, MIN(RECS, host_has_batch ? 5 * target : 5 * (target - 1)));
			/* The restart. */
			struct fix f = {.path = path, .host = host};
			struct kio_error err = {0};
			if (ledger_sync_open(path, true, &f.ls, &err) != 0)
				g_error("reopen: %s", err.msg);
			f.t = fake_transport_new(host);
			struct sync_drain_config cfg = {5, 100, 1000};
			f.d = sync_drain_new(f.ls, &f.t->base, &cfg);
			struct sync_drain_outcome o = once(&f);
			if (acked_before < RECS) {
				g_assert_cmpint(o.result, ==, SYNC_DRAIN_PROGRESS);
				g_assert_cmpint(o.first_rec, ==, acked_before + 1); /* resent from the ledger's word */
				g_assert_cmpint(o.duplicates, ==, host_before - acked_before);
				while ((o = once(&f)).result == SYNC_DRAIN_PROGRESS)
					;
			}
			g_assert_cmpint(o.result, ==, SYNC_DRAIN_IDLE);
			/* Nothing applied twice at the host, nothing marked twice at the kiosk (the
			 * outbox trigger refuses a second mark; every row marked once). */
			g_assert_cmpint(host->applied, ==, RECS);
			g_assert_cmpint(host->acked, ==, RECS);
			assert_host_matches(&f, RECS);
			g_assert_cmpint(status(&f).acked_rec, ==, RECS);
			g_assert_cmpint(sent_rows(&f), ==, TOPUPS);
			sync_drain_free(f.d);
			f.t->base.free(&f.t->base);
			ledger_sync_close(f.ls);
			/* The whole ledger still holds (chain, money invariants). */
			struct ledger *l = NULL;
			g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
			if (ledger_check(l, &err) != 0)
				g_error("after %s #%d: %s", kill_points[p], target, err.msg);
			ledger_close(l);
			munmap(host, sizeof(*host));
			lfix_remove_db(path);
		}
	}
}

/* ---- offline limits and the worker ---- */

static void test_offline_limits(void)
{
	char *path = ledger_with_topups(0);
	struct kio_error err = {0};
	struct core_config cfg;
	core_config_defaults(&cfg);
	g_assert_cmpint(core_config_load_string(&cfg, "t.ini",
						"[host]\nurl = https://host.example:8443\nca = ca.crt\ncert = k.crt\n"
						"key = k.key\n[offline]\ncard_max_count = 2\ncard_max_fils = 15000\n"
						"kiosk_max_count = 3\nkiosk_max_fils = 100000\n",
						&err),
			==, 0);
	struct sync *s = sync_new(&cfg, path, NULL, NULL);
	struct ledger *l = NULL;
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	struct core_clock *clock = core_clock_new(true, NOW);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	struct sync_offline_verdict v;
	g_assert_cmpint(sync_offline_check(s, l, CARD, 5000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	topup(l, ledger_notes_journal(notes), CARD, 5000);
	g_assert_cmpint(sync_offline_check(s, l, CARD, 10000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(v.unacked.card_count, ==, 1);
	g_assert_cmpint(v.unacked.card_fils, ==, 5000);
	g_assert_cmpint(sync_offline_check(s, l, CARD, 10001, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_CARD_FILS);
	topup(l, ledger_notes_journal(notes), CARD, 5000);
	g_assert_cmpint(sync_offline_check(s, l, CARD, 100, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_CARD_COUNT);
	g_assert_cmpint(sync_offline_check(s, l, CARD2, 100, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(v.unacked.card_count, ==, 0);
	g_assert_cmpint(v.unacked.kiosk_count, ==, 2);
	topup(l, ledger_notes_journal(notes), CARD2, 5000);
	g_assert_cmpint(sync_offline_check(s, l, CARD2, 100, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_KIOSK_COUNT);
	g_assert_cmpint(sync_offline_check(s, l, "123", 100, &v, &err), ==, KIO_ERR_INVALID);
	/* The host acknowledges the first two top-ups (records 1..8): they no longer count. */
	struct ledger_sync *ls = NULL;
	g_assert_cmpint(ledger_sync_open(path, true, &ls, &err), ==, 0);
	g_assert_cmpint(ledger_sync_ack(ls, 8, NOW, NULL, &err), ==, 0);
	ledger_sync_close(ls);
	g_assert_cmpint(sync_offline_check(s, l, CARD, 15000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(v.unacked.kiosk_count, ==, 1);
	g_assert_cmpint(sync_offline_check(s, l, CARD, 15001, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_CARD_FILS);
	g_assert_cmpint(sync_offline_check(s, l, CARD2, 95001, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_CARD_FILS); /* the card's limit first */
	sync_free(s);
	/* No host: a standalone kiosk has no limit to wait on. */
	core_config_defaults(&cfg);
	s = sync_new(&cfg, path, NULL, NULL);
	g_assert_cmpint(sync_offline_check(s, l, CARD2, 1000000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	struct kio_error aerr;
	uint32_t id = sync_card_ask(s, CARD, &aerr);
	struct sync_card_result r;
	g_assert_true(sync_card_poll(s, &r));
	g_assert_cmpint(r.ask, ==, id);
	g_assert_cmpint(r.result, ==, SYNC_ASK_NOT_CONFIGURED);
	sync_free(s);
	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
	lfix_remove_db(path);
}

/* Issue 13: fees money the host has not acknowledged counts against the kiosk's limits (lines
 * settled offline or unconfirmed, rests credited to a card) and a card's (the rests credited to
 * it); lines the host paid, refused lines, rests issued as vouchers and cancelled baskets do
 * not. Every figure at its boundary. */
static void test_offline_limits_fees(void)
{
	char *path = ledger_with_topups(0);
	struct kio_error err = {0};
	struct core_config cfg;
	core_config_defaults(&cfg);
	g_assert_cmpint(core_config_load_string(&cfg, "t.ini",
						"[host]\nurl = https://host.example:8443\nca = ca.crt\ncert = k.crt\n"
						"key = k.key\n[offline]\ncard_max_count = 3\ncard_max_fils = 30000\n"
						"kiosk_max_count = 4\nkiosk_max_fils = 100000\n",
						&err),
			==, 0);
	struct sync *s = sync_new(&cfg, path, NULL, NULL);
	struct ledger *l = NULL;
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	struct core_clock *clock = core_clock_new(true, NOW);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	struct cash_journal *j = ledger_notes_journal(notes);
	struct sync_offline_verdict v;

	/* An empty ledger: a basket up to the kiosk's whole amount. */
	g_assert_cmpint(sync_offline_check_basket(s, l, 100000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(sync_offline_check_basket(s, l, 100001, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_KIOSK_FILS);
	g_assert_cmpint(sync_offline_check_basket(s, l, -1, &v, &err), ==, KIO_ERR_INVALID);

	topup(l, j, CARD, 5000);
	/* A: 300.00 offline + 200.00 paid at the host, a 600.00 note, the 100.00 rest to CARD. */
	basket(l, j, (int64_t[]){30000, 20000}, (enum ledger_line_status[]){LEDGER_LINE_OFFLINE, LEDGER_LINE_PAID}, 2,
	       60000, CARD);
	/* B: 200.00 unconfirmed + 50.00 refused, 250.00 paid, the 50.00 rest as a voucher. */
	basket(l, j, (int64_t[]){20000, 5000}, (enum ledger_line_status[]){LEDGER_LINE_UNCONFIRMED, LEDGER_LINE_REFUSED},
	       2, 25000, NULL);
	/* C: paid at the host, no rest; D: cancelled before any note. Neither counts. */
	basket(l, j, (int64_t[]){10000}, (enum ledger_line_status[]){LEDGER_LINE_PAID}, 1, 10000, NULL);
	basket(l, j, (int64_t[]){10000}, (enum ledger_line_status[]){LEDGER_LINE_OFFLINE}, 1, 0, NULL);

	/* Kiosk: the top-up 50.00 + A 300.00 + 100.00 + B 200.00 = 650.00 over 3 transactions. */
	g_assert_cmpint(sync_offline_check_basket(s, l, 35000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(v.unacked.kiosk_count, ==, 3);
	g_assert_cmpint(v.unacked.kiosk_fils, ==, 65000);
	g_assert_cmpint(v.unacked.card_count, ==, 0);
	g_assert_cmpint(v.unacked.card_fils, ==, 0);
	g_assert_cmpint(sync_offline_check_basket(s, l, 35001, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_KIOSK_FILS);
	/* CARD: its top-up 50.00 and A's rest 100.00, 2 credits. */
	g_assert_cmpint(sync_offline_check(s, l, CARD, 15000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(v.unacked.card_count, ==, 2);
	g_assert_cmpint(v.unacked.card_fils, ==, 15000);
	g_assert_cmpint(v.unacked.kiosk_count, ==, 3);
	g_assert_cmpint(v.unacked.kiosk_fils, ==, 65000);
	g_assert_cmpint(sync_offline_check(s, l, CARD, 15001, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_CARD_FILS);
	/* A card top-up is held to the kiosk's amount with the fees money in it. */
	g_assert_cmpint(sync_offline_check(s, l, CARD2, 30000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(v.unacked.card_count, ==, 0);

	/* E: 50.00 offline: the kiosk's fourth transaction, its count reached. */
	basket(l, j, (int64_t[]){5000}, (enum ledger_line_status[]){LEDGER_LINE_OFFLINE}, 1, 5000, NULL);
	g_assert_cmpint(sync_offline_check_basket(s, l, 0, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_KIOSK_COUNT);
	g_assert_cmpint(v.unacked.kiosk_count, ==, 4);
	g_assert_cmpint(v.unacked.kiosk_fils, ==, 70000);
	/* CARD has a third credit left by its own count; the kiosk's count refuses it. */
	g_assert_cmpint(sync_offline_check(s, l, CARD, 100, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_KIOSK_COUNT);

	/* The host acknowledges up to A's end: B and E remain, 250.00 over 2. */
	int64_t a_end = query_int(path, "SELECT e.rec FROM tx_end e JOIN tx t ON t.rec = e.tx_rec"
					" WHERE t.kind = 'fees' ORDER BY e.rec LIMIT 1");
	struct ledger_sync *ls = NULL;
	g_assert_cmpint(ledger_sync_open(path, true, &ls, &err), ==, 0);
	g_assert_cmpint(ledger_sync_ack(ls, a_end, NOW, NULL, &err), ==, 0);
	struct ledger_unacked u;
	g_assert_cmpint(ledger_sync_unacked(ls, CARD, &u, &err), ==, 0); /* the worker's connection agrees */
	g_assert_cmpint(u.kiosk_count, ==, 2);
	g_assert_cmpint(u.kiosk_fils, ==, 25000);
	g_assert_cmpint(u.card_count, ==, 0);
	ledger_sync_close(ls);
	g_assert_cmpint(sync_offline_check_basket(s, l, 75000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	g_assert_cmpint(sync_offline_check_basket(s, l, 75001, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_KIOSK_FILS);
	g_assert_cmpint(sync_offline_check(s, l, CARD, 30000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	sync_free(s);

	/* No host: a standalone kiosk has no limit to wait on. */
	core_config_defaults(&cfg);
	s = sync_new(&cfg, path, NULL, NULL);
	g_assert_cmpint(sync_offline_check_basket(s, l, 1000000000, &v, &err), ==, 0);
	g_assert_cmpint(v.result, ==, SYNC_OFFLINE_OK);
	sync_free(s);
	ledger_notes_free(notes);
	core_clock_free(clock);
	g_assert_cmpint(ledger_check(l, &err), ==, 0);
	ledger_close(l);
	lfix_remove_db(path);
}


static bool drained(struct sync *s, int64_t recs)
{
	struct sync_status st;
	sync_status_get(s, &st);
	return st.running && st.queue_depth == 0 && st.acked_rec == recs && st.last_ok_s > 0;
}

static void test_worker(void)
{
	char *path = ledger_with_topups(TOPUPS);
	struct core_config cfg;
	core_config_defaults(&cfg);
	cfg.host_batch = 5;
	struct test_waker w;
	test_waker_init(&w);
	struct sync *s = sync_new(&cfg, path, test_waker_wake, &w);
	struct fake_host_state *host = g_new0(struct fake_host_state, 1);
	host->card_balance_fils = 2500;
	sync_test_set_transport(s, &fake_transport_new(host)->base);
	struct kio_error err = {0};
	g_assert_cmpint(sync_start(s, &err), ==, 0);
	sync_kick(s);
	TEST_WAIT_FOR(&w, drained(s, RECS));
	g_assert_cmpint(host->applied, ==, RECS);
	g_mutex_lock(&w.mu);
	g_assert_cmpint(w.wakes, >, 0); /* the app heard of it */
	g_mutex_unlock(&w.mu);
	struct sync_status st;
	sync_status_get(s, &st);
	g_assert_true(st.reachable);
	g_assert_cmpint(st.fault, ==, SYNC_STATUS_FAULT_NONE);
	uint32_t id = sync_card_ask(s, CARD, &err);
	g_assert_cmpuint(id, !=, 0);
	struct sync_card_result r;
	TEST_WAIT_FOR(&w, sync_card_poll(s, &r));
	g_assert_cmpint(r.ask, ==, id);
	g_assert_cmpint(r.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(r.answer.kind, ==, SYNC_CARD_FOUND);
	g_assert_cmpint(r.answer.balance_fils, ==, 2500);
	g_assert_false(sync_card_poll(s, &r)); /* consumed */
	g_assert_cmpint(sync_card_ask(s, "12", &err), ==, 0);
	/* A new top-up while the worker runs (the kiosk's connection writes, the worker reads). */
	struct ledger *l = NULL;
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	struct core_clock *clock = core_clock_new(true, NOW);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	topup(l, ledger_notes_journal(notes), CARD2, 10000);
	sync_kick(s);
	TEST_WAIT_FOR(&w, drained(s, RECS + 4));
	g_assert_cmpint(host->applied, ==, RECS + 4);
	sync_stop(s);
	sync_status_get(s, &st);
	g_assert_false(st.running);
	sync_free(s);
	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
	g_free(host);
	test_waker_clear(&w);
	lfix_remove_db(path);
}

static bool failed_once(struct sync *s)
{
	struct sync_status st;
	sync_status_get(s, &st);
	return strstr(st.last_error, "host answered 503") != NULL;
}

/* A kick while a backoff is under way keeps its delay: a busy kiosk with its host down does
 * not retry at every transaction. Card asks go through meanwhile; each answer proves the worker
 * has been round its loop since the kicks before it. */
static void test_worker_kick_keeps_backoff(void)
{
	char *path = ledger_with_topups(1);
	struct core_config cfg;
	core_config_defaults(&cfg);
	cfg.host_backoff_min_ms = 60000;
	cfg.host_backoff_max_ms = 60000;
	struct test_waker w;
	test_waker_init(&w);
	struct sync *s = sync_new(&cfg, path, test_waker_wake, &w);
	struct fake_host_state *host = g_new0(struct fake_host_state, 1);
	struct fake_transport *t = fake_transport_new(host);
	fake_script(t, 0, 503, "");
	sync_test_set_transport(s, &t->base);
	struct kio_error err = {0};
	g_assert_cmpint(sync_start(s, &err), ==, 0);
	TEST_WAIT_FOR(&w, failed_once(s));
	struct sync_card_result r;
	for (int k = 0; k < 3; k++) {
		sync_kick(s);
		uint32_t id = sync_card_ask(s, CARD, &err);
		TEST_WAIT_FOR(&w, sync_card_poll(s, &r) && r.ask == id);
	}
	struct sync_status st;
	sync_status_get(s, &st);
	g_assert_cmpint(st.queue_depth, ==, 4);
	g_assert_nonnull(strstr(st.last_error, "host answered 503"));
	/* Read while the worker sits in its 60 s backoff; sync_stop frees the transport. */
	g_assert_cmpint(t->posts, ==, 1); /* the first drain only, however many kicks */
	sync_stop(s);
	sync_free(s);
	g_free(host);
	test_waker_clear(&w);
	lfix_remove_db(path);
}

/* The fee ask through the worker: an answer of each kind, a newer ask replacing an older one,
 * a refused shape asking nothing, no host or no worker answering at once. */
static void test_worker_fee_ask(void)
{
	char *path = ledger_with_topups(0);
	struct core_config cfg;
	core_config_defaults(&cfg);
	struct test_waker w;
	test_waker_init(&w);
	struct kio_error err = {0};
	struct sync_fee_result r;
	/* Not configured and not started: answered at once, nothing sent. */
	struct sync *s = sync_new(&cfg, path, test_waker_wake, &w);
	uint32_t id = sync_fee_ask(s, "dewa", "bill", "2000123456", &err);
	g_assert_cmpuint(id, !=, 0);
	g_assert_true(sync_fee_poll(s, &r));
	g_assert_cmpuint(r.ask, ==, id);
	g_assert_cmpint(r.result, ==, SYNC_FEE_NOT_CONFIGURED);
	g_assert_false(sync_fee_poll(s, &r));
	sync_free(s);

	s = sync_new(&cfg, path, test_waker_wake, &w);
	struct fake_host_state *host = g_new0(struct fake_host_state, 1);
	struct fake_transport *t = fake_transport_new(host);
	fake_script(t, KIO_ERR_TIMEOUT, 0, NULL); /* the first exchange, whichever it is, times out */
	sync_test_set_transport(s, &t->base);
	g_assert_cmpint(sync_start(s, &err), ==, 0);
	/* Shapes refused before anything is queued: nothing to poll. */
	g_assert_cmpuint(sync_fee_ask(s, "DEWA", "bill", "2000123456", &err), ==, 0);
	g_assert_cmpint(err.code, ==, KIO_ERR_INVALID);
	g_assert_cmpuint(sync_fee_ask(s, "dewa", "bill", "2000/123456", &err), ==, 0);
	g_assert_cmpuint(sync_fee_ask(s, "dewa", "bill", "", &err), ==, 0);
	g_assert_cmpuint(sync_fee_ask(s, "dewa", "bill", "123456789012345678901234567890123", &err), ==, 0);
	g_assert_cmpuint(sync_fee_ask(s, "dewa", NULL, "1", &err), ==, 0);
	g_assert_false(sync_fee_poll(s, &r));
	/* Until the scripted timeout has been used, anything may meet it; then the real answers. */
	bool fixed = false;
	for (int k = 0; k < 3 && !fixed; k++) {
		id = sync_fee_ask(s, "dewa", "bill", "2000123456", &err);
		TEST_WAIT_FOR(&w, sync_fee_poll(s, &r));
		g_assert_cmpuint(r.ask, ==, id);
		if (r.result == SYNC_FEE_UNREACHABLE) {
			g_assert_nonnull(strstr(r.why, "no answer within"));
			continue;
		}
		fixed = true;
		g_assert_cmpint(r.result, ==, SYNC_FEE_OK);
		g_assert_cmpint(r.kind, ==, SYNC_FEE_KIND_FIXED);
		g_assert_cmpint(r.due_fils, ==, 24550);
		g_assert_cmpstr(r.payee, ==, "M*** A*** K***");
		g_assert_cmpstr(r.description, ==, "Electricity and water bill");
	}
	g_assert_true(fixed);
	g_assert_false(sync_fee_poll(s, &r)); /* consumed */
	id = sync_fee_ask(s, "dewa", "bill", "2000999999", &err);
	TEST_WAIT_FOR(&w, sync_fee_poll(s, &r));
	g_assert_cmpuint(r.ask, ==, id);
	g_assert_cmpint(r.result, ==, SYNC_FEE_NOT_FOUND);
	g_assert_cmpstr(r.code, ==, "reference_unknown");
	g_assert_nonnull(strstr(r.why, "no such reference"));
	/* Two asks in a row: only the latest is ever polled, with its own id. */
	uint32_t first = sync_fee_ask(s, "dewa", "bill", "2000999999", &err);
	uint32_t second = sync_fee_ask(s, "dewa", "bill", "2000123456", &err);
	g_assert_cmpuint(first, !=, second);
	TEST_WAIT_FOR(&w, sync_fee_poll(s, &r));
	g_assert_cmpuint(r.ask, ==, second);
	g_assert_cmpint(r.result, ==, SYNC_FEE_OK);
	/* The card ask and the fee ask keep their own answers. */
	uint32_t card = sync_card_ask(s, CARD, &err);
	id = sync_fee_ask(s, "dewa", "bill", "2000123456", &err);
	g_assert_cmpuint(card, !=, id);
	struct sync_card_result cr;
	TEST_WAIT_FOR(&w, sync_card_poll(s, &cr));
	g_assert_cmpuint(cr.ask, ==, card);
	TEST_WAIT_FOR(&w, sync_fee_poll(s, &r));
	g_assert_cmpuint(r.ask, ==, id);
	sync_free(s);
	g_free(host);
	test_waker_clear(&w);
	lfix_remove_db(path);
}

#define VCODE "9123456789012342"
#define RID "0f4b3c2a-9d8e-4f71-a6b5-c4d3e2f1a0b9"
#define TXU "8d3f6b9e-2c41-4e0a-9b7d-5f1e2a3c4d5e"

/* The asks that move money: a voucher checked once; a redemption and a payment retried with
 * the same key through a timeout, a 5xx and a malformed answer until the host answers; one of
 * each at a time; giving up; no worker answering at once with nothing sent. */
static void test_worker_money_asks(void)
{
	char *path = ledger_with_topups(0);
	struct core_config cfg;
	core_config_defaults(&cfg);
	cfg.host_backoff_min_ms = 50;
	struct test_waker w;
	test_waker_init(&w);
	struct kio_error err = {0};
	struct sync_redeem_result rr;
	struct sync_pay_result pr;
	struct sync_voucher_result vr;
	struct sync_pay_line lines[2] = {
		{"police", "fines", "10012345", "F-1", 60000},
		{"dewa", "bill", "", "", 24550},
	};

	struct sync *s = sync_new(&cfg, path, test_waker_wake, &w);
	uint32_t id = sync_voucher_redeem(s, VCODE, RID, TXU, 5000, &err);
	g_assert_true(sync_redeem_poll(s, &rr));
	g_assert_cmpuint(rr.ask, ==, id);
	g_assert_cmpint(rr.result, ==, SYNC_ASK_NOT_CONFIGURED);
	id = sync_pay_ask(s, TXU, lines, 2, &err);
	g_assert_true(sync_pay_poll(s, &pr));
	g_assert_cmpint(pr.result, ==, SYNC_ASK_NOT_CONFIGURED);
	sync_free(s);

	s = sync_new(&cfg, path, test_waker_wake, &w);
	struct fake_host_state *host = g_new0(struct fake_host_state, 1);
	struct fake_transport *t = fake_transport_new(host);
	fake_script_path(t, "/v1/vouchers/redeem", KIO_ERR_TIMEOUT, 0, NULL);
	fake_script_path(t, "/v1/vouchers/redeem", 0, 503, "");
	fake_script_path(t, "/v1/vouchers/redeem", 0, 200, "{\"code\": ");
	fake_script_path(t, "/v1/payments", KIO_ERR_IO, 0, NULL);
	fake_script_path(t, "/v1/payments", 0, 500, "{\"error\": {\"code\": \"internal_error\"}}");
	sync_test_set_transport(s, &t->base);
	g_assert_cmpint(sync_start(s, &err), ==, 0);

	/* Shapes refused, nothing queued. */
	g_assert_cmpuint(sync_voucher_ask(s, "DEMO-5000", &err), ==, 0);
	g_assert_cmpint(err.code, ==, KIO_ERR_INVALID);
	g_assert_cmpuint(sync_voucher_ask(s, "9123456789012345", &err), ==, 0); /* check digit */
	g_assert_cmpuint(sync_voucher_ask(s, "9123 4567 8901 2342", &err), ==, 0); /* not canonical */
	g_assert_cmpuint(sync_voucher_redeem(s, VCODE, "not-a-uuid", TXU, 5000, &err), ==, 0);
	g_assert_cmpuint(sync_voucher_redeem(s, VCODE, RID, TXU, 0, &err), ==, 0);
	g_assert_cmpuint(sync_pay_ask(s, TXU, lines, 0, &err), ==, 0);
	struct sync_pay_line bad = {"police", "fines", "10 012", "", 100};
	g_assert_cmpuint(sync_pay_ask(s, TXU, &bad, 1, &err), ==, 0);
	g_assert_cmpstr(err.msg, ==, "payment: line 1 is not a basket line (ids, reference, bill, amount)");

	id = sync_voucher_ask(s, VCODE, &err);
	TEST_WAIT_FOR(&w, sync_voucher_poll(s, &vr));
	g_assert_cmpuint(vr.ask, ==, id);
	g_assert_cmpint(vr.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(vr.answer.kind, ==, SYNC_VOUCHER_VALID);
	g_assert_cmpint(vr.answer.value_fils, ==, 5000);
	g_assert_cmpstr(vr.answer.expires, ==, "2099-12-31");

	/* Three failures of three kinds, then the answer; one redemption at a time meanwhile. */
	id = sync_voucher_redeem(s, VCODE, RID, TXU, 5000, &err);
	g_assert_cmpuint(id, !=, 0);
	g_assert_cmpuint(sync_voucher_redeem(s, VCODE, "1f4b3c2a-9d8e-4f71-a6b5-c4d3e2f1a0b9", TXU, 100, &err), ==, 0);
	g_assert_cmpint(err.code, ==, KIO_ERR_BUSY);
	TEST_WAIT_FOR(&w, sync_redeem_poll(s, &rr));
	g_assert_cmpuint(rr.ask, ==, id);
	g_assert_cmpint(rr.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(rr.answer.kind, ==, SYNC_VOUCHER_REDEEMED);
	g_assert_cmpint(rr.answer.redeemed_fils, ==, 5000);
	g_assert_cmpint(rr.attempts, ==, 4);
	g_assert_cmpint(t->redeems, ==, 4);
	g_assert_nonnull(strstr(t->last_body, RID)); /* the same key every time */
	g_assert_false(sync_redeem_poll(s, &rr));

	/* The payment: two failures, then every line answered; reference and bill null when none. */
	id = sync_pay_ask(s, TXU, lines, 2, &err);
	g_assert_cmpuint(id, !=, 0);
	TEST_WAIT_FOR(&w, sync_pay_poll(s, &pr));
	g_assert_cmpuint(pr.ask, ==, id);
	g_assert_cmpint(pr.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(pr.answer.kind, ==, SYNC_PAY_ANSWERED);
	g_assert_cmpuint(pr.answer.n, ==, 2);
	g_assert_cmpint(pr.answer.lines[0].status, ==, SYNC_LINE_PAID);
	g_assert_cmpstr(pr.answer.lines[1].host_ref, ==, "P-2");
	g_assert_cmpint(pr.attempts, ==, 3);
	g_assert_cmpint(t->pays, ==, 3);
	g_assert_nonnull(strstr(t->last_body, "\"reference\":\"10012345\",\"bill\":\"F-1\",\"amount_fils\":60000"));
	g_assert_nonnull(strstr(t->last_body, "\"reference\":null,\"bill\":null,\"amount_fils\":24550"));

	/* An answer that is final though not a success: not retried. */
	fake_script_path(t, "/v1/payments", 0, 422,
			 "{\"error\": {\"code\": \"idempotency_mismatch\", \"message\": \"another body\"}}");
	id = sync_pay_ask(s, TXU, lines, 1, &err);
	TEST_WAIT_FOR(&w, sync_pay_poll(s, &pr));
	g_assert_cmpint(pr.answer.kind, ==, SYNC_PAY_MISMATCH);
	g_assert_cmpint(t->pays, ==, 4);
	g_assert_nonnull(strstr(pr.why, "idempotency_mismatch: another body"));

	/* Given up: its answer never comes, and the next payment may be asked. */
	for (int k = 0; k < 6; k++)
		fake_script_path(t, "/v1/payments", KIO_ERR_TIMEOUT, 0, NULL);
	id = sync_pay_ask(s, TXU, lines, 2, &err);
	g_assert_cmpuint(sync_pay_ask(s, TXU, lines, 2, &err), ==, 0);
	g_assert_cmpint(err.code, ==, KIO_ERR_BUSY);
	g_assert_true(sync_ask_give_up(s, id));
	g_assert_false(sync_ask_give_up(s, id));
	g_assert_false(sync_pay_poll(s, &pr));
	uint32_t again = sync_pay_ask(s, TXU, lines, 2, &err);
	g_assert_cmpuint(again, !=, 0);
	TEST_WAIT_FOR(&w, sync_pay_poll(s, &pr));
	g_assert_cmpuint(pr.ask, ==, again);
	g_assert_cmpint(pr.answer.kind, ==, SYNC_PAY_ANSWERED);
	sync_free(s);
	g_free(host);
	test_waker_clear(&w);
	lfix_remove_db(path);
}

/* `kiosk sync status|push` through the kiosk binary (main.c's dispatch): the numbers, the
 * exit codes, and push's real libcurl transport meeting no host. */
static int run_kiosk(char **out, char **errout, const char *a0, const char *a1, const char *a2, const char *a3,
		     const char *a4, const char *a5)
{
	const char *exe = g_getenv("KIOSK_EXE");
	g_assert_nonnull(exe);
	const char *argv[] = {exe, a0, a1, a2, a3, a4, a5, NULL};
	int wstatus = 0;
	GError *gerr = NULL;
	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, errout, &wstatus, &gerr))
		g_error("spawn: %s", gerr->message);
	g_assert_true(WIFEXITED(wstatus));
	return WEXITSTATUS(wstatus);
}

static void test_cli(void)
{
	if (!g_getenv("KIOSK_EXE")) {
		g_test_skip("KIOSK_EXE is not set");
		return;
	}
	char *path = ledger_with_topups(TOPUPS);
	char *out = NULL, *errout = NULL;
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "status", "--db", path, NULL, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "queue depth: 12 records (3 transactions not marked sent)\n"));
	g_assert_nonnull(strstr(out, "host holds: records 1..0 of 12\n"));
	g_assert_nonnull(strstr(out, "oldest unsynced: record 1 at 2027-01-01 00:00:00 UTC\n"));
	g_assert_nonnull(strstr(out, "last success: never\n"));
	g_assert_nonnull(strstr(out, "last error: none\n"));
	g_free(out);
	g_free(errout);
	struct ledger_sync *ls = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_sync_open(path, true, &ls, &err), ==, 0);
	g_assert_cmpint(ledger_sync_ack(ls, 4, NOW + 60, NULL, &err), ==, 0);
	g_assert_cmpint(ledger_sync_error(ls, NOW + 120, "host answered 500 (no error code)", &err), ==, 0);
	ledger_sync_close(ls);
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "status", "--db", path, NULL, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "queue depth: 8 records (2 transactions not marked sent)\n"));
	g_assert_nonnull(strstr(out, "host holds: records 1..4 of 12\n"));
	g_assert_nonnull(strstr(out, "oldest unsynced: record 5 at 2027-01-01 00:00:00 UTC\n"));
	g_assert_nonnull(strstr(out, "last success: 2027-01-01 00:01:00 UTC\n"));
	g_assert_nonnull(strstr(out, "last error: 2027-01-01 00:02:00 UTC: host answered 500 (no error code) (1 failures"));
	g_free(out);
	g_free(errout);
	/* Refusals. */
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "status", "--db", "/nonexistent/k.db", NULL, NULL), ==, 3);
	g_assert_cmpstr(errout, ==,
			"kiosk sync status: database /nonexistent/k.db: no such file (the kiosk creates it at its start)\n");
	g_free(out);
	g_free(errout);
	char *dir = g_path_get_dirname(path);
	char *foreign = g_build_filename(dir, "notes.txt", NULL);
	g_assert_true(g_file_set_contents(foreign, "hello, this is not a database, not even close to one", -1, NULL));
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "status", "--db", foreign, NULL, NULL), ==, 3);
	g_assert_nonnull(strstr(errout, "is not a kiosk ledger"));
	g_free(out);
	g_free(errout);
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "status", NULL, NULL, NULL, NULL), ==, 2);
	g_assert_cmpstr(errout, ==, "kiosk sync status: --db PATH is needed\n");
	g_free(out);
	g_free(errout);
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "pull", "--db", path, NULL, NULL), ==, 2);
	g_assert_cmpstr(errout, ==, "kiosk sync: unknown command 'pull' (status or push)\n");
	g_free(out);
	g_free(errout);
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "push", "--db", path, NULL, NULL), ==, 2);
	g_assert_nonnull(strstr(errout, "--config FILE is needed"));
	g_free(out);
	g_free(errout);
	char *ini = g_build_filename(dir, "k.ini", NULL);
	g_assert_true(g_file_set_contents(ini, "[kiosk]\nid = K-1\n", -1, NULL));
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "push", "--db", path, "--config", ini), ==, 2);
	g_assert_nonnull(strstr(errout, "host.url is empty: there is no host to push to"));
	g_free(out);
	g_free(errout);
	/* A host that is not there: exit 1, the error recorded, nothing marked. The TLS files
	 * exist (their contents are never reached). */
	char *key = g_build_filename(dir, "k.key", NULL);
	g_assert_true(g_file_set_contents(key, "not read", -1, NULL));
	g_assert_cmpint(g_chmod(key, 0600), ==, 0);
	char *text = g_strdup_printf("[host]\nurl = https://127.0.0.1:1\nca = %s\ncert = %s\nkey = %s\ntimeout_ms = 2000\n",
				     ini, ini, key);
	g_free(key);
	g_assert_true(g_file_set_contents(ini, text, -1, NULL));
	g_free(text);
	g_assert_cmpint(run_kiosk(&out, &errout, "sync", "push", "--db", path, "--config", ini), ==, 1);
	g_assert_nonnull(strstr(errout, "kiosk sync push: POST https://127.0.0.1:1/v1/records: "));
	g_free(out);
	g_free(errout);
	g_assert_cmpint(query_int(path, "SELECT acked_rec FROM sync_state"), ==, 4);
	g_assert_cmpint(query_int(path, "SELECT attempts FROM sync_state"), ==, 2);
	g_free(ini);
	g_free(foreign);
	g_free(dir);
	lfix_remove_db(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* The drain logs each failure at warn and each fault at error, by design. */
	log_set_level(g_test_verbose() ? LOG_DEBUG : LOG_ERROR);
	g_test_add_func("/sync/ledger/batch-and-ack", test_batch_and_ack);
	g_test_add_func("/sync/ledger/open-refusals", test_open_refusals);
	g_test_add_func("/sync/drain/ack-all", test_ack_all);
	g_test_add_func("/sync/drain/partial-ack", test_partial_ack);
	g_test_add_func("/sync/drain/duplicate-ack", test_duplicate_ack);
	g_test_add_func("/sync/drain/sequence-gap-resume", test_sequence_gap_resume);
	g_test_add_func("/sync/drain/conflict-fault", test_conflict_fault);
	g_test_add_func("/sync/drain/chain-broken-fault", test_chain_broken_fault);
	g_test_add_func("/sync/drain/backoff-500", test_backoff_500);
	g_test_add_func("/sync/drain/timeout", test_timeout_marks_nothing);
	g_test_add_func("/sync/drain/bad-answers", test_bad_answers_mark_nothing);
	g_test_add_func("/sync/drain/kill-points", test_kill_points);
	g_test_add_func("/sync/offline-limits", test_offline_limits);
	g_test_add_func("/sync/offline-limits-fees", test_offline_limits_fees);
	g_test_add_func("/sync/worker", test_worker);
	g_test_add_func("/sync/worker-kick-keeps-backoff", test_worker_kick_keeps_backoff);
	g_test_add_func("/sync/worker-fee-ask", test_worker_fee_ask);
	g_test_add_func("/sync/worker-money-asks", test_worker_money_asks);
	g_test_add_func("/sync/cli", test_cli);
	return g_test_run();
}
