/* The parser of every host answer: the lexical guard json-glib lacks (kiosk/core/jsonguard.h:
 * integer width, leading zeros, depth, NUL, duplicate names, UTF-8), then json-glib, then the
 * contract's types and ranges. */
#define LOG_MODULE "sync-wire"
#include "wire.h"

#include "kiosk/core/jsonguard.h"

#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static JsonParser *parse(const char *buf, size_t len, const char *ctx, JsonObject **root, struct kio_error *err)
{
	*root = NULL;
	if (len > SYNC_WIRE_BODY_MAX) {
		kio_fail(err, KIO_ERR_PROTOCOL, "%s: %zu bytes, above the %d-byte limit", ctx, len, SYNC_WIRE_BODY_MAX);
		return NULL;
	}
	if (len == 0 || !buf) {
		kio_fail(err, KIO_ERR_PROTOCOL, "%s: an empty body", ctx);
		return NULL;
	}
	/* Fractions pass here: get_int refuses one where an integer belongs, by name. */
	static const struct core_json_limits lim = {.depth_max = SYNC_WIRE_DEPTH_MAX, .fractions = true};
	struct core_json_refusal why;
	if (!core_json_guard_ok(buf, len, &lim, &why)) {
		kio_fail(err, KIO_ERR_PROTOCOL, "%s: %s", ctx, why.msg);
		return NULL;
	}
	JsonParser *p = json_parser_new_immutable();
	GError *gerr = NULL;
	if (!json_parser_load_from_data(p, buf, (gssize)len, &gerr)) {
		kio_fail(err, KIO_ERR_PROTOCOL, "%s: not JSON (%s)", ctx, gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		g_object_unref(p);
		return NULL;
	}
	JsonNode *node = json_parser_get_root(p);
	if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
		kio_fail(err, KIO_ERR_PROTOCOL, "%s: not a JSON object", ctx);
		g_object_unref(p);
		return NULL;
	}
	*root = json_node_get_object(node);
	return p;
}

/* An integer member >= min. A fraction, exponent, string or other type is refused by name. */
static int get_int(JsonObject *o, const char *name, bool required, int64_t min, int64_t *v, const char *ctx,
		   struct kio_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!n) {
		if (required)
			return kio_fail(err, KIO_ERR_PROTOCOL, "%s: no '%s'", ctx, name);
		*v = 0;
		return 0;
	}
	GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
	if (t == G_TYPE_DOUBLE)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' has a fraction or an exponent (an integer is needed)",
				ctx, name);
	if (t == G_TYPE_STRING)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' is a string (an integer is needed)", ctx, name);
	if (t != G_TYPE_INT64)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' is not an integer", ctx, name);
	int64_t x = json_node_get_int(n);
	if (x < min)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' is %" PRId64 ", below %" PRId64, ctx, name, x, min);
	*v = x;
	return 0;
}

static const char *get_string(JsonObject *o, const char *name, const char *ctx, struct kio_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!n) {
		kio_fail(err, KIO_ERR_PROTOCOL, "%s: no '%s'", ctx, name);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
		kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' is not a string", ctx, name);
		return NULL;
	}
	return json_node_get_string(n);
}

static const struct {
	const char *code;
	int status;
} codes[] = {
	{"no_certificate", 403},    {"unknown_certificate", 403}, {"revoked_certificate", 403},
	{"bad_certificate", 403},   {"date_out_of_window", 401},  {"date_missing", 400},
	{"bad_request", 400},       {"body_too_large", 413},      {"bad_json", 400},
	{"record_conflict", 409},   {"sequence_gap", 409},        {"chain_broken", 422},
	{"bad_record", 422},        {"card_unknown", 404},        {"bad_card", 400},
	{"reference_unknown", 404}, {"entity_unknown", 404},      {"service_unknown", 404},
	{"idempotency_mismatch", 422}, {"voucher_unknown", 404},  {"voucher_spent", 409},
	{"voucher_expired", 410},   {"internal_error", 500},
};

static int code_status(const char *code)
{
	for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++)
		if (strcmp(codes[k].code, code) == 0)
			return codes[k].status;
	return 0;
}

