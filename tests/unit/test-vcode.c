/* The e-voucher code (kiosk/core/vcode.h): the Damm check against published values, every
 * single-digit error and adjacent transposition caught, typing forms, generation. */
#include <glib.h>
#include <string.h>

#include "kiosk/core/vcode.h"

static void test_damm_known_answers(void)
{
	/* Damm's worked example (572 -> 4) and the check that a whole valid number folds to 0. */
	g_assert_cmpint(vcode_damm("572", 3), ==, '4');
	g_assert_cmpint(vcode_damm("5724", 4), ==, '0');
	g_assert_cmpint(vcode_damm("", 0), ==, '0');
	g_assert_cmpint(vcode_damm("12a", 3), ==, -1);
}

/* A valid code built from fifteen chosen digits. */
static void make_code(const char *first15, char out[VCODE_DIGITS + 1])
{
	memcpy(out, first15, VCODE_DIGITS - 1);
	out[VCODE_DIGITS - 1] = (char)vcode_damm(first15, VCODE_DIGITS - 1);
	out[VCODE_DIGITS] = '\0';
}

static void test_every_single_error_and_transposition_caught(void)
{
	char code[VCODE_DIGITS + 1], out[VCODE_DIGITS + 1];
	make_code("912345678901234", code);
	g_assert_cmpint(vcode_parse(code, out), ==, VCODE_OK);
	g_assert_cmpstr(out, ==, code);
	for (int i = 1; i < VCODE_DIGITS; i++) {
		for (char d = '0'; d <= '9'; d++) {
			if (d == code[i])
				continue;
			char bad[VCODE_DIGITS + 1];
			memcpy(bad, code, sizeof(bad));
			bad[i] = d;
			g_assert_cmpint(vcode_parse(bad, out), ==, VCODE_ERR_CHECK);
			g_assert_cmpstr(out, ==, "");
		}
	}
	for (int i = 1; i + 1 < VCODE_DIGITS; i++) {
		if (code[i] == code[i + 1])
			continue;
		char bad[VCODE_DIGITS + 1];
		memcpy(bad, code, sizeof(bad));
		bad[i] = code[i + 1];
		bad[i + 1] = code[i];
		g_assert_cmpint(vcode_parse(bad, out), ==, VCODE_ERR_CHECK);
	}
}

static void test_typed_forms(void)
{
	char code[VCODE_DIGITS + 1], out[VCODE_DIGITS + 1], shown[VCODE_FORMATTED_LEN + 1];
	make_code("900000000000017", code);
	g_assert_true(vcode_format(code, shown));
	g_assert_cmpint((int)strlen(shown), ==, VCODE_FORMATTED_LEN);
	g_assert_cmpint(vcode_parse(shown, out), ==, VCODE_OK);
	g_assert_cmpstr(out, ==, code);

	char dashed[40];
	g_snprintf(dashed, sizeof(dashed), " %.4s-%.4s-%.4s-%.4s ", code, code + 4, code + 8, code + 12);
	g_assert_cmpint(vcode_parse(dashed, out), ==, VCODE_OK);
	g_assert_cmpstr(out, ==, code);

	g_assert_cmpint(vcode_parse(NULL, out), ==, VCODE_ERR_EMPTY);
	g_assert_cmpint(vcode_parse("", out), ==, VCODE_ERR_EMPTY);
	g_assert_cmpint(vcode_parse(" - ", out), ==, VCODE_ERR_EMPTY);
	g_assert_cmpint(vcode_parse("9123", out), ==, VCODE_ERR_LENGTH);
	char longer[40];
	g_snprintf(longer, sizeof(longer), "%s0", code);
	g_assert_cmpint(vcode_parse(longer, out), ==, VCODE_ERR_LENGTH);
	g_snprintf(longer, sizeof(longer), "%sx", code);
	g_assert_cmpint(vcode_parse(longer, out), ==, VCODE_ERR_CHAR);
	g_assert_cmpint(vcode_parse("9123 4567\t8901 2345", out), ==, VCODE_ERR_CHAR);
	g_assert_cmpint(vcode_parse("9123 4567 8901 234\xd9\xa5", out), ==, VCODE_ERR_CHAR);
	/* A valid e-Dirham card number is sixteen digits too, and is refused by its prefix. */
	char card[VCODE_DIGITS + 1];
	make_code("784100002468013", card);
	g_assert_cmpint(vcode_parse(card, out), ==, VCODE_ERR_PREFIX);

	g_assert_false(vcode_format("9123", shown));
	g_assert_cmpstr(shown, ==, "");
	g_assert_false(vcode_format(shown, shown));
	g_assert_false(vcode_format(dashed, shown));
	for (int v = 0; v < VCODE_VERDICT_COUNT; v++)
		g_assert_nonnull(vcode_verdict_name(v));
	g_assert_null(vcode_verdict_name(VCODE_VERDICT_COUNT));
	g_assert_null(vcode_verdict_name(-1));
}

static void test_generate(void)
{
	enum { N = 2000 };
	unsigned counts[VCODE_DIGITS][10] = {{0}};
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int k = 0; k < N; k++) {
		char code[VCODE_DIGITS + 1], out[VCODE_DIGITS + 1];
		g_assert_cmpint(vcode_generate(code), ==, 0);
		g_assert_cmpint(vcode_parse(code, out), ==, VCODE_OK);
		g_assert_cmpint(code[0], ==, VCODE_PREFIX);
		g_assert_true(g_hash_table_add(seen, g_strdup(code)));
		for (int i = 0; i < VCODE_DIGITS; i++)
			counts[i][code[i] - '0']++;
	}
	/* Each random position is uniform: 200 expected per digit; below 100 or above 300 is
	 * beyond 7 standard deviations (sd ~ 13.4), so this never fails by chance. */
	for (int i = 1; i < VCODE_DIGITS - 1; i++)
		for (int d = 0; d < 10; d++) {
			g_assert_cmpuint(counts[i][d], >, 100);
			g_assert_cmpuint(counts[i][d], <, 300);
		}
	g_hash_table_destroy(seen);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vcode/damm", test_damm_known_answers);
	g_test_add_func("/vcode/errors-caught", test_every_single_error_and_transposition_caught);
	g_test_add_func("/vcode/typed", test_typed_forms);
	g_test_add_func("/vcode/generate", test_generate);
	return g_test_run();
}
