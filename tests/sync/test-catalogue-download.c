/* Tests of the catalogue download (issue 13): the worker's GET /v1/catalogue over an
 * in-process host (fake-host.h): 200 then 304 by If-None-Match, a bad document or a 200
 * without an ETag refused with the ETag kept, a newer one replacing one not yet taken; the
 * store's side (kiosk/fees/catalogue-store.c): a download stored with its ETag, the ETag sent
 * again after a restart, a stored download outranking the directory at start, the swap in
 * place. */
#define LOG_MODULE "test-catalogue-download"
#include <glib.h>
#include <sqlite3.h>
#include <string.h>

#include "fake-host.h"
#include "kiosk/core/config.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/ledger/store.h"
#include "kiosk/sync/sync-priv.h"
#include "kiosk/sync/sync.h"
#include "tests/common/ledgerfix.h"
#include "tests/common/syncwait.h"

/* A catalogue document in the host's shape (docs/catalogue.md): one entity, one fixed fee. */
#define DOC(amount)                                                                                                \
	"{\"entities\": [{\"id\": \"dld\", \"name\": {\"en\": \"Dubai Land Department\", \"ar\": \"دائرة الأراضي\"},"  \
	" \"icon\": \"dld.png\", \"order\": 70, \"services\": [{\"id\": \"dld-ejari\", \"name\": {\"en\": \"Ejari\","  \
	" \"ar\": \"إيجاري\"}, \"fee\": {\"kind\": \"fixed\", \"amount_fils\": " amount "}, \"reference\": null,"       \
	" \"host\": {\"entity\": \"dld\", \"service\": \"ejari\"}, \"needs_host\": false}]}]}"

static const char doc_v1[] = DOC("22000");
static const char doc_v3[] = DOC("23000");
static const char doc_bad[] = DOC("0"); /* a fixed fee of nothing: the parser refuses it */


struct fix {
	char *path;
	struct fake_host_state *host;
	struct fake_transport *t; /* the sync's, freed with it */
	struct sync *s;
	struct test_waker w;
};

static void fix_start(struct fix *f)
{
	struct core_config cfg;
	core_config_defaults(&cfg);
	f->s = sync_new(&cfg, f->path, test_waker_wake, &f->w);
	f->t = fake_transport_new(f->host);
	sync_test_set_transport(f->s, &f->t->base);
	struct kio_error err = {0};
	if (sync_start(f->s, &err) != 0)
		g_error("sync_start: %s", err.msg);
}

static void fix_stop(struct fix *f)
{
	sync_free(f->s);
	f->s = NULL;
	f->t = NULL;
}

static void fix_new(struct fix *f)
{
	memset(f, 0, sizeof(*f));
	f->path = lfix_temp_db("kiosk-catalogue");
	struct ledger *l = NULL;
	struct kio_error err = {0};
	if (ledger_open(f->path, &l, &err) != 0)
		g_error("ledger_open: %s", err.msg);
	ledger_close(l);
	f->host = g_new0(struct fake_host_state, 1);
	test_waker_init(&f->w);
}

static void fix_free(struct fix *f)
{
	if (f->s)
		fix_stop(f);
	g_free(f->host);
	test_waker_clear(&f->w);
	lfix_remove_db(f->path);
}

/* The host's catalogue for the next ask (the worker reads it only inside an exchange, which
 * the test starts with a kick after the change). */
static void serve(struct fix *f, const char *body, const char *etag)
{
	f->t->catalogue_body = body;
	f->t->catalogue_etag = etag;
}

static void test_fetch_304_refused(void)
{
	struct fix f;
	fix_new(&f);
	fix_start(&f);
	/* Started before the host has one: 404, nothing taken, nothing refused. */
	TEST_WAIT_FOR(&f.w, f.t->catalogue_asks >= 1 && test_sync_status(f.s).running);
	struct catalogue *c = NULL;
	char etag[SYNC_ETAG_MAX];
	g_assert_false(sync_catalogue_take(f.s, &c, etag));
	g_assert_cmpint(test_sync_status(f.s).catalogue_refused, ==, 0);

	/* 200: the document waits for the app, with its ETag; no If-None-Match was sent. */
	serve(&f, doc_v1, "\"v1\"");
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_fetched == 1);
	g_assert_cmpstr(f.t->last_if_none_match, ==, "");
	g_assert_true(sync_catalogue_take(f.s, &c, etag));
	g_assert_cmpstr(etag, ==, "\"v1\"");
	g_assert_cmpint(c->n_entities, ==, 1);
	g_assert_cmpint(c->entities[0].services[0].amount_fils, ==, 22000);
	struct catalogue *again = NULL;
	g_assert_false(sync_catalogue_take(f.s, &again, etag)); /* taken once */
	g_assert_null(again);
	catalogue_free(c);
	c = NULL;
	g_assert_cmpstr(test_sync_status(f.s).catalogue_etag, ==, "\"v1\"");

	/* 304: If-None-Match names it, nothing new. */
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_unchanged == 1);
	g_assert_cmpstr(f.t->last_if_none_match, ==, "\"v1\"");
	g_assert_false(sync_catalogue_take(f.s, &c, etag));

	/* A bad document: refused naming the entry, the ETag kept, nothing for the app. */
	serve(&f, doc_bad, "\"v2\"");
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_refused == 1);
	struct sync_status seen = test_sync_status(f.s);
	g_assert_nonnull(strstr(seen.catalogue_error, "host catalogue: entities[0]"));
	g_assert_nonnull(strstr(seen.catalogue_error, "dld-ejari"));
	g_assert_cmpstr(seen.catalogue_etag, ==, "\"v1\"");
	g_assert_false(sync_catalogue_take(f.s, &c, etag));
	/* ... and asked again with the old ETag: the host's fix is fetched then. */
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_refused == 2);
	g_assert_cmpstr(f.t->last_if_none_match, ==, "\"v1\"");

	/* The host failing (500) or refusing the question (400): a 5xx is the network's kind of
	 * fault (a warning, asked again later), a 4xx other than 404 a refusal; neither changes
	 * what the kiosk holds. */
	int asks = f.t->catalogue_asks;
	f.t->catalogue_status = 500;
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, f.t->catalogue_asks > asks && test_sync_status(f.s).running);
	f.t->catalogue_status = 400;
	sync_catalogue_kick(f.s);
	/* The worker's asks run one after the other: once the 400 is counted the 500 was too,
	 * and it was not a refusal. */
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_refused >= 3);
	g_assert_cmpint(test_sync_status(f.s).catalogue_refused, ==, 3);
	g_assert_nonnull(strstr(test_sync_status(f.s).catalogue_error, "HTTP 400"));
	g_assert_cmpstr(test_sync_status(f.s).catalogue_etag, ==, "\"v1\"");
	f.t->catalogue_status = 0;

	/* A 200 without an ETag: refused (it could not be asked for conditionally). */
	serve(&f, doc_v3, NULL);
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_refused == 4);
	g_assert_nonnull(strstr(test_sync_status(f.s).catalogue_error, "without an ETag"));
	g_assert_false(sync_catalogue_take(f.s, &c, etag));

	/* Two good ones before the app looks: the newer replaces the older. */
	serve(&f, doc_v3, "\"v3\"");
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_fetched == 2);
	serve(&f, doc_v1, "\"v4\"");
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_fetched == 3);
	g_assert_true(sync_catalogue_take(f.s, &c, etag));
	g_assert_cmpstr(etag, ==, "\"v4\"");
	g_assert_cmpint(c->entities[0].services[0].amount_fils, ==, 22000);
	catalogue_free(c);
	fix_free(&f);
}

