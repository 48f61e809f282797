/* The host's parsers of request bodies and the Date header (wire.h): json-glib, gint64 only. */
#include "wire.h"
#include "reply.h"

#include "kiosk/core/jsonguard.h"
#include "kiosk/core/vcode.h"

#include <glib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int fail(struct wire_error *err, enum wire_fault fault, int64_t rec, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct wire_error *err, enum wire_fault fault, int64_t rec, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err->fault = fault;
	err->rec = rec;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

bool wire_card_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			return false;
	return n == 16;
}

bool wire_uuid_ok(const char *s)
{
	for (size_t k = 0; k < 36; k++) {
		char c = s[k];
		if (k == 8 || k == 13 || k == 18 || k == 23) {
			if (c != '-')
				return false;
		} else if (!g_ascii_isxdigit(c)) {
			return false;
		}
	}
	return s[36] == '\0';
}

/* What the lexical guard (kiosk/core/jsonguard.h) refuses as not JSON at all (bad_json); the
 * rest is JSON the host will not read as the kiosk meant it (bad_request): an integer json-glib
 * would wrap, a \u0000 C would cut at, a name given twice, nesting that would exhaust the
 * stack. */
static const bool bad_json[CORE_JSON_FAULT_COUNT] = {
	[CORE_JSON_NUL] = true, [CORE_JSON_UTF8] = true, [CORE_JSON_SURROGATE] = true, [CORE_JSON_LEADING_ZERO] = true,
	[CORE_JSON_NOT_NUMBER] = true, [CORE_JSON_BAD_ESCAPE] = true,
};

/* The document's top object. json-glib reads the bytes with their length; a body the guard
 * refuses (above) or that is not an object is refused before any member is read. Caller unrefs the parser (it owns the object).
 * Every parser starts here, so out (out_size bytes) and err are cleared first. */
