/* The configuration loader (kiosk/core/config.c over the INI reader kiosk/core/ini.c): every
 * fault in a file is refused with "file:line: key: reason", and nothing after a fault is read
 * as if it were fine. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "kiosk/core/config.h"
#include "kiosk/core/ini.h"

/* Loads len bytes (NULs included) and expects the refusal to contain message, with the
 * configuration left as it was. */
static void expect_error_data(const char *text, size_t len, const char *message)
{
	struct core_config cfg, before;
	struct kio_error err = {0};
	core_config_defaults(&cfg);
	before = cfg;
	g_assert_cmpint(core_config_load_data(&cfg, "k.ini", text, len, &err), ==, KIO_ERR_INVALID);
	if (!strstr(err.msg, message))
		g_error("expected \"%s\" in \"%s\"", message, err.msg);
	g_assert_cmpint(memcmp(&cfg, &before, sizeof(cfg)), ==, 0);
}

static void expect_error(const char *text, const char *message)
{
	expect_error_data(text, strlen(text), message);
}

static void load_ok(struct core_config *cfg, const char *text)
{
	struct kio_error err = {0};
	core_config_defaults(cfg);
	if (core_config_load_string(cfg, "k.ini", text, &err) != 0)
		g_error("refused: %s", err.msg);
}

/* Everything after a NUL byte used to be ignored: a bad value and an unknown key passed. */
static void test_nul_byte(void)
{
	static const char text[] = "[ui]\nwidth = 1080\0\nwidht = 1\n";
	expect_error_data(text, sizeof(text) - 1, "k.ini:2: NUL byte at column 13");
	static const char in_value[] = "[kiosk]\nid = DXB\0-42\n";
	expect_error_data(in_value, sizeof(in_value) - 1, "k.ini:2: NUL byte at column 9");
}

static void test_repeats(void)
{
	expect_error("[ui]\nwidth = 1080\n\nwidth = 720\n", "k.ini:4: ui.width: key repeated (first at line 2)");
	expect_error("[ui]\nwidth = 1080\n[kiosk]\nid = A\n[ui]\nheight = 1920\n",
		     "k.ini:5: [ui]: section repeated (first at line 1)");
	/* The same key in two sections is two keys. */
	expect_error("[ui]\nwidth = 1080\n[kiosk]\nwidth = 1\n", "k.ini:4: kiosk.width: unknown key");
}

static void test_escapes_and_controls(void)
{
	expect_error("[kiosk]\nid = DXB\\n42\n", "k.ini:2: kiosk.id: '\\n' would put a control character in the value");
	expect_error("[kiosk]\nid = DXB\\t42\n", "k.ini:2: kiosk.id: '\\t' would put a control character");
	expect_error("[kiosk]\nid = DXB\\r42\n", "k.ini:2: kiosk.id: '\\r' would put a control character");
	expect_error("[kiosk]\nid = DXB\\x42\n", "k.ini:2: kiosk.id: invalid escape '\\x'");
	expect_error("[kiosk]\nid = DXB\\\n", "k.ini:2: kiosk.id: a lone '\\' ends the value");
	expect_error("[kiosk]\nid = DXB\t42\n", "k.ini:2: kiosk.id: control character U+0009 in the value");
	expect_error("[kiosk]\nid = DXB\x01\n", "k.ini:2: control character U+0001 at column 9");
	expect_error("[kiosk]\nid = DXB\xc2\x85X\n", "k.ini:2: control character U+0085 at column 9");
	expect_error("[kiosk]\nid = DXB\x7f\n", "k.ini:2: control character U+007F");
	expect_error("[kiosk]\nid = A\rB\n", "k.ini:2: control character U+000D at column 7");
	struct core_config cfg;
	/* The escapes on a key that takes any text (kiosk.id takes [A-Za-z0-9._-] only, below). */
	load_ok(&cfg, "[paths]\ndata_dir = \\sDXB\\\\42\\s\r\nout_dir = a=b\n");
	g_assert_cmpstr(cfg.data_dir, ==, " DXB\\42 ");
	g_assert_cmpstr(cfg.out_dir, ==, "a=b");
}

/* kiosk.id is the id the host enrols and every receipt's signed QR carries (docs/receipts.md):
 * [A-Za-z0-9._-], refused at its line otherwise. */
