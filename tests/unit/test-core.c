/* Unit tests of kiosk/core: clock, timers, configuration (catalogues: test-i18n.c). */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "kiosk/core/clock.h"
#include "kiosk/core/config.h"
#include "kiosk/core/fifo.h"
#include "kiosk/core/service.h"
#include "kiosk/core/timers.h"

struct fired {
	char log[64];
	struct core_timers *timers;
};

static void on_a(void *user) { strcat(((struct fired *)user)->log, "a"); }
static void on_b(void *user) { strcat(((struct fired *)user)->log, "b"); }
static void on_c(void *user) { strcat(((struct fired *)user)->log, "c"); }
static void on_chain(void *user)
{
	struct fired *f = user;
	strcat(f->log, "x");
	core_timer_add(f->timers, 0, on_a, f); /* due now: fires in the same pass */
}

static void test_virtual_clock(void)
{
	struct core_clock *clock = core_clock_new(true, 1000);
	g_assert_true(core_clock_is_virtual(clock));
	g_assert_cmpuint(core_clock_now_ms(clock), ==, 0);
	core_clock_advance_to(clock, 2500);
	g_assert_cmpuint(core_clock_now_ms(clock), ==, 2500);
	core_clock_advance_to(clock, 100); /* never backwards */
	g_assert_cmpuint(core_clock_now_ms(clock), ==, 2500);
	g_assert_cmpint(core_clock_wall_s(clock), ==, 1002);
	core_clock_free(clock);
}

static void test_timers_order_and_cancel(void)
{
	struct core_clock *clock = core_clock_new(true, 0);
	struct core_timers *timers = core_timers_new(clock);
	struct fired f = {.timers = timers};
	core_timer_add(timers, 300, on_c, &f);
	uint64_t b = core_timer_add(timers, 100, on_b, &f);
	core_timer_add(timers, 100, on_a, &f); /* same deadline as b: after b */
	core_timer_add(timers, 200, on_chain, &f);
	uint64_t next = 0;
	g_assert_true(core_timers_next_deadline(timers, &next));
	g_assert_cmpuint(next, ==, 100);
	g_assert_cmpint(core_timers_fire_due(timers), ==, 0);
	core_clock_advance_to(clock, 100);
	g_assert_cmpint(core_timers_fire_due(timers), ==, 2);
	g_assert_cmpstr(f.log, ==, "ba");
	core_timer_cancel(timers, b); /* already fired: no-op */
	core_clock_advance_to(clock, 250);
	g_assert_cmpint(core_timers_fire_due(timers), ==, 2); /* chain + the timer it added */
	g_assert_cmpstr(f.log, ==, "baxa");
	uint64_t c2 = core_timer_add(timers, 10, on_c, &f);
	core_timer_cancel(timers, c2);
	core_clock_advance_to(clock, 1000);
	g_assert_cmpint(core_timers_fire_due(timers), ==, 1);
	g_assert_cmpstr(f.log, ==, "baxac");
	g_assert_false(core_timers_next_deadline(timers, &next));
	core_timers_free(timers);
	core_clock_free(clock);
}

static void test_config_defaults_and_load(void)
{
	struct core_config cfg;
	struct kio_error err = {0};
	core_config_defaults(&cfg);
	g_assert_cmpint(cfg.inactivity_timeout_s, ==, 60);
	g_assert_cmpint(cfg.width, ==, 1080);
	const char *text = "[kiosk]\nid = DXB-0042\n\n[ui]\n# comment\ninactivity_timeout_s = 90\ndigits = eastern\n";
	g_assert_cmpint(core_config_load_string(&cfg, "k.ini", text, &err), ==, 0);
	g_assert_cmpstr(cfg.kiosk_id, ==, "DXB-0042");
	g_assert_cmpint(cfg.inactivity_timeout_s, ==, 90);
	g_assert_cmpint(cfg.digits, ==, CONFIG_DIGITS_EASTERN);
}

static void expect_config_error(const char *text, const char *message)
{
	struct core_config cfg;
	struct kio_error err = {0};
	core_config_defaults(&cfg);
	g_assert_cmpint(core_config_load_string(&cfg, "k.ini", text, &err), ==, KIO_ERR_INVALID);
	if (!strstr(err.msg, message))
		g_error("expected \"%s\" in \"%s\"", message, err.msg);
}

