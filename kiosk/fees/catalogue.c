/*
 * The catalogue's loader: catalogue files (JSON, docs/catalogue.md) through the lexical guard
 * (kiosk/core/jsonguard.h), then json-glib, then the schema's types, then the rules every
 * entity must keep, one function for both the files and the stored copy (validate_entity), so
 * the kiosk never shows a catalogue the check command would refuse.
 *
 * Rules (each error names the file and the entry, "police.json: entities[0] (police):
 * services[1] (police-fines): ..."):
 *  1. Every object has exactly its schema's members: a missing member and an unknown one
 *     (a typo: "amount_fil") are both errors, as in the kiosk's configuration.
 *  2. Ids are [a-z0-9-]{1,32}; entity ids and service ids are unique in the whole catalogue
 *     (a service's screen id is fees.service.<id>, global); a file holds one entity whose id
 *     is the file's name.
 *  3. Names: both languages, 1..CAT_NAME_MAX bytes of UTF-8, no control characters, no bidi
 *     override, embedding or isolate (U+202A-202E, U+2066-2069; the marks are allowed).
 *  4. Money is integer fils in 1..CAT_AMOUNT_MAX_FILS; an open amount has min <= max and a
 *     step dividing max - min, so "up" from the minimum lands on the maximum exactly.
 *  5. An inquiry needs the host and a reference (the host looks the reference up).
 *  6. A reference is digits, 1 <= min_len <= max_len <= CAT_REF_MAX, with a known check; a
 *     check digit needs at least two digits.
 */
#define LOG_MODULE "catalogue"
#include "catalogue.h"

#include "kiosk/core/infile.h"
#include "kiosk/core/jsonguard.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalogue-priv.h"

/* Deeper than any schema object (document > entities > entity > services > service > fee or
 * reference > name): 6; a little room, never a stack json-glib's recursion cannot take. */
#define CAT_JSON_DEPTH 8

/* An error's context, "file: entities[0] (id): services[1] (id)": cut rather than overrun
 * (the message it goes into is kio_error's 256 bytes anyway). */
static void ctxf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ctxf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

static const char *const kind_names[CAT_FEE_KIND_COUNT] = {"fixed", "inquiry", "open"};
static const char *const check_names[CAT_CHECK_COUNT] = {"none", "luhn", "mod97", "damm"};

const char *cat_fee_kind_name(int kind) { return kind >= 0 && kind < CAT_FEE_KIND_COUNT ? kind_names[kind] : NULL; }
const char *cat_ref_check_name(int check) { return check >= 0 && check < CAT_CHECK_COUNT ? check_names[check] : NULL; }