static JsonObject *load_object(const char *buf, size_t len, void *out, size_t out_size, JsonParser **parser,
			       struct wire_error *err)
{
	memset(out, 0, out_size);
	memset(err, 0, sizeof(*err));
	*parser = json_parser_new_immutable();
	GError *gerr = NULL;
	if (len > WIRE_BODY_MAX) {
		fail(err, WIRE_BAD_REQUEST, 0, "body of %zu bytes is over the limit", len);
		return NULL;
	}
	/* Fractions pass the guard: the type checks name the member that must be an integer. */
	static const struct core_json_limits lim = {.depth_max = WIRE_DEPTH_MAX, .fractions = true};
	struct core_json_refusal why;
	if (!core_json_guard_ok(buf, len, &lim, &why)) {
		fail(err, bad_json[why.fault] ? WIRE_BAD_JSON : WIRE_BAD_REQUEST, 0, "%s", why.msg);
		return NULL;
	}
	if (!json_parser_load_from_data(*parser, buf, (gssize)len, &gerr)) {
		fail(err, WIRE_BAD_JSON, 0, "not JSON: %s", gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		return NULL;
	}
	JsonNode *root = json_parser_get_root(*parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		fail(err, WIRE_BAD_JSON, 0, "the body must be a JSON object");
		return NULL;
	}
	return json_node_get_object(root);
}

enum kind { K_ABSENT, K_NULL, K_INT, K_TEXT, K_FRACTION, K_OTHER };

static enum kind kind_of(JsonNode *n)
{
	if (!n)
		return K_ABSENT;
	if (JSON_NODE_HOLDS_NULL(n))
		return K_NULL;
	if (!JSON_NODE_HOLDS_VALUE(n))
		return K_OTHER;
	GType t = json_node_get_value_type(n);
	if (t == G_TYPE_INT64)
		return K_INT;
	if (t == G_TYPE_DOUBLE)
		return K_FRACTION;
	if (t == G_TYPE_STRING)
		return K_TEXT;
	return K_OTHER;
}

static const char *kind_name(enum kind k)
{
	static const char *const names[] = {"absent", "null", "an integer", "text", "a fraction", "another type"};
	return names[k];
}

/* A text member: present, a string, UTF-8 without NUL (json-glib decodes \u0000), 1..max bytes. */
static int get_text(JsonObject *o, const char *name, size_t max, char *out, size_t cap, struct wire_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (kind_of(n) != K_TEXT)
		return fail(err, WIRE_BAD_REQUEST, 0, "'%s' must be text, it is %s", name, kind_name(kind_of(n)));
	const char *s = json_node_get_string(n);
	size_t len = strlen(s);
	if (len == 0 || len > max || len >= cap)
		return fail(err, WIRE_BAD_REQUEST, 0, "'%s' must be 1 to %zu bytes", name, max < cap ? max : cap - 1);
	memcpy(out, s, len + 1);
	return 0;
}

static int get_int(JsonObject *o, const char *name, int64_t *out, struct wire_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	enum kind k = kind_of(n);
	if (k != K_INT)
		return fail(err, WIRE_BAD_REQUEST, 0, "'%s' must be an integer, it is %s", name, kind_name(k));
	*out = json_node_get_int(n);
	return 0;
}

/* ---- records ---- */

static bool charset_ok(const char *s, const char *set) { return strspn(s, set) == strlen(s); }

static const char ids_set[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";

enum shape { S_ANY, S_UUID, S_CARD, S_VCODE, S_ID };

/* Per column of the ledger's chained tables: the JSON kinds it may take and its value rules,
 * as the kiosk's schema (kiosk/ledger/store.c, migrations 4 and 11) holds them. A column the
 * ledger gains without a rule here refuses every record of its table: the host never stores
 * what it cannot check. */
struct col_rule {
	const char *table, *col;
	bool is_int, nullable;
	int64_t min; /* integers */
	const char *one_of[5];
	enum shape shape;
};

static const struct col_rule rules[] = {
	{"tx", "uuid", false, false, 0, {NULL}, S_UUID},
	{"tx", "seq", true, false, 1, {NULL}, S_ANY},
	{"tx", "kind", false, false, 0, {"topup", "fees"}, S_ANY},
	{"tx", "lang", false, false, 0, {"ar", "en"}, S_ANY},
	{"tx", "opened_s", true, false, 0, {NULL}, S_ANY},
	{"tx_item", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"tx_item", "kind", false, false, 0, {"topup"}, S_ANY},
	{"tx_item", "card", false, false, 0, {NULL}, S_CARD}, /* a top-up always names its card */
	{"tx_item", "amount_fils", true, true, 0, {NULL}, S_ANY},
	{"payment", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"payment", "method", false, false, 0, {"cash"}, S_ANY},
	{"payment", "note_id", true, true, 1, {NULL}, S_ANY},
	{"payment", "value_fils", true, false, 0, {NULL}, S_ANY},
	{"payment", "at_s", true, false, 0, {NULL}, S_ANY},
	{"suspense", "note_id", true, false, 1, {NULL}, S_ANY},
	{"suspense", "value_fils", true, false, 0, {NULL}, S_ANY},
	{"suspense", "at_s", true, false, 0, {NULL}, S_ANY},
	{"suspense", "why", false, false, 0, {NULL}, S_ANY},
	{"tx_end", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"tx_end", "state", false, false, 0, {"completed", "cancelled"}, S_ANY},
	{"tx_end", "recovered", true, false, 0, {NULL}, S_ANY},
	{"tx_end", "credited_fils", true, false, 0, {NULL}, S_ANY},
	{"tx_end", "at_s", true, false, 0, {NULL}, S_ANY},
	/* Issue 13, the basket (CONTRACT-13.md, LED's table). */
	{"fee_item", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"fee_item", "n", true, false, 1, {NULL}, S_ANY},
	{"fee_item", "entity", false, false, 0, {NULL}, S_ID},
	{"fee_item", "service", false, false, 0, {NULL}, S_ID},
	{"fee_item", "reference", false, true, 0, {NULL}, S_ANY},
	{"fee_item", "bill", false, true, 0, {NULL}, S_ANY},
	{"fee_item", "amount_fils", true, false, 1, {NULL}, S_ANY},
	{"fee_result", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"fee_result", "n", true, false, 1, {NULL}, S_ANY},
	{"fee_result", "status", false, false, 0, {"paid", "refused", "offline", "unpaid", "unconfirmed"}, S_ANY},
	{"fee_result", "host_ref", false, true, 0, {NULL}, S_ANY},
	{"fee_result", "at_s", true, false, 0, {NULL}, S_ANY},
	{"voucher_payment", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"voucher_payment", "code", false, false, 0, {NULL}, S_VCODE},
	{"voucher_payment", "redemption_id", false, false, 0, {NULL}, S_UUID},
	{"voucher_payment", "value_fils", true, false, 1, {NULL}, S_ANY},
	{"voucher_payment", "at_s", true, false, 0, {NULL}, S_ANY},
	{"voucher_issue", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"voucher_issue", "code", false, false, 0, {NULL}, S_VCODE},
	{"voucher_issue", "value_fils", true, false, 1, {NULL}, S_ANY},
	{"voucher_issue", "expires_s", true, false, 0, {NULL}, S_ANY},
	{"voucher_issue", "why", false, false, 0, {"overpayment", "cancelled", "refused", "recovered"}, S_ANY},
	{"voucher_issue", "at_s", true, false, 0, {NULL}, S_ANY},
	/* The ledger's migration 12: a redemption intended before it was asked, and its void. */
	{"voucher_intent", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"voucher_intent", "code", false, false, 0, {NULL}, S_VCODE},
	{"voucher_intent", "redemption_id", false, false, 0, {NULL}, S_UUID},
	{"voucher_intent", "value_fils", true, false, 1, {NULL}, S_ANY},
	{"voucher_intent", "at_s", true, false, 0, {NULL}, S_ANY},
	{"voucher_void", "tx_rec", true, false, 1, {NULL}, S_ANY},
	{"voucher_void", "code", false, false, 0, {NULL}, S_VCODE},
	{"voucher_void", "redemption_id", false, false, 0, {NULL}, S_UUID},
	{"voucher_void", "at_s", true, false, 0, {NULL}, S_ANY},
};

static const struct col_rule *rule_of(const char *table, const char *col)
{
	for (size_t k = 0; k < G_N_ELEMENTS(rules); k++)
		if (strcmp(rules[k].table, table) == 0 && strcmp(rules[k].col, col) == 0)
			return &rules[k];
	return NULL;
}

static const char *const tables[] = {"tx",	      "tx_item",	 "payment",	   "suspense",
				     "tx_end",	      "fee_item",	 "fee_result",	   "voucher_payment",
				     "voucher_issue", "voucher_intent", "voucher_void"};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_record(JsonNode *node, size_t index, struct wire_record *r, struct wire_error *err)
{
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return fail(err, WIRE_BAD_REQUEST, 0, "records[%zu] is not an object", index);
	JsonObject *o = json_node_get_object(node);
	JsonNode *rn = json_object_get_member(o, "rec");
	enum kind k = kind_of(rn);
	if (k != K_INT)
		return fail(err, WIRE_BAD_REQUEST, 0, "records[%zu].rec must be an integer, it is %s", index,
			    kind_name(k));
	r->rec = json_node_get_int(rn);
	if (r->rec < 1)
		return fail(err, WIRE_BAD_REQUEST, 0, "records[%zu].rec must be 1 or more", index);

	JsonNode *tn = json_object_get_member(o, "type");
	const char *type = kind_of(tn) == K_TEXT ? json_node_get_string(tn) : NULL;
	for (size_t t = 0; type && t < G_N_ELEMENTS(tables); t++)
		if (strcmp(type, tables[t]) == 0)
			r->type = tables[t];
	if (!r->type)
		return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": unknown type", r->rec);
	if (ledger_rec_columns(r->type, &r->cols, &r->n_cols) != 0 || r->n_cols > LEDGER_REC_COLS_MAX)
		return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": the ledger has no table %s", r->rec,
			    r->type);