static void test_config_errors_name_file_line_key(void)
{
	expect_config_error("[ui]\nwidth = 1080\ninactivity_timeout_s = 5\n",
			    "k.ini:3: ui.inactivity_timeout_s = 5: must be between 10 and 600");
	expect_config_error("[ui]\n\nwidht = 10\n", "k.ini:3: ui.widht: unknown key");
	expect_config_error("[ui]\nheight = tall\n", "k.ini:2: ui.height = 'tall': not a whole number");
	expect_config_error("[kiosk]\ndefault_language = fr\n", "k.ini:2: kiosk.default_language = 'fr'");
	expect_config_error("[ui]\nthis line is not ini\n", "k.ini:2:");
	expect_config_error("[ui]\nwidth = 99999999999999999999\n", "k.ini:2: ui.width");
	expect_config_error("[devices]\ncash_usb = 191c\n", "k.ini:2: devices.cash_usb = '191c': not a USB id");
	expect_config_error("[devices]\nreceipt_usb = 04b8 0202\n", "k.ini:2: devices.receipt_usb");
	expect_config_error("[devices]\nreceipt_width_dots = 100\n", "k.ini:2: devices.receipt_width_dots = 100");
	expect_config_error("[devices]\ncash_fixed_key = 0123\n", "k.ini:2: devices.cash_fixed_key: not 16 hex digits");
	expect_config_error("[devices]\ncash_fixed_key = 012345670123456g\n", "k.ini:2: devices.cash_fixed_key");
	expect_config_error("[devices]\ncash_encryption = yes\n", "k.ini:2: devices.cash_encryption = 'yes'");
}

/*
 * The screen sizes are the ones the layouts are proven at (issue 11; the scenario suite runs at
 * the corners): each side 768..3840, the long side at most 2.5 times the short one, either
 * orientation. A shape outside that is named at the line of the size key that made it.
 */
static void test_config_screen_range(void)
{
	static const int ok[][2] = {{768, 1024}, {1024, 768}, {768, 1920}, {1920, 768}, {768, 768},
				    {1920, 1080}, {1080, 1920}, {3840, 3840}, {3840, 1536}, {1536, 3840}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct core_config cfg;
		struct kio_error err = {0};
		char text[64];
		snprintf(text, sizeof(text), "[ui]\nwidth = %d\nheight = %d\n", ok[i][0], ok[i][1]);
		core_config_defaults(&cfg);
		g_assert_cmpint(core_config_load_string(&cfg, "k.ini", text, &err), ==, 0);
		g_assert_cmpint(cfg.width, ==, ok[i][0]);
		g_assert_cmpint(cfg.height, ==, ok[i][1]);
	}
	expect_config_error("[ui]\nwidth = 320\n", "k.ini:2: ui.width = 320: must be between 768 and 3840");
	expect_config_error("[ui]\nwidth = 767\n", "k.ini:2: ui.width = 767");
	expect_config_error("[ui]\nheight = 320\n", "k.ini:2: ui.height = 320: must be between 768 and 3840");
	expect_config_error("[ui]\nheight = 767\n", "k.ini:2: ui.height = 767");
	expect_config_error("[ui]\nwidth = 3841\n", "k.ini:2: ui.width = 3841: must be between 768 and 3840");
	expect_config_error("[ui]\nwidth = 3840\nheight = 1535\n",
			    "k.ini:3: ui.height = 1535: a 3840 x 1535 screen is more than 2.5 times as wide as it is tall");
	expect_config_error("[ui]\nheight = 1535\nwidth = 3840\n",
			    "k.ini:3: ui.width = 3840: a 3840 x 1535 screen is more than 2.5 times as wide as it is tall");
	/* One key is enough to make the shape: the other is the default (1080 x 1920). */
	expect_config_error("[ui]\nheight = 2701\n",
			    "k.ini:2: ui.height = 2701: a 1080 x 2701 screen is more than 2.5 times as tall as it is wide");
	expect_config_error("[ui]\nwidth = 767\nheight = 1920\n", "k.ini:2: ui.width = 767: must be between");
}