bool sync_wire_code_known(const char *code) { return code && code_status(code) != 0; }

static bool retryable(int status) { return status >= 500 || status == 408 || status == 429; }

/* The host's text, kept printable and cut on a UTF-8 boundary. */
static void copy_message(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	for (; src[n] && n < cap - 1; n++)
		dst[n] = (unsigned char)src[n] < 0x20 || src[n] == 0x7f ? '?' : src[n];
	while (n > 0 && src[n] && ((unsigned char)src[n] & 0xC0) == 0x80)
		n--; /* src[n] continues a character that did not fit: drop its start too */
	dst[n] = '\0';
}

/* The error object of a non-2xx answer. A retryable status may come from a proxy with any
 * body: its error object is read when there is one and never required. */
static int parse_error(int status, JsonObject *root, struct sync_wire_error *e, const char *ctx,
		       struct kio_error *err)
{
	memset(e, 0, sizeof(*e));
	e->status = status;
	JsonNode *n = root ? json_object_get_member(root, "error") : NULL;
	if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
		if (retryable(status))
			return 0;
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: no error object", ctx);
	}
	JsonObject *eo = json_node_get_object(n);
	const char *code = get_string(eo, "code", ctx, err);
	if (!code)
		return retryable(status) ? 0 : KIO_ERR_PROTOCOL;
	size_t len = strlen(code);
	if (len == 0 || len >= sizeof(e->code) || strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		if (retryable(status))
			return 0;
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: error code is not a snake_case word", ctx);
	}
	int want = code_status(code);
	if (!retryable(status)) {
		if (!want)
			return kio_fail(err, KIO_ERR_PROTOCOL, "%s: unknown error code '%s'", ctx, code);
		if (want != status)
			return kio_fail(err, KIO_ERR_PROTOCOL, "%s: error code '%s' comes with status %d, not %d", ctx, code,
					want, status);
	}
	memcpy(e->code, code, len + 1);
	JsonNode *m = json_object_get_member(eo, "message");
	if (m && JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_STRING)
		copy_message(e->message, sizeof(e->message), json_node_get_string(m));
	return 0;
}

const char *sync_records_kind_name(int kind)
{
	static const char *const names[SYNC_RECORDS_KIND_COUNT] = {
		"acked", "sequence-gap", "conflict", "chain-broken", "bad-record", "retry", "refused"};
	return kind >= 0 && kind < SYNC_RECORDS_KIND_COUNT ? names[kind] : NULL;
}

/* The start every ask's answer shares: a status this call has, then the body parsed whenever
 * an answer or a refusal may follow from it (a retryable status may come bodiless). 0 with
 * *p (maybe NULL for a bodiless retryable answer) or the refusal. */
static int open_answer(int status, const char *buf, size_t len, const char *ctx, JsonParser **p, JsonObject **root,
		       struct kio_error *err)
{
	*p = NULL;
	*root = NULL;
	if (status != 200 && !(status >= 400 && status <= 599))
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: not an answer this call has", ctx);
	if (status == 200 || !retryable(status) || len > 0) {
		struct kio_error perr;
		*p = parse(buf, len, ctx, root, &perr);
		if (!*p && !retryable(status)) {
			if (err)
				*err = perr;
			return perr.code;
		}
	}
	return 0;
}

/* The end every ask's answer shares: the parser released, and the answer (size bytes at a)
 * copied to out only when accepted, so a refusal leaves the caller's answer untouched. */
static int answer_end(JsonParser *p, int rc, void *out, const void *a, size_t size)
{
	if (p)
		g_object_unref(p);
	if (!rc)
		memcpy(out, a, size);
	return rc;
}

/* The kind of a refusal (its error object read): `retry` for a status worth trying again,
 * else the kind map (ended by a NULL code) gives the host's code, else `refused`. */
struct code_kind {
	const char *code;
	int kind;
};
static int refusal_kind(int status, const char *code, const struct code_kind *map, int retry, int refused)
{
	if (retryable(status))
		return retry;
	for (; map->code; map++)
		if (strcmp(map->code, code) == 0)
			return map->kind;
	return refused;
}