	for (size_t c = 0; c < r->n_cols; c++) {
		const char *col = r->cols[c];
		const struct col_rule *rule = rule_of(r->type, col);
		if (!rule)
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s.%s has no host rule", r->rec,
				    r->type, col);
		JsonNode *n = json_object_get_member(o, col);
		k = kind_of(n);
		if (k == K_FRACTION)
			return fail(err, WIRE_BAD_REQUEST, r->rec,
				    "record %" PRId64 ": %s is a fraction or exponent; amounts are integer fils", r->rec,
				    col);
		if (k == K_NULL && rule->nullable) {
			r->vals[c] = (struct ledger_rec_val){LEDGER_REC_NULL, 0, NULL};
			continue;
		}
		if (rule->is_int) {
			if (k != K_INT)
				return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s must be an integer%s, it is %s",
					    r->rec, col, rule->nullable ? " or null" : "", kind_name(k));
			int64_t v = json_node_get_int(n);
			if (v < rule->min)
				return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s is %" PRId64 ", below %" PRId64,
					    r->rec, col, v, rule->min);
			if (strcmp(col, "recovered") == 0 && v > 1)
				return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": recovered must be 0 or 1", r->rec);
			r->vals[c] = (struct ledger_rec_val){LEDGER_REC_INT, v, NULL};
			continue;
		}
		if (k != K_TEXT)
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s must be text%s, it is %s", r->rec,
				    col, rule->nullable ? " or null" : "", kind_name(k));
		const char *s = json_node_get_string(n);
		size_t len = strlen(s);
		if (len > WIRE_TEXT_MAX)
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s is longer than %d bytes", r->rec,
				    col, WIRE_TEXT_MAX);
		if (rule->one_of[0]) {
			bool ok = false;
			for (size_t v = 0; v < G_N_ELEMENTS(rule->one_of) && rule->one_of[v]; v++)
				ok = ok || strcmp(s, rule->one_of[v]) == 0;
			if (!ok)
				return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s '%.32s' is not one the ledger knows",
					    r->rec, col, s);
		}
		if (rule->shape == S_CARD && !wire_card_ok(s))
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": card must be 16 digits", r->rec);
		if (rule->shape == S_UUID && !wire_uuid_ok(s))
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s is not RFC 4122 text", r->rec, col);
		char canon[VCODE_DIGITS + 1];
		if (rule->shape == S_VCODE && (vcode_parse(s, canon) != VCODE_OK || strcmp(canon, s) != 0))
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s is not a voucher code (vcode.h)", r->rec,
				    col);
		if (rule->shape == S_ID && (len < 1 || len > 32 || !charset_ok(s, ids_set)))
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": %s is not an id [a-z0-9_-]{1,32}", r->rec,
				    col);
		r->texts[c] = g_strdup(s);
		r->vals[c] = (struct ledger_rec_val){LEDGER_REC_TEXT, 0, r->texts[c]};
	}

	JsonNode *mn = json_object_get_member(o, "mac");
	const char *mac = kind_of(mn) == K_TEXT ? json_node_get_string(mn) : "";
	if (strlen(mac) != 2 * LEDGER_MAC_BYTES)
		return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": mac must be 64 lowercase hex digits", r->rec);
	for (size_t b = 0; b < LEDGER_MAC_BYTES; b++) {
		int hi = hexval(mac[2 * b]), lo = hexval(mac[2 * b + 1]);
		if (hi < 0 || lo < 0)
			return fail(err, WIRE_BAD_RECORD, r->rec, "record %" PRId64 ": mac must be 64 lowercase hex digits",
				    r->rec);
		r->mac[b] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(r->mac_hex, mac, sizeof(r->mac_hex));
	return 0;
}

