/*
 * Unit tests of the power-cut carry (kiosk/scenario/runner.c): the bytes a dying kiosk process
 * hands the next one through the supervisor. Carries are built here from the documented
 * format, independently of the encoder; each corrupt, truncated or oversized one is refused
 * with its own reason, and a good one reads back as the same bytes.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

#include "kiosk/scenario/runner.h"

/* Line indexes: 0 expect-log, 1 wait, 2 power-cut, 3 expect-log, 4 expect-screen. */
static const char scenario_text[] = "expect-log error \"a\"\n"
				    "wait 1\n"
				    "power-cut\n"
				    "expect-log warn \"b\"\n"
				    "expect-screen attract\n";

static char *scenario_path;

static void put(GByteArray *b, uint64_t v) { g_byte_array_append(b, (const guint8 *)&v, sizeof(v)); }

struct carry_spec {
	uint64_t lines, next, clock;
	uint64_t n_expects;
	uint64_t expects[2][2];
	uint64_t n_files;
	const char *names[3];
	size_t name_lens[3];
};

static GByteArray *build(const struct carry_spec *c)
{
	GByteArray *b = g_byte_array_new();
	g_byte_array_append(b, (const guint8 *)"KCARRY1", 8);
	put(b, c->lines);
	put(b, c->next);
	put(b, c->clock);
	put(b, c->n_expects);
	for (uint64_t i = 0; i < c->n_expects && i < 2; i++) { /* at most 2 written */
		put(b, c->expects[i][0]);
		put(b, c->expects[i][1]);
	}
	put(b, c->n_files);
	for (uint64_t i = 0; i < c->n_files && i < 2; i++) {
		for (int k = 0; k < 7; k++)
			put(b, 1000 + i * 10 + (uint64_t)k);
		size_t len = c->name_lens[i] ? c->name_lens[i] : strlen(c->names[i]);
		put(b, len);
		g_byte_array_append(b, (const guint8 *)c->names[i], (guint)len);
	}
	return b;
}

static const struct carry_spec good = {
	.lines = 5, .next = 3, .clock = 12345,
	.n_expects = 1, .expects = {{0, 1}},
	.n_files = 2, .names = {"receipt-TEST-0001.png", "a.txt"},
};

static int check(const GByteArray *b, struct kio_error *err)
{
	return runner_carry_check(scenario_path, b->data, b->len, NULL, err);
}

static void expect_refused(const struct carry_spec *c, const char *reason)
{
	GByteArray *b = build(c);
	struct kio_error err = {0};
	g_assert_cmpint(check(b, &err), ==, KIO_ERR_CORRUPT);
	if (!strstr(err.msg, reason) || !strstr(err.msg, "power-cut"))
		g_error("expected \"%s\" in \"%s\"", reason, err.msg);
	g_byte_array_unref(b);
}

static void test_good_reads_back(void)
{
	GByteArray *b = build(&good);
	struct core_bytebuf again = {0};
	struct kio_error err = {0};
	g_assert_cmpint(runner_carry_check(scenario_path, b->data, b->len, &again, &err), ==, 0);
	g_assert_cmpuint(again.len, ==, b->len);
	g_assert_cmpmem(again.data, again.len, b->data, b->len);
	core_bytebuf_free(&again);
	g_byte_array_unref(b);
	/* Both expect-log lines, the last line as the next one, no files: still good. */
	struct carry_spec c = good;
	c.n_expects = 2;
	c.expects[1][0] = 3;
	c.expects[1][1] = 0;
	c.next = 5;
	c.n_files = 0;
	b = build(&c);
	g_assert_cmpint(check(b, &err), ==, 0);
	g_byte_array_unref(b);
}

/* Every proper prefix of a good carry is refused, and says it is cut short or not one. */
static void test_truncated(void)
{
	GByteArray *b = build(&good);
	for (size_t len = 0; len < b->len; len++) {
		struct kio_error err = {0};
		g_assert_cmpint(runner_carry_check(scenario_path, b->data, len, NULL, &err), ==, KIO_ERR_CORRUPT);
		if (!strstr(err.msg, "cut short") && !strstr(err.msg, "is not one") &&
		    !strstr(err.msg, "scenario changed"))
			g_error("prefix of %zu bytes: unexpected reason \"%s\"", len, err.msg);
	}
	/* One byte more than written is refused too. */
	g_byte_array_append(b, (const guint8 *)"x", 1);
	struct kio_error err = {0};
	g_assert_cmpint(check(b, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "1 bytes past its end"));
	g_byte_array_unref(b);
}

