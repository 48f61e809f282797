/*
 * Catalogue lookup through gettext, one language per call, on a machine whose only locales are
 * C and C.UTF-8 (no ar_AE generated).
 *
 * How glibc 2.36 is made to do that (intl/dcigettext.c, textdomain.c):
 *   1. gettext reads LANGUAGE only when the category's locale is not plain "C": LC_MESSAGES is
 *      set to C.UTF-8, which every Debian system has.
 *   2. glibc caches each translation found, keyed by domain, msgid and the category's locale
 *      name, not by LANGUAGE; the cache is dropped when textdomain() is called (it bumps
 *      _nl_msg_cat_cntr, even for the same domain). So each switch of LANGUAGE is followed by
 *      textdomain().
 *   3. LANGUAGE rests at "en" between lookups: libc's and GLib's own messages (strerror in a
 *      log line from a driver thread) stay English in an Arabic session. It is set once at
 *      load and only replaced afterwards, never unset, so environ is never reallocated under a
 *      thread reading it.
 *   4. dgettext/dngettext, not GLib's g_dgettext: that one turns translation off for good if
 *      its first call happens to be in English under C.UTF-8.
 * A found translation points into the catalogue glibc mapped; one not found is the msgid
 * pointer itself, which is how a missing string is told from a translation equal to its source.
 */
#define LOG_MODULE "i18n"
#include "i18n.h"

#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n-priv.h"
#include "install.h"
#include "kiosk-config.h"
#include "log.h"
#include "xmalloc.h"

#define DOMAIN "kiosk"

struct i18n {
	char *localedir;
	const struct i18n_id **sorted; /* i18n_ids by id, for lookups */
	/* Each singular's text per language, [id index * LANG_COUNT + lang], as i18n_load checked
	 * it: a page rebuild then reads a pointer instead of switching LANGUAGE (setenv) twice per
	 * string. gettext's texts live in the mapped catalogue for the life of the process. */
	const char **singular;
	bool eastern_digits;
};

static const char *const codes[LANG_COUNT] = {"ar", "en"};
static const char *const names[LANG_COUNT] = {"Arabic", "English"};

/* Guards the process-wide gettext state: LANGUAGE, the domain's binding. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *bound_dir; /* where DOMAIN is bound now; under lock */
static enum lang language = LANG_EN; /* what LANGUAGE says now; under lock */

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

size_t i18n_id_count(void) { return i18n_ids_count; }
const char *i18n_id_at(size_t i) { return i < i18n_ids_count ? i18n_ids[i].id : NULL; }

const char *i18n_locale_dir(void)
{
	/* Another compiled catalogue: tests that lengthen a string, a translator's preview. */
	const char *own = getenv("KIOSK_LOCALEDIR");
	if (own && *own)
		return own;
	/* Uninstalled: the .mo files meson compiled into the build tree, fresh after each edit of
	 * a .po; an older installed copy must not shadow them. */
	if (core_install_uninstalled())
		return KIOSK_BUILD_LOCALE_DIR;
	return KIOSK_LOCALE_DIR;
}

/* false if LANGUAGE could not be set (ENOMEM): the lookup must not go on in the wrong one. */
static bool set_language(enum lang lang)
{
	if (language == lang)
		return true;
	if (setenv("LANGUAGE", codes[lang], 1) != 0) {
		LOG_ERR("setenv LANGUAGE=%s failed", codes[lang]);
		return false;
	}
	if (!textdomain(DOMAIN)) { /* invariant 2: drop the cached translations */
		LOG_ERR("textdomain(%s) failed", DOMAIN);
		return false;
	}
	language = lang;
	return true;
}

/* The translation, or NULL if the catalogue lacks it (or gettext's state could not be set).
 * Takes the lock. */
