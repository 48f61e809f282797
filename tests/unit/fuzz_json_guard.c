/* Fuzz target: the lexical JSON guard (kiosk/core/jsonguard.h). The first byte picks the depth
 * limit and whether fractions pass; the rest is the text. Beyond not crashing: the verdict is
 * the same twice; a refusal names a fault, an offset inside the text and " at offset "; text it
 * passes that json-glib parses has no member json-glib replaced, nothing nested past the limit,
 * no string cut by a NUL, and no integer wrapped (each integer node re-printed is its text). */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/jsonguard.h"

/* "inf", "-inf", "nan", "-nan" at s: how printf writes a double that is not finite. */
static bool non_finite(const char *s, size_t n)
{
	if (n && *s == '-')
		s++, n--;
	return n >= 3 && (strncmp(s, "inf", 3) == 0 || strncmp(s, "nan", 3) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	GHashTable *members; /* JsonObject -> members parsed into it */
	bool replaced;
};

static void on_member(JsonParser *p, JsonObject *o, const char *name, gpointer user)
{
	(void)p;
	(void)name;
	struct seen *s = user;
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(s->members, o)) + 1;
	g_hash_table_insert(s->members, o, GUINT_TO_POINTER(n));
	if (json_object_get_size(o) < n)
		s->replaced = true;
}

/* The deepest nesting under node (an object or array counts one). */
static int depth_of(JsonNode *node)
{
	int deepest = 0;
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		GList *values = json_object_get_values(json_node_get_object(node));
		for (GList *v = values; v; v = v->next) {
			int d = depth_of(v->data);
			deepest = d > deepest ? d : deepest;
		}
		g_list_free(values);
		return deepest + 1;
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *a = json_node_get_array(node);
		for (guint k = 0; k < json_array_get_length(a); k++) {
			int d = depth_of(json_array_get_element(a, k));
			deepest = d > deepest ? d : deepest;
		}
		return deepest + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct core_json_limits lim = {.depth_max = 1 + data[0] % 8, .fractions = (data[0] & 0x80) != 0};
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct core_json_refusal why, again;
	bool ok = core_json_guard_ok(text, len, &lim, &why);
	if (ok != core_json_guard_ok(text, len, &lim, &again))
		abort();
	if (!ok) {
		if (why.fault <= CORE_JSON_OK || why.fault >= CORE_JSON_FAULT_COUNT || why.offset >= len ||
		    !strstr(why.msg, " at offset ") || why.offset != again.offset)
			abort();
		return 0;
	}
	if (why.fault != CORE_JSON_OK)
		abort();
	JsonParser *p = json_parser_new_immutable();
	struct seen s = {.members = g_hash_table_new(NULL, NULL)};
	g_signal_connect(p, "object-member", G_CALLBACK(on_member), &s);
	if (json_parser_load_from_data(p, text, (gssize)len, NULL)) {
		JsonNode *root = json_parser_get_root(p);
		if (s.replaced)
			abort(); /* a duplicate name passed */
		if (root && depth_of(root) > lim.depth_max)
			abort();
		/* Re-printed, the document's integers are the text's (no wrap) and its strings
		 * whole (no NUL): re-parsing the generator's output must pass the guard too. */
		if (root) {
			JsonGenerator *g = json_generator_new();
			json_generator_set_root(g, root);
			gsize n = 0;
			gchar *out = json_generator_to_data(g, &n);
			const struct core_json_limits deep = {.depth_max = lim.depth_max, .fractions = true};
			struct core_json_refusal r;
			/* Except a number too large for a double: json-glib prints it as C's "inf" (or
			 * "nan"), which is not JSON, and the guard is right to refuse that text. */
			if (!core_json_guard_ok(out, n, &deep, &r) &&
			    !(r.fault == CORE_JSON_NOT_NUMBER && non_finite(out + r.offset, n - r.offset)))
				abort();
			g_free(out);
			g_object_unref(g);
		}
	}
	g_hash_table_destroy(s.members);
	g_object_unref(p);
	return 0;
}