static void test_fifo_order_wrap_full(void)
{
	int storage[3];
	struct core_fifo q;
	core_fifo_init(&q, storage, sizeof(int), 3);
	int v = 0;
	g_assert_false(core_fifo_pop(&q, &v));
	for (int round = 0; round < 4; round++) { /* wraps the ring several times */
		for (int i = 1; i <= 3; i++)
			g_assert_true(core_fifo_push(&q, &(int){round * 10 + i}));
		g_assert_false(core_fifo_push(&q, &(int){99}));
		for (int i = 1; i <= 2; i++) {
			g_assert_true(core_fifo_pop(&q, &v));
			g_assert_cmpint(v, ==, round * 10 + i);
		}
		g_assert_true(core_fifo_pop(&q, &v));
		g_assert_cmpint(v, ==, round * 10 + 3);
		g_assert_false(core_fifo_pop(&q, &v));
		g_assert_true(core_fifo_push(&q, &(int){7})); /* head moves by one each round */
		g_assert_true(core_fifo_pop(&q, &v));
		g_assert_cmpint(v, ==, 7);
	}
}

static void test_config_devices(void)
{
	struct core_config cfg;
	struct kio_error err;
	core_config_defaults(&cfg);
	g_assert_cmpint(cfg.receipt_width_dots, ==, 576);
	const char *text = "[devices]\ncash_usb = 191C:4104:NV9-0042,if=1\nreceipt_width_dots = 384\n";
	g_assert_cmpint(core_config_load_string(&cfg, "k.ini", text, &err), ==, 0);
	g_assert_cmpstr(cfg.cash_usb, ==, "191C:4104:NV9-0042,if=1");
	g_assert_cmpstr(cfg.card_usb, ==, "0f49:0a00"); /* the default stays */
	g_assert_cmpint(cfg.receipt_width_dots, ==, 384);
	text = "[devices]\ncash_encryption = on\ncash_fixed_key = 00000000DEADBEEF\n";
	g_assert_cmpint(core_config_load_string(&cfg, "k.ini", text, &err), ==, 0);
	g_assert_cmpint(cfg.cash_encryption, ==, 1);
	g_assert_cmphex(cfg.cash_fixed_key, ==, 0xDEADBEEF);
}

static void test_config_dump_round_trips(void)
{
	struct core_config a, b;
	core_config_defaults(&a);
	snprintf(a.kiosk_id, sizeof(a.kiosk_id), "AUH-7");
	a.inactivity_timeout_s = 45;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	core_config_dump(&a, f);
	fclose(f);
	struct kio_error err = {0};
	core_config_defaults(&b);
	g_assert_cmpint(core_config_load_string(&b, "dump", buf, &err), ==, 0);
	g_assert_cmpstr(b.kiosk_id, ==, "AUH-7");
	g_assert_cmpint(b.inactivity_timeout_s, ==, 45);
	free(buf);
}

/* Who takes systemd's watchdog: the process it names in WATCHDOG_PID, or that process's child
 * (the kiosk inside cage, the unit's main process); a stranger's or a bad variable, nobody. */
static void test_service_watchdog(void)
{
	g_assert_cmpuint(core_service_watchdog_ms_for("30000000", "100", 100, 1), ==, 15000);
	g_assert_cmpuint(core_service_watchdog_ms_for("30000000", "100", 200, 100), ==, 15000);
	g_assert_cmpuint(core_service_watchdog_ms_for("30000000", NULL, 200, 100), ==, 15000);
	g_assert_cmpuint(core_service_watchdog_ms_for("30000000", "300", 200, 100), ==, 0);
	g_assert_cmpuint(core_service_watchdog_ms_for(NULL, "100", 100, 1), ==, 0);
	g_assert_cmpuint(core_service_watchdog_ms_for("0", "100", 100, 1), ==, 0);
	g_assert_cmpuint(core_service_watchdog_ms_for("-5", "100", 100, 1), ==, 0);
	g_assert_cmpuint(core_service_watchdog_ms_for("30s", "100", 100, 1), ==, 0);
	g_assert_cmpuint(core_service_watchdog_ms_for("30000000", "1x", 100, 1), ==, 0);
	g_assert_cmpuint(core_service_watchdog_ms_for("1000", "100", 100, 1), ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/core/clock/virtual", test_virtual_clock);
	g_test_add_func("/core/timers/order-and-cancel", test_timers_order_and_cancel);
	g_test_add_func("/core/config/load", test_config_defaults_and_load);
	g_test_add_func("/core/config/errors", test_config_errors_name_file_line_key);
	g_test_add_func("/core/config/screen-range", test_config_screen_range);
	g_test_add_func("/core/config/devices", test_config_devices);
	g_test_add_func("/core/fifo", test_fifo_order_wrap_full);
	g_test_add_func("/core/config/dump-round-trip", test_config_dump_round_trips);
	g_test_add_func("/core/service/watchdog", test_service_watchdog);
	return g_test_run();
}
