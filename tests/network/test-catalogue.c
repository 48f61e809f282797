/*
 * The catalogue download (issue 13) through the sync worker's real libcurl transport to the
 * reference host (kiosk-host serve over mutual TLS, demo data: the kiosk's shipped catalogue,
 * netfix.h): 200 with the host's ETag and the kiosk's own files' every entity, 304 on the
 * next ask, a new document after `kiosk-host catalogue load` of another folder, a bad document
 * the host was made to serve refused with the kiosk's copy and ETag kept, the host down.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/catalogue.h"
#include "kiosk/core/config.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/sync/sync.h"
#include "netfix.h"

static struct netfix fx;


/* The ETag the host serves now, quoted as it sends it. */
static char *host_etag(void)
{
	PGresult *r = PQexec(fx.db, "SELECT etag FROM catalogue WHERE id = 1");
	g_assert_cmpint(PQresultStatus(r), ==, PGRES_TUPLES_OK);
	g_assert_cmpint(PQntuples(r), ==, 1);
	char *e = g_strdup_printf("\"%s\"", PQgetvalue(r, 0, 0));
	PQclear(r);
	return e;
}

static void test_download(void)
{
	struct nkiosk k;
	netfix_kiosk_new(&fx, &k, "K-CATALOGUE");
	struct core_config cfg;
	core_config_defaults(&cfg);
	snprintf(cfg.host_url, sizeof(cfg.host_url), "%s", fx.url);
	snprintf(cfg.host_ca, sizeof(cfg.host_ca), "%s/host-ca.crt", k.dir);
	snprintf(cfg.host_cert, sizeof(cfg.host_cert), "%s/kiosk.crt", k.dir);
	snprintf(cfg.host_key, sizeof(cfg.host_key), "%s/kiosk.key", k.dir);
	cfg.host_timeout_ms = 2000;
	struct test_waker w;
	test_waker_init(&w);
	struct sync *s = sync_new(&cfg, k.k.path, test_waker_wake, &w);
	struct kio_error err = {0};
	if (sync_start(s, &err) != 0)
		g_error("sync_start: %s", err.msg);

	/* At start: 200, the host's ETag, every entity of the kiosk's own files. */
	TEST_WAIT_FOR(&w, test_sync_status(s).catalogue_fetched == 1);
	struct catalogue *c = NULL, *files = NULL;
	char etag[SYNC_ETAG_MAX];
	g_assert_true(sync_catalogue_take(s, &c, etag));
	char *want = host_etag();
	g_assert_cmpstr(etag, ==, want);
	g_assert_cmpint(catalogue_load_dir(host_catalogue_default_dir(), &files, &err), ==, 0);
	g_assert_cmpuint(c->n_entities, ==, files->n_entities);
	for (size_t i = 0; i < files->n_entities; i++) {
		const struct cat_entity *e = catalogue_entity(c, files->entities[i].id);
		g_assert_nonnull(e);
		g_assert_cmpuint(e->n_services, ==, files->entities[i].n_services);
	}
	catalogue_free(files);
	catalogue_free(c);

	/* Asked again: 304, nothing new. */
	sync_catalogue_kick(s);
	TEST_WAIT_FOR(&w, test_sync_status(s).catalogue_unchanged == 1);
	g_assert_false(sync_catalogue_take(s, &c, etag));

	/* The operator loads another folder (one entity less): a new ETag, the new document. */
	char *dir = g_dir_make_tmp("kiosk-cat-XXXXXX", NULL);
	const char *keep[] = {"dewa.json", "police.json", "rta.json"};
	for (size_t i = 0; i < G_N_ELEMENTS(keep); i++) {
		char *from = g_build_filename(host_catalogue_default_dir(), keep[i], NULL);
		char *to = g_build_filename(dir, keep[i], NULL);
		gchar *text = NULL;
		gsize len = 0;
		g_assert_true(g_file_get_contents(from, &text, &len, NULL));
		g_assert_true(g_file_set_contents(to, text, (gssize)len, NULL));
		g_free(text);
		g_free(from);
		g_free(to);
	}
	int64_t version = 0;
	char new_etag[64];
	g_assert_cmpint(host_catalogue_load(fx.db, dir, &version, new_etag, sizeof(new_etag), &err), ==, 0);
	g_assert_cmpint(version, ==, 2);
	sync_catalogue_kick(s);
	TEST_WAIT_FOR(&w, test_sync_status(s).catalogue_fetched == 2);
	g_assert_true(sync_catalogue_take(s, &c, etag));
	g_free(want);
	want = host_etag();
	g_assert_cmpstr(etag, ==, want);
	g_assert_cmpuint(c->n_entities, ==, 3);
	catalogue_free(c);
	/* Loading the same folder again changes nothing at the host: still 304. */
	g_assert_cmpint(host_catalogue_load(fx.db, dir, &version, new_etag, sizeof(new_etag), &err), ==, 0);
	g_assert_cmpint(version, ==, 2);
	sync_catalogue_kick(s);
	TEST_WAIT_FOR(&w, test_sync_status(s).catalogue_unchanged == 2);

	/* A bad folder is refused by the host itself, naming the file and entry; nothing served
	 * changes. */
	char *bad = g_build_filename(dir, "rta.json", NULL);
	gchar *text = NULL;
	g_assert_true(g_file_get_contents(bad, &text, NULL, NULL));
	char *at = strstr(text, "\"amount_fils\"");
	g_assert_nonnull(at);
	char *edited = g_strdup_printf("%.*s\"amount_fils\": -5, \"x\"%s", (int)(at - text), text,
				       at + strlen("\"amount_fils\""));
	g_assert_true(g_file_set_contents(bad, edited, -1, NULL));
	g_assert_cmpint(host_catalogue_load(fx.db, dir, &version, new_etag, sizeof(new_etag), &err), ==,
			KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "rta.json"));
	g_free(edited);
	g_free(text);

	/* No such folder: KIO_ERR_NOT_FOUND (demo-data then serves none), nothing changed. */
	g_assert_cmpint(host_catalogue_load(fx.db, "/nonexistent/catalogue", &version, new_etag, sizeof(new_etag), &err),
			==, KIO_ERR_NOT_FOUND);
	sync_catalogue_kick(s);
	TEST_WAIT_FOR(&w, test_sync_status(s).catalogue_unchanged == 3);

	/* A bad document the host serves anyway (edited in its database): the kiosk refuses it,
	 * names the entry, and keeps its ETag, so the host's fix is fetched next time. */
	hostfix_exec(fx.db, "UPDATE catalogue SET document = jsonb_set(document,"
			    " '{entities,0,services,0,name,en}', '\"\"'), version = version + 1");
	hostfix_exec(fx.db, "UPDATE catalogue SET etag = md5(document::text)");
	sync_catalogue_kick(s);
	TEST_WAIT_FOR(&w, test_sync_status(s).catalogue_refused == 1);
	struct sync_status seen = test_sync_status(s);
	g_assert_nonnull(strstr(seen.catalogue_error, "host catalogue: entities[0]"));
	g_assert_cmpstr(seen.catalogue_etag, ==, want);
	g_assert_false(sync_catalogue_take(s, &c, etag));

	/* The host down: nothing refused, nothing new. */
	netfix_proxy(&fx, "down");
	sync_catalogue_kick(s);
	TEST_WAIT_FOR(&w, !test_sync_status(s).reachable);
	g_assert_cmpint(test_sync_status(s).catalogue_refused, ==, 1);
	g_assert_false(sync_catalogue_take(s, &c, etag));
	netfix_clear(&fx);

	/* Put back: the shipped catalogue, for the other tests of this cluster. */
	g_assert_cmpint(host_catalogue_load(fx.db, host_catalogue_default_dir(), NULL, NULL, 0, &err), ==, 0);
	sync_free(s);
	g_free(bad);
	g_free(want);
	char *rm = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(rm), ==, 0);
	g_free(rm);
	g_free(dir);
	netfix_kiosk_free(&k);
	test_waker_clear(&w);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/network/catalogue/download", test_download);
	return netfix_run(&fx);
}