static void test_kiosk_id(void)
{
	struct core_config cfg;
	load_ok(&cfg, "[kiosk]\nid = KSK-DXB_0042.a\n");
	g_assert_cmpstr(cfg.kiosk_id, ==, "KSK-DXB_0042.a");
	expect_error("[kiosk]\nid = KSK DXB 42\n",
		     "k.ini:2: kiosk.id = 'KSK DXB 42': only letters A-Z a-z, digits and . _ - (the id the host enrols and "
		     "receipts carry)");
	expect_error("[kiosk]\nid = \\sDXB\n", "k.ini:2: kiosk.id = ' DXB': only letters");
	expect_error("[kiosk]\nid = DXB/42\n", "k.ini:2: kiosk.id = 'DXB/42': only letters");
	expect_error("[kiosk]\nid = \xe2\x81\xa6" "DXB-42\xe2\x81\xa9\n", "k.ini:2: kiosk.id = ");
	expect_error("[kiosk]\nid = \xd9\xa4\xd9\xa2\n", "k.ini:2: kiosk.id = "); /* Eastern Arabic digits */
}

/* A customer reads kiosk.id on the receipt: overrides would reorder it (the ini reader refuses
 * them in every value, before kiosk.id's own rule); isolates are fine where any text is. */
static void test_bidi_overrides(void)
{
	static const char *const overrides[] = {"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
						"\xe2\x80\xae"};
	for (int i = 0; i < 5; i++) {
		char text[64], want[64];
		snprintf(text, sizeof(text), "[kiosk]\nid = DXB%s42\n", overrides[i]);
		snprintf(want, sizeof(want), "k.ini:2: kiosk.id: bidi override U+202%c", 'A' + i);
		expect_error(text, want);
	}
	/* Also through every other string key. */
	expect_error("[paths]\nout_dir = o\xe2\x80\xaeut\n", "k.ini:2: paths.out_dir: bidi override U+202E");
	struct core_config cfg;
	load_ok(&cfg, "[paths]\ndata_dir = \xe2\x81\xa6" "DXB-42\xe2\x81\xa9\n");
	g_assert_cmpstr(cfg.data_dir, ==, "\xe2\x81\xa6" "DXB-42\xe2\x81\xa9");
}

/* [host] and [offline] (issue 12): the URL's shape, the TLS files a host needs, the ranges
 * and the keys that bound each other, each named at its line. */
static void test_host_and_offline(void)
{
	struct core_config cfg;
	load_ok(&cfg, "");
	g_assert_cmpstr(cfg.host_url, ==, "");
	g_assert_cmpint(cfg.host_timeout_ms, ==, 5000);
	g_assert_cmpint(cfg.host_batch, ==, 200);
	g_assert_cmpint(cfg.host_heartbeat_s, ==, 60);
	g_assert_cmpint(cfg.host_backoff_min_ms, ==, 500);
	g_assert_cmpint(cfg.host_backoff_max_ms, ==, 60000);
	g_assert_cmpint(cfg.host_retention_days, ==, 90);
	load_ok(&cfg, "[host]\nurl = https://host.example:8443\nca = /etc/kiosk/ca.crt\ncert = k.crt\nkey = k.key\n"
		      "batch = 500\n[offline]\ncard_max_fils = 20000\ncard_max_count = 1\n");
	g_assert_cmpstr(cfg.host_url, ==, "https://host.example:8443");
	g_assert_cmpstr(cfg.host_key, ==, "k.key");
	g_assert_cmpint(cfg.host_batch, ==, 500);
	g_assert_cmpint(cfg.offline_card_max_fils, ==, 20000);
	expect_error("[host]\nurl = http://host.example\n",
		     "k.ini:2: host.url = 'http://host.example': not an https:// address");
	expect_error("[host]\nurl = https://host example\n", "k.ini:2: host.url = 'https://host example': not an https://");
	expect_error("[host]\nurl = https://\n", "k.ini:2: host.url = 'https://': not an https://");
	expect_error("[host]\nca = ca.crt\nurl = https://h\ncert = k.crt\n",
		     "k.ini:3: host.url is set but host.key is empty (mutual TLS needs ca, cert and key)");
	expect_error("[host]\nbatch = 501\n", "k.ini:2: host.batch = 501: must be between 1 and 500");
	expect_error("[host]\ntimeout_ms = 5s\n", "k.ini:2: host.timeout_ms = '5s': not a whole number");
	expect_error("[host]\nbackoff_max_ms = 400\n",
		     "k.ini:2: host.backoff_max_ms = 400 is below host.backoff_min_ms = 500");
	expect_error("[offline]\ncard_max_fils = 0\n", "k.ini:2: offline.card_max_fils = 0: must be between 100 and");
	expect_error("[offline]\nkiosk_max_fils = 1000\n",
		     "k.ini:2: offline.card_max_fils = 100000 is above offline.kiosk_max_fils = 1000");
	expect_error("[offline]\nkiosk_max_count = 1\ncard_max_count = 2\n",
		     "k.ini:3: offline.card_max_count = 2 is above offline.kiosk_max_count = 1");
	expect_error("[host]\nurl = https://h\nca = a\ncert = b\nkey = c\nbogus = 1\n", "k.ini:6: host.bogus: unknown key");
}

