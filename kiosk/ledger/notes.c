/* The note journal over SQLite: one row per banknote plus its steps (cash-journal.h). A write
 * the store cannot take puts the whole store in FAILING (store.c invariant 4): the driver then
 * waits and retries, and the kiosk is out of service until the store writes again.
 *
 * Each step is one ledger write (store-priv.h: BEGIN IMMEDIATE, or a savepoint inside a
 * write already open). The step to CREDITED books the note in the same write (tx.c
 * invariant 2), so the journal and the ledger never disagree about a credited note.
 * Kill points (ledger_checkpoint):
 *   note-credited-written  CREDITED and its booking written, not committed: after a crash
 *                          the note is as before the step (ACCEPTED or no journey) and the
 *                          driver's SETTLE credits and books it then.
 *   note-credited          committed: credited and booked, once. */
#define LOG_MODULE "ledger-notes"
#include "notes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "store-priv.h"

struct ledger_notes {
	struct cash_journal journal; /* first: the journal face */
	struct ledger *ledger;
	const struct core_clock *clock;
};

static struct ledger_notes *notes_of(struct cash_journal *j) { return (struct ledger_notes *)j; }

/* Every SQLite failure of the journal is a store fault: a journey the kiosk cannot record or
 * read back is money it cannot account for. */
static int db_fail(struct ledger_notes *n, struct kio_error *err, const char *what)
{
	struct kio_error local;
	struct kio_error *e = err ? err : &local;
	int rc = kio_fail(e, KIO_ERR_IO, "note journal: %s: %s", what, sqlite3_errmsg(ledger_db(n->ledger)));
	ledger_write_failed(n->ledger, e);
	return rc;
}

/* The booking of a note reaching CREDITED, in the step's own write (tx.c invariant 2). */
static int book(struct ledger_notes *n, int64_t id, int64_t value_fils, int64_t now, struct kio_error *err)
{
	int rc = ledger_book_credit(n->ledger, id, value_fils, now, err);
	if (!rc)
		ledger_checkpoint(n->ledger, "note-credited-written");
	return rc;
}

static int parse_state(const unsigned char *text, enum cash_note_state *out)
{
	for (int s = 0; s < CASH_NOTE_STATE_COUNT; s++) {
		if (text && strcmp((const char *)text, cash_note_state_name((enum cash_note_state)s)) == 0) {
			*out = (enum cash_note_state)s;
			return 0;
		}
	}
	return KIO_ERR_CORRUPT;
}

static int add_step(struct ledger_notes *n, int64_t id, enum cash_note_state state, const char *why, int64_t now,
		    struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger, "INSERT INTO note_step(note_id, at_s, state, why) VALUES (?, ?, ?, ?)", &st) != SQLITE_OK)
		return db_fail(n, err, "record step");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, cash_note_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, why ? why : "", -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(n, err, "record step");
	ledger_stmt_done(n->ledger, st);
	return rc;
}

static int notes_begin(struct cash_journal *j, struct cash_note *note, struct kio_error *err)
{
	struct ledger_notes *n = notes_of(j);
	if (note->state != CASH_NOTE_ESCROW && note->state != CASH_NOTE_CREDITED)
		return kio_fail(err, KIO_ERR_INVALID, "note journal: a journey cannot begin %s",
				cash_note_state_name(note->state));
	if (note->value_fils < 0)
		return kio_fail(err, KIO_ERR_INVALID, "note journal: negative value %" PRId64, note->value_fils);
	int64_t now = core_clock_wall_s(n->clock);
	int rc = ledger_refuse_while_failing(n->ledger, "note journal: begin journey", err);
	if (rc)
		return rc;
	rc = ledger_write_begin(n->ledger, "note journal: begin journey", err);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger,
			       "INSERT INTO note_journey(device, channel, value_fils, state, counters_known,"
			       " stacked_before, rejected_before, begun_s, credited_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st) != SQLITE_OK) {
		rc = db_fail(n, err, "begin journey");
		goto out_rollback;
	}
	sqlite3_bind_text(st, 1, note->device, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, note->channel);
	sqlite3_bind_int64(st, 3, note->value_fils);
	sqlite3_bind_text(st, 4, cash_note_state_name(note->state), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, note->counters_known);
	sqlite3_bind_int64(st, 6, note->stacked_before);
	sqlite3_bind_int64(st, 7, note->rejected_before);
	sqlite3_bind_int64(st, 8, now);
	if (note->state == CASH_NOTE_CREDITED)
		sqlite3_bind_int64(st, 9, now);
	else
		sqlite3_bind_null(st, 9);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(n, err, "begin journey");
	ledger_stmt_done(n->ledger, st);
	if (rc)
		goto out_rollback;
	int64_t id = sqlite3_last_insert_rowid(ledger_db(n->ledger));
	rc = add_step(n, id, note->state, "begin", now, err);
	if (rc)
		goto out_rollback;
	if (note->state == CASH_NOTE_CREDITED) {
		rc = book(n, id, note->value_fils, now, err);
		if (rc)
			goto out_rollback;
	}
	rc = ledger_write_commit(n->ledger, "note journal: commit step", err);
	if (rc)
		return rc;
	if (note->state == CASH_NOTE_CREDITED)
		ledger_checkpoint(n->ledger, "note-credited");
	note->id = id;
	LOG_DBG("note %" PRId64 " %s: %s ch %u %" PRId64 " fils", id, note->device, cash_note_state_name(note->state),
		note->channel, note->value_fils);
	return 0;