int cat_fee_kind_from_name(const char *name)
{
	for (int k = 0; k < CAT_FEE_KIND_COUNT; k++)
		if (name && strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

int cat_ref_check_from_name(const char *name)
{
	for (int k = 0; k < CAT_CHECK_COUNT; k++)
		if (name && strcmp(name, check_names[k]) == 0)
			return k;
	return -1;
}

bool cat_id_ok(const char *id)
{
	size_t n = strlen(id);
	return n >= 1 && n <= CAT_ID_MAX && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

bool cat_icon_ok(const char *icon)
{
	size_t n = strlen(icon);
	if (n < 5 || n > CAT_ICON_MAX || strcmp(icon + n - 4, ".png") != 0)
		return false;
	return strspn(icon, "abcdefghijklmnopqrstuvwxyz0123456789-") == n - 4;
}

int cat_copy(char *dst, size_t cap, const char *src, const char *ctx, const char *what, struct kio_error *err)
{
	size_t n = strlen(src);
	if (n >= cap)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %s is %zu bytes long, more than %zu", ctx, what, n, cap - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

static int name_ok(const char *s, const char *ctx, const char *what, struct kio_error *err)
{
	size_t n = strlen(s);
	if (n == 0)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %s is empty", ctx, what);
	/* The files pass the guard's UTF-8 check already; the stored copy comes here too. */
	if (!g_utf8_validate(s, (gssize)n, NULL))
		return kio_fail(err, KIO_ERR_INVALID, "%s: %s is not UTF-8", ctx, what);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return kio_fail(err, KIO_ERR_INVALID, "%s: %s has a control character at byte %zu", ctx, what, i);
	/* Rule 3's bidi part: an override, embedding or isolate left open in a name reorders
	 * everything after it on the line it is printed or drawn on (the receipt's amount
	 * included). The marks (U+200E, U+200F, U+061C) only steer the neutrals next to them
	 * and Arabic text needs them, so they stay. */
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);
		if ((u >= 0x202A && u <= 0x202E) || (u >= 0x2066 && u <= 0x2069))
			return kio_fail(err, KIO_ERR_INVALID, "%s: %s has a bidi control (U+%04X) at byte %zu", ctx,
					what, (unsigned)u, (size_t)(p - s));
	}
	return 0;
}

static int text_ok(const struct cat_text *t, const char *ctx, const char *what, struct kio_error *err)
{
	char w[64];
	ctxf(w, sizeof(w), "%s.en", what);
	int rc = name_ok(t->en, ctx, w, err);
	if (!rc) {
		ctxf(w, sizeof(w), "%s.ar", what);
		rc = name_ok(t->ar, ctx, w, err);
	}
	return rc;
}

static int amount_ok(int64_t v, const char *ctx, const char *what, struct kio_error *err)
{
	if (v < 1 || v > CAT_AMOUNT_MAX_FILS)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %s %" PRId64 " is outside 1..%" PRId64, ctx, what, v,
				CAT_AMOUNT_MAX_FILS);
	return 0;
}

static int service_ok(const struct cat_service *s, const char *ctx, struct kio_error *err)
{
	if (!cat_id_ok(s->id))
		return kio_fail(err, KIO_ERR_INVALID, "%s: id '%s' is not [a-z0-9-]{1,%d}", ctx, s->id, CAT_ID_MAX);
	int rc = text_ok(&s->name, ctx, "name", err);
	if (rc)
		return rc;
	switch (s->kind) {
	case CAT_FEE_FIXED:
		rc = amount_ok(s->amount_fils, ctx, "fee.amount_fils", err);
		break;
	case CAT_FEE_INQUIRY:
		/* Rule 5. */
		if (!s->needs_host)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: an inquiry fee needs the host (needs_host is false)", ctx);
		else if (!s->has_reference)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: an inquiry fee needs a reference to look up", ctx);
		break;
	case CAT_FEE_OPEN:
		rc = amount_ok(s->min_fils, ctx, "fee.min_fils", err);
		if (!rc)
			rc = amount_ok(s->max_fils, ctx, "fee.max_fils", err);
		if (!rc)
			rc = amount_ok(s->step_fils, ctx, "fee.step_fils", err);
		if (!rc && s->min_fils > s->max_fils)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: fee.min_fils %" PRId64 " is above fee.max_fils %" PRId64,
				      ctx, s->min_fils, s->max_fils);
		/* Rule 4: every step from the minimum is an amount the fee allows, the maximum too. */
		if (!rc && (s->max_fils - s->min_fils) % s->step_fils != 0)
			rc = kio_fail(err, KIO_ERR_INVALID,
				      "%s: fee.step_fils %" PRId64 " does not divide max_fils - min_fils (%" PRId64 ")", ctx,
				      s->step_fils, s->max_fils - s->min_fils);
		break;
	default:
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: fee.kind %d is not one the kiosk knows", ctx, (int)s->kind);
		break;
	}
	if (rc)
		return rc;
	if (s->has_reference) {
		const struct cat_reference *r = &s->reference;
		rc = text_ok(&r->name, ctx, "reference.name", err);
		if (rc)
			return rc;
		if (r->min_len < 1 || r->min_len > CAT_REF_MAX)
			return kio_fail(err, KIO_ERR_INVALID, "%s: reference.min_len %d is outside 1..%d", ctx, r->min_len,
					CAT_REF_MAX);
		if (r->max_len < r->min_len || r->max_len > CAT_REF_MAX)
			return kio_fail(err, KIO_ERR_INVALID, "%s: reference.max_len %d is outside min_len (%d)..%d", ctx,
					r->max_len, r->min_len, CAT_REF_MAX);
		if ((int)r->check < 0 || r->check >= CAT_CHECK_COUNT)
			return kio_fail(err, KIO_ERR_INVALID, "%s: reference.check %d is not one the kiosk knows", ctx,
					(int)r->check);
		if (r->check != CAT_CHECK_NONE && r->min_len < 2)
			return kio_fail(err, KIO_ERR_INVALID, "%s: reference.check %s needs min_len >= 2 (a digit and its check)",
					ctx, check_names[r->check]);
	}
	if (!cat_id_ok(s->host_entity))
		return kio_fail(err, KIO_ERR_INVALID, "%s: host.entity '%s' is not [a-z0-9-]{1,%d}", ctx, s->host_entity,
				CAT_ID_MAX);
	if (!cat_id_ok(s->host_service))
		return kio_fail(err, KIO_ERR_INVALID, "%s: host.service '%s' is not [a-z0-9-]{1,%d}", ctx, s->host_service,
				CAT_ID_MAX);
	return 0;
}

