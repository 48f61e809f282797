/*
 * String catalogues: locales/<lang>.ini, one `key = text` per line under [strings]. The
 * kiosk switches language per customer session, so it looks strings up by language
 * rather than through the process locale.
 */
#pragma once

#include "err.h"

enum lang { LANG_AR, LANG_EN, LANG_COUNT };

struct i18n;

/* Loads every language from dir/locales. A missing file or a malformed line is an error
 * naming file and line; a key missing from one language is an error too, so a screen can
 * never show a raw key to a customer. Caller frees. */
int i18n_load(const char *data_dir, struct i18n **out, struct kio_error *err);
void i18n_free(struct i18n *i18n); /* accepts NULL */

/* Borrowed from the catalogue. An unknown key returns the key itself and logs an error. */
const char *i18n_get(const struct i18n *i18n, enum lang lang, const char *key);
/* false if the key does not exist. */
int i18n_has(const struct i18n *i18n, const char *key);

const char *lang_code(enum lang lang);             /* "ar", "en" */
int lang_parse(const char *code, enum lang *out);  /* KIO_ERR_INVALID if unknown */
