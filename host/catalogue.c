/* The catalogue the host serves: the kiosk's files merged, checked and stored (catalogue.h). */
#define LOG_MODULE "host-catalogue"
#include "catalogue.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "kiosk-config.h"
#include "kiosk/core/infile.h"
#include "kiosk/core/install.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/fees/catalogue.h"

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The merged document of dir's files, already valid one by one (catalogue_load_dir). */
static int merge(const char *dir, char **out, struct kio_error *err)
{
	*out = NULL;
	DIR *d = opendir(dir);
	if (!d)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "catalogue %s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	JsonArray *all = json_array_new();
	int rc = 0;
	for (size_t k = 0; k < n && !rc; k++) {
		char *path = xasprintf("%s/%s", dir, names[k]);
		JsonParser *p = json_parser_new();
		GError *ge = NULL;
		char *text = NULL;
		size_t len = 0;
		struct kio_error why = {0};
		/* Read a moment ago by catalogue_load_dir; read again without waiting on the path
		 * (core_infile_read), as that was: a FIFO put there meanwhile is refused. */
		if (core_infile_read(path, names[k], CAT_FILE_MAX, &text, &len, &why) != 0) {
			rc = kio_fail(err, KIO_ERR_IO, "%s (changed since it was checked)", why.msg);
		} else if (!json_parser_load_from_data(p, text, (gssize)len, &ge)) {
			rc = kio_fail(err, KIO_ERR_IO, "%s: %s", names[k], ge->message);
			g_error_free(ge);
		} else {
			JsonArray *es = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "entities");
			for (guint i = 0; i < json_array_get_length(es); i++)
				json_array_add_element(all, json_node_copy(json_array_get_element(es, i)));
		}
		g_object_unref(p);
		free(text);
		free(path);
	}
	if (!rc) {
		JsonObject *root = json_object_new();
		json_object_set_array_member(root, "entities", json_array_ref(all));
		JsonNode *node = json_node_new(JSON_NODE_OBJECT);
		json_node_take_object(node, root);
		*out = json_to_string(node, FALSE);
		json_node_unref(node);
	}
	json_array_unref(all);
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	return rc;
}

int host_catalogue_load(PGconn *c, const char *dir, int64_t *version, char *etag, size_t etag_cap,
			struct kio_error *err)
{
	struct catalogue *files = NULL, *merged = NULL;
	int rc = catalogue_load_dir(dir, &files, err);
	if (rc)
		return rc;
	char *doc = NULL;
	rc = merge(dir, &doc, err);
	/* What every kiosk will do with the document: refuse it here rather than there. */
	if (!rc)
		rc = catalogue_parse(doc, strlen(doc), "host catalogue", &merged, err);
	if (!rc && merged->n_entities != files->n_entities)
		rc = kio_fail(err, KIO_ERR_INVALID, "catalogue %s: %zu entities merged into %zu", dir, files->n_entities,
			      merged->n_entities);
	PGresult *res = NULL;
	const char *p[] = {doc};
	/* The ETag hashes the stored text (jsonb's own rendering: what GET sends). */
	if (!rc)
		rc = hdb_query(c,
			       "INSERT INTO catalogue AS c (id, version, document, etag)"
			       " SELECT 1, 1, d, md5(d::text) FROM (SELECT $1::jsonb AS d) doc"
			       " ON CONFLICT (id) DO UPDATE SET version = c.version + 1, document = excluded.document,"
			       "  etag = excluded.etag WHERE c.document IS DISTINCT FROM excluded.document",
			       1, p, NULL, NULL, "store the catalogue", err);
	if (!rc)
		rc = hdb_query(c, "SELECT version, etag FROM catalogue WHERE id = 1", 0, NULL, &res, NULL,
			       "read the catalogue", err);
	if (!rc && PQntuples(res) == 1) {
		int64_t v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (version)
			*version = v;
		if (etag)
			snprintf(etag, etag_cap, "%s", PQgetvalue(res, 0, 1));
		LOG_INFO("catalogue from %s: %zu entities, version %" PRId64 ", ETag \"%s\"", dir, merged->n_entities, v,
			 PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	g_free(doc);
	catalogue_free(merged);
	catalogue_free(files);
	return rc;
}

const char *host_catalogue_default_dir(void)
{
	/* Installed, the host's own copy (the kiosk-host package ships it without the kiosk's
	 * assets); in the build tree, the kiosk's files themselves. */
	static char dir[4096];
	if (core_install_uninstalled())
		snprintf(dir, sizeof(dir), "%s/assets/catalogue", KIOSK_SOURCE_DIR);
	else
		snprintf(dir, sizeof(dir), "%s/catalogue", KIOSK_HOST_DATA_DIR);
	return dir;
}
