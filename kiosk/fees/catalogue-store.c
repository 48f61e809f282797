/*
 * The catalogue's last good copy in the kiosk's database (ledger migration 10) and
 * catalogue_open, which chooses between it and the files.
 *
 * The rows live in the ledger's SQLite file because the kiosk has one durable store; they are
 * configuration, not booked money (no chain, no MAC), so this file reaches the handle through
 * kiosk/ledger/store-priv.h, the one place outside kiosk/ledger that does (docs/catalogue.md).
 *
 * Invariants:
 *  1. The stored copy is a catalogue that passed every rule of catalogue.c: it is replaced
 *     whole in one commit, and what is read back is checked by the same rules again (a row
 *     edited by hand is refused as KIO_ERR_CORRUPT, never shown).
 *  2. Good files always win: they are used even when storing them fails (logged), since the
 *     rows are only a fallback.
 *  3. Bad files never replace a good copy: catalogue_open stores only after the whole
 *     directory passed.
 *  4. A download is stored only after catalogue_parse passed it (the sync refuses any other),
 *     with its ETag in catalogue_meta.source (CAT_SOURCE_HOST + ETag): the stored ETag always
 *     names the stored rows, so an If-None-Match built from it never hides a newer document.
 *  5. A stored download outranks the directory at start (the host replaced the bundled
 *     files); a stored copy that fails validation never does (invariant 1), nor do files.
 */
#define LOG_MODULE "catalogue"
#include "catalogue.h"

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/ledger/store-priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue-priv.h"

static int db_fail(sqlite3 *db, struct kio_error *err, const char *what)
{
	return kio_fail(err, KIO_ERR_IO, "catalogue store: %s: %s", what, sqlite3_errmsg(db));
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) { sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC); }