int sync_wire_records_answer(int status, const char *buf, size_t len, const struct sync_wire_sent *sent,
			     struct sync_records_answer *out, struct kio_error *err)
{
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "host answer %d to POST /v1/records", status);
	struct sync_records_answer a = {0};
	int64_t before = sent->first_rec - 1; /* the host's acknowledgement the batch was made after */
	JsonParser *p;
	JsonObject *root;
	int rc = open_answer(status, buf, len, ctx, &p, &root, err);
	if (rc)
		return rc;
	if (status == 200) {
		a.kind = SYNC_RECORDS_ACKED;
		rc = get_int(root, "acked", true, 0, &a.acked, ctx, err);
		if (!rc)
			rc = get_int(root, "applied", false, 0, &a.applied, ctx, err);
		if (!rc)
			rc = get_int(root, "duplicates", false, 0, &a.duplicates, ctx, err);
		if (!rc && a.acked < before)
			rc = kio_fail(err, KIO_ERR_PROTOCOL,
				      "%s: acked %" PRId64 " is below the host's earlier acknowledgement %" PRId64, ctx, a.acked,
				      before);
		if (!rc && a.acked > sent->last_rec)
			rc = kio_fail(err, KIO_ERR_PROTOCOL,
				      "%s: acked %" PRId64 " is beyond the last record sent %" PRId64, ctx, a.acked,
				      sent->last_rec);
		goto out;
	}
	rc = parse_error(status, root, &a.error, ctx, err);
	if (rc)
		goto out;
	if (retryable(status)) {
		a.kind = SYNC_RECORDS_RETRY;
		goto out;
	}
	if (strcmp(a.error.code, "sequence_gap") == 0) {
		a.kind = SYNC_RECORDS_SEQUENCE_GAP;
		JsonObject *eo = json_object_get_object_member(root, "error");
		rc = get_int(eo, "acked", true, 0, &a.acked, ctx, err);
		if (!rc && a.acked >= before)
			rc = kio_fail(err, KIO_ERR_PROTOCOL,
				      "%s: sequence_gap with acked %" PRId64 ", but the batch began at %" PRId64 " (no gap)", ctx,
				      a.acked, sent->first_rec);
	} else if (strcmp(a.error.code, "record_conflict") == 0 || strcmp(a.error.code, "chain_broken") == 0 ||
		   strcmp(a.error.code, "bad_record") == 0) {
		a.kind = a.error.code[0] == 'r' ? SYNC_RECORDS_CONFLICT
			 : a.error.code[0] == 'c' ? SYNC_RECORDS_CHAIN_BROKEN
						  : SYNC_RECORDS_BAD_RECORD;
		JsonObject *eo = json_object_get_object_member(root, "error");
		rc = get_int(eo, "rec", true, 1, &a.rec, ctx, err);
		if (!rc && (a.rec < sent->first_rec || a.rec > sent->last_rec))
			rc = kio_fail(err, KIO_ERR_PROTOCOL,
				      "%s: %s names record %" PRId64 ", outside the batch %" PRId64 "..%" PRId64, ctx,
				      a.error.code, a.rec, sent->first_rec, sent->last_rec);
	} else {
		a.kind = SYNC_RECORDS_REFUSED;
	}
out:
	return answer_end(p, rc, out, &a, sizeof(a));
}

const char *sync_card_status_name(int status)
{
	static const char *const names[SYNC_CARD_STATUS_COUNT] = {"active", "blocked", "unregistered"};
	return status >= 0 && status < SYNC_CARD_STATUS_COUNT ? names[status] : NULL;
}

