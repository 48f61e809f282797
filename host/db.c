/* The host's PostgreSQL: connections, the connection pool, the numbered migrations (db.h). */
#define LOG_MODULE "host-db"
#include "db.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/*
 * Migrations are append-only: a released one is never edited, a change is a new one. Each runs
 * in its own transaction with its row in schema_migration, under one advisory lock (two hosts
 * starting on a fresh database migrate once). docs/host.md describes the tables.
 */
static const char *const migrations[] = {
	/* 1: kiosks and their certificates, the uploaded ledger, card accounts, alarms. */
	"CREATE TABLE kiosk ("
	"  kiosk_id text PRIMARY KEY CHECK (kiosk_id ~ '^[A-Za-z0-9._-]{1,64}$'),"
	"  chain_key bytea NOT NULL CHECK (length(chain_key) = 32),"
	"  enrolled_at timestamptz NOT NULL DEFAULT now());"
	/* The certificate's SHA-256 fingerprint (of its DER) names the kiosk; revocation is one
	 * timestamp, checked on every request. */
	"CREATE TABLE kiosk_cert ("
	"  fingerprint text PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),"
	"  kiosk_id text NOT NULL REFERENCES kiosk,"
	"  created_at timestamptz NOT NULL DEFAULT now(),"
	"  revoked_at timestamptz);"
	"CREATE INDEX kiosk_cert_by_kiosk ON kiosk_cert (kiosk_id);"
	/* One row per kiosk, locked FOR UPDATE by each batch: two host processes on one kiosk
	 * serialise here. acked_rec: every record 1..acked_rec is held; last_mac: the MAC of
	 * record acked_rec, the chain's link to the next batch. */
	"CREATE TABLE kiosk_sync ("
	"  kiosk_id text PRIMARY KEY REFERENCES kiosk,"
	"  acked_rec bigint NOT NULL DEFAULT 0 CHECK (acked_rec >= 0),"
	"  last_mac bytea NOT NULL DEFAULT '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea"
	"    CHECK (length(last_mac) = 32),"
	"  updated_at timestamptz);"
	/* The kiosk's chained records as received. body: the canonical JSON (wire.c); tx_uuid,
	 * seq and tx_rec are copied out of it for the unique keys and the checks. */
	"CREATE TABLE record ("
	"  kiosk_id text NOT NULL REFERENCES kiosk,"
	"  rec bigint NOT NULL CHECK (rec >= 1),"
	"  type text NOT NULL CHECK (type IN ('tx', 'tx_item', 'payment', 'suspense', 'tx_end')),"
	"  tx_uuid uuid,"
	"  seq bigint,"
	"  tx_rec bigint,"
	"  body jsonb NOT NULL,"
	"  mac bytea NOT NULL CHECK (length(mac) = 32),"
	"  received_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (kiosk_id, rec),"
	"  CHECK ((type = 'tx') = (tx_uuid IS NOT NULL AND seq IS NOT NULL)));"
	"CREATE UNIQUE INDEX record_tx_uuid ON record (kiosk_id, tx_uuid) WHERE type = 'tx';"
	"CREATE UNIQUE INDEX record_tx_seq ON record (kiosk_id, seq) WHERE type = 'tx';"
	"CREATE UNIQUE INDEX record_tx_end ON record (kiosk_id, tx_rec) WHERE type = 'tx_end';"
	"CREATE INDEX record_by_tx ON record (kiosk_id, tx_rec) WHERE tx_rec IS NOT NULL;"
	/* A card account. balance_fils = opening_fils + the sum of its card_credit rows, always
	 * (the tests check it after every fault); opening_fils is what the demo data or an
	 * operator's import set. */
	"CREATE TABLE card ("
	"  card text PRIMARY KEY CHECK (card ~ '^[0-9]{16}$'),"
	"  status text NOT NULL CHECK (status IN ('active', 'blocked', 'unregistered')),"
	"  opening_fils bigint NOT NULL DEFAULT 0 CHECK (opening_fils >= 0),"
	"  balance_fils bigint NOT NULL DEFAULT 0 CHECK (balance_fils >= 0),"
	"  updated_at timestamptz NOT NULL DEFAULT now());"
	/* One credit per completed top-up: unique per (kiosk, tx), so a record applied twice
	 * could not credit twice even if the record table's keys were bypassed. */
	"CREATE TABLE card_credit ("
	"  kiosk_id text NOT NULL,"
	"  tx_rec bigint NOT NULL,"
	"  card text NOT NULL REFERENCES card,"
	"  amount_fils bigint NOT NULL CHECK (amount_fils > 0),"
	"  end_rec bigint NOT NULL,"
	"  credited_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (kiosk_id, tx_rec),"
	"  FOREIGN KEY (kiosk_id, tx_rec) REFERENCES record (kiosk_id, rec),"
	"  FOREIGN KEY (kiosk_id, end_rec) REFERENCES record (kiosk_id, rec));"
	"CREATE INDEX card_credit_by_card ON card_credit (card);"
	"CREATE TABLE alarm ("
	"  id bigserial PRIMARY KEY,"
	"  kiosk_id text,"
	"  rec bigint,"
	"  code text NOT NULL,"
	"  message text NOT NULL,"
	"  raised_at timestamptz NOT NULL DEFAULT now());",

	/* 2: fees, vouchers, the catalogue, heartbeats. */
	"CREATE TABLE fee_entity ("
	"  entity text PRIMARY KEY CHECK (entity ~ '^[a-z0-9_]{1,32}$'),"
	"  name text NOT NULL);"
	"CREATE TABLE fee_service ("
	"  entity text NOT NULL REFERENCES fee_entity,"
	"  service text NOT NULL CHECK (service ~ '^[a-z0-9_]{1,32}$'),"
	"  description text NOT NULL,"
	"  PRIMARY KEY (entity, service));"
	/* payee: the full name; the API masks it (accounts.c). kind: what the kiosk asks for. */
	"CREATE TABLE fee_account ("
	"  entity text NOT NULL,"
	"  service text NOT NULL,"
	"  reference text NOT NULL CHECK (reference ~ '^[A-Za-z0-9-]{1,32}$'),"
	"  payee text NOT NULL,"
	"  description text NOT NULL,"
	"  kind text NOT NULL CHECK (kind IN ('fixed', 'items', 'open')),"
	"  due_fils bigint CHECK (due_fils >= 0),"
	"  min_fils bigint CHECK (min_fils > 0),"
	"  max_fils bigint,"
	"  step_fils bigint CHECK (step_fils > 0),"
	"  PRIMARY KEY (entity, service, reference),"
	"  FOREIGN KEY (entity, service) REFERENCES fee_service,"
	"  CHECK (kind != 'fixed' OR due_fils IS NOT NULL),"
	"  CHECK (kind != 'open' OR (min_fils IS NOT NULL AND max_fils >= min_fils AND step_fils IS NOT NULL)));"
	"CREATE TABLE fee_item ("
	"  entity text NOT NULL,"
	"  service text NOT NULL,"
	"  reference text NOT NULL,"
	"  id text NOT NULL,"
	"  description text NOT NULL,"
	"  amount_fils bigint NOT NULL CHECK (amount_fils > 0),"
	"  PRIMARY KEY (entity, service, reference, id),"
	"  FOREIGN KEY (entity, service, reference) REFERENCES fee_account);"
	"CREATE TABLE voucher ("
	"  code text PRIMARY KEY CHECK (code ~ '^[A-Z0-9-]{4,32}$'),"
	"  value_fils bigint NOT NULL CHECK (value_fils > 0),"
	"  remaining_fils bigint NOT NULL CHECK (remaining_fils >= 0 AND remaining_fils <= value_fils),"
	"  expires date NOT NULL);"
	/* The first answer to a redemption id, replayed for the same body (idempotency). */
	"CREATE TABLE voucher_redemption ("
	"  redemption_id uuid PRIMARY KEY,"
	"  code text NOT NULL REFERENCES voucher,"
	"  kiosk_id text NOT NULL REFERENCES kiosk,"
	"  tx_uuid uuid NOT NULL,"
	"  amount_fils bigint NOT NULL CHECK (amount_fils > 0),"
	"  remaining_fils bigint NOT NULL CHECK (remaining_fils >= 0),"
	"  redeemed_at timestamptz NOT NULL DEFAULT now());"
	/* One current document; etag changes with it (a hash of its text). */
	"CREATE TABLE catalogue ("
	"  id int PRIMARY KEY CHECK (id = 1),"
	"  version bigint NOT NULL,"
	"  document jsonb NOT NULL,"
	"  etag text NOT NULL);"
	"CREATE TABLE heartbeat ("
	"  kiosk_id text PRIMARY KEY REFERENCES kiosk,"
	"  received_at timestamptz NOT NULL DEFAULT now(),"
	"  version text NOT NULL,"
	"  queue_depth bigint NOT NULL,"
	"  oldest_unsynced_s bigint,"
	"  devices jsonb NOT NULL,"
	"  sent_s bigint NOT NULL,"
	"  beats bigint NOT NULL DEFAULT 1);",

	/* 3 (issue 13, fees): payments of baskets (payments.c), bills and items paid, the fees
	 * records, vouchers issued by kiosks. */
	"CREATE SEQUENCE fee_payment_ref;"
	/* One per transaction paid, online (POST /v1/payments) or settled from its records:
	 * request is the canonical body the idempotency check compares, answer the first answer's
	 * bytes (replayed as they were sent). */
	"CREATE TABLE fee_payment ("
	"  tx_uuid uuid PRIMARY KEY,"
	"  kiosk_id text NOT NULL REFERENCES kiosk,"
	"  source text NOT NULL CHECK (source IN ('online', 'records')),"
	"  request jsonb NOT NULL,"
	"  answer text NOT NULL,"
	"  paid_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE fee_payment_line ("
	"  tx_uuid uuid NOT NULL REFERENCES fee_payment,"
	"  n int NOT NULL CHECK (n BETWEEN 1 AND 10),"
	"  entity text NOT NULL,"
	"  service text NOT NULL,"
	"  reference text,"
	"  bill text,"
	"  amount_fils bigint NOT NULL CHECK (amount_fils > 0),"
	"  status text NOT NULL CHECK (status IN ('paid', 'refused')),"
	"  host_ref text UNIQUE,"
	"  reason text,"
	"  PRIMARY KEY (tx_uuid, n),"
	"  CHECK ((status = 'paid') = (host_ref IS NOT NULL)),"
	"  CHECK ((status = 'refused') = (reason IS NOT NULL)));"
	/* A bill or item once paid names its payment line's host_ref; the inquiry no longer
	 * lists it (a fixed bill answers due_fils 0). */
	"ALTER TABLE fee_account ADD COLUMN paid_ref text;"
	"ALTER TABLE fee_item ADD COLUMN paid_ref text;"
	/* The entity and service ids of the API, [a-z0-9_-] (the kiosk's catalogue uses dashes). */
	"ALTER TABLE fee_entity DROP CONSTRAINT fee_entity_entity_check,"
	"  ADD CHECK (entity ~ '^[a-z0-9_-]{1,32}$');"
	"ALTER TABLE fee_service DROP CONSTRAINT fee_service_service_check,"
	"  ADD CHECK (service ~ '^[a-z0-9_-]{1,32}$');"
	/* A service's tariff: 'account' (what is due is per reference, fee_account), or the
	 * catalogue's own price the host checks a payment against ('fixed' amount_fils, 'open'
	 * min..max on a step), the reference only recorded. */
	"ALTER TABLE fee_service ADD COLUMN tariff text NOT NULL DEFAULT 'account'"
	"    CHECK (tariff IN ('account', 'fixed', 'open')),"
	"  ADD COLUMN amount_fils bigint CHECK (amount_fils > 0),"
	"  ADD COLUMN min_fils bigint CHECK (min_fils > 0),"
	"  ADD COLUMN max_fils bigint,"
	"  ADD COLUMN step_fils bigint CHECK (step_fils > 0),"
	"  ADD CHECK (tariff != 'fixed' OR amount_fils IS NOT NULL),"
	"  ADD CHECK (tariff != 'open' OR (min_fils IS NOT NULL AND max_fils >= min_fils AND step_fils IS NOT NULL));"
	/* The fees transaction's records (the ledger's migration 11). */
	"ALTER TABLE record DROP CONSTRAINT record_type_check,"
	"  ADD CHECK (type IN ('tx', 'tx_item', 'payment', 'suspense', 'tx_end', 'fee_item', 'fee_result',"
	"    'voucher_payment', 'voucher_issue'));"
	/* A voucher a kiosk issued (a voucher_issue record): redeemable anywhere from then. */
	"ALTER TABLE voucher ADD COLUMN issued_by text REFERENCES kiosk,"
	"  ADD COLUMN issued_rec bigint,"
	"  ADD COLUMN why text;"
	/* What a fees transaction's end left for people: a kiosk's paid line the host did not
	 * pay, a line refused after the money was taken (owed to the customer). alarm has them;
	 * this keeps the amounts for the settlement. */
	"CREATE TABLE fee_owed ("
	"  kiosk_id text NOT NULL,"
	"  tx_rec bigint NOT NULL,"
	"  n int NOT NULL,"
	"  amount_fils bigint NOT NULL CHECK (amount_fils > 0),"
	"  reason text NOT NULL,"
	"  end_rec bigint NOT NULL,"
	"  PRIMARY KEY (kiosk_id, tx_rec, n));",
	/* 4: redemption intents and their voids (the ledger's migration 12, basket.c invariant 15):
	 * a voucher_void record names a redemption the kiosk never booked. Applying it gives the
	 * voucher back what that redemption took, once (the row is the once), and from then on a
	 * redeem under that id is refused: a late retry cannot spend the value again. */
	"ALTER TABLE record DROP CONSTRAINT record_type_check,"
	"  ADD CHECK (type IN ('tx', 'tx_item', 'payment', 'suspense', 'tx_end', 'fee_item', 'fee_result',"
	"    'voucher_payment', 'voucher_issue', 'voucher_intent', 'voucher_void'));"
	"CREATE TABLE voucher_void ("
	"  redemption_id uuid PRIMARY KEY,"
	"  code text NOT NULL,"
	"  kiosk_id text NOT NULL REFERENCES kiosk,"
	"  tx_uuid uuid NOT NULL,"
	"  void_rec bigint NOT NULL,"
	"  restored_fils bigint NOT NULL DEFAULT 0 CHECK (restored_fils >= 0),"
	"  voided_at timestamptz NOT NULL DEFAULT now());",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int hdb_schema_latest(void) { return N_MIGRATIONS; }

static void quiet(void *arg, const char *message) {}

int hdb_connect(const char *conninfo, PGconn **out, struct kio_error *err)
{
	PGconn *c = PQconnectdb(conninfo);
	*out = NULL;
	if (!c || PQstatus(c) != CONNECTION_OK) {
		int rc = kio_fail(err, KIO_ERR_IO, "database: cannot connect: %s",
				  c ? PQerrorMessage(c) : "out of memory");
		/* libpq's messages end in a newline. */
		size_t n = strlen(err ? err->msg : "");
		if (err && n && err->msg[n - 1] == '\n')
			err->msg[n - 1] = '\0';
		PQfinish(c);
		return rc;
	}
	/* Notices (CREATE ... IF NOT EXISTS) are not the operator's business. */
	PQsetNoticeProcessor(c, quiet, NULL);
	*out = c;
	return 0;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

int hdb_query(PGconn *c, const char *sql, int n, const char *const *params, PGresult **out, char sqlstate[6],
	      const char *what, struct kio_error *err)
{
	if (out)
		*out = NULL;
	if (sqlstate)
		sqlstate[0] = '\0';
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = r;
		else
			PQclear(r);
		return 0;
	}
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (sqlstate && state)
		snprintf(sqlstate, 6, "%s", state);
	int rc = kio_fail(err, KIO_ERR_IO, "database: %s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	if (err)
		chomp(err->msg);
	PQclear(r);
	return rc;
}

int hdb_exec(PGconn *c, const char *sql, const char *what, struct kio_error *err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "database: %s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
		if (err)
			chomp(err->msg);
	}
	PQclear(r);
	return rc;
}

int hdb_begin(PGconn *c, struct kio_error *err) { return hdb_exec(c, "BEGIN", "begin", err); }
int hdb_commit(PGconn *c, struct kio_error *err) { return hdb_exec(c, "COMMIT", "commit", err); }

void hdb_rollback(PGconn *c)
{
	PGresult *r = PQexec(c, "ROLLBACK");
	PQclear(r);
}

int64_t hdb_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int hdb_schema_version(PGconn *c, int *version, struct kio_error *err)
{
	PGresult *r;
	int rc = hdb_query(c, "SELECT coalesce(max(version), 0) FROM schema_migration", 0, NULL, &r, NULL,
			   "read the schema version", err);
	if (rc)
		return rc;
	*version = (int)hdb_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int hdb_migrate(PGconn *c, int *applied, struct kio_error *err)
{
	int done = 0, rc;
	/* Under the lock too: two CREATE TABLE IF NOT EXISTS racing on a fresh database fail one
	 * of them on pg_type's unique index (the concurrent-migrate test). The key of the
	 * advisory lock is any constant the host alone uses. */
	rc = hdb_begin(c, err);
	if (!rc)
		rc = hdb_exec(c, "SELECT pg_advisory_xact_lock(7841201200)", "lock the migrations", err);
	if (!rc)
		rc = hdb_exec(c,
			      "CREATE TABLE IF NOT EXISTS schema_migration (version int PRIMARY KEY,"
			      " applied_at timestamptz NOT NULL DEFAULT now())",
			      "create schema_migration", err);
	if (!rc)
		rc = hdb_commit(c, err);
	else
		hdb_rollback(c);
	for (int v = 1; !rc && v <= N_MIGRATIONS; v++) {
		if ((rc = hdb_begin(c, err)))
			break;
		PGresult *r = NULL;
		char vs[16];
		snprintf(vs, sizeof(vs), "%d", v);
		const char *p[] = {vs};
		rc = hdb_exec(c, "SELECT pg_advisory_xact_lock(7841201200)", "lock the migrations", err);
		if (!rc)
			rc = hdb_query(c, "SELECT 1 FROM schema_migration WHERE version = $1::int", 1, p, &r, NULL,
				       "read schema_migration", err);
		if (!rc && PQntuples(r) == 0) {
			char what[32];
			snprintf(what, sizeof(what), "migration %d", v);
			rc = hdb_exec(c, migrations[v - 1], what, err);
			if (!rc)
				rc = hdb_query(c, "INSERT INTO schema_migration (version) VALUES ($1::int)", 1, p, NULL, NULL,
					       "record the migration", err);
			if (!rc)
				done++;
		}
		PQclear(r);
		if (!rc)
			rc = hdb_commit(c, err);
		else
			hdb_rollback(c);
	}
	if (applied)
		*applied = done;
	if (done)
		LOG_INFO("applied %d migration(s); the schema is at %d", done, N_MIGRATIONS);
	return rc;
}

/* ---- the pool ---- */

struct hdb_pool {
	pthread_mutex_t lock;
	char *conninfo;
	unsigned max, n;
	PGconn **idle;
};

struct hdb_pool *hdb_pool_new(const char *conninfo, unsigned max)
{
	struct hdb_pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->conninfo = xstrdup(conninfo);
	p->max = max ? max : 1;
	p->idle = xcalloc(p->max, sizeof(*p->idle));
	return p;
}

void hdb_pool_free(struct hdb_pool *p)
{
	if (!p)
		return;
	for (unsigned k = 0; k < p->n; k++)
		PQfinish(p->idle[k]);
	pthread_mutex_destroy(&p->lock);
	free(p->idle);
	free(p->conninfo);
	free(p);
}

int hdb_pool_get(struct hdb_pool *p, PGconn **out, struct kio_error *err)
{
	PGconn *c = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->n)
		c = p->idle[--p->n];
	pthread_mutex_unlock(&p->lock);
	/* A server restart kills idle connections: reset once before giving it out. */
	if (c && PQstatus(c) != CONNECTION_OK) {
		PQreset(c);
		if (PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			c = NULL;
		}
	}
	if (c) {
		*out = c;
		return 0;
	}
	return hdb_connect(p->conninfo, out, err);
}

void hdb_pool_put(struct hdb_pool *p, PGconn *c)
{
	if (!c)
		return;
	/* Only a clean connection outside any transaction is reused; the next request must not
	 * inherit a half-done transaction or a broken socket. */
	if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
		PQfinish(c);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (p->n < p->max) {
		p->idle[p->n++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	PQfinish(c);
}
