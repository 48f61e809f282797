/* The kiosk's parser of host answers against the hostile numbers and strings the host's own
 * parser had to learn to refuse (host/wire.c lexically_safe): json-glib reads an integer
 * literal with strtoull and casts it, so -18446744073709549616 reads as 2000 and
 * 18446744073709551616 as 0 or -1; it reads hexadecimal (0x7 as 7, which no JSON has); and it
 * decodes \u0000 into a string C reads only up to it ("CARD\u0000X" as CARD). Each must be
 * refused, never read as another number or a shorter string. */
#include <glib.h>
#include <string.h>

#include "kiosk/sync/wire.h"

#define CARD "7841000024680132"

struct hostile {
	const char *body;
	const char *why; /* a piece of the refusal's message */
};

static const struct hostile records[] = {
	{"{\"acked\": -18446744073709549616}", "beyond 64 bits"},
	{"{\"acked\": 18446744073709551616}", "beyond 64 bits"},
	{"{\"acked\": 18446744073709551623}", "beyond 64 bits"},
	{"{\"acked\": 7, \"applied\": -18446744073709551613}", "beyond 64 bits"},
	{"{\"acked\": -0018446744073709549616}", "leading zero"},
	{"{\"acked\": 0x7}", "not a JSON number"},
	{"{\"acked\": 0X7FFFFFFFFFFFFFFF}", "not a JSON number"},
	{"{\"acked\": 7, \"applied\": -0x10}", "not a JSON number"},
	{"{\"acked\": 7, \"x\": [1, 0x10]}", "not a JSON number"},
	{"{\"acked\": - 18446744073709549616}", "beyond 64 bits"},
	{"{\"acked\": 7, \"x\": \"\\u0000\"}", "holds \\u0000"},
};

static const struct hostile cards[] = {
	{"{\"card\": \"" CARD "\", \"status\": \"active\", \"balance_fils\": -18446744073709549616}", "beyond 64 bits"},
	{"{\"card\": \"" CARD "\\u0000X\", \"status\": \"active\", \"balance_fils\": 2000}", "holds \\u0000"},
	{"{\"card\": \"" CARD "\", \"status\": \"active\\u0000blocked\", \"balance_fils\": 2000}", "holds \\u0000"},
	{"{\"card\": \"" CARD "\", \"status\": \"active\", \"balance_fils\": -2000}", "below 0"},
};

static void test_records(void)
{
	struct sync_wire_sent sent = {1, 7};
	for (size_t k = 0; k < G_N_ELEMENTS(records); k++) {
		struct sync_records_answer a;
		memset(&a, 0x5A, sizeof(a));
		struct kio_error err = {0};
		int rc = sync_wire_records_answer(200, records[k].body, strlen(records[k].body), &sent, &a, &err);
		if (rc == 0)
			g_error("accepted %s as acked %" G_GINT64_FORMAT, records[k].body, a.acked);
		g_assert_cmpint(rc, ==, KIO_ERR_PROTOCOL);
		if (!strstr(err.msg, records[k].why))
			g_error("%s: refused as '%s', not for '%s'", records[k].body, err.msg, records[k].why);
	}
}

static void test_cards(void)
{
	for (size_t k = 0; k < G_N_ELEMENTS(cards); k++) {
		struct sync_card_answer a;
		struct kio_error err = {0};
		int rc = sync_wire_card_answer(200, cards[k].body, strlen(cards[k].body), CARD, &a, &err);
		if (rc == 0)
			g_error("accepted %s as card %s, %s, %" G_GINT64_FORMAT, cards[k].body, a.card,
				sync_card_status_name(a.status), a.balance_fils);
		if (!strstr(err.msg, cards[k].why))
			g_error("%s: refused as '%s', not for '%s'", cards[k].body, err.msg, cards[k].why);
	}
}

/* An error object's code with \u0000 would pass as another code. */
static void test_error_code(void)
{
	const char *body = "{\"error\": {\"code\": \"sequence_gap\\u0000x\", \"acked\": 0}}";
	struct sync_wire_sent sent = {1, 7};
	struct sync_records_answer a;
	struct kio_error err = {0};
	g_assert_cmpint(sync_wire_records_answer(409, body, strlen(body), &sent, &a, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "holds \\u0000"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/network/wire/records-hostile-integers", test_records);
	g_test_add_func("/network/wire/card-hostile", test_cards);
	g_test_add_func("/network/wire/error-code-nul", test_error_code);
	return g_test_run();
}