static void record_clear(struct wire_record *r)
{
	for (size_t c = 0; c < LEDGER_REC_COLS_MAX; c++)
		g_free(r->texts[c]);
	memset(r, 0, sizeof(*r));
}

void wire_batch_clear(struct wire_batch *b)
{
	for (size_t k = 0; k < b->n; k++)
		record_clear(&b->recs[k]);
	g_free(b->recs);
	b->recs = NULL;
	b->n = 0;
}

int wire_records_parse(const char *buf, size_t len, struct wire_batch *out, struct wire_error *err)
{
	JsonParser *parser;
	int rc = -1;
	JsonObject *o = load_object(buf, len, out, sizeof(*out), &parser, err);
	if (!o)
		goto out_parser;
	JsonNode *an = json_object_get_member(o, "records");
	if (!an || !JSON_NODE_HOLDS_ARRAY(an)) {
		fail(err, WIRE_BAD_REQUEST, 0, "'records' must be an array");
		goto out_parser;
	}
	JsonArray *a = json_node_get_array(an);
	guint n = json_array_get_length(a);
	if (n > WIRE_BATCH_MAX) {
		fail(err, WIRE_BAD_REQUEST, 0, "%u records; at most %d per batch", n, WIRE_BATCH_MAX);
		goto out_parser;
	}
	out->recs = g_new0(struct wire_record, n ? n : 1);
	for (guint k = 0; k < n; k++) {
		out->n = k + 1;
		if (parse_record(json_array_get_element(a, k), k, &out->recs[k], err) != 0)
			goto out_clear;
		if (k > 0 && out->recs[k].rec <= out->recs[k - 1].rec) {
			fail(err, WIRE_BAD_REQUEST, 0, "records[%u]: rec %" PRId64 " after %" PRId64 "; records go in rec order", k,
			     out->recs[k].rec, out->recs[k - 1].rec);
			goto out_clear;
		}
	}
	out->n = n;
	rc = 0;
out_clear:
	if (rc)
		wire_batch_clear(out);
out_parser:
	g_object_unref(parser);
	return rc;
}