int sync_wire_card_answer(int status, const char *buf, size_t len, const char *card, struct sync_card_answer *out,
			  struct kio_error *err)
{
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "host answer %d to GET /v1/cards", status);
	struct sync_card_answer a = {0};
	JsonParser *p;
	JsonObject *root;
	int rc = open_answer(status, buf, len, ctx, &p, &root, err);
	if (rc)
		return rc;
	if (status == 200) {
		a.kind = SYNC_CARD_FOUND;
		const char *c = get_string(root, "card", ctx, err);
		const char *s = c ? get_string(root, "status", ctx, err) : NULL;
		if (!c || !s) {
			rc = KIO_ERR_PROTOCOL;
			goto out;
		}
		if (strcmp(c, card) != 0 || strlen(c) != 16) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: the answer is about another card", ctx);
			goto out;
		}
		memcpy(a.card, c, 17);
		int k = 0;
		while (k < SYNC_CARD_STATUS_COUNT && strcmp(sync_card_status_name(k), s) != 0)
			k++;
		if (k == SYNC_CARD_STATUS_COUNT) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: unknown card status '%.32s'", ctx, s);
			goto out;
		}
		a.status = (enum sync_card_status)k;
		rc = get_int(root, "balance_fils", true, 0, &a.balance_fils, ctx, err);
		goto out;
	}
	static const struct code_kind card_codes[] = {
		{"card_unknown", SYNC_CARD_UNKNOWN}, {"bad_card", SYNC_CARD_BAD}, {NULL, 0}};
	rc = parse_error(status, root, &a.error, ctx, err);
	if (!rc)
		a.kind = refusal_kind(status, a.error.code, card_codes, SYNC_CARD_RETRY, SYNC_CARD_REFUSED);
out:
	return answer_end(p, rc, out, &a, sizeof(a));
}

int sync_wire_heartbeat_answer(int status, const char *buf, size_t len, int64_t *server_time_s,
			       struct kio_error *err)
{
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "host answer %d to POST /v1/heartbeat", status);
	JsonObject *root = NULL;
	JsonParser *p = NULL;
	int rc = 0;
	if (status != 200) {
		struct sync_wire_error e;
		struct kio_error perr;
		/* Parsed whenever a refusal could follow from it: an empty body is refused by parse,
		 * which fills perr (read below); only a retryable status may come without one. */
		p = len > 0 || !retryable(status) ? parse(buf, len, ctx, &root, &perr) : NULL;
		if (!p && !retryable(status)) {
			if (err)
				*err = perr;
			return perr.code;
		}
		rc = parse_error(status, root, &e, ctx, err);
		if (!rc)
			rc = kio_fail(err, retryable(status) ? KIO_ERR_BUSY : KIO_ERR_PROTOCOL, "%s: %s%s%s", ctx,
				      e.code[0] ? e.code : "no error code", e.message[0] ? ": " : "", e.message);
		goto out;
	}
	p = parse(buf, len, ctx, &root, err);
	if (!p)
		return KIO_ERR_PROTOCOL;
	int64_t t = 0;
	rc = get_int(root, "server_time_s", true, 1, &t, ctx, err);
	if (!rc)
		*server_time_s = t;
out:
	if (p)
		g_object_unref(p);
	return rc;
}

/* ---- fees (issue 13) ---- */

const char *sync_fee_kind_name(int kind)
{
	static const char *const names[SYNC_FEE_KIND_COUNT] = {"fixed", "items", "open"};
	return kind >= 0 && kind < SYNC_FEE_KIND_COUNT ? names[kind] : NULL;
}

/* An amount member in 0..SYNC_WIRE_FILS_MAX, at least min. */
static int get_fils(JsonObject *o, const char *name, int64_t min, int64_t *v, const char *ctx, struct kio_error *err)
{
	int rc = get_int(o, name, true, min, v, ctx, err);
	if (!rc && *v > SYNC_WIRE_FILS_MAX)
		rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' is %" PRId64 ", above the %" PRId64 "-fils limit", ctx, name,
			      *v, SYNC_WIRE_FILS_MAX);
	return rc;
}

/* A string member copied printable into dst (cap bytes, cut on a character boundary). */
static int get_text(JsonObject *o, const char *name, char *dst, size_t cap, const char *ctx, struct kio_error *err)
{
	const char *v = get_string(o, name, ctx, err);
	if (!v)
		return KIO_ERR_PROTOCOL;
	copy_message(dst, cap, v);
	return 0;
}

/* An identifier the kiosk sends back or books as it came: 1..max printable ASCII characters,
 * no space (a cut or a replaced character would name another thing). */
