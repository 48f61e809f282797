/* Unit tests of the scenario parser: every command, and every way a line can be wrong. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiosk/scenario/runner.h"
#include "kiosk/scenario/script.h"

static struct script *parse_ok(const char *text)
{
	struct script *s = NULL;
	struct kio_error err = {0};
	if (script_parse("t.scenario", text, runner_check_cmd, NULL, &s, &err) != 0)
		g_error("unexpected parse error: %s", err.msg);
	return s;
}

static void expect_error(const char *text, const char *message)
{
	struct script *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(script_parse("t.scenario", text, runner_check_cmd, NULL, &s, &err), ==, KIO_ERR_INVALID);
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

/* The commands of issue 11: expect-ledger's two strings, power-cut alone on its line. */
static void test_ledger_and_power_cut(void)
{
	struct script *s = parse_ok("expect-ledger \"SELECT count(*) FROM tx WHERE kind = 'topup'\" \"1\"\n"
				    "expect-ledger \"SELECT NULL\" \"\"\n"
				    "power-cut\n");
	g_assert_cmpuint(s->n, ==, 3);
	g_assert_cmpint(s->cmds[0].op, ==, SCRIPT_EXPECT_LEDGER);
	g_assert_cmpstr(s->cmds[0].arg, ==, "SELECT count(*) FROM tx WHERE kind = 'topup'");
	g_assert_cmpstr(s->cmds[0].arg2, ==, "1");
	g_assert_cmpstr(s->cmds[1].arg2, ==, "");
	g_assert_cmpint(s->cmds[2].op, ==, SCRIPT_POWER_CUT);
	script_free(s);
	expect_error("expect-ledger \"\" \"1\"\n", "t.scenario:1: expect-ledger needs a query");
	expect_error("expect-ledger \"SELECT 1\"\n", "expected a string in double quotes");
	expect_error("expect-ledger SELECT 1\n", "expected a string in double quotes");
	expect_error("power-cut now\n", "unexpected 'now' after the arguments of power-cut");
	char *huge = g_strnfill(5000, 'x');
	char *line = g_strdup_printf("expect-ledger \"%s\" \"1\"\n", huge);
	expect_error(line, "the query is 5000 bytes, more than 4096");
	g_free(line);
	g_free(huge);
}

