/* Unit tests of the scenario parser: every command, and every way a line can be wrong. */
#include <glib.h>
#include <string.h>

#include "kiosk/scenario/runner.h"
#include "kiosk/scenario/script.h"

static struct script *parse_ok(const char *text)
{
	struct script *s = NULL;
	struct kio_error err = {0};
	if (script_parse("t.scenario", text, runner_check_cmd, &s, &err) != 0)
		g_error("unexpected parse error: %s", err.msg);
	return s;
}

static void expect_error(const char *text, const char *message)
{
	struct script *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(script_parse("t.scenario", text, runner_check_cmd, &s, &err), ==, KIO_ERR_INVALID);
	g_assert_null(s);
	if (!strstr(err.msg, message))
		g_error("expected \"%s\" in \"%s\"", message, err.msg);
}

static void test_every_command(void)
{
	struct script *s = parse_ok("# a comment\n"
				    "\n"
				    "tap attract.ar   # trailing comment\n"
				    "tap-text \"Top up card\"\n"
				    "type \"12\\\"3\\\\\"\n"
				    "note 50\n"
				    "note-fake\n"
				    "wait 1.5\n"
				    "wait 60\n"
				    "expect-screen home\n"
				    "expect-text \"أهلاً وسهلاً\"\n"
				    "expect-no-text \"Welcome\"\n"
				    "screenshot home-ar_1.x\n"
				    "fault cash jam\n"
				    "clear receipt\r\n"
				    "fault card feeder-empty");
	g_assert_cmpuint(s->n, ==, 14);
	g_assert_cmpint(s->cmds[0].op, ==, SCRIPT_TAP);
	g_assert_cmpstr(s->cmds[0].arg, ==, "attract.ar");
	g_assert_cmpint(s->cmds[0].line, ==, 3);
	g_assert_cmpstr(s->cmds[1].arg, ==, "Top up card");
	g_assert_cmpstr(s->cmds[2].arg, ==, "12\"3\\");
	g_assert_cmpint(s->cmds[3].number, ==, 5000); /* fils */
	g_assert_cmpint(s->cmds[4].op, ==, SCRIPT_NOTE_FAKE);
	g_assert_cmpint(s->cmds[5].number, ==, 1500); /* ms */
	g_assert_cmpint(s->cmds[6].number, ==, 60000);
	g_assert_cmpstr(s->cmds[8].arg, ==, "أهلاً وسهلاً");
	g_assert_cmpint(s->cmds[9].op, ==, SCRIPT_EXPECT_NO_TEXT);
	g_assert_cmpstr(s->cmds[10].arg, ==, "home-ar_1.x");
	g_assert_cmpstr(s->cmds[11].arg2, ==, "jam");
	g_assert_cmpint(s->cmds[12].op, ==, SCRIPT_CLEAR);
	g_assert_cmpstr(s->cmds[12].arg, ==, "receipt");
	g_assert_cmpint(s->cmds[13].line, ==, 16);
	script_free(s);
}

static void test_errors_name_file_and_line(void)
{
	expect_error("tap a\nfly away\n", "t.scenario:2: unknown command 'fly'");
	expect_error("tap\n", "t.scenario:1: missing argument");
	expect_error("tap a b\n", "t.scenario:1: unexpected 'b'");
	expect_error("note 30\n", "'30' is not a UAE banknote");
	expect_error("note fifty\n", "'fifty' is not a UAE banknote");
	expect_error("note -50\n", "not a UAE banknote");
	expect_error("wait soon\n", "'soon' is not a number of seconds");
	expect_error("wait 1.2345\n", "not a number of seconds");
	expect_error("wait 999999999\n", "not a number of seconds");
	expect_error("wait -1\n", "not a number of seconds");
	expect_error("expect-text Welcome\n", "expected a string in double quotes");
	expect_error("expect-text \"Welcome\n", "unterminated string");
	expect_error("expect-text \"a\\nb\"\n", "unknown escape");
	expect_error("screenshot ../escape\n", "not a valid name");
	expect_error("screenshot a/b\n", "not a valid name");
	expect_error("fault printer jam\n", "unknown device 'printer'");
	expect_error("fault cash melted\n", "unknown cash fault 'melted' (jam stacker-full");
	expect_error("fault receipt jam\n", "unknown receipt fault 'jam'");
	expect_error("fault cash\n", "t.scenario:1: missing argument");
	expect_error("expect-screen nowhere\n", "unknown screen 'nowhere'");
	expect_error("type \"\"\n", "nothing to type");
	expect_error("# only comments\n\n", "no commands");
	expect_error("", "no commands");
}

static void test_load_missing_file(void)
{
	struct script *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(script_load("/nonexistent/x.scenario", NULL, &s, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_nonnull(strstr(err.msg, "/nonexistent/x.scenario"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/script/every-command", test_every_command);
	g_test_add_func("/script/errors", test_errors_name_file_and_line);
	g_test_add_func("/script/missing-file", test_load_missing_file);
	return g_test_run();
}