static int save_rows(sqlite3 *db, const struct catalogue *c, const char *source, struct kio_error *err)
{
	if (sqlite3_exec(db, "DELETE FROM catalogue_service; DELETE FROM catalogue_entity; DELETE FROM catalogue_meta",
			 NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, "clear");
	sqlite3_stmt *me = NULL, *es = NULL, *ss = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO catalogue_meta (id, version, source) VALUES (1, ?, ?)", -1, &me,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO catalogue_entity (id, name_en, name_ar, icon, ord) VALUES (?, ?, ?, ?, ?)",
			       -1, &es, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO catalogue_service (entity, n, id, name_en, name_ar, kind, amount_fils, min_fils,"
			       " max_fils, step_fils, ref_name_en, ref_name_ar, ref_min_len, ref_max_len, ref_check,"
			       " host_entity, host_service, needs_host)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &ss, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "prepare");
		goto out_finalize;
	}
	bind_text(me, 1, c->version);
	bind_text(me, 2, source);
	if (sqlite3_step(me) != SQLITE_DONE) {
		rc = db_fail(db, err, "write the version");
		goto out_finalize;
	}
	for (size_t i = 0; i < c->n_entities && !rc; i++) {
		const struct cat_entity *e = &c->entities[i];
		sqlite3_reset(es);
		bind_text(es, 1, e->id);
		bind_text(es, 2, e->name.en);
		bind_text(es, 3, e->name.ar);
		bind_text(es, 4, e->icon);
		sqlite3_bind_int(es, 5, e->order);
		if (sqlite3_step(es) != SQLITE_DONE) {
			rc = db_fail(db, err, e->id);
			break;
		}
		for (size_t k = 0; k < e->n_services; k++) {
			const struct cat_service *s = &e->services[k];
			sqlite3_reset(ss);
			sqlite3_clear_bindings(ss);
			bind_text(ss, 1, e->id);
			sqlite3_bind_int64(ss, 2, (sqlite3_int64)k);
			bind_text(ss, 3, s->id);
			bind_text(ss, 4, s->name.en);
			bind_text(ss, 5, s->name.ar);
			bind_text(ss, 6, cat_fee_kind_name(s->kind));
			if (s->kind == CAT_FEE_FIXED)
				sqlite3_bind_int64(ss, 7, s->amount_fils);
			if (s->kind == CAT_FEE_OPEN) {
				sqlite3_bind_int64(ss, 8, s->min_fils);
				sqlite3_bind_int64(ss, 9, s->max_fils);
				sqlite3_bind_int64(ss, 10, s->step_fils);
			}
			if (s->has_reference) {
				bind_text(ss, 11, s->reference.name.en);
				bind_text(ss, 12, s->reference.name.ar);
				sqlite3_bind_int(ss, 13, s->reference.min_len);
				sqlite3_bind_int(ss, 14, s->reference.max_len);
				bind_text(ss, 15, cat_ref_check_name(s->reference.check));
			}
			bind_text(ss, 16, s->host_entity);
			bind_text(ss, 17, s->host_service);
			sqlite3_bind_int(ss, 18, s->needs_host);
			if (sqlite3_step(ss) != SQLITE_DONE) {
				rc = db_fail(db, err, s->id);
				break;
			}
		}
	}
out_finalize:
	sqlite3_finalize(me);
	sqlite3_finalize(es);
	sqlite3_finalize(ss);
	return rc;
}

/* Invariant 1: the whole copy in one commit. */
static int store_save(struct ledger *l, const struct catalogue *c, const char *source, struct kio_error *err)
{
	int rc = ledger_write_begin(l, "catalogue: store", err);
	if (rc)
		return rc;
	rc = save_rows(ledger_db(l), c, source, err);
	if (rc) {
		ledger_write_rollback(l);
		return rc;
	}
	return ledger_write_commit(l, "catalogue: store", err);
}

/* One column of the stored meta row into out[cap] (empty when nothing is stored). */
static int stored_meta(sqlite3 *db, const char *column, char *out, size_t cap, struct kio_error *err)
{
	out[0] = '\0';
	char sql[64];
	snprintf(sql, sizeof(sql), "SELECT %s FROM catalogue_meta WHERE id = 1", column);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, column);
	int rc = 0, step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		snprintf(out, cap, "%s", v ? v : "");
	} else if (step != SQLITE_DONE) {
		rc = db_fail(db, err, column);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The stored version (empty when nothing is stored). */
static int stored_version(sqlite3 *db, char out[65], struct kio_error *err)
{
	return stored_meta(db, "version", out, 65, err);
}

static bool etag_ok(const char *etag)
{
	size_t n = etag ? strnlen(etag, CAT_ETAG_MAX + 1) : 0;
	if (n == 0 || n > CAT_ETAG_MAX)
		return false;
	for (size_t k = 0; k < n; k++)
		if (etag[k] < 0x21 || etag[k] > 0x7e)
			return false;
	return true;
}

int catalogue_stored_etag(struct ledger *ledger, char *etag, struct kio_error *err)
{
	char source[512];
	etag[0] = '\0';
	int rc = stored_meta(ledger_db(ledger), "source", source, sizeof(source), err);
	size_t pre = strlen(CAT_SOURCE_HOST);
	if (!rc && strncmp(source, CAT_SOURCE_HOST, pre) == 0 && etag_ok(source + pre)) {
		size_t n = strlen(source + pre); /* etag_ok: at most CAT_ETAG_MAX */
		memcpy(etag, source + pre, n + 1);
	}
	return rc;
}

/* Invariant 4. */
int catalogue_store_download(struct ledger *ledger, const struct catalogue *c, const char *etag,
			     struct kio_error *err)
{
	if (!etag_ok(etag))
		return kio_fail(err, KIO_ERR_INVALID, "catalogue store: the download's ETag is not 1..%d printable bytes",
				CAT_ETAG_MAX);
	char source[sizeof(CAT_SOURCE_HOST) + CAT_ETAG_MAX];
	snprintf(source, sizeof(source), "%s%s", CAT_SOURCE_HOST, etag);
	int rc = store_save(ledger, c, source, err);
	if (!rc)
		LOG_INFO("%.12s from the host (ETag %s) stored", c->version, etag);
	return rc;
}

void catalogue_swap(struct catalogue *a, struct catalogue *b)
{
	struct catalogue t = *a;
	*a = *b;
	*b = t;
}

/* A TEXT column into dst, refused when NULL or too long (invariant 1: no row is trusted). */
static int col_text(sqlite3_stmt *st, int i, char *dst, size_t cap, const char *ctx, const char *what,
		    struct kio_error *err)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	if (!v || sqlite3_column_type(st, i) != SQLITE_TEXT)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: %s is not text", ctx, what);
	int rc = cat_copy(dst, cap, v, ctx, what, err);
	return rc ? KIO_ERR_CORRUPT : 0;
}

static int col_int(sqlite3_stmt *st, int i, int64_t lo, int64_t hi, int64_t *v, const char *ctx, const char *what,
		   struct kio_error *err)
{
	if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: %s is not an integer", ctx, what);
	*v = sqlite3_column_int64(st, i);
	if (*v < lo || *v > hi)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: %s %" PRId64 " is out of range", ctx, what, *v);
	return 0;
}