static int get_ident(JsonObject *o, const char *name, char *dst, size_t max, const char *ctx, struct kio_error *err)
{
	const char *v = get_string(o, name, ctx, err);
	if (!v)
		return KIO_ERR_PROTOCOL;
	size_t n = strlen(v);
	if (n == 0 || n > max)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' is %zu bytes long (1 to %zu)", ctx, name, n, max);
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)v[k] <= 0x20 || (unsigned char)v[k] >= 0x7f)
			return kio_fail(err, KIO_ERR_PROTOCOL, "%s: '%s' holds a byte 0x%02X (printable ASCII only)", ctx, name,
					(unsigned char)v[k]);
	memcpy(dst, v, n + 1);
	return 0;
}

/* A member that must echo what was asked. */
/* The member `name` says the answer is about `want` (what: how the refusal names it; fold:
 * a uuid, compared without case). */
static int get_echo_as(JsonObject *o, const char *name, const char *what, bool fold, const char *want, const char *ctx,
		       struct kio_error *err)
{
	const char *v = get_string(o, name, ctx, err);
	if (!v)
		return KIO_ERR_PROTOCOL;
	if (fold ? g_ascii_strcasecmp(v, want) != 0 : strcmp(v, want) != 0)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: the answer is about %s '%.40s', not '%s'", ctx, what, v, want);
	return 0;
}

static int get_echo(JsonObject *o, const char *name, const char *want, const char *ctx, struct kio_error *err)
{
	return get_echo_as(o, name, name, false, want, ctx, err);
}

static int fee_items(JsonObject *root, struct sync_fee_answer *a, const char *ctx, struct kio_error *err)
{
	JsonNode *n = json_object_get_member(root, "items");
	if (!n)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: no 'items'", ctx);
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: 'items' is not an array", ctx);
	JsonArray *arr = json_node_get_array(n);
	guint len = json_array_get_length(arr);
	if (a->fee_kind != SYNC_FEE_KIND_ITEMS) {
		if (len)
			return kio_fail(err, KIO_ERR_PROTOCOL, "%s: a %s amount with %u items (items belong to kind items)",
					ctx, sync_fee_kind_name(a->fee_kind), len);
		return 0;
	}
	for (guint k = 0; k < len; k++) {
		JsonNode *e = json_array_get_element(arr, k);
		char ictx[96];
		snprintf(ictx, sizeof(ictx), "%s: item %u", ctx, k + 1);
		if (!JSON_NODE_HOLDS_OBJECT(e))
			return kio_fail(err, KIO_ERR_PROTOCOL, "%s is not an object", ictx);
		JsonObject *io = json_node_get_object(e);
		struct sync_fee_item it = {0};
		int rc = get_ident(io, "id", it.id, SYNC_FEE_ID_MAX, ictx, err);
		if (!rc)
			rc = get_text(io, "description", it.description, sizeof(it.description), ictx, err);
		if (!rc)
			rc = get_fils(io, "amount_fils", 1, &it.amount_fils, ictx, err);
		if (rc)
			return rc;
		/* Ids name what /v1/payments pays: two alike would pay one bill twice. */
		for (guint j = 0; j < k; j++) {
			JsonObject *jo = json_array_get_object_element(arr, j);
			if (strcmp(json_object_get_string_member(jo, "id"), it.id) == 0)
				return kio_fail(err, KIO_ERR_PROTOCOL, "%s: id '%s' is also item %u's", ictx, it.id, j + 1);
		}
		if (a->n_items < SYNC_FEE_ITEMS_MAX)
			a->items[a->n_items++] = it;
	}
	a->n_items_host = len;
	return 0;
}