/* Device names come from the one device table (kiosk/kdev.h), each command's own subset. */
static void test_device_names(void)
{
	expect_error("fault store write-failed\n", "unknown device 'store' (cash, receipt, card)");
	expect_error("clear printer\n", "unknown device 'printer' (cash, receipt, card)");
	expect_error("expect-device printer ok\n", "unknown device 'printer' (cash, receipt, card, store, host)");
	expect_error("test-print cash\n", "no test print for 'cash' (receipt, card)");
	expect_error("test-print store\n", "no test print for 'store' (receipt, card)");
	expect_error("expect-device store jam\n", "unknown store state 'jam' (ok write-failed)");
	expect_error("expect-device host jam\n", "unknown host state 'jam' (ok record-conflict chain-broken bad-record)");
	struct script *s = parse_ok("expect-device store write-failed\nwait-device receipt paper-out\n"
				    "expect-device cash cashbox-removed\ntest-print receipt\n");
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

static void expect_error_env(const char *text, const struct runner_env *env, const char *message)
{
	struct script *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(script_parse("t.scenario", text, runner_check_cmd, (void *)env, &s, &err), ==, KIO_ERR_INVALID);
	g_assert_null(s);
	if (!strstr(err.msg, message))
		g_error("expected \"%s\" in \"%s\"", message, err.msg);
}

/* Invalid UTF-8 anywhere is refused at parse time with its line and column, never left for
 * the line to meet at run time (after the database was written). */
static void test_invalid_utf8(void)
{
	expect_error("expect-text \"caf\xe9\"\n", "t.scenario:1: invalid UTF-8 (byte 0xE9 at column 17)");
	expect_error("tap a\nexpect-text \"\xc0\xaf\"\n", "t.scenario:2: invalid UTF-8 (byte 0xC0 at column 14)");
	expect_error("expect-text \"\xed\xa0\x80\"\n", "invalid UTF-8 (byte 0xED");      /* a surrogate */
	expect_error("expect-text \"\xf4\x90\x80\x80\"\n", "invalid UTF-8 (byte 0xF4"); /* above U+10FFFF */
	expect_error("expect-text \"\xe2\x82\"\n", "invalid UTF-8 (byte 0xE2");         /* cut short */
	expect_error("expect-text \"x\"\n# \xff\n", "t.scenario:2: invalid UTF-8 (byte 0xFF at column 3)");
	expect_error("tap a\xe2\x82", "t.scenario:1: invalid UTF-8 (byte 0xE2 at column 6)"); /* at the end */
	/* Every well-formed kind passes: 2, 3 and 4 bytes, the edges of the ranges. */
	struct script *s = parse_ok("expect-text \"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 "
				    "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\"\n");
	g_assert_cmpuint(s->n, ==, 1);
	script_free(s);
}

/* A leading byte order mark is skipped; anywhere else, and any other invisible or non-ASCII
 * character outside quotes, is named in the message. */
static void test_bom_and_invisible_characters(void)
{
	struct script *s = parse_ok("\xef\xbb\xbf" "expect-screen attract\r\ntap attract.en\n");
	g_assert_cmpuint(s->n, ==, 2);
	g_assert_cmpint(s->cmds[0].op, ==, SCRIPT_EXPECT_SCREEN);
	g_assert_cmpint(s->cmds[0].line, ==, 1);
	g_assert_cmpstr(s->cmds[0].source, ==, "expect-screen attract");
	g_assert_cmpint(s->cmds[1].line, ==, 2);
	script_free(s);
	expect_error("tap a\n\xef\xbb\xbftap b\n",
		     "t.scenario:2: command '<U+FEFF>tap' contains U+FEFF (a byte order mark)");
	expect_error("expect-screen\xe2\x80\x8b attract\n", "command 'expect-screen<U+200B>' contains U+200B");
	expect_error("tap attract.en\xc2\xa0\n", "argument 'attract.en<U+00A0>' contains U+00A0 (a no-break space)");
	expect_error("wait \xd9\xa1\n", "argument '<U+0661>' contains U+0661");
	expect_error("tap a\rb\n", "argument 'a<U+000D>b' contains U+000D");
	/* In a long id the character is still found and shown, with the id cut around it. */
	GString *id = g_string_new("tap ");
	for (int i = 0; i < 200; i++)
		g_string_append_c(id, 'x');
	g_string_append(id, "\xe2\x80\x8b");
	for (int i = 0; i < 200; i++)
		g_string_append_c(id, 'y');
	expect_error(id->str, "argument '...xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx<U+200B>yyy");
	expect_error(id->str, "yyy...' contains U+200B (a zero-width space)");
	g_string_free(id, TRUE);
	/* Inside quotes anything well-formed is text. */
	s = parse_ok("expect-text \"\xef\xbb\xbf\xe2\x80\x8b\xc2\xa0\"\n");
	script_free(s);
}

/* Commands that drive simulated devices are refused at parse time without them. */
static void test_device_commands_need_simulation(void)
{
	const struct runner_env real = {.simulate = false}, simulated = {.simulate = true};
	expect_error_env("tap a\nnote 50\n", &real, "t.scenario:2: note needs simulated devices (--simulate)");
	expect_error_env("note-fake\n", &real, "note-fake needs simulated devices");
	expect_error_env("fault cash jam\n", &real, "fault needs simulated devices");
	expect_error_env("clear card\n", &real, "clear needs simulated devices");
	expect_error_env("test-print receipt\n", &real, "test-print needs simulated devices");
	expect_error_env("note-hold 50\n", &real, "note-hold needs simulated devices");
	expect_error_env("note-release\n", &real, "note-release needs simulated devices");
	const char *devices = "note 50\nnote-fake\nfault cash jam\nclear cash\ntest-print card\nnote-hold 100\nnote-release\n";
	struct script *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(script_parse("t.scenario", devices, runner_check_cmd, (void *)&simulated, &s, &err), ==, 0);
	g_assert_cmpuint(s->n, ==, 7);
	g_assert_cmpint(s->cmds[5].op, ==, SCRIPT_NOTE_HOLD);
	g_assert_cmpint(s->cmds[5].number, ==, 10000); /* fils */
	g_assert_cmpint(s->cmds[6].op, ==, SCRIPT_NOTE_RELEASE);
	script_free(s);
	/* What real devices can do needs no simulation. */
	g_assert_cmpint(script_parse("t.scenario", "wait-device cash ok\nexpect-device card ok\nscreenshot a\n",
				     runner_check_cmd, (void *)&real, &s, &err), ==, 0);
	script_free(s);
}

static void test_expect_log(void)
{
	struct script *s = parse_ok("expect-log error \"receipt TEST-0001\"\nexpect-log warn \"jam\"\n");
	g_assert_cmpint(s->cmds[0].op, ==, SCRIPT_EXPECT_LOG);
	g_assert_cmpstr(s->cmds[0].arg, ==, "error");
	g_assert_cmpstr(s->cmds[0].arg2, ==, "receipt TEST-0001");
	g_assert_cmpstr(s->cmds[1].arg, ==, "warn");
	script_free(s);
	expect_error("expect-log info \"x\"\n", "unknown log level 'info' (error, warn)");
	expect_error("expect-log loud \"x\"\n", "unknown log level 'loud'");
	expect_error("expect-log error \"\"\n", "expect-log needs the text");
	expect_error("expect-log error\n", "expected a string in double quotes");
}

/* The size cap is stated in the message; a file at the cap still loads. */
static void test_load_size_cap(void)
{
	char *dir = g_dir_make_tmp("script-XXXXXX", NULL);
	char *path = g_build_filename(dir, "big.scenario", NULL);
	GString *text = g_string_new("");
	while (text->len < SCRIPT_MAX_BYTES - 32)
		g_string_append(text, "wait 1\n");
	while (text->len < SCRIPT_MAX_BYTES)
		g_string_append_c(text, '\n');
	g_assert_true(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
	struct script *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(script_load(path, runner_check_cmd, NULL, &s, &err), ==, 0);
	script_free(s);
	g_string_append_c(text, '\n');
	g_assert_true(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
	s = NULL;
	g_assert_cmpint(script_load(path, runner_check_cmd, NULL, &s, &err), ==, KIO_ERR_INVALID);
	g_assert_null(s);
	g_assert_nonnull(strstr(err.msg, "big.scenario: larger than 1 MiB (1048576 bytes), the most a scenario may be"));
	g_string_free(text, TRUE);
	g_remove(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

static void test_load_missing_file(void)
{
	struct script *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(script_load("/nonexistent/x.scenario", NULL, NULL, &s, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_nonnull(strstr(err.msg, "/nonexistent/x.scenario"));
}

/* A FIFO named as the scenario: refused at once, not waited on for a writer. alarm(): a
 * hang fails the test. */
static void test_load_fifo(void)
{
	char *dir = g_dir_make_tmp("kiosk-script-fifo-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *path = g_build_filename(dir, "x.scenario", NULL);
	g_assert_cmpint(mkfifo(path, 0600), ==, 0);
	struct script *s = NULL;
	struct kio_error err = {0};
	alarm(10);
	g_assert_cmpint(script_load(path, NULL, NULL, &s, &err), ==, KIO_ERR_INVALID);
	alarm(0);
	g_assert_null(s);
	g_assert_nonnull(strstr(err.msg, "x.scenario: not a regular file"));
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/script/every-command", test_every_command);
	g_test_add_func("/script/ledger-and-power-cut", test_ledger_and_power_cut);
	g_test_add_func("/script/device-names", test_device_names);
	g_test_add_func("/script/errors", test_errors_name_file_and_line);
	g_test_add_func("/script/missing-file", test_load_missing_file);
	g_test_add_func("/script/fifo", test_load_fifo);
	g_test_add_func("/script/invalid-utf8", test_invalid_utf8);
	g_test_add_func("/script/bom-and-invisible-characters", test_bom_and_invisible_characters);
	g_test_add_func("/script/device-commands-need-simulation", test_device_commands_need_simulation);
	g_test_add_func("/script/expect-log", test_expect_log);
	g_test_add_func("/script/size-cap", test_load_size_cap);
	return g_test_run();
}