static const char *lookup(const struct i18n *i18n, const struct i18n_id *e, enum lang lang, unsigned long n)
{
	const char *s = NULL;
	pthread_mutex_lock(&lock);
	if (!bound_dir || strcmp(bound_dir, i18n->localedir) != 0) {
		if (!bindtextdomain(DOMAIN, i18n->localedir) || !bind_textdomain_codeset(DOMAIN, "UTF-8")) {
			LOG_ERR("bindtextdomain(%s, %s) failed", DOMAIN, i18n->localedir);
			goto out_unlock;
		}
		free(bound_dir);
		bound_dir = xstrdup(i18n->localedir);
	}
	if (set_language(lang))
		s = e->plural ? dngettext(DOMAIN, e->ctx_msg, e->plural, n) : dgettext(DOMAIN, e->ctx_msg);
	set_language(LANG_EN); /* invariant 3; a failure is logged, and the next lookup retries */
out_unlock:
	pthread_mutex_unlock(&lock);
	return s == e->ctx_msg || s == e->plural ? NULL : s;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp((*(const struct i18n_id *const *)a)->id, (*(const struct i18n_id *const *)b)->id);
}

static const struct i18n_id *find(const struct i18n *i18n, const char *id)
{
	size_t lo = 0, hi = i18n_ids_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(id, i18n->sorted[mid]->id);
		if (c == 0)
			return i18n->sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Whether the {name} placeholders of text all appear in source. */
static bool placeholders_within(const char *text, const char *source, const char **bad, int *bad_len)
{
	for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (!end)
			break;
		int len = (int)(end - p + 1);
		bool found = false;
		for (const char *q = strstr(source, "{"); q && !found; q = strchr(q + 1, '{'))
			found = strncmp(q, p, (size_t)len) == 0;
		if (!found) {
			*bad = p;
			*bad_len = len;
			return false;
		}
	}
	return true;
}

/* U+202A..U+202E (LRE, RLE, PDF, LRO, RLO) are E2 80 AA..AE in UTF-8. */
bool i18n_has_bidi_override(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
			return true;
	return false;
}

/* One string of one language, as i18n_load accepts it. */
static int check_text(struct i18n *i18n, const struct i18n_id *e, enum lang lang, unsigned long n,
		      struct kio_error *err)
{
	const char *file = codes[lang];
	const char *s = lookup(i18n, e, lang, n);
	if (!s)
		return kio_fail(err, KIO_ERR_INVALID, "%s/%s/LC_MESSAGES/" DOMAIN ".mo: no %s text for '%s'%s",
				i18n->localedir, file, names[lang], e->id, e->plural ? " (a plural form)" : "");
	if (!*s)
		return kio_fail(err, KIO_ERR_INVALID, "%s/%s/LC_MESSAGES/" DOMAIN ".mo: '%s' is empty",
				i18n->localedir, file, e->id);
	if (i18n_has_bidi_override(s))
		return kio_fail(err, KIO_ERR_INVALID,
				"%s/%s/LC_MESSAGES/" DOMAIN ".mo: '%s' holds a bidi override (U+202A..U+202E)",
				i18n->localedir, file, e->id);
	/* A singular keeps exactly its source's placeholders (a receipt must not lose its amount);
	 * a plural form may drop {count} where it stands for one number only ("two notes"). */
	const char *bad = NULL;
	int bad_len = 0;
	if (!placeholders_within(s, e->plural ? e->plural : e->msg, &bad, &bad_len))
		return kio_fail(err, KIO_ERR_INVALID,
				"%s/%s/LC_MESSAGES/" DOMAIN ".mo: '%s' has %.*s, which the English source lacks",
				i18n->localedir, file, e->id, bad_len, bad);
	if (!e->plural && !placeholders_within(e->msg, s, &bad, &bad_len))
		return kio_fail(err, KIO_ERR_INVALID, "%s/%s/LC_MESSAGES/" DOMAIN ".mo: '%s' lost %.*s",
				i18n->localedir, file, e->id, bad_len, bad);
	if (!e->plural)
		i18n->singular[(size_t)(e - i18n_ids) * LANG_COUNT + lang] = s;
	return 0;
}