/* The store: the ETag persisted with the copy and sent after a restart; a stored download
 * outranks the directory at start; a stored copy edited by hand is not used. */
static void test_store_and_restart(void)
{
	struct fix f;
	fix_new(&f);
	fix_start(&f);
	serve(&f, doc_v3, "\"v3\"");
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_fetched == 1);
	struct catalogue *c = NULL;
	char etag[SYNC_ETAG_MAX];
	g_assert_true(sync_catalogue_take(f.s, &c, etag));
	fix_stop(&f);

	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(f.path, &l, &err), ==, 0);
	char stored[CAT_ETAG_MAX + 1];
	g_assert_cmpint(catalogue_stored_etag(l, stored, &err), ==, 0);
	g_assert_cmpstr(stored, ==, "");
	g_assert_cmpint(catalogue_store_download(l, c, "bad etag", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(catalogue_store_download(l, c, "", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(catalogue_store_download(l, c, etag, &err), ==, 0);
	g_assert_cmpint(catalogue_stored_etag(l, stored, &err), ==, 0);
	g_assert_cmpstr(stored, ==, "\"v3\"");

	/* At start the stored download wins over the shipped files. */
	char *dir = g_build_filename(g_getenv("KIOSK_SOURCE_DIR"), "assets", "catalogue", NULL);
	struct catalogue *open = NULL;
	g_assert_cmpint(catalogue_open(l, dir, &open, &err), ==, 0);
	g_assert_cmpstr(open->version, ==, c->version);
	g_assert_cmpint(open->n_entities, ==, 1);
	g_assert_cmpint(open->entities[0].services[0].amount_fils, ==, 23000);

	/* The swap in place: the holder of the pointer sees the other catalogue. */
	struct catalogue *files = NULL;
	g_assert_cmpint(catalogue_load_dir(dir, &files, &err), ==, 0);
	struct catalogue *held = open;
	size_t n_files = files->n_entities;
	catalogue_swap(open, files);
	g_assert_true(held == open);
	g_assert_cmpint(held->n_entities, ==, n_files);
	g_assert_cmpint(files->n_entities, ==, 1);
	catalogue_free(files);
	catalogue_free(open);
	ledger_close(l);

	/* After the restart the worker names the stored ETag: 304. */
	fix_start(&f);
	serve(&f, doc_v3, "\"v3\"");
	sync_catalogue_kick(f.s);
	TEST_WAIT_FOR(&f.w, test_sync_status(f.s).catalogue_unchanged >= 1);
	g_assert_cmpstr(f.t->last_if_none_match, ==, "\"v3\"");
	fix_stop(&f);

	/* A stored download edited by hand fails validation: the files are used (and stored). */
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(f.path, &db), ==, SQLITE_OK);
	lfix_exec_ok(db, "UPDATE catalogue_service SET amount_fils = 0");
	sqlite3_close(db);
	g_assert_cmpint(ledger_open(f.path, &l, &err), ==, 0);
	g_assert_cmpint(catalogue_open(l, dir, &open, &err), ==, 0);
	g_assert_cmpint(open->n_entities, ==, n_files);
	g_assert_cmpint(catalogue_stored_etag(l, stored, &err), ==, 0);
	g_assert_cmpstr(stored, ==, "");
	catalogue_free(open);
	ledger_close(l);
	g_free(dir);
	catalogue_free(c);
	fix_free(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sync/catalogue/fetch-304-refused", test_fetch_304_refused);
	g_test_add_func("/sync/catalogue/store-and-restart", test_store_and_restart);
	return g_test_run();
}
