/*
 * Fixtures of the host tests: a throwaway PostgreSQL cluster (scripts/pg-throwaway.sh) migrated
 * to the host's schema, snapshots of the host's tables to prove a refusal changed nothing, and
 * a real kiosk ledger that books top-ups and exports its chained records, so every record a
 * test sends carries a MAC the kiosk's own code computed.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "kiosk/core/clock.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store.h"

/* Starts a cluster in a fresh temporary folder and migrates it (a keeper process stops it and
 * removes the folder when this process ends, even by an abort); returns 77 when the machine has
 * no PostgreSQL server (the caller exits 77: skip), 0 when up; anything else aborts the test. */
int hostfix_cluster_start(char **dir, char **conninfo);
void hostfix_cluster_stop(char *dir); /* stops, removes the folder, frees dir */

/* A connection (aborts the test on failure). */
PGconn *hostfix_connect(const char *conninfo);
/* One integer from sql (aborts when the query fails or returns no row). */
int64_t hostfix_int(PGconn *c, const char *sql);
/* Runs sql, aborting the test when it fails. */
void hostfix_exec(PGconn *c, const char *sql);
/* Every row of the tables a request may change (records, cards, credits, sync rows, vouchers,
 * redemptions, certificates, fee payments and the bills they mark, fees owed) as text: equal snapshots, nothing changed. Caller g_frees. */
char *hostfix_snapshot(PGconn *c);
/* H5 of host/records.c for every card: balance = opening + credits. */
void hostfix_assert_balances(PGconn *c);

/* A kiosk: its ledger in dir/ledger (secret dir/ledger.secret, made by ledger_open or by
 * `kiosk-host enrol`), a virtual clock and its note journal. */
struct kfix {
	char *path;
	struct ledger *ledger;
	struct core_clock *clock;
	struct ledger_notes *notes;
	int64_t next_note;
};

void kfix_open(struct kfix *k, const char *dir);
void kfix_close(struct kfix *k);
/* Books one completed top-up of card paid with the notes (fils values, 0-terminated) and
 * returns its tx record number. */
int64_t kfix_topup(struct kfix *k, const char *card, const int64_t *notes);
/* The ledger's export after record `since`, one line per record (g_ptr_array_unref). */
GPtrArray *kfix_export(struct kfix *k, int64_t since);
/* {"records": [lines from..to]} (0-based, to exclusive). Caller g_frees. */
char *kfix_batch(GPtrArray *lines, guint from, guint to);