out_rollback:
	ledger_write_rollback(n->ledger);
	return rc;
}

static int read_state(struct ledger_notes *n, int64_t id, enum cash_note_state *state, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger, "SELECT state FROM note_journey WHERE id = ?", &st) !=
	    SQLITE_OK)
		return db_fail(n, err, "read journey");
	sqlite3_bind_int64(st, 1, id);
	int rc;
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = parse_state(sqlite3_column_text(st, 0), state) == 0
			     ? 0
			     : kio_fail(err, KIO_ERR_CORRUPT, "note journal: journey %" PRId64 " has a bad state", id);
	else if (step == SQLITE_DONE)
		rc = kio_fail(err, KIO_ERR_NOT_FOUND, "note journal: no journey %" PRId64, id);
	else
		rc = db_fail(n, err, "read journey");
	ledger_stmt_done(n->ledger, st);
	return rc;
}

static int notes_advance(struct cash_journal *j, int64_t id, enum cash_note_state to, const char *why,
			 struct kio_error *err)
{
	struct ledger_notes *n = notes_of(j);
	int64_t now = core_clock_wall_s(n->clock);
	int rc = ledger_refuse_while_failing(n->ledger, "note journal: advance journey", err);
	if (rc)
		return rc;
	/* IMMEDIATE: the state read and the update are one step even if another process
	 * shares the database (invariant 1 holds against a second writer too). */
	rc = ledger_write_begin(n->ledger, "note journal: advance journey", err);
	if (rc)
		return rc;
	enum cash_note_state from = CASH_NOTE_STATE_COUNT;
	rc = read_state(n, id, &from, err);
	if (rc)
		goto out_rollback;
	if (!cash_note_move_allowed(from, to)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "note journal: journey %" PRId64 " cannot go %s -> %s", id,
			      cash_note_state_name(from), cash_note_state_name(to));
		goto out_rollback;
	}
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger,
			       "UPDATE note_journey SET state = ?,"
			       " credited_s = CASE WHEN ? THEN ? ELSE credited_s END,"
			       " closed_s = CASE WHEN ? THEN ? ELSE closed_s END WHERE id = ?", &st) != SQLITE_OK) {
		rc = db_fail(n, err, "advance journey");
		goto out_rollback;
	}
	sqlite3_bind_text(st, 1, cash_note_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, to == CASH_NOTE_CREDITED);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, cash_note_state_final(to));
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, id);
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(ledger_db(n->ledger)) == 1
		     ? 0
		     : db_fail(n, err, "advance journey");
	ledger_stmt_done(n->ledger, st);
	if (rc)
		goto out_rollback;
	rc = add_step(n, id, to, why, now, err);
	if (rc)
		goto out_rollback;
	if (to == CASH_NOTE_CREDITED) {
		struct cash_note note;
		rc = ledger_notes_get(n, id, &note, err);
		if (!rc)
			rc = book(n, id, note.value_fils, now, err);
		if (rc)
			goto out_rollback;
	}
	rc = ledger_write_commit(n->ledger, "note journal: commit step", err);
	if (rc)
		return rc;
	if (to == CASH_NOTE_CREDITED)
		ledger_checkpoint(n->ledger, "note-credited");
	LOG_DBG("note %" PRId64 ": %s -> %s (%s)", id, cash_note_state_name(from), cash_note_state_name(to),
		why ? why : "");
	return 0;

out_rollback:
	ledger_write_rollback(n->ledger);
	return rc;
}

#define NOTE_COLUMNS "id, device, channel, value_fils, state, counters_known, stacked_before, rejected_before"

static bool int_column(sqlite3_stmt *st, int col, int64_t lo, int64_t hi, int64_t *out)
{
	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return false;
	*out = sqlite3_column_int64(st, col);
	return *out >= lo && *out <= hi;
}

/*
 * A row becomes a note only if every column is as begin() writes it. A damaged or hand-edited
 * database can hold any type anywhere (the schema's CHECK lets text through, as SQLite ranks
 * text above every number), and a journey read wrong is money credited or settled wrong:
 * a channel of 300 or 2.5 read as 0 or 2, a value in text read as 0 fils, a count above
 * 2^32 cut (found by fuzz_note_rows). Returns 0, or KIO_ERR_CORRUPT with *bad the column.
 */