static void test_corrupt(void)
{
	GByteArray *b = build(&good);
	b->data[0] = 'X';
	struct kio_error err = {0};
	g_assert_cmpint(check(b, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "is not one"));
	g_byte_array_unref(b);

	struct carry_spec c = good;
	c.lines = 6;
	expect_refused(&c, "the scenario changed while it ran");
	c = good;
	c.next = 6;
	expect_refused(&c, "the scenario changed while it ran");
	c = good;
	c.expects[0][0] = 1; /* `wait`, not an expect-log line */
	expect_refused(&c, "expect-log lines carried over do not match");
	c = good;
	c.expects[0][0] = 5; /* past the last line */
	expect_refused(&c, "expect-log lines carried over do not match");
	c = good;
	c.expects[0][0] = UINT64_MAX;
	expect_refused(&c, "expect-log lines carried over do not match");
	c = good;
	c.expects[0][1] = 2; /* met is 0 or 1 */
	expect_refused(&c, "expect-log lines carried over do not match");
	c = good;
	c.n_expects = 2; /* the same line twice */
	c.expects[1][0] = 0;
	expect_refused(&c, "expect-log lines carried over do not match");
	/* Counts far beyond the bytes: cut short, nothing allocated for them. */
	c = good;
	c.n_expects = UINT64_MAX; /* two entries written, then the rest is missing */
	c.expects[1][0] = 3;
	c.n_files = 0;
	expect_refused(&c, "cut short");
	c = good;
	c.n_files = UINT64_MAX;
	expect_refused(&c, "cut short");
}

static void test_bad_names(void)
{
	static const struct {
		const char *name;
		size_t len;
	} bad[] = {{"a/b", 0}, {"..", 0}, {".", 0}, {"a\0b", 3}};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct carry_spec c = good;
		c.names[1] = bad[i].name;
		c.name_lens[1] = bad[i].len;
		expect_refused(&c, "file 1 of the output folder carried over is not a file name");
	}
	char *long_name = g_strnfill(256, 'n');
	struct carry_spec c = good;
	c.names[0] = long_name;
	expect_refused(&c, "file 0 of the output folder carried over is not a file name");
	long_name[255] = '\0';
	c.names[0] = long_name; /* 255 bytes: the longest a file system takes */
	GByteArray *b = build(&c);
	struct kio_error err = {0};
	g_assert_cmpint(check(b, &err), ==, 0);
	g_byte_array_unref(b);
	g_free(long_name);
	/* A name length with no name after it. */
	b = build(&good);
	g_byte_array_set_size(b, b->len - 5);
	put(b, 0);
	g_assert_cmpint(check(b, &err), ==, KIO_ERR_CORRUPT);
	g_byte_array_unref(b);
}

static void test_oversized(void)
{
	GByteArray *b = build(&good);
	g_byte_array_set_size(b, RUNNER_CARRY_MAX + 1);
	struct kio_error err = {0};
	g_assert_cmpint(check(b, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "more than 16777216"));
	g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	char *dir = g_dir_make_tmp("carry-XXXXXX", NULL);
	g_assert_nonnull(dir);
	scenario_path = g_build_filename(dir, "t.scenario", NULL);
	g_assert_true(g_file_set_contents(scenario_path, scenario_text, -1, NULL));
	g_test_add_func("/carry/good-reads-back", test_good_reads_back);
	g_test_add_func("/carry/truncated", test_truncated);
	g_test_add_func("/carry/corrupt", test_corrupt);
	g_test_add_func("/carry/bad-names", test_bad_names);
	g_test_add_func("/carry/oversized", test_oversized);
	int rc = g_test_run();
	g_unlink(scenario_path);
	g_rmdir(dir);
	g_free(scenario_path);
	g_free(dir);
	return rc;
}
