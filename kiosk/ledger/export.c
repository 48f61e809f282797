/* The ledger export: chained records as JSON lines, written with json-glib (no hand-made
 * escaping of card numbers or reasons). */
#define LOG_MODULE "ledger-export"
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

#include "chain-priv.h"
#include "export-priv.h"
#include "kiosk/core/xmalloc.h"

int ledger_export_since_parse(const char *s, int64_t *since, struct kio_error *err)
{
	if (!s || !*s)
		return kio_fail(err, KIO_ERR_INVALID, "--since: a record number is needed");
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return kio_fail(err, KIO_ERR_INVALID, "--since: '%.32s' is not a record number (digits only)", s);
		int d = *p - '0';
		if (v > (INT64_MAX - d) / 10)
			return kio_fail(err, KIO_ERR_INVALID, "--since: '%.32s' is too large", s);
		v = v * 10 + d;
	}
	*since = v;
	return 0;
}

static void hex(const uint8_t *b, int len, char *out)
{
	for (int k = 0; k < len; k++)
		snprintf(out + 2 * k, 3, "%02x", b[k]);
}

/* One record as a JSON object (export-priv.h has the members). */
static JsonNode *record_object(sqlite3_stmt *st, int64_t rec, enum chain_table t)
{
	const struct chain_spec *spec = &chain_specs[t];
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "rec");
	json_builder_add_int_value(b, rec);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, spec->table);
	for (int c = 0; c < spec->n_cols; c++) {
		json_builder_set_member_name(b, spec->cols[c]);
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_INTEGER: json_builder_add_int_value(b, sqlite3_column_int64(st, c)); break;
		case SQLITE_TEXT: json_builder_add_string_value(b, (const char *)sqlite3_column_text(st, c)); break;
		default: json_builder_add_null_value(b); break;
		}
	}
	char mac[2 * LEDGER_MAC_BYTES + 1] = "";
	if (sqlite3_column_bytes(st, spec->n_cols) == LEDGER_MAC_BYTES)
		hex(sqlite3_column_blob(st, spec->n_cols), LEDGER_MAC_BYTES, mac);
	json_builder_set_member_name(b, "mac");
	json_builder_add_string_value(b, mac);
	json_builder_end_object(b);
	JsonNode *root = json_builder_get_root(b);
	g_object_unref(b);
	return root;
}

int export_records_each(sqlite3 *db, int64_t since, int64_t limit, export_record_fn fn, void *user,
			struct kio_error *err)
{
	sqlite3_stmt *order = NULL, *by_table[CHAIN_TABLE_COUNT] = {0};
	bool present[CHAIN_TABLE_COUNT];
	int rc = chain_tables_present(db, present, err);
	if (rc)
		return rc;
	for (int t = 0; t < CHAIN_TABLE_COUNT && !rc; t++) {
		if (!present[t])
			continue;
		const struct chain_spec *spec = &chain_specs[t];
		char cols[256] = "";
		for (int c = 0; c < spec->n_cols; c++) {
			strncat(cols, spec->cols[c], sizeof(cols) - strlen(cols) - 1);
			strncat(cols, ", ", sizeof(cols) - strlen(cols) - 1);
		}
		char *q = xasprintf("SELECT %smac FROM %s WHERE rec = ?", cols, spec->table);
		if (sqlite3_prepare_v2(db, q, -1, &by_table[t], NULL) != SQLITE_OK)
			rc = kio_fail(err, KIO_ERR_IO, "ledger records: %s", sqlite3_errmsg(db));
		free(q);
	}
	if (!rc) {
		char *records = chain_records_sql(present, "WHERE rec > ?1");
		char *q = xasprintf("%s ORDER BY 1 LIMIT ?2", records);
		if (sqlite3_prepare_v2(db, q, -1, &order, NULL) != SQLITE_OK)
			rc = kio_fail(err, KIO_ERR_IO, "ledger records: %s", sqlite3_errmsg(db));
		free(q);
		free(records);
	}
	if (rc)
		goto out_finalize;
	sqlite3_bind_int64(order, 1, since);
	sqlite3_bind_int64(order, 2, limit > 0 ? limit : -1); /* SQLite: a negative LIMIT is none */
	int step;
	while (!rc && (step = sqlite3_step(order)) == SQLITE_ROW) {
		int64_t rec = sqlite3_column_int64(order, 0);
		int t = sqlite3_column_int(order, 1);
		sqlite3_stmt *st = by_table[t];
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, rec);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = kio_fail(err, KIO_ERR_IO, "ledger records: record %" PRId64 ": %s", rec, sqlite3_errmsg(db));
			break;
		}
		JsonNode *obj = record_object(st, rec, (enum chain_table)t);
		rc = fn(user, rec, obj, err);
		json_node_unref(obj);
	}
	if (!rc && step != SQLITE_DONE)
		rc = kio_fail(err, KIO_ERR_IO, "ledger records: %s", sqlite3_errmsg(db));
out_finalize:
	sqlite3_finalize(order);
	for (int t = 0; t < CHAIN_TABLE_COUNT; t++)
		sqlite3_finalize(by_table[t]);
	return rc;
}

/* One record as a JSON object line. */
static int write_line(void *user, int64_t rec, JsonNode *obj, struct kio_error *err)
{
	FILE *out = user;
	(void)rec;
	JsonGenerator *gen = json_generator_new();
	json_generator_set_root(gen, obj);
	gsize len = 0;
	gchar *text = json_generator_to_data(gen, &len);
	int rc = 0;
	if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF)
		rc = kio_fail(err, KIO_ERR_IO, "export: cannot write: %s", strerror(errno));
	g_free(text);
	g_object_unref(gen);
	return rc;
}

static int export_records(sqlite3 *db, int64_t since, FILE *out, struct kio_error *err)
{
	int rc = export_records_each(db, since, 0, write_line, out, err);
	if (!rc && fflush(out) != 0)
		rc = kio_fail(err, KIO_ERR_IO, "export: cannot write: %s", strerror(errno));
	return rc;
}

int ledger_export_file(const char *db_path, int64_t since, FILE *out, struct kio_error *err)
{
	sqlite3 *db;
	struct ledger_verdict v;
	/* Verify and export in one read transaction: what is sent is what was verified. */
	int rc = chain_read_begin(db_path, &db, &v, err);
	if (rc)
		return rc;
	if (!v.ok)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "database %s: %s; nothing exported", db_path, v.why);
	else
		rc = export_records(db, since, out, err);
	chain_read_end(db);
	return rc;
}
