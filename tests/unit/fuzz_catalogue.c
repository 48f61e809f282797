/* Fuzz target: one catalogue file's bytes (assets/catalogue/<entity>.json) through the loader
 * the kiosk runs at start. It loads or refuses with an error naming the file, never crashes,
 * and what it accepts keeps every rule (catalogue.c rules 1-6) and loads again the same. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/fees/catalogue-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalogue *c = NULL, *again = NULL;
	struct kio_error err;
	/* The bytes as they are, NULs included: the loader must not stop at one. */
	if (catalogue_parse((const char *)data, size, "fuzz.json", &c, &err) != 0) {
		if (c || strncmp(err.msg, "fuzz.json: ", 11) != 0)
			abort(); /* every error names the file; a refused file gives nothing */
		return 0;
	}
	if (c->n_entities < 1 || c->n_entities > CAT_ENTITIES_MAX || strlen(c->version) != 64)
		abort();
	for (size_t i = 0; i < c->n_entities; i++) {
		const struct cat_entity *e = &c->entities[i];
		if (cat_entity_ok(e, "again", &err) != 0)
			abort(); /* what loaded passes the rules when checked again */
		if (i > 0 && (c->entities[i - 1].order > e->order ||
			      (c->entities[i - 1].order == e->order && strcmp(c->entities[i - 1].id, e->id) >= 0)))
			abort(); /* sorted by order, then id, ids unique */
		if (catalogue_entity(c, e->id) != e)
			abort();
		for (size_t k = 0; k < e->n_services; k++) {
			const struct cat_service *s = &e->services[k];
			if (catalogue_service(e, s->id) != s)
				abort();
			/* Rule 4: stepping up from the minimum lands on the maximum. */
			if (s->kind == CAT_FEE_OPEN &&
			    (!catalogue_open_amount_ok(s, s->min_fils) || !catalogue_open_amount_ok(s, s->max_fils) ||
			     catalogue_open_amount_ok(s, s->min_fils - 1) || catalogue_open_amount_ok(s, s->max_fils + 1)))
				abort();
			/* The reference check takes any text: the input's first bytes as typed. */
			char typed[CAT_REF_MAX + 2];
			size_t n = size < sizeof(typed) - 1 ? size : sizeof(typed) - 1;
			memcpy(typed, data, n);
			typed[n] = '\0';
			int v = catalogue_reference_check(s, typed);
			if (v < 0 || v >= CAT_REF_VERDICT_COUNT)
				abort();
			if (v == CAT_REF_OK && s->has_reference &&
			    (strlen(typed) < (size_t)s->reference.min_len || strlen(typed) > (size_t)s->reference.max_len))
				abort();
		}
	}
	/* The same bytes load the same catalogue again. */
	if (catalogue_parse((const char *)data, size, "fuzz.json", &again, &err) != 0 ||
	    strcmp(again->version, c->version) != 0 || again->n_entities != c->n_entities)
		abort();
	catalogue_free(again);
	catalogue_free(c);
	return 0;
}