char *wire_record_json(const struct wire_record *r)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "rec");
	json_builder_add_int_value(b, r->rec);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, r->type);
	for (size_t c = 0; c < r->n_cols; c++) {
		json_builder_set_member_name(b, r->cols[c]);
		switch (r->vals[c].type) {
		case LEDGER_REC_INT: json_builder_add_int_value(b, r->vals[c].i); break;
		case LEDGER_REC_TEXT: json_builder_add_string_value(b, r->vals[c].s); break;
		default: json_builder_add_null_value(b); break;
		}
	}
	json_builder_set_member_name(b, "mac");
	json_builder_add_string_value(b, r->mac_hex);
	json_builder_end_object(b);
	return reply_json_text(b);
}

/* ---- vouchers ---- */

/* Printable ASCII without spaces (0x21..0x7e), what codes and bill ids are made of. */
static bool graph_ascii(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

/* A voucher code is the issuer's: 1 to 64 bytes of printable ASCII (docs/host-api.yaml,
 * VoucherCode); an unknown one is simply not found. */
static int get_code(JsonObject *o, struct wire_voucher *out, struct wire_error *err)
{
	if (get_text(o, "code", 64, out->code, sizeof(out->code), err) != 0)
		return -1;
	if (!graph_ascii(out->code))
		return fail(err, WIRE_BAD_REQUEST, 0, "'code' may hold only printable ASCII without spaces");
	return 0;
}

int wire_voucher_validate_parse(const char *buf, size_t len, struct wire_voucher *out, struct wire_error *err)
{
	JsonParser *parser;
	JsonObject *o = load_object(buf, len, out, sizeof(*out), &parser, err);
	int rc = o ? get_code(o, out, err) : -1;
	g_object_unref(parser);
	return rc;
}

int wire_voucher_redeem_parse(const char *buf, size_t len, struct wire_voucher *out, struct wire_error *err)
{
	JsonParser *parser;
	JsonObject *o = load_object(buf, len, out, sizeof(*out), &parser, err);
	int rc = -1;
	if (!o || get_code(o, out, err) != 0 ||
	    get_text(o, "redemption_id", 36, out->redemption_id, sizeof(out->redemption_id), err) != 0 ||
	    get_text(o, "tx_uuid", 36, out->tx_uuid, sizeof(out->tx_uuid), err) != 0 ||
	    get_int(o, "amount_fils", &out->amount_fils, err) != 0)
		goto out_parser;
	if (!wire_uuid_ok(out->redemption_id) || !wire_uuid_ok(out->tx_uuid)) {
		fail(err, WIRE_BAD_REQUEST, 0, "'redemption_id' and 'tx_uuid' must be RFC 4122 text");
		goto out_parser;
	}
	if (out->amount_fils <= 0) {
		fail(err, WIRE_BAD_REQUEST, 0, "'amount_fils' must be more than 0");
		goto out_parser;
	}
	rc = 0;
out_parser:
	g_object_unref(parser);
	return rc;
}

/* ---- payments ---- */

static const char ref_set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";

/* A member that may be null: "" then. */
static int get_text_or_null(JsonObject *o, const char *name, size_t max, char *out, size_t cap,
			    struct wire_error *err)
{
	JsonNode *n = json_object_get_member(o, name);
	if (kind_of(n) == K_NULL || kind_of(n) == K_ABSENT) {
		out[0] = '\0';
		return 0;
	}
	return get_text(o, name, max, out, cap, err);
}

static int pay_line_parse(JsonNode *node, size_t k, struct wire_pay_line *l, struct wire_error *err)
{
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return fail(err, WIRE_BAD_REQUEST, 0, "lines[%zu] is not an object", k);
	JsonObject *o = json_node_get_object(node);
	int64_t n = 0;
	if (get_int(o, "n", &n, err) != 0 || get_text(o, "entity", 32, l->entity, sizeof(l->entity), err) != 0 ||
	    get_text(o, "service", 32, l->service, sizeof(l->service), err) != 0 ||
	    get_text_or_null(o, "reference", 32, l->reference, sizeof(l->reference), err) != 0 ||
	    get_text_or_null(o, "bill", 32, l->bill, sizeof(l->bill), err) != 0 ||
	    get_int(o, "amount_fils", &l->amount_fils, err) != 0) {
		char why[sizeof(err->msg)];
		memcpy(why, err->msg, sizeof(why));
		return fail(err, WIRE_BAD_REQUEST, 0, "lines[%zu]: %s", k, why);
	}
	if (n != (int64_t)k + 1)
		return fail(err, WIRE_BAD_REQUEST, 0, "lines[%zu]: n is %" PRId64 ", lines are numbered 1, 2, ... in order", k,
			    n);
	l->n = (int)n;
	if (!charset_ok(l->entity, ids_set) || !charset_ok(l->service, ids_set))
		return fail(err, WIRE_BAD_REQUEST, 0, "lines[%zu]: entity and service are [a-z0-9_-]", k);
	if (!charset_ok(l->reference, ref_set))
		return fail(err, WIRE_BAD_REQUEST, 0, "lines[%zu]: a reference is [A-Za-z0-9-]", k);
	if (!graph_ascii(l->bill))
		return fail(err, WIRE_BAD_REQUEST, 0, "lines[%zu]: a bill id is printable ASCII without spaces", k);
	if (l->amount_fils < 1 || l->amount_fils > WIRE_FILS_MAX)
		return fail(err, WIRE_BAD_REQUEST, 0, "lines[%zu]: amount_fils must be 1 to %" PRId64, k, WIRE_FILS_MAX);
	return 0;
}

int wire_payment_parse(const char *buf, size_t len, struct wire_payment *out, struct wire_error *err)
{
	JsonParser *parser;
	JsonObject *o = load_object(buf, len, out, sizeof(*out), &parser, err);
	int rc = -1;
	if (!o || get_text(o, "tx_uuid", 36, out->tx_uuid, sizeof(out->tx_uuid), err) != 0)
		goto out_parser;
	if (!wire_uuid_ok(out->tx_uuid)) {
		fail(err, WIRE_BAD_REQUEST, 0, "'tx_uuid' must be RFC 4122 text");
		goto out_parser;
	}
	/* One spelling per transaction: the key is compared as text in the canonical request. */
	for (char *c = out->tx_uuid; *c; c++)
		*c = g_ascii_tolower(*c);
	JsonNode *an = json_object_get_member(o, "lines");
	if (!an || !JSON_NODE_HOLDS_ARRAY(an)) {
		fail(err, WIRE_BAD_REQUEST, 0, "'lines' must be an array");
		goto out_parser;
	}
	JsonArray *a = json_node_get_array(an);
	guint n = json_array_get_length(a);
	if (n < 1 || n > WIRE_PAY_LINES_MAX) {
		fail(err, WIRE_BAD_REQUEST, 0, "%u lines; a payment has 1 to %d", n, WIRE_PAY_LINES_MAX);
		goto out_parser;
	}
	for (guint k = 0; k < n; k++)
		if (pay_line_parse(json_array_get_element(a, k), k, &out->lines[k], err) != 0)
			goto out_parser;
	out->n = n;
	rc = 0;
out_parser:
	g_object_unref(parser);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

static void add_text_or_null(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	if (v[0])
		json_builder_add_string_value(b, v);
	else
		json_builder_add_null_value(b);
}

char *wire_payment_json(const struct wire_payment *p)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	add_text_or_null(b, "tx_uuid", p->tx_uuid);
	json_builder_set_member_name(b, "lines");
	json_builder_begin_array(b);
	for (size_t k = 0; k < p->n; k++) {
		const struct wire_pay_line *l = &p->lines[k];
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "n");
		json_builder_add_int_value(b, l->n);
		add_text_or_null(b, "entity", l->entity);
		add_text_or_null(b, "service", l->service);
		add_text_or_null(b, "reference", l->reference);
		add_text_or_null(b, "bill", l->bill);
		json_builder_set_member_name(b, "amount_fils");
		json_builder_add_int_value(b, l->amount_fils);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	return reply_json_text(b);
}

/* ---- heartbeat ---- */

void wire_heartbeat_clear(struct wire_heartbeat *hb)
{
	g_free(hb->devices_json);
	memset(hb, 0, sizeof(*hb));
}

int wire_heartbeat_parse(const char *buf, size_t len, struct wire_heartbeat *out, struct wire_error *err)
{
	JsonParser *parser;
	JsonObject *o = load_object(buf, len, out, sizeof(*out), &parser, err);
	int rc = -1;
	JsonBuilder *b = NULL;
	if (!o || get_text(o, "version", 32, out->version, sizeof(out->version), err) != 0 ||
	    get_int(o, "queue_depth", &out->queue_depth, err) != 0 || get_int(o, "sent_s", &out->sent_s, err) != 0)
		goto out_parser;
	if (out->queue_depth < 0) {
		fail(err, WIRE_BAD_REQUEST, 0, "'queue_depth' must be 0 or more");
		goto out_parser;
	}
	JsonNode *on = json_object_get_member(o, "oldest_unsynced_s");
	enum kind k = kind_of(on);
	if (k == K_INT) {
		out->has_oldest = true;
		out->oldest_unsynced_s = json_node_get_int(on);
	} else if (k != K_NULL) {
		fail(err, WIRE_BAD_REQUEST, 0, "'oldest_unsynced_s' must be an integer or null, it is %s", kind_name(k));
		goto out_parser;
	}
	JsonNode *dn = json_object_get_member(o, "devices");
	if (!dn || !JSON_NODE_HOLDS_OBJECT(dn)) {
		fail(err, WIRE_BAD_REQUEST, 0, "'devices' must be an object of device name to state");
		goto out_parser;
	}
	JsonObject *devs = json_node_get_object(dn);
	if (json_object_get_size(devs) > WIRE_DEVICES_MAX) {
		fail(err, WIRE_BAD_REQUEST, 0, "more than %d devices", WIRE_DEVICES_MAX);
		goto out_parser;
	}
	b = json_builder_new();
	json_builder_begin_object(b);
	GList *names = json_object_get_members(devs);
	for (GList *l = names; l; l = l->next) {
		const char *name = l->data;
		JsonNode *sn = json_object_get_member(devs, name);
		if (strlen(name) == 0 || strlen(name) > 32 || kind_of(sn) != K_TEXT ||
		    strlen(json_node_get_string(sn)) > 32) {
			g_list_free(names);
			fail(err, WIRE_BAD_REQUEST, 0, "'devices': each name and state is text of 1 to 32 bytes");
			goto out_parser;
		}
		json_builder_set_member_name(b, name);
		json_builder_add_string_value(b, json_node_get_string(sn));
	}
	g_list_free(names);
	json_builder_end_object(b);
	JsonNode *root = json_builder_get_root(b);
	JsonGenerator *gen = json_generator_new();
	json_generator_set_root(gen, root);
	out->devices_json = json_generator_to_data(gen, NULL);
	g_object_unref(gen);
	json_node_unref(root);
	rc = 0;
out_parser:
	if (b)
		g_object_unref(b);
	if (rc)
		wire_heartbeat_clear(out);
	g_object_unref(parser);
	return rc;
}

/* ---- Date ---- */

bool wire_http_date_parse(const char *s, int64_t *out)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	/* "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 bytes, fixed positions. */
	if (!s || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
	    s[19] != ':' || s[22] != ':' || s[25] != ' ' || strcmp(s + 26, "GMT") != 0)
		return false;
	static const int digits[] = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
	for (size_t k = 0; k < G_N_ELEMENTS(digits); k++)
		if (s[digits[k]] < '0' || s[digits[k]] > '9')
			return false;
	int wday = -1, mon = -1;
	for (int k = 0; k < 7; k++)
		if (strncmp(s, days[k], 3) == 0)
			wday = k;
	for (int k = 0; k < 12; k++)
		if (strncmp(s + 8, months[k], 3) == 0)
			mon = k;
	if (wday < 0 || mon < 0)
		return false;
	struct tm tm = {0};
	tm.tm_mday = (s[5] - '0') * 10 + (s[6] - '0');
	tm.tm_mon = mon;
	tm.tm_year = (s[12] - '0') * 1000 + (s[13] - '0') * 100 + (s[14] - '0') * 10 + (s[15] - '0') - 1900;
	tm.tm_hour = (s[17] - '0') * 10 + (s[18] - '0');
	tm.tm_min = (s[20] - '0') * 10 + (s[21] - '0');
	tm.tm_sec = (s[23] - '0') * 10 + (s[24] - '0');
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	struct tm check = tm;
	time_t t = timegm(&check);
	/* timegm normalises 31 Feb into March: such a date is refused, as is a wrong weekday. */
	if (t == (time_t)-1 || check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon || check.tm_wday != wday)
		return false;
	*out = (int64_t)t;
	return true;
}
