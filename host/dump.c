/* What the host holds, as JSON lines (dump.h). */
#include "dump.h"

#include <errno.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "db.h"
#include "wire.h"

/* A stored body back in the kiosk's export order (jsonb keeps its own key order). */
static int print_record(const char *body, FILE *out, struct kio_error *err)
{
	int rc = 0;
	struct wire_batch batch;
	struct wire_error werr;
	char *doc = g_strdup_printf("{\"records\":[%s]}", body);
	if (wire_records_parse(doc, strlen(doc), &batch, &werr) != 0 || batch.n != 1) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "dump: a stored record does not read back: %s", werr.msg);
	} else {
		char *line = wire_record_json(&batch.recs[0]);
		if (fprintf(out, "%s\n", line) < 0)
			rc = kio_fail(err, KIO_ERR_IO, "dump: cannot write: %s", strerror(errno));
		g_free(line);
		wire_batch_clear(&batch);
	}
	g_free(doc);
	return rc;
}

int dump_print(PGconn *c, const char *kiosk_id, FILE *out, struct kio_error *err)
{
	PGresult *ks = NULL, *recs = NULL, *cards = NULL, *alarms = NULL;
	int rc = hdb_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin the dump", err);
	if (rc)
		return rc;
	const char *p[] = {kiosk_id};
	rc = hdb_query(c,
		       "SELECT k.kiosk_id, coalesce(s.acked_rec, 0) FROM kiosk k LEFT JOIN kiosk_sync s USING (kiosk_id)"
		       " WHERE $1::text IS NULL OR k.kiosk_id = $1 ORDER BY k.kiosk_id",
		       1, p, &ks, NULL, "list kiosks", err);
	for (int k = 0; !rc && k < PQntuples(ks); k++) {
		const char *kid = PQgetvalue(ks, k, 0);
		if (fprintf(out, "{\"kiosk\":\"%s\",\"acked\":%s}\n", kid, PQgetvalue(ks, k, 1)) < 0) {
			rc = kio_fail(err, KIO_ERR_IO, "dump: cannot write: %s", strerror(errno));
			break;
		}
		const char *pk[] = {kid};
		rc = hdb_query(c, "SELECT body::text FROM record WHERE kiosk_id = $1 ORDER BY rec", 1, pk, &recs, NULL,
			       "read records", err);
		for (int r = 0; !rc && r < PQntuples(recs); r++)
			rc = print_record(PQgetvalue(recs, r, 0), out, err);
		PQclear(recs);
		recs = NULL;
	}
	if (!rc)
		rc = hdb_query(c,
			       "SELECT c.card, c.status, c.balance_fils, c.opening_fils,"
			       " coalesce((SELECT sum(amount_fils) FROM card_credit cc WHERE cc.card = c.card), 0)"
			       " FROM card c ORDER BY c.card",
			       0, NULL, &cards, NULL, "read cards", err);
	for (int r = 0; !rc && r < PQntuples(cards); r++)
		if (fprintf(out,
			    "{\"card\":\"%s\",\"status\":\"%s\",\"balance_fils\":%s,\"opening_fils\":%s,\"credited_fils\":%s}\n",
			    PQgetvalue(cards, r, 0), PQgetvalue(cards, r, 1), PQgetvalue(cards, r, 2),
			    PQgetvalue(cards, r, 3), PQgetvalue(cards, r, 4)) < 0)
			rc = kio_fail(err, KIO_ERR_IO, "dump: cannot write: %s", strerror(errno));
	if (!rc)
		rc = hdb_query(c, "SELECT count(*) FROM alarm", 0, NULL, &alarms, NULL, "count alarms", err);
	if (!rc && fprintf(out, "{\"alarms\":%s}\n", PQgetvalue(alarms, 0, 0)) < 0)
		rc = kio_fail(err, KIO_ERR_IO, "dump: cannot write: %s", strerror(errno));
	if (!rc && fflush(out) != 0)
		rc = kio_fail(err, KIO_ERR_IO, "dump: cannot write: %s", strerror(errno));
	PQclear(ks);
	PQclear(cards);
	PQclear(alarms);
	hdb_rollback(c);
	return rc;
}