static void test_sections_and_lines(void)
{
	expect_error("# site\n[bogus]\n", "k.ini:2: [bogus]: unknown section");
	expect_error("[ui]\nwidth = 1080\n[bogus]\n# nothing here\n", "k.ini:3: [bogus]: unknown section");
	expect_error("width = 1080\n", "k.ini:1: width: key before any [section]");
	expect_error("[ui\nwidth = 1080\n", "k.ini:1: a section header is [name]");
	expect_error("[u i]\n", "k.ini:1: 'u i' is not a section name");
	expect_error("[ui]\nwi dth = 1\n", "k.ini:2: 'wi dth' is not a key name");
	expect_error("[ui]\njust words\n", "k.ini:2: not a 'key = value' line");
	expect_error("\xef\xbb\xbf[ui]\nwidth = 1080\n", "k.ini:1: the file starts with a byte order mark (U+FEFF)");
	expect_error("[kiosk]\n\nid = DXB\xff\n", "k.ini:3: not UTF-8 (byte 0xff at column 9)");
	expect_error("[kiosk]\nid = \xc0\xaf\n", "k.ini:2: not UTF-8 (byte 0xc0 at column 6)"); /* overlong '/' */
	expect_error("[kiosk]\nid = \xed\xa0\x80\n", "k.ini:2: not UTF-8"); /* a surrogate */
	expect_error("[kiosk]\nid = \xe2\x80\n", "k.ini:2: not UTF-8"); /* cut at the line's end */
	/* The line is right after blank lines, comments and CR LF ends. */
	expect_error("[ui]\r\n\r\n# c\r\nwidth = 1\r\n", "k.ini:4: ui.width = 1: must be between");
}

static void test_lengths(void)
{
	char text[700];
	snprintf(text, sizeof(text), "[paths]\ndb = %0600d\n", 0);
	expect_error(text, "k.ini:2: paths.db: longer than 511 bytes");
	snprintf(text, sizeof(text), "[kiosk]\nid = %040d\n", 0);
	expect_error(text, "k.ini:2: kiosk.id: longer than 31 bytes");
	/* A long line is read whole, not cut (no fixed line buffer). */
	GString *big = g_string_new("[kiosk]\n# ");
	for (int i = 0; i < 10000; i++)
		g_string_append(big, "long comment ");
	g_string_append(big, "\nid = DXB-9\n");
	struct core_config cfg;
	load_ok(&cfg, big->str);
	g_assert_cmpstr(cfg.kiosk_id, ==, "DXB-9");
	/* Past 1 MiB it is no configuration: refused whole, not read in part. */
	while (big->len <= (1u << 20))
		g_string_append(big, "# filler filler filler filler filler filler filler filler\n");
	expect_error_data(big->str, big->len, "k.ini: ");
	expect_error_data(big->str, big->len, "bytes: larger than the 1048576 a configuration may have");
	g_string_free(big, TRUE);
}

/* Messages about values checked after loading (USB ids, paths) name the file and line. */
static void test_where(void)
{
	struct core_config cfg;
	char where[128];
	core_config_defaults(&cfg);
	core_config_where(&cfg, "devices", "cash_usb", where, sizeof(where));
	g_assert_cmpstr(where, ==, "devices.cash_usb (default)");
	load_ok(&cfg, "[devices]\n\ncash_usb = 191c:4104\n");
	core_config_where(&cfg, "devices", "cash_usb", where, sizeof(where));
	g_assert_cmpstr(where, ==, "k.ini:3: devices.cash_usb");
	core_config_where(&cfg, "devices", "card_usb", where, sizeof(where));
	g_assert_cmpstr(where, ==, "devices.card_usb (default)");
	/* A long file name keeps its end (the name) and the line, not a cut prefix. */
	char name[300];
	memset(name, 'd', sizeof(name));
	memcpy(name + sizeof(name) - 7, "/k.ini", 7);
	struct kio_error err;
	core_config_defaults(&cfg);
	g_assert_cmpint(core_config_load_string(&cfg, name, "[devices]\ncash_usb = 1:2\n", &err), ==, 0);
	core_config_where(&cfg, "devices", "cash_usb", where, sizeof(where));
	g_assert_true(g_str_has_prefix(where, "...ddd"));
	g_assert_true(g_str_has_suffix(where, "d/k.ini:2: devices.cash_usb"));
}

