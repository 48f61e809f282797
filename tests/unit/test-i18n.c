/*
 * Unit tests of kiosk/core/i18n: the compiled catalogues of this build, language switching per
 * call under C.UTF-8, Arabic's six plural forms, and catalogues i18n_load must refuse.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/i18n.h"
#define LOG_MODULE "test-i18n"
#include "kiosk/core/log.h"
#include "kiosk/kdev.h"

static struct i18n *cat; /* this build's catalogues */

static void test_loads_both_languages(void)
{
	g_assert_cmpstr(i18n_get(cat, LANG_EN, "home.topup"), ==, "Top up card");
	g_assert_cmpstr(i18n_get(cat, LANG_AR, "home.topup"), ==, "شحن البطاقة");
	g_assert_cmpstr(i18n_get(cat, LANG_AR, "receipt.money"), ==, "{amount} د.إ");
	g_assert_true(i18n_has(cat, "status.cash.jam"));
	g_assert_false(i18n_has(cat, "no.such.key"));
	/* Invariant 1 and 3 of i18n.c: messages category C.UTF-8, LANGUAGE back at "en". */
	g_assert_cmpstr(setlocale(LC_MESSAGES, NULL), ==, "C.UTF-8");
	g_assert_cmpstr(g_getenv("LANGUAGE"), ==, "en");
}

/* A customer session switches language without a restart, and the receipt asks for the other
 * language in between: each lookup gets its own language, and a string returned earlier stays
 * valid and unchanged. */
static void test_switches_per_call(void)
{
	const char *ar = i18n_get(cat, LANG_AR, "home.title");
	const char *en = i18n_get(cat, LANG_EN, "home.title");
	for (int i = 0; i < 1000; i++) {
		enum lang lang = i % 3 == 0 ? LANG_EN : LANG_AR;
		const char *s = i18n_get(cat, lang, "home.title");
		g_assert_cmpstr(s, ==, lang == LANG_AR ? "خدمات الدرهم الإلكتروني" : "e-Dirham services");
	}
	g_assert_cmpstr(ar, ==, "خدمات الدرهم الإلكتروني");
	g_assert_cmpstr(en, ==, "e-Dirham services");
	/* English right after Arabic and the other way round, with no other call between. */
	g_assert_cmpstr(i18n_get(cat, LANG_EN, "common.back"), ==, "Back");
	g_assert_cmpstr(i18n_get(cat, LANG_AR, "common.back"), ==, "رجوع");
	g_assert_cmpstr(i18n_get(cat, LANG_EN, "common.back"), ==, "Back");
	g_assert_cmpstr(g_getenv("LANGUAGE"), ==, "en");
}

