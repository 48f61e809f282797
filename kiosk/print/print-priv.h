/* What the receipts of kiosk/print share inside the module: one language's block and the
 * words, amounts and note rows in it (sample.c), for the fees receipt (fees.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/print/print.h"

/* One language's block: rows in that language's direction, words from its catalogue. */
struct block_lang {
	const struct i18n *i18n;
	enum lang lang;
	enum text_dir dir;
	bool arabic;
};

/* The catalogue's word for key in l's language. */
const char *print_word(const struct block_lang *l, const char *key);
/* tmpl with its placeholder name replaced by value; KIO_ERR_INVALID when tmpl lacks it. */
int print_fill_in(const char *tmpl, const char *name, const char *value, char *out, size_t size,
	struct kio_error *err);
/* "AED 1,250.00" / "1,250.00 د.إ" in l's digits; KIO_ERR_INVALID for a template without {amount}. */
int print_money(const struct block_lang *l, int64_t fils, char *out, size_t size, struct kio_error *err);
/* "3 notes" in l's plural form. */
void print_note_count(const struct block_lang *l, unsigned n, char *out, size_t size);
/* "2 × AED 100". */
int print_denom_label(const struct block_lang *l, const struct print_denom *d, char *out, size_t size,
	struct kio_error *err);