int sync_wire_fee_answer(int status, const char *buf, size_t len, const char *entity, const char *service,
			 const char *reference, struct sync_fee_answer *out, struct kio_error *err)
{
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "host answer %d to GET /v1/fees", status);
	struct sync_fee_answer a = {0};
	JsonParser *p;
	JsonObject *root;
	int rc = open_answer(status, buf, len, ctx, &p, &root, err);
	if (rc)
		return rc;
	if (status == 200) {
		a.kind = SYNC_FEE_FOUND;
		rc = get_echo(root, "entity", entity, ctx, err);
		if (!rc)
			rc = get_echo(root, "service", service, ctx, err);
		if (!rc)
			rc = get_echo(root, "reference", reference, ctx, err);
		if (!rc)
			rc = get_text(root, "payee", a.payee, sizeof(a.payee), ctx, err);
		if (!rc)
			rc = get_text(root, "description", a.description, sizeof(a.description), ctx, err);
		if (rc)
			goto out;
		JsonNode *an = json_object_get_member(root, "amount");
		if (!an || !JSON_NODE_HOLDS_OBJECT(an)) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: %s", ctx, an ? "'amount' is not an object" : "no 'amount'");
			goto out;
		}
		JsonObject *ao = json_node_get_object(an);
		const char *kind = get_string(ao, "kind", ctx, err);
		if (!kind) {
			rc = KIO_ERR_PROTOCOL;
			goto out;
		}
		int k = 0;
		while (k < SYNC_FEE_KIND_COUNT && strcmp(sync_fee_kind_name(k), kind) != 0)
			k++;
		if (k == SYNC_FEE_KIND_COUNT) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: unknown amount kind '%.32s'", ctx, kind);
			goto out;
		}
		a.fee_kind = (enum sync_fee_kind)k;
		if (a.fee_kind == SYNC_FEE_KIND_FIXED) {
			rc = get_fils(ao, "due_fils", 0, &a.due_fils, ctx, err);
		} else if (a.fee_kind == SYNC_FEE_KIND_OPEN) {
			rc = get_fils(ao, "min_fils", 1, &a.min_fils, ctx, err);
			if (!rc)
				rc = get_fils(ao, "max_fils", 1, &a.max_fils, ctx, err);
			if (!rc)
				rc = get_fils(ao, "step_fils", 1, &a.step_fils, ctx, err);
			if (!rc && a.max_fils < a.min_fils)
				rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: max_fils %" PRId64 " is below min_fils %" PRId64, ctx,
					      a.max_fils, a.min_fils);
		}
		if (!rc)
			rc = fee_items(root, &a, ctx, err);
		goto out;
	}
	static const struct code_kind fee_codes[] = {{"entity_unknown", SYNC_FEE_UNKNOWN},
						      {"service_unknown", SYNC_FEE_UNKNOWN},
						      {"reference_unknown", SYNC_FEE_UNKNOWN},
						      {NULL, 0}};
	rc = parse_error(status, root, &a.error, ctx, err);
	if (!rc)
		a.kind = refusal_kind(status, a.error.code, fee_codes, SYNC_FEE_RETRY, SYNC_FEE_REFUSED);
out:
	return answer_end(p, rc, out, &a, sizeof(a));
}

