/*
 * POST /v1/records: a kiosk's batch of chained ledger records, verified against the kiosk's
 * hash chain and applied exactly once, in one PostgreSQL transaction with the card balances
 * they move (docs/host-api.yaml; records.c has the invariants).
 */
#pragma once

#include <libpq-fe.h>
#include <stddef.h>

#include "reply.h"

/* Answers one upload of kiosk_id (borrowed; authenticated by the caller) with body (buf, len)
 * on connection c, which must be outside a transaction and is left outside one. The reply is
 * always filled: 200 {"acked", "applied", "duplicates"}, or an error (400 bad_json/bad_request,
 * 409 record_conflict/sequence_gap, 422 bad_record/chain_broken, 500 internal_error). */
void records_upload(PGconn *c, const char *kiosk_id, const char *buf, size_t len, struct host_reply *reply);

/* Raises an alarm: a row in `alarm` in its own transaction (a refused batch's rollback must not
 * take it along) and an error line in the log. rec 0: none. */
void records_alarm(PGconn *c, const char *kiosk_id, int64_t rec, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
