/* Unit tests of the lexical JSON guard (kiosk/core/jsonguard.h): every refusal with its offset
 * and message, and what must pass (escaped names, deep but allowed nesting, big fractions). */
#include <glib.h>
#include <string.h>

#include "kiosk/core/jsonguard.h"

static const struct core_json_limits lim4 = {.depth_max = 4, .fractions = true};
static const struct core_json_limits lim4_int = {.depth_max = 4, .fractions = false};

struct refused_case {
	const char *text;
	size_t len; /* 0: strlen */
	const struct core_json_limits *lim;
	enum core_json_fault fault;
	size_t offset;
	const char *msg;
};

static const struct refused_case refused[] = {
	/* json-glib wraps these: -18446744073709549616 reads as 2000. */
	{"{\"a\":-18446744073709549616}", 0, &lim4, CORE_JSON_INT_RANGE, 5, "an integer beyond 64 bits at offset 5"},
	{"{\"a\":18446744073709553616}", 0, &lim4, CORE_JSON_INT_RANGE, 5, NULL},
	{"[9223372036854775808]", 0, &lim4, CORE_JSON_INT_RANGE, 1, NULL},
	{"[-9223372036854775809]", 0, &lim4, CORE_JSON_INT_RANGE, 1, NULL},
	{"[1, 99999999999999999999]", 0, &lim4, CORE_JSON_INT_RANGE, 4, NULL},
	{"{\"a\":010}", 0, &lim4, CORE_JSON_LEADING_ZERO, 5, "a number with a leading zero at offset 5"},
	{"[-01]", 0, &lim4, CORE_JSON_LEADING_ZERO, 1, NULL},
	{"[00.5]", 0, &lim4, CORE_JSON_LEADING_ZERO, 1, NULL},
	{"\"kind\\ud8;d:{\"", 0, &lim4, CORE_JSON_BAD_ESCAPE, 5, "a \\u escape without four hex digits at offset 5"},
	{"[\"a\\qb\"]", 0, &lim4, CORE_JSON_BAD_ESCAPE, 3, "an escape JSON does not have (\\q) at offset 3"},
	{"{\"a\":\"\\u12\"}", 0, &lim4, CORE_JSON_BAD_ESCAPE, 6, NULL},
	{"[0x7D0]", 0, &lim4, CORE_JSON_NOT_NUMBER, 1, "not a JSON number (hexadecimal, or a letter after digits) at offset 1"},
	{"{\"a\":12abc}", 0, &lim4, CORE_JSON_NOT_NUMBER, 5, NULL},
	{"[[[[[1]]]]]", 0, &lim4, CORE_JSON_DEPTH, 4, "JSON nested deeper than 4 levels at offset 4"},
	{"{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", 0, &lim4, CORE_JSON_DEPTH, 20, NULL},
	{"{\"a\":\"x\\u0000y\"}", 0, &lim4, CORE_JSON_NUL_ESCAPE, 7, "a string holds \\u0000 at offset 7"},
	{"{\"a\\u0000\":1}", 0, &lim4, CORE_JSON_NUL_ESCAPE, 3, NULL},
	{"{\"a\":1}\0{\"a\":2}", 15, &lim4, CORE_JSON_NUL, 7, "a NUL byte at offset 7"},
	{"{\"a\":\"x\0y\"}", 11, &lim4, CORE_JSON_NUL, 7, NULL},
	{"{\"acked\":5,\"acked\":10}", 0, &lim4, CORE_JSON_DUPLICATE, 11, "a member named twice ('acked') at offset 11"},
	/* The same name spelled with escapes: \u0065 is 'e', \/ is '/'. */
	{"{\"acked\":5,\"ack\\u0065d\":10}", 0, &lim4, CORE_JSON_DUPLICATE, 11, "a member named twice ('acked') at offset 11"},
	{"{\"a/b\":1, \"a\\/b\":2}", 0, &lim4, CORE_JSON_DUPLICATE, 10, NULL},
	{"{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", 0, &lim4, CORE_JSON_DUPLICATE, 18, NULL},
	/* A name with a control character is shown with '?', never raw. */
	{"{\"a\\nb\":1,\"a\\nb\":2}", 0, &lim4, CORE_JSON_DUPLICATE, 10, "a member named twice ('a?b') at offset 10"},
	/* Inside a nested object, after a sibling object closed with the same names. */
	{"{\"x\":{\"a\":1},\"y\":{\"a\":1,\"b\":{},\"a\":2}}", 0, &lim4, CORE_JSON_DUPLICATE, 31, NULL},
	{"{\"a\":\"\xff\"}", 0, &lim4, CORE_JSON_UTF8, 6, "a byte 0xFF that is not UTF-8 at offset 6"},
	{"\xef\xbb\xbf\xc0\xaf", 0, &lim4, CORE_JSON_UTF8, 3, NULL},             /* overlong '/' */
	{"[\"\xed\xa0\x80\"]", 0, &lim4, CORE_JSON_UTF8, 2, NULL},              /* a surrogate in UTF-8 */
	{"[\"\xf4\x90\x80\x80\"]", 0, &lim4, CORE_JSON_UTF8, 2, NULL},          /* past U+10FFFF */
	{"[\"\xe2\x82\"]", 0, &lim4, CORE_JSON_UTF8, 2, NULL},                  /* cut short */
	{"[\"\\ud83d\"]", 0, &lim4, CORE_JSON_SURROGATE, 2, NULL},
	{"[\"\\ude00\"]", 0, &lim4, CORE_JSON_SURROGATE, 2, NULL},
	{"{\"a\":2000.5}", 0, &lim4_int, CORE_JSON_FRACTION, 5, "a number with a fraction or exponent at offset 5"},
	{"{\"a\":2e3}", 0, &lim4_int, CORE_JSON_FRACTION, 5, NULL},
};

