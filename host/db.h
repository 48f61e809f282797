/*
 * The host's PostgreSQL: connections (a small pool shared by the request threads, the only
 * state a host process keeps between requests), the numbered schema migrations, and small
 * query helpers that turn a libpq failure into a kio_error naming the statement.
 */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "kiosk/core/err.h"

/* Opens a connection (conninfo borrowed). KIO_ERR_IO naming libpq's reason. */
int hdb_connect(const char *conninfo, PGconn **out, struct kio_error *err);

/* Runs every migration the database has not had, each in its own transaction under an
 * advisory lock, so two hosts starting together migrate once. *applied (may be NULL): how many
 * ran. KIO_ERR_IO on a database error (that migration rolled back). */
int hdb_migrate(PGconn *c, int *applied, struct kio_error *err);
/* The highest migration this host knows, and the one the database is at (0: none). */
int hdb_schema_latest(void);
int hdb_schema_version(PGconn *c, int *version, struct kio_error *err);

struct hdb_pool;
/* Up to max idle connections kept; conninfo copied. Never fails (connections open lazily). */
struct hdb_pool *hdb_pool_new(const char *conninfo, unsigned max);
void hdb_pool_free(struct hdb_pool *pool); /* accepts NULL; closes idle connections */
/* A connection for one request: idle one or a new one. Caller gives it back with
 * hdb_pool_put; one left in a failed or open transaction is closed there, not reused. */
int hdb_pool_get(struct hdb_pool *pool, PGconn **out, struct kio_error *err);
void hdb_pool_put(struct hdb_pool *pool, PGconn *c);

/* Runs sql (no parameters, any number of statements); KIO_ERR_IO naming `what` otherwise. */
int hdb_exec(PGconn *c, const char *sql, const char *what, struct kio_error *err);
/* Runs sql with text parameters (NULL entries are SQL NULL). *out (may be NULL): the result,
 * caller PQclear()s. KIO_ERR_IO for anything but a command or tuples result; *sqlstate (may be
 * NULL) gets the SQLSTATE of the error ("" otherwise), so callers tell a unique violation
 * (23505) or a serialisation failure (40001) from the rest. */
int hdb_query(PGconn *c, const char *sql, int n, const char *const *params, PGresult **out, char sqlstate[6],
	      const char *what, struct kio_error *err);
/* BEGIN / COMMIT / ROLLBACK (rollback never fails the caller: a dead connection is not reused). */
int hdb_begin(PGconn *c, struct kio_error *err);
int hdb_commit(PGconn *c, struct kio_error *err);
void hdb_rollback(PGconn *c);

/* An int64 column value (NULL reads as 0). */
int64_t hdb_int(const PGresult *r, int row, int col);