/* A fault's message names a long value; cut to fit struct kio_error, it must say so. */
static void test_long_message_marked(void)
{
	char text[400];
	snprintf(text, sizeof(text), "[ui]\nwidth = %0300dx\n", 0);
	struct core_config cfg;
	struct kio_error err = {0};
	core_config_defaults(&cfg);
	g_assert_cmpint(core_config_load_string(&cfg, "k.ini", text, &err), ==, KIO_ERR_INVALID);
	g_assert_true(g_str_has_prefix(err.msg, "k.ini:2: ui.width = '000"));
	g_assert_cmpuint(strlen(err.msg), ==, sizeof(err.msg) - 1);
	g_assert_true(g_str_has_suffix(err.msg, "..."));
}

static void test_dump_escapes(void)
{
	struct core_config a, b;
	core_config_defaults(&a);
	snprintf(a.data_dir, sizeof(a.data_dir), " C:\\kiosk ");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	core_config_dump(&a, f);
	fclose(f);
	struct kio_error err = {0};
	core_config_defaults(&b);
	if (core_config_load_data(&b, "dump", buf, len, &err) != 0)
		g_error("%s", err.msg);
	g_assert_cmpstr(b.data_dir, ==, " C:\\kiosk ");
	free(buf);
}

/* The top-up's keys (issue 11): amounts in whole AED kept as fils, prefixes split, and every
 * bad value refused at its line, the maximum below the minimum included. */
static void test_topup_keys(void)
{
	struct core_config cfg;
	char p[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1];
	core_config_defaults(&cfg);
	g_assert_cmpint(cfg.topup_min_fils, ==, 1000);
	g_assert_cmpint(cfg.topup_max_fils, ==, 500000);
	g_assert_cmpint(cfg.topup_done_s, ==, 30);
	g_assert_cmpint(cfg.topup_no_receipt_s, ==, 60);
	g_assert_cmpuint(core_config_prefixes(&cfg, p), ==, 1);
	g_assert_cmpstr(p[0], ==, "784");
	load_ok(&cfg, "[topup]\nmin_aed = 20\nmax_aed = 1000\ncard_prefixes = 784, 12345678\ndone_seconds = 45\n"
		      "no_receipt_seconds = 90\n");
	g_assert_cmpint(cfg.topup_min_fils, ==, 2000);
	g_assert_cmpint(cfg.topup_max_fils, ==, 100000);
	g_assert_cmpint(cfg.topup_done_s, ==, 45);
	g_assert_cmpint(cfg.topup_no_receipt_s, ==, 90);
	g_assert_cmpuint(core_config_prefixes(&cfg, p), ==, 2);
	g_assert_cmpstr(p[1], ==, "12345678");
	load_ok(&cfg, "[topup]\nmin_aed = 50\nmax_aed = 50\n");

	expect_error("[topup]\nmin_aed = 0\n", "k.ini:2: topup.min_aed = 0: must be between 1 and 100000");
	expect_error("[topup]\nmin_aed = -5\n", "k.ini:2: topup.min_aed = -5: must be between 1 and 100000");
	expect_error("[topup]\nmin_aed = 10.5\n", "k.ini:2: topup.min_aed = '10.5': not a whole number");
	expect_error("[topup]\nmin_aed = 100\nmax_aed = 50\n", "k.ini:3: topup.max_aed = 50 is below topup.min_aed = 100");
	expect_error("[topup]\nmax_aed = 50\nmin_aed = 100\n", "k.ini:3: topup.max_aed = 50 is below topup.min_aed = 100");
	expect_error("[topup]\nmax_aed = 5\n", "k.ini:2: topup.max_aed = 5 is below topup.min_aed = 10");
	expect_error("[topup]\ncard_prefixes = 78x\n", "k.ini:2: topup.card_prefixes = '78x': item 1 is not 1 to 8 digits");
	expect_error("[topup]\ncard_prefixes = 123456789\n", "item 1 is not 1 to 8 digits");
	expect_error("[topup]\ncard_prefixes = 784,,785\n", "item 2 is not 1 to 8 digits");
	expect_error("[topup]\ncard_prefixes = 784,\n", "item 2 is not 1 to 8 digits");
	expect_error("[topup]\ncard_prefixes = 1,2,3,4,5,6,7,8,9\n", "more than 8 prefixes");
	expect_error("[topup]\ndone_seconds = 2\n", "k.ini:2: topup.done_seconds = 2: must be between 5 and 600");
	expect_error("[topup]\nno_receipt_seconds = 601\n",
		     "k.ini:2: topup.no_receipt_seconds = 601: must be between 5 and 600");
}