static int read_services(sqlite3 *db, struct cat_entity *e, const char *ctx, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, name_en, name_ar, kind, amount_fils, min_fils, max_fils, step_fils, ref_name_en,"
			       " ref_name_ar, ref_min_len, ref_max_len, ref_check, host_entity, host_service, needs_host"
			       " FROM catalogue_service WHERE entity = ? ORDER BY n",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, "read services");
	bind_text(st, 1, e->id);
	int rc = 0, step;
	size_t cap = 0;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (e->n_services == CAT_SERVICES_MAX) {
			rc = kio_fail(err, KIO_ERR_CORRUPT, "%s: more than %d services", ctx, CAT_SERVICES_MAX);
			break;
		}
		if (e->n_services == cap) {
			cap = cap ? cap * 2 : 4;
			e->services = xrealloc(e->services, cap * sizeof(*e->services));
		}
		struct cat_service *s = &e->services[e->n_services++];
		memset(s, 0, sizeof(*s));
		char kind[16], check[16];
		int64_t v = 0;
		rc = col_text(st, 0, s->id, sizeof(s->id), ctx, "service id", err);
		if (!rc)
			rc = col_text(st, 1, s->name.en, sizeof(s->name.en), ctx, "name_en", err);
		if (!rc)
			rc = col_text(st, 2, s->name.ar, sizeof(s->name.ar), ctx, "name_ar", err);
		if (!rc)
			rc = col_text(st, 3, kind, sizeof(kind), ctx, "kind", err);
		if (!rc) {
			int k = cat_fee_kind_from_name(kind);
			if (k < 0)
				rc = kio_fail(err, KIO_ERR_CORRUPT, "%s: kind '%s' unknown", ctx, kind);
			else
				s->kind = (enum cat_fee_kind)k;
		}
		if (!rc && s->kind == CAT_FEE_FIXED)
			rc = col_int(st, 4, INT64_MIN, INT64_MAX, &s->amount_fils, ctx, "amount_fils", err);
		if (!rc && s->kind == CAT_FEE_OPEN) {
			rc = col_int(st, 5, INT64_MIN, INT64_MAX, &s->min_fils, ctx, "min_fils", err);
			if (!rc)
				rc = col_int(st, 6, INT64_MIN, INT64_MAX, &s->max_fils, ctx, "max_fils", err);
			if (!rc)
				rc = col_int(st, 7, INT64_MIN, INT64_MAX, &s->step_fils, ctx, "step_fils", err);
		}
		s->has_reference = sqlite3_column_type(st, 12) != SQLITE_NULL;
		if (!rc && s->has_reference) {
			struct cat_reference *r = &s->reference;
			rc = col_text(st, 8, r->name.en, sizeof(r->name.en), ctx, "ref_name_en", err);
			if (!rc)
				rc = col_text(st, 9, r->name.ar, sizeof(r->name.ar), ctx, "ref_name_ar", err);
			if (!rc)
				rc = col_int(st, 10, 0, CAT_REF_MAX, &v, ctx, "ref_min_len", err);
			r->min_len = (int)v;
			if (!rc)
				rc = col_int(st, 11, 0, CAT_REF_MAX, &v, ctx, "ref_max_len", err);
			r->max_len = (int)v;
			if (!rc)
				rc = col_text(st, 12, check, sizeof(check), ctx, "ref_check", err);
			if (!rc) {
				int k = cat_ref_check_from_name(check);
				if (k < 0)
					rc = kio_fail(err, KIO_ERR_CORRUPT, "%s: check '%s' unknown", ctx, check);
				else
					r->check = (enum cat_ref_check)k;
			}
		}
		if (!rc)
			rc = col_text(st, 13, s->host_entity, sizeof(s->host_entity), ctx, "host_entity", err);
		if (!rc)
			rc = col_text(st, 14, s->host_service, sizeof(s->host_service), ctx, "host_service", err);
		if (!rc)
			rc = col_int(st, 15, 0, 1, &v, ctx, "needs_host", err);
		s->needs_host = v == 1;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, err, "read services");
	sqlite3_finalize(st);
	return rc;
}

