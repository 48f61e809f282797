/* The id table behind i18n.c: one entry per string, defined in i18n-strings.c. */
#pragma once

#include <stddef.h>

struct i18n_id {
	const char *id;      /* the stable id: the PO files' msgctxt */
	const char *ctx_msg; /* id "\004" English source: gettext's key for msgctxt + msgid */
	const char *msg;     /* the English source alone (msgid) */
	const char *plural;  /* the English plural source (msgid_plural), NULL for a singular */
};

/*
 * I18N_S(id, english) and I18N_P(id, english, english_plural): xgettext reads them as
 * msgctxt + msgid (+ msgid_plural) with `--keyword=I18N_S:1c,2 --keyword=I18N_P:1c,2,3`, so
 * both arguments must be string literals.
 */
#define I18N_S(id, en) {id, id "\004" en, en, NULL}
#define I18N_P(id, en, en_plural) {id, id "\004" en, en, en_plural}

extern const struct i18n_id i18n_ids[];
extern const size_t i18n_ids_count;