static int row_to_note(sqlite3_stmt *st, struct cash_note *out, const char **bad)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	/* The type first: reading a blob as text converts it, and the type then says text. */
	int dev_type = sqlite3_column_type(st, 1);
	const unsigned char *dev = sqlite3_column_text(st, 1);
	int dev_len = sqlite3_column_bytes(st, 1);
	int64_t ch, fils, known, stacked, rejected;
	if (dev_type != SQLITE_TEXT || !dev || dev_len >= CASH_NOTE_DEVICE_MAX ||
	    strlen((const char *)dev) != (size_t)dev_len)
		*bad = "device";
	else if (!int_column(st, 2, 0, 0xFF, &ch))
		*bad = "channel";
	else if (!int_column(st, 3, 0, INT64_MAX, &fils))
		*bad = "value";
	else if (sqlite3_column_type(st, 4) != SQLITE_TEXT || parse_state(sqlite3_column_text(st, 4), &out->state) != 0)
		*bad = "state";
	else if (!int_column(st, 5, 0, 1, &known))
		*bad = "counters_known";
	else if (!int_column(st, 6, 0, UINT32_MAX, &stacked))
		*bad = "stacked_before";
	else if (!int_column(st, 7, 0, UINT32_MAX, &rejected))
		*bad = "rejected_before";
	else
		*bad = NULL;
	if (*bad)
		return KIO_ERR_CORRUPT;
	memcpy(out->device, dev, (size_t)dev_len + 1);
	out->channel = (uint8_t)ch;
	out->value_fils = fils;
	out->counters_known = known != 0;
	out->stacked_before = (uint32_t)stacked;
	out->rejected_before = (uint32_t)rejected;
	return 0;
}

static int notes_list_open(struct cash_journal *j, const char *device, struct cash_note *out, size_t cap, size_t *n_out,
			   struct kio_error *err)
{
	struct ledger_notes *n = notes_of(j);
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger,
			       "SELECT " NOTE_COLUMNS " FROM note_journey"
			       " WHERE device = ? AND state IN ('escrow', 'accepted', 'credited') ORDER BY id", &st) != SQLITE_OK)
		return db_fail(n, err, "list open journeys");
	sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
	size_t count = 0;
	int rc = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *bad = NULL;
		if (count < cap && row_to_note(st, &out[count], &bad) != 0) {
			rc = kio_fail(err, KIO_ERR_CORRUPT, "note journal: journey %" PRId64 " has a bad %s",
				      (int64_t)sqlite3_column_int64(st, 0), bad);
			break;
		}
		count++;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(n, err, "list open journeys");
	ledger_stmt_done(n->ledger, st);
	*n_out = count;
	return rc;
}

static const struct cash_journal_ops notes_ops = {
	.begin = notes_begin,
	.advance = notes_advance,
	.list_open = notes_list_open,
};

struct ledger_notes *ledger_notes_new(struct ledger *ledger, const struct core_clock *clock)
{
	struct ledger_notes *n = xcalloc(1, sizeof(*n));
	n->journal.ops = &notes_ops;
	n->ledger = ledger;
	n->clock = clock;
	return n;
}

void ledger_notes_free(struct ledger_notes *notes) { free(notes); }

struct cash_journal *ledger_notes_journal(struct ledger_notes *notes) { return &notes->journal; }

int ledger_notes_get(struct ledger_notes *n, int64_t id, struct cash_note *out, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger, "SELECT " NOTE_COLUMNS " FROM note_journey WHERE id = ?", &st) != SQLITE_OK)
		return db_fail(n, err, "read journey");
	sqlite3_bind_int64(st, 1, id);
	int rc;
	int step = sqlite3_step(st);
	const char *bad = NULL;
	if (step == SQLITE_ROW)
		rc = row_to_note(st, out, &bad) == 0
			     ? 0
			     : kio_fail(err, KIO_ERR_CORRUPT, "note journal: journey %" PRId64 " has a bad %s", id, bad);
	else if (step == SQLITE_DONE)
		rc = kio_fail(err, KIO_ERR_NOT_FOUND, "note journal: no journey %" PRId64, id);
	else
		rc = db_fail(n, err, "read journey");
	ledger_stmt_done(n->ledger, st);
	return rc;
}

int ledger_notes_count(struct ledger_notes *n, const char *device, enum cash_note_state state, int64_t *count,
		       int64_t *total_fils, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger,
			       "SELECT count(*), coalesce(sum(value_fils), 0) FROM note_journey"
			       " WHERE (?1 IS NULL OR device = ?1) AND state = ?2", &st) != SQLITE_OK)
		return db_fail(n, err, "count journeys");
	if (device)
		sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_text(st, 2, cash_note_state_name(state), -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : db_fail(n, err, "count journeys");
	if (!rc) {
		*count = sqlite3_column_int64(st, 0);
		if (total_fils)
			*total_fils = sqlite3_column_int64(st, 1);
	}
	ledger_stmt_done(n->ledger, st);
	return rc;
}

int ledger_notes_steps(struct ledger_notes *n, int64_t id, int64_t *count, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (ledger_stmt(n->ledger, "SELECT count(*) FROM note_step WHERE note_id = ?", &st) !=
	    SQLITE_OK)
		return db_fail(n, err, "count steps");
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : db_fail(n, err, "count steps");
	if (!rc)
		*count = sqlite3_column_int64(st, 0);
	ledger_stmt_done(n->ledger, st);
	return rc;
}