/* The plural path for the counts the issue names, in both languages. */
static void test_plural_forms(void)
{
	static const struct {
		unsigned long n;
		const char *ar, *en;
	} cases[] = {
		{0, "لا أوراق نقدية", "{count} notes"},
		{1, "ورقة نقدية واحدة", "{count} note"},
		{2, "ورقتان نقديتان", "{count} notes"},
		{3, "{count} أوراق نقدية", "{count} notes"},
		{10, "{count} أوراق نقدية", "{count} notes"},
		{11, "{count} ورقة نقدية", "{count} notes"},
		{99, "{count} ورقة نقدية", "{count} notes"},
		{100, "{count} ورقة نقدية", "{count} notes"},
		{101, "{count} ورقة نقدية", "{count} notes"},
		{102, "{count} ورقة نقدية", "{count} notes"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("n = %lu", cases[i].n);
		g_assert_cmpstr(i18n_nget(cat, LANG_AR, "receipt.notes.count", cases[i].n), ==, cases[i].ar);
		g_assert_cmpstr(i18n_nget(cat, LANG_EN, "receipt.notes.count", cases[i].n), ==, cases[i].en);
	}
	/* 100 and 11 differ in Arabic though both "many" in English: forms 5 and 4 are distinct
	 * entries of the catalogue, not one string reused. */
	g_assert_true(i18n_nget(cat, LANG_AR, "receipt.notes.count", 11) !=
		      i18n_nget(cat, LANG_AR, "receipt.notes.count", 100));
}

static int errors_logged;
static void count_errors(void *user, enum log_level level, const char *module, const char *msg)
{
	if (level == LOG_ERROR)
		errors_logged++;
}

/* An id the kiosk does not know never reaches the screen as itself (issue 9). */
static void test_unknown_id_is_never_shown(void)
{
	errors_logged = 0;
	log_set_sink(count_errors, NULL);
	g_assert_cmpstr(i18n_get(cat, LANG_AR, "home.no_such_tile"), ==, "");
	g_assert_cmpstr(i18n_get(cat, LANG_EN, "home.no_such_tile"), ==, "");
	g_assert_cmpstr(i18n_nget(cat, LANG_AR, "home.title", 3), ==, ""); /* not a plural */
	g_assert_cmpstr(i18n_get(cat, LANG_AR, "receipt.notes.count"), ==, ""); /* a plural */
	log_set_sink(NULL, NULL);
	g_assert_cmpint(errors_logged, ==, 4);
}

/* kiosk/app.c asks status.<device>.<fault> (kdev_notice_key) for every fault a device class
 * reports ("starting" for none), for every device in the one device table (kiosk/kdev.h): each
 * must exist, and no status.<device>.* id may exist that no fault asks for. (Other status.* ids
 * are literals in the code, which i18n-catalogues checks.) */
static void test_every_device_notice_exists(void)
{
	GHashTable *asked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int d = 0; d < KDEV_HARDWARE_COUNT; d++) {
		const struct kdev_info *info = kdev_info((enum kdev)d);
		for (int f = 0; f < info->fault_count; f++) {
			char id[64];
			g_assert_nonnull(info->fault_name(f));
			kdev_notice_key((enum kdev)d, info->fault_name(f), id, sizeof(id));
			if (!i18n_has(cat, id))
				g_error("kiosk/app.c asks for '%s', which kiosk/core/i18n-strings.c lacks", id);
			g_hash_table_add(asked, g_strdup(id));
		}
		g_assert_null(info->fault_name(info->fault_count));
	}
	for (size_t i = 0; i < i18n_id_count(); i++) {
		const char *id = i18n_id_at(i);
		bool built = false;
		for (int d = 0; d < KDEV_HARDWARE_COUNT; d++) {
			char *prefix = g_strdup_printf("status.%s.", kdev_info((enum kdev)d)->name);
			built = built || g_str_has_prefix(id, prefix);
			g_free(prefix);
		}
		if (built && !g_hash_table_contains(asked, id))
			g_error("'%s' is no device's fault: an unused catalogue entry", id);
	}
	g_hash_table_destroy(asked);
}

/* ---- catalogues i18n_load must refuse ---- */

/* A locale dir with this build's en.po and ar.po compiled, ar.po edited: every `from` replaced by
 * `to` (from = NULL: unchanged). Returns the dir; the caller removes it. */
static char *catalogue_with(const char *from, const char *to)
{
	char *dir = g_dir_make_tmp("kiosk-i18n-XXXXXX", NULL);
	const char *src = g_getenv("KIOSK_SOURCE_DIR"), *msgfmt = g_getenv("MSGFMT");
	g_assert_nonnull(src);
	g_assert_nonnull(msgfmt);
	for (int i = 0; i < 2; i++) {
		const char *lang = i ? "en" : "ar";
		char *po = g_strdup_printf("%s/locales/%s.po", src, lang), *text = NULL;
		g_assert_true(g_file_get_contents(po, &text, NULL, NULL));
		if (i == 0 && from) {
			g_assert_nonnull(strstr(text, from));
			char **parts = g_strsplit(text, from, -1);
			g_free(text);
			text = g_strjoinv(to, parts);
			g_strfreev(parts);
		}
		char *lc = g_strdup_printf("%s/%s/LC_MESSAGES", dir, lang);
		g_assert_cmpint(g_mkdir_with_parents(lc, 0700), ==, 0);
		char *edited = g_strdup_printf("%s/%s.po", dir, lang);
		g_assert_true(g_file_set_contents(edited, text, -1, NULL));
		char *argv[] = {(char *)msgfmt, "-o", NULL, edited, NULL};
		argv[2] = g_strdup_printf("%s/kiosk.mo", lc);
		int status = -1;
		g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
		g_assert_cmpint(status, ==, 0);
		g_remove(edited);
		g_free(argv[2]), g_free(edited), g_free(lc), g_free(text), g_free(po);
	}
	return dir;
}

static void remove_catalogue(char *dir)
{
	for (int i = 0; i < 2; i++) {
		char *mo = g_strdup_printf("%s/%s/LC_MESSAGES/kiosk.mo", dir, i ? "en" : "ar");
		char *lc = g_path_get_dirname(mo), *ld = g_path_get_dirname(lc);
		g_remove(mo), g_rmdir(lc), g_rmdir(ld);
		g_free(mo), g_free(lc), g_free(ld);
	}
	g_rmdir(dir);
	g_free(dir);
}