/* The stored copy, checked by the loader's rules (invariant 1); KIO_ERR_NOT_FOUND when none. */
static int store_load(struct ledger *l, struct catalogue **out, struct kio_error *err)
{
	*out = NULL;
	sqlite3 *db = ledger_db(l);
	struct catalogue *c = xcalloc(1, sizeof(*c));
	int rc = stored_version(db, c->version, err);
	if (!rc && !c->version[0])
		rc = kio_fail(err, KIO_ERR_NOT_FOUND, "catalogue store: no copy stored");
	sqlite3_stmt *st = NULL;
	if (!rc && sqlite3_prepare_v2(db, "SELECT id, name_en, name_ar, icon, ord FROM catalogue_entity ORDER BY ord, id",
				      -1, &st, NULL) != SQLITE_OK)
		rc = db_fail(db, err, "read entities");
	int step = SQLITE_DONE;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->n_entities == CAT_ENTITIES_MAX) {
			rc = kio_fail(err, KIO_ERR_CORRUPT, "catalogue store: more than %d entities", CAT_ENTITIES_MAX);
			break;
		}
		c->entities = xrealloc(c->entities, (c->n_entities + 1) * sizeof(*c->entities));
		struct cat_entity *e = &c->entities[c->n_entities++];
		memset(e, 0, sizeof(*e));
		char where[96];
		snprintf(where, sizeof(where), "catalogue store: entity %zu", c->n_entities);
		int64_t ord = 0;
		rc = col_text(st, 0, e->id, sizeof(e->id), where, "id", err);
		if (!rc)
			snprintf(where, sizeof(where), "catalogue store: entity '%s'", e->id);
		if (!rc)
			rc = col_text(st, 1, e->name.en, sizeof(e->name.en), where, "name_en", err);
		if (!rc)
			rc = col_text(st, 2, e->name.ar, sizeof(e->name.ar), where, "name_ar", err);
		if (!rc)
			rc = col_text(st, 3, e->icon, sizeof(e->icon), where, "icon", err);
		if (!rc)
			rc = col_int(st, 4, 0, CAT_ORDER_MAX, &ord, where, "ord", err);
		e->order = (int)ord;
		if (!rc)
			rc = read_services(db, e, where, err);
		/* The rules name the entity by id themselves. */
		if (!rc && cat_entity_ok(e, "catalogue store: entity", err))
			rc = KIO_ERR_CORRUPT;
		if (!rc && cat_unique(c, e, "catalogue store: entity", err))
			rc = KIO_ERR_CORRUPT;
		if (rc && err)
			err->code = rc;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, err, "read entities");
	sqlite3_finalize(st);
	if (!rc && cat_finish(c, "catalogue store", err))
		rc = err ? (err->code = KIO_ERR_CORRUPT) : KIO_ERR_CORRUPT;
	if (rc) {
		catalogue_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static void count(const struct catalogue *c, size_t *services)
{
	*services = 0;
	for (size_t i = 0; i < c->n_entities; i++)
		*services += c->entities[i].n_services;
}

/* Invariant 5: a stored download, when one is stored and still passes every rule; else NULL
 * (a bad one is logged, and the directory decides as if nothing were stored). */
static struct catalogue *stored_download(struct ledger *ledger)
{
	char etag[CAT_ETAG_MAX + 1];
	struct kio_error e = {0};
	if (catalogue_stored_etag(ledger, etag, &e) != 0) {
		LOG_ERR("%s", e.msg);
		return NULL;
	}
	if (!etag[0])
		return NULL;
	struct catalogue *c = NULL;
	if (store_load(ledger, &c, &e) != 0) {
		LOG_ERR("the host's stored copy (ETag %s) is refused: %s", etag, e.msg);
		return NULL;
	}
	size_t n_services = 0;
	count(c, &n_services);
	LOG_INFO("%.12s from the host (ETag %s), as stored: %zu entities, %zu services", c->version, etag,
		 c->n_entities, n_services);
	return c;
}

int catalogue_open(struct ledger *ledger, const char *dir, struct catalogue **out, struct kio_error *err)
{
	*out = NULL;
	struct catalogue *c = ledger ? stored_download(ledger) : NULL;
	if (c) {
		*out = c;
		return 0;
	}
	struct kio_error derr = {0};
	int rc = catalogue_load_dir(dir, &c, &derr);
	size_t n_services = 0;
	if (!rc) {
		count(c, &n_services);
		char was[65] = "";
		struct kio_error serr = {0};
		int src = ledger ? stored_version(ledger_db(ledger), was, &serr) : 0;
		if (!src && ledger && strcmp(was, c->version) != 0)
			src = store_save(ledger, c, dir, &serr);
		/* Invariant 2. */
		if (src)
			LOG_ERR("%.12s from %s not stored (the files are used): %s", c->version, dir, serr.msg);
		LOG_INFO("%.12s from %s: %zu entities, %zu services%s", c->version, dir, c->n_entities,
			 n_services, !ledger ? "" : strcmp(was, c->version) == 0 ? " (as stored)" : src ? "" : " (stored)");
		*out = c;
		return 0;
	}
	/* Invariant 3: the files are refused, whatever is stored stays. */
	LOG_ERR("%s refused: %s", dir, derr.msg);
	if (err)
		*err = derr;
	if (!ledger)
		return rc;
	struct kio_error lerr = {0};
	int lrc = store_load(ledger, &c, &lerr);
	if (lrc == KIO_ERR_NOT_FOUND) {
		LOG_ERR("no good copy stored either: no fees can be paid");
		return rc;
	}
	if (lrc) {
		LOG_ERR("the stored copy is refused too: %s", lerr.msg);
		if (err)
			*err = lerr;
		return lrc;
	}
	count(c, &n_services);
	LOG_WARN("%.12s: the last good copy, from the store: %zu entities, %zu services", c->version,
		 c->n_entities, n_services);
	*out = c;
	return 0;
}
