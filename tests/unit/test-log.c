/* Unit tests of kiosk/core/log: what a sink sees at its own level, and lines too long to keep. */
#define LOG_MODULE "test"
#include <glib.h>
#include <string.h>

#include "kiosk/core/log.h"

struct capture {
	int n;
	enum log_level level;
	char last[1100];
};

static void on_line(void *user, enum log_level level, const char *module, const char *msg)
{
	struct capture *c = user;
	c->n++;
	c->level = level;
	g_snprintf(c->last, sizeof(c->last), "%s: %s", module, msg);
}

/* The sink has its own level: a runner watching warnings sees them with stderr at error. */
static void test_sink_level(void)
{
	struct capture c = {0};
	log_set_level(LOG_ERROR);
	log_set_sink(on_line, &c);
	LOG_WARN("hidden from stderr");
	g_assert_cmpint(c.n, ==, 0); /* until set, the sink follows the stderr level */
	log_set_sink_level(LOG_WARN);
	LOG_WARN("a warning %d", 1);
	g_assert_cmpint(c.n, ==, 1);
	g_assert_cmpint(c.level, ==, LOG_WARN);
	g_assert_cmpstr(c.last, ==, "test: a warning 1");
	LOG_INFO("below both levels");
	g_assert_cmpint(c.n, ==, 1);
	LOG_ERR("an error");
	g_assert_cmpint(c.n, ==, 2);
	log_set_sink(NULL, NULL);
	LOG_ERR("nobody listens");
	g_assert_cmpint(c.n, ==, 2);
	log_set_level(LOG_WARN);
}

/* A line longer than the buffer says it was cut, and never ends inside a character. */
static void test_long_line_marked(void)
{
	struct capture c = {0};
	log_set_sink_level(LOG_WARN);
	log_set_sink(on_line, &c);
	GString *s = g_string_new("");
	while (s->len < 2000)
		g_string_append(s, "\xd8\xaf"); /* U+062F, two bytes */
	LOG_ERR("%s", s->str);
	g_assert_cmpint(c.n, ==, 1);
	g_assert_true(g_str_has_suffix(c.last, " [cut]"));
	size_t body = strlen(c.last) - strlen(" [cut]") - strlen("test: ");
	g_assert_true(g_utf8_validate(c.last, -1, NULL));
	g_assert_cmpuint(body % 2, ==, 0);
	g_assert_cmpuint(body, >, 1000 - 16);
	LOG_ERR("short");
	g_assert_cmpstr(c.last, ==, "test: short");
	g_string_free(s, TRUE);
	log_set_sink(NULL, NULL);
}

/* The journal's fields (log_fields_of): the device from the module or the line's first word,
 * the transaction number wherever the line names it, nothing made up when it names none. */
static void test_fields(void)
{
	static const struct {
		const char *module, *msg, *device, *tx;
	} cases[] = {
		{"essp-cash", "jam cleared", "cash", ""},
		{"sim-escpos", "paper out", "receipt", ""},
		{"evolis-card", "ribbon out", "card", ""},
		{"sync-curl", "connect: refused", "host", ""},
		{"app", "receipt: paper-out (tm-t88)", "receipt", ""},
		{"app", "cardboard: not a device", "", ""},
		{"flow-topup", "transaction 12 completed: 5000 fils in 1 notes", "", "12"},
		{"flow-topup", "cash: fault jam during paying (tx 7, paid 1000 fils)", "cash", "7"},
		{"ledger-tx", "transaction 3 (uuid) opened: topup", "", "3"},
		{"app", "store: write-failed (disk full)", "store", ""},
		{"recovery", "transactions left open cannot be ended now", "", ""},
		{"app", "subtransaction 9 is not one", "", ""},
		{"app", "transaction twelve", "", ""},
		{"app", "transaction 123456789012345678901234567890", "", "12345678901234567890123"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct log_fields f;
		log_fields_of(cases[i].module, cases[i].msg, &f);
		g_assert_cmpstr(f.device, ==, cases[i].device);
		g_assert_cmpstr(f.transaction, ==, cases[i].tx);
	}
}

/* A test's stderr is a pipe or a terminal, not the journal stream JOURNAL_STREAM names: plain
 * lines. Naming another stream (systemd's, inherited by a child that kept its own stderr) is
 * not enough either. */
static void test_not_journal(void)
{
	g_setenv("JOURNAL_STREAM", "1:2", TRUE);
	g_assert_false(log_to_journal());
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/log/sink-level", test_sink_level);
	g_test_add_func("/log/long-line-marked", test_long_line_marked);
	g_test_add_func("/log/journal-fields", test_fields);
	g_test_add_func("/log/not-journal", test_not_journal);
	return g_test_run();
}