int cat_entity_ok(const struct cat_entity *e, const char *where, struct kio_error *err)
{
	char ctx[160];
	ctxf(ctx, sizeof(ctx), "%s (%s)", where, e->id);
	if (!cat_id_ok(e->id))
		return kio_fail(err, KIO_ERR_INVALID, "%s: id '%s' is not [a-z0-9-]{1,%d}", ctx, e->id, CAT_ID_MAX);
	int rc = text_ok(&e->name, ctx, "name", err);
	if (rc)
		return rc;
	if (!cat_icon_ok(e->icon))
		return kio_fail(err, KIO_ERR_INVALID, "%s: icon '%s' is not a file name [a-z0-9-]{1,59}.png", ctx, e->icon);
	if (e->order < 0 || e->order > CAT_ORDER_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "%s: order %d is outside 0..%d", ctx, e->order, CAT_ORDER_MAX);
	if (e->n_services < 1 || e->n_services > CAT_SERVICES_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %zu services, not 1..%d", ctx, e->n_services, CAT_SERVICES_MAX);
	for (size_t i = 0; i < e->n_services; i++) {
		char sctx[224];
		ctxf(sctx, sizeof(sctx), "%s: services[%zu] (%s)", ctx, i, e->services[i].id);
		rc = service_ok(&e->services[i], sctx, err);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(e->services[j].id, e->services[i].id) == 0)
				return kio_fail(err, KIO_ERR_INVALID, "%s: id '%s' is also services[%zu]", sctx,
						e->services[i].id, j);
	}
	return 0;
}

/* ---- JSON to structs: rule 1 and the types ---- */

static int members_only(JsonObject *o, const char *const *allowed, const char *ctx, struct kio_error *err)
{
	int rc = 0;
	GList *names = json_object_get_members(o);
	for (GList *l = names; l && !rc; l = l->next) {
		const char *name = l->data;
		bool known = false;
		for (const char *const *a = allowed; *a && !known; a++)
			known = strcmp(*a, name) == 0;
		if (!known) {
			char shown[48];
			size_t k = 0;
			for (; name[k] && k < sizeof(shown) - 1; k++)
				shown[k] = (unsigned char)name[k] < 0x20 ? '?' : name[k];
			shown[k] = '\0';
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: unknown member '%s'", ctx, shown);
		}
	}
	g_list_free(names);
	if (rc)
		return rc;
	for (const char *const *a = allowed; *a; a++)
		if (!json_object_has_member(o, *a))
			return kio_fail(err, KIO_ERR_INVALID, "%s: no '%s'", ctx, *a);
	return 0;
}