static void expect_refused(const char *from, const char *to, int code, const char *why)
{
	char *dir = catalogue_with(from, to);
	struct i18n *bad = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(i18n_load(dir, &bad, &err), ==, code);
	g_assert_null(bad);
	g_test_message("%s", err.msg);
	if (!strstr(err.msg, why))
		g_error("expected \"%s\" in: %s", why, err.msg);
	remove_catalogue(dir);
}

static void test_refuses_bad_catalogues(void)
{
	/* The unedited copy loads: the refusals below are the edits'. */
	char *dir = catalogue_with(NULL, NULL);
	struct i18n *good = NULL;
	struct kio_error err = {0};
	if (i18n_load(dir, &good, &err) != 0)
		g_error("%s", err.msg);
	g_assert_cmpstr(i18n_get(good, LANG_AR, "home.topup"), ==, "شحن البطاقة");
	i18n_free(good);
	remove_catalogue(dir);

	/* Missing or empty Arabic: never English on an Arabic screen, never the raw id. */
	expect_refused("msgstr \"شحن البطاقة\"", "msgstr \"\"", KIO_ERR_INVALID,
		       "no Arabic text for 'home.topup'");
	expect_refused("msgctxt \"home.topup\"", "msgctxt \"home.topup.old\"", KIO_ERR_INVALID,
		       "no Arabic text for 'home.topup'");
	/* A changed English source orphans the Arabic: refused until ar.po is merged and reviewed. */
	expect_refused("msgid \"Top up card\"", "msgid \"Top up the card\"", KIO_ERR_INVALID,
		       "no Arabic text for 'home.topup'");
	/* One of Arabic's six forms left empty (msgfmt keeps the entry for the other five). */
	expect_refused("msgstr[4] \"{count} ورقة نقدية\"", "msgstr[4] \"\"", KIO_ERR_INVALID,
		       "'receipt.notes.count' is empty");
	/* RLO (U+202E) would draw "150.00 د.إ" backwards; an isolate elsewhere stays allowed. */
	expect_refused("msgstr \"{amount} د.إ\"", "msgstr \"\xE2\x80\xAE{amount} د.إ\"", KIO_ERR_INVALID,
		       "'receipt.money' holds a bidi override");
	expect_refused("msgstr \"{amount} د.إ\"", "msgstr \"\xE2\x80\xAA{amount} د.إ\"", KIO_ERR_INVALID,
		       "'receipt.money' holds a bidi override");
	/* A translation that loses its figure, or invents one. */
	expect_refused("msgstr \"{amount} د.إ\"", "msgstr \"د.إ\"", KIO_ERR_INVALID, "'receipt.money' lost {amount}");
	expect_refused("msgstr \"{amount} د.إ\"", "msgstr \"{amount} {total} د.إ\"", KIO_ERR_INVALID,
		       "'receipt.money' has {total}");
	expect_refused("msgstr[3] \"{count} أوراق نقدية\"", "msgstr[3] \"{amount} أوراق نقدية\"",
		       KIO_ERR_INVALID, "'receipt.notes.count' has {amount}");
}

static void test_refuses_missing_catalogue(void)
{
	char *dir = catalogue_with(NULL, NULL);
	char *mo = g_strdup_printf("%s/ar/LC_MESSAGES/kiosk.mo", dir);
	g_assert_cmpint(g_remove(mo), ==, 0);
	struct i18n *bad = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(i18n_load(dir, &bad, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_nonnull(strstr(err.msg, "no Arabic catalogue"));
	g_free(mo);
	remove_catalogue(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	struct kio_error err = {0};
	if (i18n_load(NULL, &cat, &err) != 0)
		g_error("%s", err.msg);
	g_test_add_func("/i18n/loads", test_loads_both_languages);
	g_test_add_func("/i18n/switches-per-call", test_switches_per_call);
	g_test_add_func("/i18n/plural-forms", test_plural_forms);
	g_test_add_func("/i18n/unknown-id", test_unknown_id_is_never_shown);
	g_test_add_func("/i18n/device-notices", test_every_device_notice_exists);
	g_test_add_func("/i18n/refuses-bad", test_refuses_bad_catalogues);
	g_test_add_func("/i18n/refuses-missing", test_refuses_missing_catalogue);
	int rc = g_test_run();
	i18n_free(cat);
	return rc;
}