int i18n_load(const char *localedir, struct i18n **out, struct kio_error *err)
{
	if (!localedir)
		localedir = i18n_locale_dir();
	/* Invariant 1. Only LC_MESSAGES: numbers and character classes stay the C locale's. */
	if (!setlocale(LC_MESSAGES, "C.UTF-8"))
		return kio_fail(err, KIO_ERR_UNSUPPORTED,
				"i18n: the C.UTF-8 locale is missing; gettext cannot switch language without it");
	pthread_mutex_lock(&lock);
	int set = setenv("LANGUAGE", codes[LANG_EN], 1);
	language = LANG_EN;
	pthread_mutex_unlock(&lock);
	if (set != 0)
		return kio_fail(err, KIO_ERR_IO, "i18n: cannot set LANGUAGE");
	for (int lang = 0; lang < LANG_COUNT; lang++) {
		char *mo = xasprintf("%s/%s/LC_MESSAGES/" DOMAIN ".mo", localedir, codes[lang]);
		struct stat st;
		int rc = stat(mo, &st) == 0 && S_ISREG(st.st_mode)
				 ? 0
				 : kio_fail(err, KIO_ERR_NOT_FOUND,
					    "%s: no %s catalogue (`ninja` compiles it into the build tree, "
					    "`meson install` installs it)",
					    mo, names[lang]);
		free(mo);
		if (rc)
			return rc;
	}

	struct i18n *i18n = xcalloc(1, sizeof(*i18n));
	int rc = 0;
	i18n->localedir = xstrdup(localedir);
	i18n->sorted = xcalloc(i18n_ids_count, sizeof(*i18n->sorted));
	i18n->singular = xcalloc(i18n_ids_count * LANG_COUNT, sizeof(*i18n->singular));
	for (size_t i = 0; i < i18n_ids_count; i++)
		i18n->sorted[i] = &i18n_ids[i];
	qsort(i18n->sorted, i18n_ids_count, sizeof(*i18n->sorted), cmp_id);
	for (size_t i = 1; i < i18n_ids_count && rc == 0; i++)
		if (strcmp(i18n->sorted[i - 1]->id, i18n->sorted[i]->id) == 0)
			rc = kio_fail(err, KIO_ERR_INVALID, "i18n: id '%s' is defined twice", i18n->sorted[i]->id);

	/* Every plural form a count can select: Arabic's six, English's two. */
	static const unsigned long probes[] = {0, 1, 2, 3, 11, 100};
	for (size_t i = 0; i < i18n_ids_count && rc == 0; i++) {
		const struct i18n_id *e = &i18n_ids[i];
		for (int lang = 0; lang < LANG_COUNT && rc == 0; lang++)
			for (size_t p = 0; p < (e->plural ? sizeof(probes) / sizeof(probes[0]) : 1) && rc == 0; p++)
				rc = check_text(i18n, e, (enum lang)lang, probes[p], err);
	}
	if (rc) {
		i18n_free(i18n);
		return rc;
	}
	*out = i18n;
	return 0;
}

void i18n_free(struct i18n *i18n)
{
	if (!i18n)
		return;
	free(i18n->sorted);
	free(i18n->singular);
	free(i18n->localedir);
	free(i18n);
}

static const char *get(const struct i18n *i18n, enum lang lang, const char *id, bool plural, unsigned long n)
{
	const struct i18n_id *e = find(i18n, id);
	if (!e || (unsigned)lang >= LANG_COUNT || !e->plural != !plural) {
		LOG_ERR("no %s%s string '%s'", (unsigned)lang < LANG_COUNT ? names[lang] : "?",
			plural ? " plural" : "", id);
		return "";
	}
	const char *s = plural ? lookup(i18n, e, lang, n) : i18n->singular[(size_t)(e - i18n_ids) * LANG_COUNT + lang];
	if (!s) {
		/* i18n_load saw every string, so only a changed process locale gets here. */
		LOG_ERR("%s string '%s' vanished from the catalogue", names[lang], id);
		return "";
	}
	return s;
}

const char *i18n_get(const struct i18n *i18n, enum lang lang, const char *id) { return get(i18n, lang, id, false, 1); }

const char *i18n_nget(const struct i18n *i18n, enum lang lang, const char *id, unsigned long n)
{
	return get(i18n, lang, id, true, n);
}

bool i18n_has(const struct i18n *i18n, const char *id) { return find(i18n, id) != NULL; }

void i18n_set_eastern_digits(struct i18n *i18n, bool eastern) { i18n->eastern_digits = eastern; }

bool i18n_eastern_digits(const struct i18n *i18n, enum lang lang) { return lang == LANG_AR && i18n->eastern_digits; }
