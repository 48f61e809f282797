/* Inside kiosk/fees only: the loader's rules, shared by the files' parser (catalogue.c) and
 * the stored copy's reader (catalogue-store.c), so both refuse the same catalogues. */
#pragma once

#include "catalogue.h"

/* -1 for a name the kiosk does not know. */
int cat_fee_kind_from_name(const char *name);
int cat_ref_check_from_name(const char *name);
bool cat_id_ok(const char *id);     /* [a-z0-9-]{1,CAT_ID_MAX} */
bool cat_icon_ok(const char *icon); /* [a-z0-9-]{1,59}.png */
/* src into dst[cap]; KIO_ERR_INVALID "ctx: what is N bytes long, more than cap-1" if it does not fit. */
int cat_copy(char *dst, size_t cap, const char *src, const char *ctx, const char *what, struct kio_error *err);
/* Rules 2 (ids), 3-6 of catalogue.c for one entity; `where` names it in errors. */
int cat_entity_ok(const struct cat_entity *e, const char *where, struct kio_error *err);
/* Rule 2 across entities: e against every entity before it in c's array. */
int cat_unique(const struct catalogue *c, const struct cat_entity *e, const char *where, struct kio_error *err);
/* At least one entity (else "name: no entities"); sorts them by order, then id. */
int cat_finish(struct catalogue *c, const char *name, struct kio_error *err);