static const char *type_of(JsonNode *n)
{
	if (JSON_NODE_HOLDS_OBJECT(n))
		return "an object";
	if (JSON_NODE_HOLDS_ARRAY(n))
		return "an array";
	if (JSON_NODE_HOLDS_NULL(n))
		return "null";
	GType t = json_node_get_value_type(n);
	if (t == G_TYPE_STRING)
		return "a string";
	if (t == G_TYPE_BOOLEAN)
		return "a boolean";
	if (t == G_TYPE_DOUBLE)
		return "a number with a fraction or exponent";
	return "a number";
}

/* An entry's id for its errors, before the id itself is checked: shown only when it is an id. */
static const char *peek_id(JsonObject *o)
{
	JsonNode *n = json_object_get_member(o, "id");
	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return "?";
	const char *id = json_node_get_string(n);
	return cat_id_ok(id) ? id : "?";
}

/* Member `name` of o, called `what` in errors. */
static int get_string_as(JsonObject *o, const char *name, const char *what, char *dst, size_t cap, const char *ctx,
			 struct kio_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return kio_fail(err, KIO_ERR_INVALID, "%s: '%s' is %s, not a string", ctx, what, type_of(n));
	return cat_copy(dst, cap, json_node_get_string(n), ctx, what, err);
}

static int get_string(JsonObject *o, const char *name, char *dst, size_t cap, const char *ctx,
		      struct kio_error *err)
{
	return get_string_as(o, name, name, dst, cap, ctx, err);
}

static int get_int(JsonObject *o, const char *name, int64_t *v, const char *ctx, struct kio_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return kio_fail(err, KIO_ERR_INVALID, "%s: '%s' is %s, not an integer", ctx, name, type_of(n));
	*v = json_node_get_int(n);
	return 0;
}

/* An int-sized member: its range is checked by the rules; here only that it fits. */
static int get_small(JsonObject *o, const char *name, int *v, const char *ctx, struct kio_error *err)
{
	int64_t x;
	int rc = get_int(o, name, &x, ctx, err);
	if (rc)
		return rc;
	if (x < -1000000 || x > 1000000)
		return kio_fail(err, KIO_ERR_INVALID, "%s: '%s' %" PRId64 " is out of range", ctx, name, x);
	*v = (int)x;
	return 0;
}

static int get_bool(JsonObject *o, const char *name, bool *v, const char *ctx, struct kio_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
		return kio_fail(err, KIO_ERR_INVALID, "%s: '%s' is %s, not true or false", ctx, name, type_of(n));
	*v = json_node_get_boolean(n);
	return 0;
}

static JsonObject *get_object(JsonObject *o, const char *name, const char *ctx, struct kio_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!JSON_NODE_HOLDS_OBJECT(n)) {
		kio_fail(err, KIO_ERR_INVALID, "%s: '%s' is %s, not an object", ctx, name, type_of(n));
		return NULL;
	}
	return json_node_get_object(n);
}

/* {"en","ar"}: errors call them name.en, reference.name.ar, as text_ok does. */
static int get_text(JsonObject *o, const char *name, struct cat_text *t, const char *ctx, struct kio_error *err)
{
	char c[224], en[48], ar[48];
	ctxf(c, sizeof(c), "%s: %s", ctx, name);
	ctxf(en, sizeof(en), "%s.en", name);
	ctxf(ar, sizeof(ar), "%s.ar", name);
	JsonObject *to = get_object(o, name, ctx, err);
	if (!to)
		return KIO_ERR_INVALID;
	static const char *const members[] = {"en", "ar", NULL};
	int rc = members_only(to, members, c, err);
	if (!rc)
		rc = get_string_as(to, "en", en, t->en, sizeof(t->en), ctx, err);
	if (!rc)
		rc = get_string_as(to, "ar", ar, t->ar, sizeof(t->ar), ctx, err);
	return rc;
}

