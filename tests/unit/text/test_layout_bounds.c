/*
 * The engine's size bounds (TEXT_EXTENT_MAX_PX): a line or a layout that would not fit its
 * int32_t 26.6 fields is refused with a reason, never wrapped around to a negative width
 * (20,000 x U+FDFD at 300 px was a signed overflow in wrap_paragraph and a blank PNG), while a
 * megabyte of wrapped text still lays out.
 */
#include <glib.h>
#include <string.h>

#include "kiosk/text/text-priv.h"

static struct text_engine *engine;

static char *repeat(const char *unit, int times)
{
	GString *s = g_string_new(NULL);
	for (int i = 0; i < times; i++)
		g_string_append(s, unit);
	return g_string_free(s, FALSE);
}

static struct text_layout *lay(const char *text, int size, int width)
{
	struct text_style st = {.size_px = size, .dir = TEXT_DIR_AUTO, .max_width = width};
	return text_layout_new(engine, text, strlen(text), &st);
}

static void test_wide_line_refused(void)
{
	/* U+FDFD is about 2,166 px wide at 300 px: 20,000 pass INT32_MAX in 26.6, 15,000 pass
	 * the bound without passing INT32_MAX. */
	const int counts[] = {20000, 15000};
	for (int i = 0; i < 2; i++) {
		char *text = repeat("\xef\xb7\xbd", counts[i]);
		struct text_layout *l = lay(text, 300, 0);
		g_assert_null(l);
		g_assert_nonnull(strstr(engine->s.refused, "px wide (at most 16777216 px)"));
		g_free(text);
	}
	/* Wrapped, the same glyphs are many short lines: too tall instead, also refused. */
	char *text = repeat("\xef\xb7\xbd", 40000);
	g_assert_null(lay(text, 300, 2400));
	g_assert_nonnull(strstr(engine->s.refused, "px tall (at most 16777216 px)"));
	g_free(text);
	/* What fits is laid out, and the engine is usable after a refusal. */
	text = repeat("\xef\xb7\xbd", 5000);
	struct text_layout *l = lay(text, 300, 0);
	g_assert_nonnull(l);
	g_assert_cmpstr(engine->s.refused, ==, "");
	g_assert_cmpint(text_layout_width(l), >, 5000 * 2000);
	g_assert_cmpint(text_layout_width(l), <=, TEXT_EXTENT_MAX_PX);
	text_layout_free(l);
	g_free(text);
}

static void test_megabyte_wraps(void)
{
	char *text = repeat("\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 hello 150.00 AED 77 ", 34000); /* 1 MiB */
	g_assert_cmpuint(strlen(text), >=, 1u << 20);
	struct text_layout *l = lay(text, 32, 1000);
	g_assert_nonnull(l);
	g_assert_cmpint(text_layout_line_count(l), >, 1000);
	g_assert_cmpint(text_layout_width(l), ==, 1000);
	g_assert_cmpint(text_layout_height(l), >, 0);
	text_layout_free(l);
	g_free(text);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	struct kio_error err;
	if (text_engine_new(NULL, &engine, &err) != 0) {
		g_printerr("fonts: %s\n", err.msg);
		return 77;
	}
	g_test_add_func("/text/bounds/wide-line", test_wide_line_refused);
	g_test_add_func("/text/bounds/megabyte", test_megabyte_wraps);
	int rc = g_test_run();
	text_engine_free(engine);
	return rc;
}