/* [display] scale: fit, or a factor with at most two decimals, 0.25 to 4, kept in per cent. */
static void test_display_scale(void)
{
	struct core_config cfg;
	core_config_defaults(&cfg);
	g_assert_cmpint(cfg.display_scale_pct, ==, 0);
	load_ok(&cfg, "[display]\nscale = 1.5\n");
	g_assert_cmpint(cfg.display_scale_pct, ==, 150);
	load_ok(&cfg, "[display]\nscale = 0.25\n");
	g_assert_cmpint(cfg.display_scale_pct, ==, 25);
	load_ok(&cfg, "[display]\nscale = 2\n");
	g_assert_cmpint(cfg.display_scale_pct, ==, 200);
	load_ok(&cfg, "[display]\nscale = 4.00\n");
	g_assert_cmpint(cfg.display_scale_pct, ==, 400);
	load_ok(&cfg, "[display]\nscale = fit\n");
	g_assert_cmpint(cfg.display_scale_pct, ==, 0);
	expect_error("[display]\nscale = 0.2\n", "k.ini:2: display.scale = 0.2: must be fit or between 0.25 and 4");
	expect_error("[display]\nscale = 4.01\n", "must be fit or between 0.25 and 4");
	expect_error("[display]\nscale = 0\n", "must be fit or between 0.25 and 4");
	const char *bad[] = {"", "1.", ".5", "1.505", "-1", "+1", "1e0", "1,5", "1 5", "1x", "Fit", "1000"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char text[64];
		snprintf(text, sizeof(text), "[display]\nscale = %s\n", bad[i]);
		expect_error(text, "not fit or a factor like 1, 1.5 or 0.75");
	}
}

static void test_ini_entries(void)
{
	struct core_ini *ini = NULL;
	struct kio_error err = {0};
	const char *text = "# top\n[a]\nx = 1\ny=2\n\n[b]\nx =  three  \n";
	g_assert_cmpint(core_ini_parse("t.ini", text, strlen(text), &ini, &err), ==, 0);
	g_assert_cmpuint(ini->n_sections, ==, 2);
	g_assert_cmpstr(ini->sections[1].name, ==, "b");
	g_assert_cmpint(ini->sections[1].line, ==, 6);
	g_assert_cmpuint(ini->n_entries, ==, 3);
	g_assert_cmpstr(ini->entries[1].key, ==, "y");
	g_assert_cmpstr(ini->entries[1].value, ==, "2");
	g_assert_cmpstr(ini->entries[2].section, ==, "b");
	g_assert_cmpstr(ini->entries[2].value, ==, "three");
	g_assert_cmpint(ini->entries[2].line, ==, 7);
	core_ini_free(ini);
}

/* A FIFO named as the configuration: refused at once (not a regular file), not waited on
 * for a writer, which would hang the kiosk's start. alarm(): a hang fails the test. */
static void test_ini_fifo(void)
{
	char *dir = g_dir_make_tmp("kiosk-ini-fifo-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *path = g_build_filename(dir, "k.ini", NULL);
	g_assert_cmpint(mkfifo(path, 0600), ==, 0);
	struct core_ini *ini = NULL;
	struct kio_error err = {0};
	alarm(10);
	g_assert_cmpint(core_ini_load(path, &ini, &err), ==, KIO_ERR_INVALID);
	alarm(0);
	g_assert_null(ini);
	g_assert_nonnull(strstr(err.msg, "k.ini: not a regular file"));
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/ini-fifo", test_ini_fifo);
	g_test_add_func("/config/nul-byte", test_nul_byte);
	g_test_add_func("/config/repeats", test_repeats);
	g_test_add_func("/config/escapes-and-controls", test_escapes_and_controls);
	g_test_add_func("/config/bidi-overrides", test_bidi_overrides);
	g_test_add_func("/config/kiosk-id", test_kiosk_id);
	g_test_add_func("/config/sections-and-lines", test_sections_and_lines);
	g_test_add_func("/config/lengths", test_lengths);
	g_test_add_func("/config/where", test_where);
	g_test_add_func("/config/long-message-marked", test_long_message_marked);
	g_test_add_func("/config/dump-escapes", test_dump_escapes);
	g_test_add_func("/config/host-and-offline", test_host_and_offline);
	g_test_add_func("/config/ini-entries", test_ini_entries);
	g_test_add_func("/config/topup-keys", test_topup_keys);
	g_test_add_func("/config/display-scale", test_display_scale);
	return g_test_run();
}
