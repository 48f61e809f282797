/* Catalogue loading and lookup. */
#define LOG_MODULE "i18n"
#include "i18n.h"

#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "log.h"
#include "xmalloc.h"

struct entry {
	char *key;
	char *text[LANG_COUNT];
};

struct i18n {
	struct entry *entries; /* sorted by key after loading */
	size_t n, cap;
};

static const char *const codes[LANG_COUNT] = {"ar", "en"};

const char *lang_code(enum lang lang) { return (unsigned)lang < LANG_COUNT ? codes[lang] : "?"; }

int lang_parse(const char *code, enum lang *out)
{
	for (int i = 0; i < LANG_COUNT; i++) {
		if (strcmp(code, codes[i]) == 0) {
			*out = (enum lang)i;
			return 0;
		}
	}
	return KIO_ERR_INVALID;
}

static struct entry *find(const struct i18n *i18n, const char *key)
{
	size_t lo = 0, hi = i18n->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key, i18n->entries[mid].key);
		if (c == 0)
			return &i18n->entries[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static int load_lang(struct i18n *i18n, const char *data_dir, enum lang lang, struct kio_error *err)
{
	char *path = xasprintf("%s/locales/%s.ini", data_dir, codes[lang]);
	struct core_keyfile *kfile = NULL;
	int rc = core_keyfile_load(path, &kfile, err);
	if (rc)
		goto out;
	gchar **groups = g_key_file_get_groups(kfile->kf, NULL);
	for (gchar **g = groups; *g && rc == 0; g++)
		if (strcmp(*g, "strings") != 0)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s:%d: unknown group [%s]", path,
				      core_keyfile_line(kfile, *g, ""), *g);
	g_strfreev(groups);
	gchar **names = rc ? NULL : g_key_file_get_keys(kfile->kf, "strings", NULL, NULL);
	for (gchar **n = names; n && *n && rc == 0; n++) {
		gchar *text = g_key_file_get_string(kfile->kf, "strings", *n, NULL);
		if (!text) {
			rc = kio_fail(err, KIO_ERR_INVALID, "%s:%d: %s: not valid text", path,
				      core_keyfile_line(kfile, "strings", *n), *n);
			break;
		}
		struct entry *e = NULL;
		for (size_t i = 0; i < i18n->n && !e; i++)
			if (strcmp(i18n->entries[i].key, *n) == 0)
				e = &i18n->entries[i];
		if (!e) {
			if (i18n->n == i18n->cap) {
				i18n->cap = i18n->cap ? i18n->cap * 2 : 64;
				i18n->entries = xrealloc(i18n->entries, i18n->cap * sizeof(*i18n->entries));
			}
			e = &i18n->entries[i18n->n++];
			memset(e, 0, sizeof(*e));
			e->key = xstrdup(*n);
		}
		e->text[lang] = xstrdup(text);
		g_free(text);
	}
	g_strfreev(names);
out:
	core_keyfile_free(kfile);
	free(path);
	return rc;
}

int i18n_load(const char *data_dir, struct i18n **out, struct kio_error *err)
{
	struct i18n *i18n = xcalloc(1, sizeof(*i18n));
	int rc = 0;
	for (int lang = 0; lang < LANG_COUNT && rc == 0; lang++)
		rc = load_lang(i18n, data_dir, (enum lang)lang, err);
	if (rc)
		goto out_free;
	for (size_t i = 0; i < i18n->n; i++) {
		for (int lang = 0; lang < LANG_COUNT; lang++) {
			if (!i18n->entries[i].text[lang]) {
				rc = kio_fail(err, KIO_ERR_INVALID, "%s/locales/%s.ini: key '%s' is missing", data_dir,
					      codes[lang], i18n->entries[i].key);
				goto out_free;
			}
		}
	}
	qsort(i18n->entries, i18n->n, sizeof(*i18n->entries), cmp_entry);
	*out = i18n;
	return 0;

out_free:
	i18n_free(i18n);
	return rc;
}

void i18n_free(struct i18n *i18n)
{
	if (!i18n)
		return;
	for (size_t i = 0; i < i18n->n; i++) {
		free(i18n->entries[i].key);
		for (int lang = 0; lang < LANG_COUNT; lang++)
			free(i18n->entries[i].text[lang]);
	}
	free(i18n->entries);
	free(i18n);
}

const char *i18n_get(const struct i18n *i18n, enum lang lang, const char *key)
{
	const struct entry *e = find(i18n, key);
	if (!e || (unsigned)lang >= LANG_COUNT) {
		LOG_ERR("no string for key '%s'", key);
		return key;
	}
	return e->text[lang];
}

int i18n_has(const struct i18n *i18n, const char *key) { return find(i18n, key) != NULL; }