static int read_fee(JsonObject *so, struct cat_service *s, const char *ctx, struct kio_error *err)
{
	char c[224];
	ctxf(c, sizeof(c), "%s: fee", ctx);
	JsonObject *fo = get_object(so, "fee", ctx, err);
	if (!fo)
		return KIO_ERR_INVALID;
	char kind[16];
	if (!json_object_has_member(fo, "kind"))
		return kio_fail(err, KIO_ERR_INVALID, "%s: no 'kind'", c);
	int rc = get_string(fo, "kind", kind, sizeof(kind), c, err);
	if (rc)
		return rc;
	int k = cat_fee_kind_from_name(kind);
	if (k < 0)
		return kio_fail(err, KIO_ERR_INVALID, "%s: kind '%s' is not fixed, inquiry or open", c, kind);
	s->kind = (enum cat_fee_kind)k;
	static const char *const fixed[] = {"kind", "amount_fils", NULL};
	static const char *const inquiry[] = {"kind", NULL};
	static const char *const open[] = {"kind", "min_fils", "max_fils", "step_fils", NULL};
	static const char *const *const members[CAT_FEE_KIND_COUNT] = {fixed, inquiry, open};
	rc = members_only(fo, members[k], c, err);
	if (rc)
		return rc;
	if (s->kind == CAT_FEE_FIXED)
		rc = get_int(fo, "amount_fils", &s->amount_fils, c, err);
	if (s->kind == CAT_FEE_OPEN) {
		rc = get_int(fo, "min_fils", &s->min_fils, c, err);
		if (!rc)
			rc = get_int(fo, "max_fils", &s->max_fils, c, err);
		if (!rc)
			rc = get_int(fo, "step_fils", &s->step_fils, c, err);
	}
	return rc;
}

static int read_reference(JsonObject *so, struct cat_service *s, const char *ctx, struct kio_error *err)
{
	JsonNode *n = json_object_get_member(so, "reference");
	if (JSON_NODE_HOLDS_NULL(n)) {
		s->has_reference = false;
		return 0;
	}
	char c[224];
	ctxf(c, sizeof(c), "%s: reference", ctx);
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return kio_fail(err, KIO_ERR_INVALID, "%s: 'reference' is %s, not null or an object", ctx, type_of(n));
	JsonObject *ro = json_node_get_object(n);
	static const char *const members[] = {"name", "min_len", "max_len", "charset", "check", NULL};
	int rc = members_only(ro, members, c, err);
	if (rc)
		return rc;
	s->has_reference = true;
	struct cat_reference *r = &s->reference;
	rc = get_text(ro, "name", &r->name, c, err);
	if (!rc)
		rc = get_small(ro, "min_len", &r->min_len, c, err);
	if (!rc)
		rc = get_small(ro, "max_len", &r->max_len, c, err);
	char word[16];
	if (!rc)
		rc = get_string(ro, "charset", word, sizeof(word), c, err);
	if (!rc && strcmp(word, "digits") != 0)
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: charset '%s' is not digits (the only one the keypad types)", c,
			      word);
	if (!rc)
		rc = get_string(ro, "check", word, sizeof(word), c, err);
	if (!rc) {
		int k = cat_ref_check_from_name(word);
		if (k < 0)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: check '%s' is not none, luhn, mod97 or damm", c, word);
		else
			r->check = (enum cat_ref_check)k;
	}
	return rc;
}

