/*
 * Catalogue lookup: every string a customer, a technician or a receipt sees, by stable id, in
 * Arabic or English, through gettext (locales/<lang>.po compiled to kiosk.mo). The kiosk
 * switches language per customer session and prints both on a receipt, so callers name the
 * language on every lookup; the process locale is never the customer's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum lang { LANG_AR, LANG_EN, LANG_COUNT };

struct i18n;

/*
 * Opens the catalogues under localedir (<localedir>/<lang>/LC_MESSAGES/kiosk.mo); NULL means
 * the kiosk's own, see i18n_locale_dir(). Every id the kiosk knows must resolve in every
 * language, non-empty, with no bidi override character (U+202A..U+202E) and no placeholder the
 * English source lacks; otherwise KIO_ERR_INVALID naming the file, the id and the fault, so a
 * screen never shows a raw id or an English string in an Arabic session. KIO_ERR_NOT_FOUND for
 * a missing catalogue, KIO_ERR_UNSUPPORTED if the C.UTF-8 locale is missing (gettext ignores
 * LANGUAGE under plain "C").
 *
 * Sets the process's LC_MESSAGES category to C.UTF-8 and LANGUAGE to "en" (log lines from libc
 * and GLib stay English): call it before starting threads. Caller frees.
 */
int i18n_load(const char *localedir, struct i18n **out, struct kio_error *err);
void i18n_free(struct i18n *i18n); /* accepts NULL */

/* $KIOSK_LOCALEDIR if set; else the build tree's locales/ when the running program lives in the
 * build tree (uninstalled), otherwise the installed localedir. Borrowed (static or environ). */
const char *i18n_locale_dir(void);

/*
 * The text of id in lang. Borrowed from the loaded catalogue, valid for the life of the
 * process (glibc never unloads a catalogue), whatever language is asked next. An id the kiosk
 * does not know is a programming error, caught by `meson test` (i18n-catalogues): it logs an
 * error and returns "", never the id. Thread-safe.
 */
const char *i18n_get(const struct i18n *i18n, enum lang lang, const char *id);
/* The plural form of id for the count n, by the language's own rule (Arabic has six forms:
 * 0, 1, 2, 3..10, 11..99, and 100..102 and the like); "" for an unknown or singular id. */
const char *i18n_nget(const struct i18n *i18n, enum lang lang, const char *id, unsigned long n);
/* Whether the kiosk knows id (it is in kiosk/core/i18n-strings.c). */
bool i18n_has(const struct i18n *i18n, const char *id);

/* The ids the kiosk knows, in the order of kiosk/core/i18n-strings.c: i < i18n_id_count(). */
size_t i18n_id_count(void);
const char *i18n_id_at(size_t i);

/* Whether utf8 holds a bidi override (U+202A..U+202E): with one, "AED 150.00" can be drawn
 * as "00.051 DEA". Text from outside the catalogues (configuration, host, flows) is checked
 * with it before a customer sees it; isolates (U+2066..U+2069) are the tool to use instead. */
bool i18n_has_bidi_override(const char *utf8);

/* `ui.digits = eastern`: numbers formatted for Arabic text use Eastern Arabic digits
 * (U+0660..U+0669, with U+066B / U+066C separators). English always uses Western digits. */
void i18n_set_eastern_digits(struct i18n *i18n, bool eastern);
bool i18n_eastern_digits(const struct i18n *i18n, enum lang lang);

const char *lang_code(enum lang lang);             /* "ar", "en" */
int lang_parse(const char *code, enum lang *out);  /* KIO_ERR_INVALID if unknown */