const char *sync_voucher_kind_name(int kind)
{
	static const char *const names[SYNC_VOUCHER_KIND_COUNT] = {"valid",   "redeemed", "unknown", "spent",
								    "expired", "mismatch", "retry",   "refused"};
	return kind >= 0 && kind < SYNC_VOUCHER_KIND_COUNT ? names[kind] : NULL;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD", a real date from 2000 to 9999, to the last second of that day in Dubai. */
static bool dubai_day_end(const char *v, int64_t *end_s)
{
	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
		return false;
	for (int k = 0; k < 10; k++)
		if (k != 4 && k != 7 && (v[k] < '0' || v[k] > '9'))
			return false;
	int y = atoi(v), m = atoi(v + 5), d = atoi(v + 8);
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 2000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return false;
	*end_s = (days_from_civil(y, m, d) + 1) * 86400 - 4 * 3600 - 1;
	return true;
}

static enum sync_voucher_kind voucher_error_kind(int status, const char *code)
{
	static const struct code_kind voucher_codes[] = {
		{"voucher_unknown", SYNC_VOUCHER_UNKNOWN},          {"voucher_spent", SYNC_VOUCHER_SPENT},
		{"voucher_expired", SYNC_VOUCHER_EXPIRED},          {"idempotency_mismatch", SYNC_VOUCHER_MISMATCH},
		{NULL, 0}};
	return (enum sync_voucher_kind)refusal_kind(status, code, voucher_codes, SYNC_VOUCHER_RETRY,
						     SYNC_VOUCHER_REFUSED);
}

int sync_wire_voucher_answer(int status, const char *buf, size_t len, const char *code,
			     struct sync_voucher_answer *out, struct kio_error *err)
{
	char ctx[80];
	snprintf(ctx, sizeof(ctx), "host answer %d to POST /v1/vouchers/validate", status);
	struct sync_voucher_answer a = {0};
	JsonParser *p;
	JsonObject *root;
	int rc = open_answer(status, buf, len, ctx, &p, &root, err);
	if (rc)
		return rc;
	if (status == 200) {
		a.kind = SYNC_VOUCHER_VALID;
		rc = get_echo(root, "code", code, ctx, err);
		const char *st = rc ? NULL : get_string(root, "status", ctx, err);
		if (!st) {
			rc = KIO_ERR_PROTOCOL;
			goto out;
		}
		if (strcmp(st, "valid") != 0) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: status '%.32s' (a 200 is only ever valid)", ctx, st);
			goto out;
		}
		rc = get_fils(root, "value_fils", 1, &a.value_fils, ctx, err);
		const char *ex = rc ? NULL : get_string(root, "expires", ctx, err);
		if (!ex) {
			rc = KIO_ERR_PROTOCOL;
			goto out;
		}
		if (!dubai_day_end(ex, &a.expires_s)) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: expires '%.32s' is not a date YYYY-MM-DD", ctx, ex);
			goto out;
		}
		memcpy(a.expires, ex, 11);
		goto out;
	}
	rc = parse_error(status, root, &a.error, ctx, err);
	if (!rc)
		a.kind = voucher_error_kind(status, a.error.code);
	if (!rc && a.kind == SYNC_VOUCHER_MISMATCH)
		a.kind = SYNC_VOUCHER_REFUSED; /* validate has no idempotency key */
out:
	return answer_end(p, rc, out, &a, sizeof(a));
}

int sync_wire_redeem_answer(int status, const char *buf, size_t len, const char *code, const char *redemption_id,
			    int64_t amount_fils, struct sync_redeem_answer *out, struct kio_error *err)
{
	char ctx[80];
	snprintf(ctx, sizeof(ctx), "host answer %d to POST /v1/vouchers/redeem", status);
	struct sync_redeem_answer a = {0};
	JsonParser *p;
	JsonObject *root;
	int rc = open_answer(status, buf, len, ctx, &p, &root, err);
	if (rc)
		return rc;
	if (status == 200) {
		a.kind = SYNC_VOUCHER_REDEEMED;
		rc = get_echo(root, "code", code, ctx, err);
		if (!rc)
			rc = get_echo_as(root, "redemption_id", "redemption", true, redemption_id, ctx, err);
		if (!rc)
			rc = get_fils(root, "redeemed_fils", 0, &a.redeemed_fils, ctx, err);
		if (!rc)
			rc = get_fils(root, "remaining_fils", 0, &a.remaining_fils, ctx, err);
		/* The kiosk books what it asked for: a host redeeming anything else is not believed. */
		if (!rc && a.redeemed_fils != amount_fils)
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: redeemed %" PRId64 " fils, but %" PRId64 " were asked", ctx,
				      a.redeemed_fils, amount_fils);
		goto out;
	}
	rc = parse_error(status, root, &a.error, ctx, err);
	if (!rc)
		a.kind = voucher_error_kind(status, a.error.code);
out:
	return answer_end(p, rc, out, &a, sizeof(a));
}

const char *sync_line_status_name(int status)
{
	static const char *const names[SYNC_LINE_STATUS_COUNT] = {"paid", "refused"};
	return status >= 0 && status < SYNC_LINE_STATUS_COUNT ? names[status] : NULL;
}

const char *sync_pay_kind_name(int kind)
{
	static const char *const names[SYNC_PAY_KIND_COUNT] = {"answered", "mismatch", "retry", "refused"};
	return kind >= 0 && kind < SYNC_PAY_KIND_COUNT ? names[kind] : NULL;
}