static int read_service(JsonNode *n, struct cat_service *s, const char *ctx, struct kio_error *err)
{
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return kio_fail(err, KIO_ERR_INVALID, "%s: %s, not an object", ctx, type_of(n));
	JsonObject *so = json_node_get_object(n);
	static const char *const members[] = {"id", "name", "fee", "reference", "host", "needs_host", NULL};
	char c[224];
	ctxf(c, sizeof(c), "%s (%s)", ctx, peek_id(so));
	int rc = members_only(so, members, c, err);
	if (!rc)
		rc = get_string(so, "id", s->id, sizeof(s->id), ctx, err);
	if (!rc)
		rc = get_text(so, "name", &s->name, c, err);
	if (!rc)
		rc = read_fee(so, s, c, err);
	if (!rc)
		rc = read_reference(so, s, c, err);
	if (!rc)
		rc = get_bool(so, "needs_host", &s->needs_host, c, err);
	if (rc)
		return rc;
	char hc[232];
	ctxf(hc, sizeof(hc), "%s: host", c);
	JsonObject *ho = get_object(so, "host", c, err);
	if (!ho)
		return KIO_ERR_INVALID;
	static const char *const host_members[] = {"entity", "service", NULL};
	rc = members_only(ho, host_members, hc, err);
	if (!rc)
		rc = get_string(ho, "entity", s->host_entity, sizeof(s->host_entity), hc, err);
	if (!rc)
		rc = get_string(ho, "service", s->host_service, sizeof(s->host_service), hc, err);
	return rc;
}

static int read_entity(JsonNode *n, struct cat_entity *e, const char *where, struct kio_error *err)
{
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return kio_fail(err, KIO_ERR_INVALID, "%s: %s, not an object", where, type_of(n));
	JsonObject *eo = json_node_get_object(n);
	static const char *const members[] = {"id", "name", "icon", "order", "services", NULL};
	char ctx[160];
	ctxf(ctx, sizeof(ctx), "%s (%s)", where, peek_id(eo));
	int rc = members_only(eo, members, ctx, err);
	if (!rc)
		rc = get_string(eo, "id", e->id, sizeof(e->id), where, err);
	if (!rc)
		rc = get_text(eo, "name", &e->name, ctx, err);
	if (!rc)
		rc = get_string(eo, "icon", e->icon, sizeof(e->icon), ctx, err);
	if (!rc)
		rc = get_small(eo, "order", &e->order, ctx, err);
	if (rc)
		return rc;
	JsonNode *sn = json_object_get_member(eo, "services");
	if (!JSON_NODE_HOLDS_ARRAY(sn))
		return kio_fail(err, KIO_ERR_INVALID, "%s: 'services' is %s, not an array", ctx, type_of(sn));
	JsonArray *sa = json_node_get_array(sn);
	guint count = json_array_get_length(sa);
	if (count < 1 || count > CAT_SERVICES_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %u services, not 1..%d", ctx, count, CAT_SERVICES_MAX);
	e->services = xcalloc(count, sizeof(*e->services));
	e->n_services = count;
	for (guint i = 0; i < count && !rc; i++) {
		char sctx[200];
		ctxf(sctx, sizeof(sctx), "%s: services[%u]", ctx, i);
		rc = read_service(json_array_get_element(sa, i), &e->services[i], sctx, err);
	}
	if (!rc)
		rc = cat_entity_ok(e, where, err);
	return rc;
}

static void entities_free(struct cat_entity *es, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(es[i].services);
	free(es);
}

void catalogue_free(struct catalogue *c)
{
	if (!c)
		return;
	entities_free(c->entities, c->n_entities);
	free(c);
}

/* One document into c, appended (unsorted until cat_finish). */
static int parse_into(const char *buf, size_t len, const char *file, struct catalogue *c, struct kio_error *err)
{
	if (!buf || len == 0)
		return kio_fail(err, KIO_ERR_INVALID, "%s: empty", file);
	if (len > CAT_FILE_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %zu bytes, above the %d-byte limit", file, len, CAT_FILE_MAX);
	static const struct core_json_limits lim = {.depth_max = CAT_JSON_DEPTH, .fractions = true};
	struct core_json_refusal why;
	if (!core_json_guard_ok(buf, len, &lim, &why))
		return kio_fail(err, KIO_ERR_INVALID, "%s: %s", file, why.msg);
	JsonParser *p = json_parser_new_immutable();
	GError *gerr = NULL;
	int rc = 0;
	if (!json_parser_load_from_data(p, buf, (gssize)len, &gerr)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: not JSON (%s)", file, gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		goto out_unref;
	}
	JsonNode *root = json_parser_get_root(p);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: not a JSON object", file);
		goto out_unref;
	}
	JsonObject *ro = json_node_get_object(root);
	static const char *const members[] = {"entities", NULL};
	rc = members_only(ro, members, file, err);
	if (rc)
		goto out_unref;
	JsonNode *en = json_object_get_member(ro, "entities");
	if (!JSON_NODE_HOLDS_ARRAY(en)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: 'entities' is %s, not an array", file, type_of(en));
		goto out_unref;
	}
	JsonArray *ea = json_node_get_array(en);
	guint count = json_array_get_length(ea);
	if (count > CAT_ENTITIES_MAX - c->n_entities) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: more than %d entities", file, CAT_ENTITIES_MAX);
		goto out_unref;
	}
	c->entities = xrealloc(c->entities, (c->n_entities + count + 1) * sizeof(*c->entities));
	for (guint i = 0; i < count && !rc; i++) {
		struct cat_entity *e = &c->entities[c->n_entities];
		memset(e, 0, sizeof(*e));
		c->n_entities++; /* owned by c from here, freed with it on an error */
		char where[96];
		ctxf(where, sizeof(where), "%s: entities[%u]", file, i);
		rc = read_entity(json_array_get_element(ea, i), e, where, err);
		if (!rc)
			rc = cat_unique(c, e, where, err);
	}
out_unref:
	g_object_unref(p);
	return rc;
}