static void test_refusals(void)
{
	for (size_t k = 0; k < G_N_ELEMENTS(refused); k++) {
		const struct refused_case *c = &refused[k];
		size_t len = c->len ? c->len : strlen(c->text);
		struct core_json_refusal why;
		char *shown = g_strescape(c->text, NULL); /* TAP output stays UTF-8 */
		g_test_message("case %zu: %s", k, shown);
		g_free(shown);
		g_assert_false(core_json_guard_ok(c->text, len, c->lim, &why));
		g_assert_cmpstr(core_json_fault_name(why.fault), ==, core_json_fault_name(c->fault));
		g_assert_cmpuint(why.offset, ==, c->offset);
		if (c->msg)
			g_assert_cmpstr(why.msg, ==, c->msg);
		/* A refusal says where, and without a why it is still a refusal. */
		g_assert_nonnull(strstr(why.msg, " at offset "));
		g_assert_false(core_json_guard_ok(c->text, len, c->lim, NULL));
	}
}

static const char *const passed[] = {
	"{}",
	"[]",
	"{\"a\":0,\"b\":-0,\"c\":-1,\"d\":10}",
	"[9223372036854775807,-9223372036854775808,0,-0]",
	/* One name in sibling objects, and in an object and its parent: not a duplicate. */
	"{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}],\"c\":{\"a\":{\"a\":{}}}}",
	/* Names that only look alike: case, an escape that is another character. */
	"{\"acked\":1,\"Acked\":2,\"ack\\u0065d2\":3,\"a\\\"b\":4,\"a\\\\b\":5}",
	/* Escaped names and values, a surrogate pair, Arabic text. */
	"{\"\\ud83d\\ude00\":\"\xd8\xb4\\n\\t\\/\",\"\xd8\xb4\":1}",
	/* Four levels with depth_max 4. */
	"{\"a\":[{\"b\":[1,2]}]}",
	"[[[[]]]]",
	/* Fractions of any size pass when the caller allows them: the type checks refuse them. */
	"{\"a\":123456789012345678901234567890.5,\"b\":1e400,\"c\":-99999999999999999999e-3,\"d\":0.000001}",
	/* Digits inside strings are text, not numbers. */
	"{\"a\":\"99999999999999999999\",\"b\":\"010\",\"c\":\"\\\\u0000\"}",
	/* Whitespace between a name and its colon. */
	"{\"a\" : 1, \"b\"\n:\t2}",
};

static void test_passes(void)
{
	for (size_t k = 0; k < G_N_ELEMENTS(passed); k++) {
		const char *text = passed[k];
		struct core_json_refusal why;
		g_test_message("case %zu: %s", k, text);
		if (!core_json_guard_ok(text, strlen(text), &lim4, &why))
			g_error("case %zu refused: %s", k, why.msg);
		g_assert_cmpint(why.fault, ==, CORE_JSON_OK);
	}
	/* The guard reads len bytes and no more: a refusal past len is not seen. */
	const char *cut = "{\"a\":1}010";
	g_assert_true(core_json_guard_ok(cut, 7, &lim4, NULL));
	g_assert_false(core_json_guard_ok(cut, 10, &lim4, NULL));
	/* Many members in one object (a hash per object, not a scan per name). */
	GString *many = g_string_new("{");
	for (int k = 0; k < 100000; k++)
		g_string_append_printf(many, "%s\"m%d\":%d", k ? "," : "", k, k);
	g_string_append_c(many, '}');
	g_assert_true(core_json_guard_ok(many->str, many->len, &lim4, NULL));
	g_string_append(many, ",\"m99999\":1}");
	many->str[many->len - 13] = ','; /* the first '}' becomes a ',' */
	struct core_json_refusal why;
	g_assert_false(core_json_guard_ok(many->str, many->len, &lim4, &why));
	g_assert_cmpint(why.fault, ==, CORE_JSON_DUPLICATE);
	g_string_free(many, TRUE);
	/* A 4 MiB "[[[[": refused at the first level too deep, with no recursion. */
	size_t big = 4u << 20;
	char *deep = g_malloc(big);
	memset(deep, '[', big);
	g_assert_false(core_json_guard_ok(deep, big, &lim4, &why));
	g_assert_cmpint(why.fault, ==, CORE_JSON_DEPTH);
	g_assert_cmpuint(why.offset, ==, 4);
	g_free(deep);
	/* Every fault has a name. */
	for (int f = 0; f < CORE_JSON_FAULT_COUNT; f++)
		g_assert_cmpstr(core_json_fault_name((enum core_json_fault)f), !=, "?");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/core/jsonguard/refusals", test_refusals);
	g_test_add_func("/core/jsonguard/passes", test_passes);
	return g_test_run();
}