static int pay_line(JsonNode *e, size_t n, struct sync_pay_answer *a, bool seen[], const char *ctx,
		    struct kio_error *err)
{
	if (!JSON_NODE_HOLDS_OBJECT(e))
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: a line is not an object", ctx);
	JsonObject *o = json_node_get_object(e);
	int64_t ln = 0;
	int rc = get_int(o, "n", true, 1, &ln, ctx, err);
	if (rc)
		return rc;
	if (ln > (int64_t)n)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: line %" PRId64 " answered, but %zu were sent", ctx, ln, n);
	if (seen[ln - 1])
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: line %" PRId64 " answered twice", ctx, ln);
	seen[ln - 1] = true;
	char lctx[96];
	snprintf(lctx, sizeof(lctx), "%s: line %" PRId64, ctx, ln);
	struct sync_pay_line_answer *l = &a->lines[ln - 1];
	const char *st = get_string(o, "status", lctx, err);
	if (!st)
		return KIO_ERR_PROTOCOL;
	if (strcmp(st, "paid") == 0) {
		l->status = SYNC_LINE_PAID;
		return get_ident(o, "host_ref", l->host_ref, SYNC_HOST_REF_MAX, lctx, err);
	}
	if (strcmp(st, "refused") != 0)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: unknown status '%.32s'", lctx, st);
	l->status = SYNC_LINE_REFUSED;
	const char *why = get_string(o, "reason", lctx, err);
	if (!why)
		return KIO_ERR_PROTOCOL;
	size_t wl = strlen(why);
	if (wl == 0 || wl >= sizeof(l->reason) || strspn(why, "abcdefghijklmnopqrstuvwxyz0123456789_") != wl)
		return kio_fail(err, KIO_ERR_PROTOCOL, "%s: reason is not a snake_case word", lctx);
	memcpy(l->reason, why, wl + 1);
	JsonNode *m = json_object_get_member(o, "message");
	if (m && JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_STRING)
		copy_message(l->message, sizeof(l->message), json_node_get_string(m));
	return 0;
}

int sync_wire_pay_answer(int status, const char *buf, size_t len, const char *tx_uuid, size_t n,
			 struct sync_pay_answer *out, struct kio_error *err)
{
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "host answer %d to POST /v1/payments", status);
	struct sync_pay_answer a = {0};
	if (n < 1 || n > SYNC_PAY_LINES_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %zu lines asked (1 to %d)", ctx, n, SYNC_PAY_LINES_MAX);
	JsonParser *p;
	JsonObject *root;
	int rc = open_answer(status, buf, len, ctx, &p, &root, err);
	if (rc)
		return rc;
	if (status == 200) {
		a.kind = SYNC_PAY_ANSWERED;
		a.n = n;
		rc = get_echo_as(root, "tx_uuid", "transaction", true, tx_uuid, ctx, err);
		if (rc)
			goto out;
		JsonNode *ln = json_object_get_member(root, "lines");
		if (!ln || !JSON_NODE_HOLDS_ARRAY(ln)) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: %s", ctx, ln ? "'lines' is not an array" : "no 'lines'");
			goto out;
		}
		JsonArray *arr = json_node_get_array(ln);
		guint got = json_array_get_length(arr);
		if (got != n) {
			rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s: %u lines answered, %zu sent", ctx, got, n);
			goto out;
		}
		bool seen[SYNC_PAY_LINES_MAX] = {false};
		for (guint k = 0; k < got && !rc; k++)
			rc = pay_line(json_array_get_element(arr, k), n, &a, seen, ctx, err);
		goto out;
	}
	static const struct code_kind pay_codes[] = {{"idempotency_mismatch", SYNC_PAY_MISMATCH}, {NULL, 0}};
	rc = parse_error(status, root, &a.error, ctx, err);
	if (!rc)
		a.kind = refusal_kind(status, a.error.code, pay_codes, SYNC_PAY_RETRY, SYNC_PAY_REFUSED);
out:
	return answer_end(p, rc, out, &a, sizeof(a));
}