static int by_order(const void *a, const void *b)
{
	const struct cat_entity *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Rule 2: e (just read, `where` naming it) against every entity before it in c. */
int cat_unique(const struct catalogue *c, const struct cat_entity *e, const char *where, struct kio_error *err)
{
	for (const struct cat_entity *o = c->entities; o < e; o++) {
		if (strcmp(o->id, e->id) == 0)
			return kio_fail(err, KIO_ERR_INVALID, "%s (%s): the entity id is given twice", where, e->id);
		for (size_t s = 0; s < e->n_services; s++)
			for (size_t t = 0; t < o->n_services; t++)
				if (strcmp(o->services[t].id, e->services[s].id) == 0)
					return kio_fail(err, KIO_ERR_INVALID,
							"%s (%s): services[%zu] (%s): the id is also a service of entity '%s'",
							where, e->id, s, e->services[s].id, o->id);
	}
	return 0;
}

int cat_finish(struct catalogue *c, const char *name, struct kio_error *err)
{
	if (c->n_entities == 0)
		return kio_fail(err, KIO_ERR_INVALID, "%s: no entities", name);
	qsort(c->entities, c->n_entities, sizeof(*c->entities), by_order);
	return 0;
}

static void hash_file(GChecksum *h, const char *name, const char *buf, size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%zu", len);
	g_checksum_update(h, (const guchar *)name, (gssize)strlen(name) + 1); /* with its NUL */
	g_checksum_update(h, (const guchar *)head, n + 1);
	g_checksum_update(h, (const guchar *)buf, (gssize)len);
}

static void set_version(struct catalogue *c, GChecksum *h)
{
	snprintf(c->version, sizeof(c->version), "%s", g_checksum_get_string(h));
}

int catalogue_parse(const char *buf, size_t len, const char *file, struct catalogue **out, struct kio_error *err)
{
	*out = NULL;
	struct catalogue *c = xcalloc(1, sizeof(*c));
	int rc = parse_into(buf, len, file, c, err);
	if (!rc)
		rc = cat_finish(c, file, err);
	if (rc) {
		catalogue_free(c);
		return rc;
	}
	GChecksum *h = g_checksum_new(G_CHECKSUM_SHA256);
	hash_file(h, file, buf, len);
	set_version(c, h);
	g_checksum_free(h);
	*out = c;
	return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The whole of path into a new buffer; a catalogue file is small, a larger one is refused
 * before it is read. */
static int read_file(const char *path, const char *name, char **buf, size_t *len, struct kio_error *err)
{
	*buf = NULL;
	/* A FIFO named *.json is refused, not waited on (core_infile_open): the kiosk's start
	 * would hang. The file was just listed: gone now is a fault, not "no catalogue". */
	struct stat st;
	int fd = core_infile_open(path, name, 0, &st, err);
	if (fd < 0) {
		int code = fd == KIO_ERR_NOT_FOUND ? KIO_ERR_IO : fd;
		if (err)
			err->code = code;
		return code;
	}
	int rc = 0;
	if (st.st_size > CAT_FILE_MAX) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: %jd bytes, above the %d-byte limit", name, (intmax_t)st.st_size,
			      CAT_FILE_MAX);
		goto out_close;
	}
	char *b = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	for (;;) {
		/* One byte more than stat said: a file growing under us is caught, not cut. */
		ssize_t r = read(fd, b + got, (size_t)st.st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = kio_fail(err, KIO_ERR_IO, "%s: cannot read: %s", name, strerror(errno));
			free(b);
			goto out_close;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > (size_t)st.st_size) {
			rc = kio_fail(err, KIO_ERR_IO, "%s: changed while read", name);
			free(b);
			goto out_close;
		}
	}
	*buf = b;
	*len = got;
out_close:
	close(fd);
	return rc;
}

int catalogue_load_dir(const char *dir, struct catalogue **out, struct kio_error *err)
{
	*out = NULL;
	DIR *d = opendir(dir);
	if (!d)
		return kio_fail(err, errno == ENOENT ? KIO_ERR_NOT_FOUND : KIO_ERR_IO, "catalogue %s: %s", dir,
				strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (n == CAT_ENTITIES_MAX) {
			rc = kio_fail(err, KIO_ERR_INVALID, "catalogue %s: more than %d files", dir, CAT_ENTITIES_MAX);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (!rc && n == 0)
		rc = kio_fail(err, KIO_ERR_NOT_FOUND, "catalogue %s: no *.json file", dir);
	if (rc)
		goto out_names;
	qsort(names, n, sizeof(*names), by_name);

	struct catalogue *c = xcalloc(1, sizeof(*c));
	GChecksum *h = g_checksum_new(G_CHECKSUM_SHA256);
	for (size_t i = 0; i < n && !rc; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *buf = NULL;
		size_t len = 0;
		rc = read_file(path, names[i], &buf, &len, err);
		free(path);
		if (rc)
			break;
		hash_file(h, names[i], buf, len);
		size_t before = c->n_entities;
		rc = parse_into(buf, len, names[i], c, err);
		free(buf);
		/* Rule 2: one entity a file, named as the file is. */
		if (!rc && c->n_entities != before + 1)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: %zu entities, a file holds exactly one", names[i],
				      c->n_entities - before);
		if (!rc && strncmp(names[i], c->entities[before].id, strlen(names[i]) - 5) != 0)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: entities[0] (%s): the id is not the file's name", names[i],
				      c->entities[before].id);
		if (!rc && strlen(c->entities[before].id) != strlen(names[i]) - 5)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: entities[0] (%s): the id is not the file's name", names[i],
				      c->entities[before].id);
	}
	if (!rc)
		rc = cat_finish(c, dir, err);
	if (!rc)
		set_version(c, h);
	g_checksum_free(h);
	if (rc)
		catalogue_free(c);
	else
		*out = c;
out_names:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

const struct cat_entity *catalogue_entity(const struct catalogue *c, const char *id)
{
	if (!c || !id)
		return NULL;
	for (size_t i = 0; i < c->n_entities; i++)
		if (strcmp(c->entities[i].id, id) == 0)
			return &c->entities[i];
	return NULL;
}

const struct cat_service *catalogue_service(const struct cat_entity *e, const char *id)
{
	if (!e || !id)
		return NULL;
	for (size_t i = 0; i < e->n_services; i++)
		if (strcmp(e->services[i].id, id) == 0)
			return &e->services[i];
	return NULL;
}
