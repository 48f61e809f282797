/* Unit tests of the parser of every host answer (kiosk/sync/wire.h): each acceptance and
 * each refusal with its exact message, and a refused answer leaving the caller's struct as
 * it was (nothing can be marked from it). */
#include <glib.h>
#include <string.h>

#include "kiosk/sync/wire.h"

struct rec_case {
	int status;
	const char *body;
	int kind;          /* -1: refused */
	int64_t value;     /* acked or rec */
	const char *error; /* the exact message after "host answer N to CALL: ", or a prefix ending in '*' */
};

static const struct rec_case rec_cases[] = {
	{200, "{\"acked\": 10, \"applied\": 5, \"duplicates\": 0}", SYNC_RECORDS_ACKED, 10, NULL},
	{200, "{\"acked\": 8}", SYNC_RECORDS_ACKED, 8, NULL},
	{200, "{\"acked\": 5}", SYNC_RECORDS_ACKED, 5, NULL},
	{200, "{\"acked\": 10, \"future\": {\"x\": 1.5, \"y\": [\"z\"]}}", SYNC_RECORDS_ACKED, 10, NULL},
	{200, "{\"acked\": 10.0}", -1, 0, "'acked' has a fraction or an exponent (an integer is needed)"},
	{200, "{\"acked\": 1e1}", -1, 0, "'acked' has a fraction or an exponent (an integer is needed)"},
	{200, "{\"acked\": \"10\"}", -1, 0, "'acked' is a string (an integer is needed)"},
	{200, "{\"acked\": null}", -1, 0, "'acked' is not an integer"},
	{200, "{\"acked\": true}", -1, 0, "'acked' is not an integer"},
	{200, "{}", -1, 0, "no 'acked'"},
	{200, "{\"acked\": 10, \"applied\": -1}", -1, 0, "'applied' is -1, below 0"},
	{200, "{\"acked\": 10, \"duplicates\": -3}", -1, 0, "'duplicates' is -3, below 0"},
	{200, "{\"acked\": -1}", -1, 0, "'acked' is -1, below 0"},
	{200, "{\"acked\": 11}", -1, 0, "acked 11 is beyond the last record sent 10"},
	{200, "{\"acked\": 4}", -1, 0, "acked 4 is below the host's earlier acknowledgement 5"},
	{200, "{\"acked\": 10", -1, 0, "not JSON (*"},
	{200, "", -1, 0, "an empty body"},
	{200, "[10]", -1, 0, "not a JSON object"},
	{200, "{\"acked\": 99999999999999999999}", -1, 0, "an integer beyond 64 bits at offset 10"},
	{200, "{\"acked\": 9223372036854775808}", -1, 0, "an integer beyond 64 bits at offset 10"},
	{200, "{\"acked\": -9223372036854775809}", -1, 0, "an integer beyond 64 bits at offset 10"},
	{200, "{\"acked\": 010}", -1, 0, "a number with a leading zero at offset 10"},
	{200, "{\"acked\": 10, \"x\": \"a\\u0000b\"}", -1, 0, "a string holds \\u0000 at offset 21"},
	{200, "{\"acked\": 10, \"x\": \"\xff\"}", -1, 0, "a byte 0xFF that is not UTF-8 at offset 20"},
	{200, "{\"acked\": 10, \"x\": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", -1, 0, "JSON nested deeper than 16 levels at offset 34"},
	{200, "{\"acked\": 5, \"acked\": 10}", -1, 0, "a member named twice ('acked') at offset 13"},
	{200, "{\"acked\": 10, \"\\u0061cked\": 6}", -1, 0, "a member named twice ('acked') at offset 14"},
	{409, "{\"error\": {\"code\": \"sequence_gap\", \"acked\": 3, \"acked\": 4}}", -1, 0,
	 "a member named twice ('acked') at offset 47"},
	{200, "{\"acked\": 10, \"x\": {\"acked\": 1}, \"y\": [{\"acked\": 2}]}", SYNC_RECORDS_ACKED, 10, NULL},
	{201, "{\"acked\": 10}", -1, 0, "not an answer this call has"},
	{302, "", -1, 0, "not an answer this call has"},
	{409, "{\"error\": {\"code\": \"sequence_gap\", \"message\": \"gap\", \"acked\": 3}}", SYNC_RECORDS_SEQUENCE_GAP, 3,
	 NULL},
	{409, "{\"error\": {\"code\": \"sequence_gap\", \"acked\": 5}}", -1, 0,
	 "sequence_gap with acked 5, but the batch began at 6 (no gap)"},
	{409, "{\"error\": {\"code\": \"sequence_gap\", \"acked\": -1}}", -1, 0, "'acked' is -1, below 0"},
	{409, "{\"error\": {\"code\": \"sequence_gap\", \"acked\": 2.5}}", -1, 0,
	 "'acked' has a fraction or an exponent (an integer is needed)"},
	{409, "{\"error\": {\"code\": \"record_conflict\", \"message\": \"differs\", \"rec\": 7}}", SYNC_RECORDS_CONFLICT,
	 7, NULL},
	{409, "{\"error\": {\"code\": \"record_conflict\", \"rec\": 11}}", -1, 0,
	 "record_conflict names record 11, outside the batch 6..10"},
	{409, "{\"error\": {\"code\": \"record_conflict\"}}", -1, 0, "no 'rec'"},
	{422, "{\"error\": {\"code\": \"chain_broken\", \"rec\": 6}}", SYNC_RECORDS_CHAIN_BROKEN, 6, NULL},
	{422, "{\"error\": {\"code\": \"bad_record\", \"rec\": 10}}", SYNC_RECORDS_BAD_RECORD, 10, NULL},
	{422, "{\"error\": {\"code\": \"bad_record\", \"rec\": \"10\"}}", -1, 0, "'rec' is a string (an integer is needed)"},
	{409, "{\"error\": {\"code\": \"teapot\", \"message\": \"short and stout\"}}", -1, 0, "unknown error code 'teapot'"},
	{422, "{\"error\": {\"code\": \"sequence_gap\", \"acked\": 3}}", -1, 0,
	 "error code 'sequence_gap' comes with status 409, not 422"},
	{409, "{\"error\": {\"code\": \"Bad Code\"}}", -1, 0, "error code is not a snake_case word"},
	{409, "{\"error\": {\"code\": 17}}", -1, 0, "'code' is not a string"},
	{400, "{\"error\": \"bad\"}", -1, 0, "no error object"},
	{404, "", -1, 0, "an empty body"},
	{403, "{\"error\": {\"code\": \"unknown_certificate\", \"message\": \"who are you\"}}", SYNC_RECORDS_REFUSED, 0,
	 NULL},
	{401, "{\"error\": {\"code\": \"date_out_of_window\", \"server_time\": 1798761600}}", SYNC_RECORDS_REFUSED, 0, NULL},
	{500, "<html>Internal Server Error</html>", SYNC_RECORDS_RETRY, 0, NULL},
	{503, "{\"error\": {\"code\": \"overloaded\", \"message\": \"busy\"}}", SYNC_RECORDS_RETRY, 0, NULL},
	{502, "", SYNC_RECORDS_RETRY, 0, NULL},
	{500, "{\"error\": {\"code\": \"internal_error\", \"message\": \"the host's database did not answer\"}}",
	 SYNC_RECORDS_RETRY, 0, NULL},
	{429, "{\"error\": {\"code\": \"slow_down\"}}", SYNC_RECORDS_RETRY, 0, NULL},
};

static void check_refusal(int status, const char *call, const struct kio_error *err, const char *want)
{
	char *full = g_strdup_printf("host answer %d to %s: ", status, call);
	size_t n = strlen(want);
	char *expect = want[n - 1] == '*' ? g_strdup_printf("%s%.*s", full, (int)(n - 1), want)
					  : g_strdup_printf("%s%s", full, want);
	if (want[n - 1] == '*')
		g_assert_true(g_str_has_prefix(err->msg, expect));
	else
		g_assert_cmpstr(err->msg, ==, expect);
	g_free(full);
	g_free(expect);
}

static void test_records(void)
{
	const struct sync_wire_sent sent = {6, 10};
	for (size_t k = 0; k < G_N_ELEMENTS(rec_cases); k++) {
		const struct rec_case *c = &rec_cases[k];
		struct sync_records_answer a;
		memset(&a, 0x5A, sizeof(a));
		struct kio_error err = {0};
		int rc = sync_wire_records_answer(c->status, c->body, strlen(c->body), &sent, &a, &err);
		if (c->kind < 0) {
			if (rc == 0)
				g_error("case %zu (%d %s): accepted as %s", k, c->status, c->body, sync_records_kind_name(a.kind));
			g_assert_cmpint(rc, ==, KIO_ERR_PROTOCOL);
			check_refusal(c->status, "POST /v1/records", &err, c->error);
			/* Refused: the answer struct is untouched, so nothing can be marked from it. */
			struct sync_records_answer untouched;
			memset(&untouched, 0x5A, sizeof(untouched));
			g_assert_cmpmem(&a, sizeof(a), &untouched, sizeof(untouched));
		} else {
			if (rc != 0)
				g_error("case %zu (%d %s): %s", k, c->status, c->body, err.msg);
			g_assert_cmpint(a.kind, ==, c->kind);
			if (c->kind == SYNC_RECORDS_ACKED || c->kind == SYNC_RECORDS_SEQUENCE_GAP)
				g_assert_cmpint(a.acked, ==, c->value);
			if (c->kind == SYNC_RECORDS_CONFLICT || c->kind == SYNC_RECORDS_CHAIN_BROKEN ||
			    c->kind == SYNC_RECORDS_BAD_RECORD)
				g_assert_cmpint(a.rec, ==, c->value);
		}
	}
}

/* The counts, the host's message kept printable, a NUL, an oversized and a deep body. */
static void test_records_details(void)
{
	const struct sync_wire_sent sent = {6, 10};
	struct sync_records_answer a;
	struct kio_error err = {0};
	const char *body = "{\"acked\": 10, \"applied\": 3, \"duplicates\": 2}";
	g_assert_cmpint(sync_wire_records_answer(200, body, strlen(body), &sent, &a, &err), ==, 0);
	g_assert_cmpint(a.applied, ==, 3);
	g_assert_cmpint(a.duplicates, ==, 2);
	/* The host's message is kept printable and cut on a character boundary. */
	GString *msg = g_string_new("{\"error\": {\"code\": \"unknown_certificate\", \"message\": \"a\\nb");
	for (int k = 0; k < 100; k++)
		g_string_append(msg, "\xd8\xb4"); /* Arabic sheen, two bytes */
	g_string_append(msg, "\"}}");
	g_assert_cmpint(sync_wire_records_answer(403, msg->str, msg->len, &sent, &a, &err), ==, 0);
	g_assert_cmpint(a.kind, ==, SYNC_RECORDS_REFUSED);
	g_assert_cmpstr(a.error.code, ==, "unknown_certificate");
	g_assert_true(g_str_has_prefix(a.error.message, "a?b\xd8\xb4"));
	g_assert_true(g_utf8_validate(a.error.message, -1, NULL));
	g_assert_cmpuint(strlen(a.error.message), <, SYNC_WIRE_MESSAGE_MAX);
	g_string_free(msg, TRUE);
	/* A NUL inside the body, where json-glib would stop reading. */
	const char nul[] = "{\"acked\": 10}\0{\"acked\": 11}";
	g_assert_cmpint(sync_wire_records_answer(200, nul, sizeof(nul) - 1, &sent, &a, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpstr(err.msg, ==, "host answer 200 to POST /v1/records: a NUL byte at offset 13");
	/* Oversized: refused before any parsing, whatever the bytes. */
	size_t big = SYNC_WIRE_BODY_MAX + 1;
	char *huge = g_malloc(big);
	memset(huge, ' ', big);
	g_assert_cmpint(sync_wire_records_answer(200, huge, big, &sent, &a, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpstr(err.msg, ==, "host answer 200 to POST /v1/records: 4194305 bytes, above the 4194304-byte limit");
	/* A 4 MiB "[[[[..." would recurse json-glib off the stack: the pre-scan stops it. */
	memset(huge, '[', SYNC_WIRE_BODY_MAX);
	g_assert_cmpint(sync_wire_records_answer(200, huge, SYNC_WIRE_BODY_MAX, &sent, &a, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpstr(err.msg, ==, "host answer 200 to POST /v1/records: JSON nested deeper than 16 levels at offset 16");
	g_free(huge);
}

static void test_card(void)
{
	const char *card = "7841000024680132";
	struct {
		int status;
		const char *body;
		int kind;
		int64_t balance;
		const char *error;
	} cases[] = {
		{200, "{\"card\": \"7841000024680132\", \"status\": \"active\", \"balance_fils\": 2500}", SYNC_CARD_FOUND, 2500,
		 NULL},
		{200, "{\"card\": \"7841000024680132\", \"status\": \"unregistered\", \"balance_fils\": 0}", SYNC_CARD_FOUND, 0,
		 NULL},
		{200, "{\"card\": \"7841000024680132\", \"status\": \"active\", \"balance_fils\": -1}", -1, 0,
		 "'balance_fils' is -1, below 0"},
		{200, "{\"card\": \"7841000024680132\", \"status\": \"active\", \"balance_fils\": 25.5}", -1, 0,
		 "'balance_fils' has a fraction or an exponent (an integer is needed)"},
		{200, "{\"card\": \"7841000024680132\", \"status\": \"active\", \"balance_fils\": \"2500\"}", -1, 0,
		 "'balance_fils' is a string (an integer is needed)"},
		{200, "{\"card\": \"7841000013579022\", \"status\": \"active\", \"balance_fils\": 0}", -1, 0,
		 "the answer is about another card"},
		{200, "{\"card\": \"7841000024680132\", \"status\": \"gold\", \"balance_fils\": 0}", -1, 0,
		 "unknown card status 'gold'"},
		{200, "{\"status\": \"active\", \"balance_fils\": 0}", -1, 0, "no 'card'"},
		{404, "{\"error\": {\"code\": \"card_unknown\", \"message\": \"no such card\"}}", SYNC_CARD_UNKNOWN, 0, NULL},
		{400, "{\"error\": {\"code\": \"bad_card\"}}", SYNC_CARD_BAD, 0, NULL},
		{403, "{\"error\": {\"code\": \"revoked_certificate\"}}", SYNC_CARD_REFUSED, 0, NULL},
		{504, "", SYNC_CARD_RETRY, 0, NULL},
		{404, "{\"error\": {\"code\": \"nope\"}}", -1, 0, "unknown error code 'nope'"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		struct sync_card_answer a;
		struct kio_error err = {0};
		int rc = sync_wire_card_answer(cases[k].status, cases[k].body, strlen(cases[k].body), card, &a, &err);
		if (cases[k].kind < 0) {
			g_assert_cmpint(rc, ==, KIO_ERR_PROTOCOL);
			check_refusal(cases[k].status, "GET /v1/cards", &err, cases[k].error);
		} else {
			if (rc)
				g_error("card case %zu: %s", k, err.msg);
			g_assert_cmpint(a.kind, ==, cases[k].kind);
			if (a.kind == SYNC_CARD_FOUND)
				g_assert_cmpint(a.balance_fils, ==, cases[k].balance);
		}
	}
}

static void test_heartbeat(void)
{
	int64_t t = 0;
	struct kio_error err = {0};
	const char *ok = "{\"server_time_s\": 1798761601}";
	g_assert_cmpint(sync_wire_heartbeat_answer(200, ok, strlen(ok), &t, &err), ==, 0);
	g_assert_cmpint(t, ==, 1798761601);
	const char *zero = "{\"server_time_s\": 0}";
	g_assert_cmpint(sync_wire_heartbeat_answer(200, zero, strlen(zero), &t, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpstr(err.msg, ==, "host answer 200 to POST /v1/heartbeat: 'server_time_s' is 0, below 1");
	g_assert_cmpint(sync_wire_heartbeat_answer(500, "", 0, &t, &err), ==, KIO_ERR_BUSY);
	const char *refused = "{\"error\": {\"code\": \"date_out_of_window\", \"message\": \"skew\"}}";
	g_assert_cmpint(sync_wire_heartbeat_answer(401, refused, strlen(refused), &t, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpstr(err.msg, ==, "host answer 401 to POST /v1/heartbeat: date_out_of_window: skew");
	/* A refusal with no body at all: refused as such, never an answer read from stale memory
	 * (it once returned whatever the stack held: the fuzz target caught it). */
	for (int k = 0; k < 2; k++) {
		memset(&err, k ? 0 : 0x5A, sizeof(err));
		t = 7;
		g_assert_cmpint(sync_wire_heartbeat_answer(422, "", 0, &t, &err), ==, KIO_ERR_PROTOCOL);
		g_assert_cmpstr(err.msg, ==, "host answer 422 to POST /v1/heartbeat: an empty body");
		g_assert_cmpint(t, ==, 7);
	}
}

#define FEE_HEAD "{\"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10012345\", " \
		 "\"payee\": \"S*** R***\", \"description\": \"Traffic fines\", "

static void test_fee(void)
{
	struct {
		int status;
		const char *body;
		int kind;
		int fee_kind;
		const char *error;
	} cases[] = {
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [{\"id\": \"F-1\", \"description\": "
			       "\"Speeding\", \"amount_fils\": 60000}, {\"id\": \"F-2\", \"description\": \"Parking\", "
			       "\"amount_fils\": 40000}]}",
		 SYNC_FEE_FOUND, SYNC_FEE_KIND_ITEMS, NULL},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 24550}, \"items\": []}", SYNC_FEE_FOUND,
		 SYNC_FEE_KIND_FIXED, NULL},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 0}, \"items\": [], \"x\": [1.5]}",
		 SYNC_FEE_FOUND, SYNC_FEE_KIND_FIXED, NULL},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"open\", \"min_fils\": 5000, \"max_fils\": 100000, \"step_fils\": "
			       "5000}, \"items\": []}",
		 SYNC_FEE_FOUND, SYNC_FEE_KIND_OPEN, NULL},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"open\", \"min_fils\": 5000, \"max_fils\": 4000, \"step_fils\": "
			       "500}, \"items\": []}",
		 -1, 0, "max_fils 4000 is below min_fils 5000"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"open\", \"min_fils\": 0, \"max_fils\": 4000, \"step_fils\": "
			       "500}, \"items\": []}",
		 -1, 0, "'min_fils' is 0, below 1"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"open\", \"min_fils\": 100, \"max_fils\": 4000, \"step_fils\": "
			       "0}, \"items\": []}",
		 -1, 0, "'step_fils' is 0, below 1"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": -1}, \"items\": []}", -1, 0,
		 "'due_fils' is -1, below 0"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 245.5}, \"items\": []}", -1, 0,
		 "'due_fils' has a fraction or an exponent (an integer is needed)"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": \"24550\"}, \"items\": []}", -1, 0,
		 "'due_fils' is a string (an integer is needed)"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 1000000000001}, \"items\": []}", -1, 0,
		 "'due_fils' is 1000000000001, above the 1000000000000-fils limit"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\"}, \"items\": []}", -1, 0, "no 'due_fils'"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"loan\"}, \"items\": []}", -1, 0, "unknown amount kind 'loan'"},
		{200, FEE_HEAD "\"amount\": 24550, \"items\": []}", -1, 0, "'amount' is not an object"},
		{200, FEE_HEAD "\"items\": []}", -1, 0, "no 'amount'"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 1}}", -1, 0, "no 'items'"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 1}, \"items\": {}}", -1, 0,
		 "'items' is not an array"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 1}, \"items\": [{\"id\": \"F-1\", "
			       "\"description\": \"x\", \"amount_fils\": 1}]}",
		 -1, 0, "a fixed amount with 1 items (items belong to kind items)"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [{\"id\": \"F-1\", \"description\": \"a\", "
			       "\"amount_fils\": 0}]}",
		 -1, 0, "item 1: 'amount_fils' is 0, below 1"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [{\"id\": \"F-1\", \"description\": \"a\", "
			       "\"amount_fils\": 5}, {\"id\": \"F-1\", \"description\": \"b\", \"amount_fils\": 6}]}",
		 -1, 0, "item 2: id 'F-1' is also item 1's"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [{\"id\": \"F 1\", \"description\": \"a\", "
			       "\"amount_fils\": 5}]}",
		 -1, 0, "item 1: 'id' holds a byte 0x20 (printable ASCII only)"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [{\"id\": \"\", \"description\": \"a\", "
			       "\"amount_fils\": 5}]}",
		 -1, 0, "item 1: 'id' is 0 bytes long (1 to 32)"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [{\"id\": "
			       "\"123456789012345678901234567890123\", \"description\": \"a\", \"amount_fils\": 5}]}",
		 -1, 0, "item 1: 'id' is 33 bytes long (1 to 32)"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [7]}", -1, 0, "item 1 is not an object"},
		{200, FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [{\"id\": \"F-1\", \"amount_fils\": 5}]}", -1,
		 0, "item 1: no 'description'"},
		{200,
		 "{\"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10099999\", \"payee\": \"x\", "
		 "\"description\": \"y\", \"amount\": {\"kind\": \"fixed\", \"due_fils\": 1}, \"items\": []}",
		 -1, 0, "the answer is about reference '10099999', not '10012345'"},
		{200,
		 "{\"entity\": \"dewa\", \"service\": \"fines\", \"reference\": \"10012345\", \"payee\": \"x\", "
		 "\"description\": \"y\", \"amount\": {\"kind\": \"fixed\", \"due_fils\": 1}, \"items\": []}",
		 -1, 0, "the answer is about entity 'dewa', not 'police'"},
		{200,
		 "{\"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10012345\", \"description\": \"y\", "
		 "\"amount\": {\"kind\": \"fixed\", \"due_fils\": 1}, \"items\": []}",
		 -1, 0, "no 'payee'"},
		{404, "{\"error\": {\"code\": \"reference_unknown\", \"message\": \"no such file\"}}", SYNC_FEE_UNKNOWN, 0, NULL},
		{404, "{\"error\": {\"code\": \"entity_unknown\"}}", SYNC_FEE_UNKNOWN, 0, NULL},
		{404, "{\"error\": {\"code\": \"service_unknown\"}}", SYNC_FEE_UNKNOWN, 0, NULL},
		{400, "{\"error\": {\"code\": \"bad_request\"}}", SYNC_FEE_REFUSED, 0, NULL},
		{404, "{\"error\": {\"code\": \"voucher_spent\"}}", -1, 0, "error code 'voucher_spent' comes with status 409, not 404"},
		{503, "", SYNC_FEE_RETRY, 0, NULL},
		{200, "", -1, 0, "an empty body"},
		{204, "", -1, 0, "not an answer this call has"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		struct sync_fee_answer a, untouched;
		memset(&a, 0x5A, sizeof(a));
		memset(&untouched, 0x5A, sizeof(untouched));
		struct kio_error err = {0};
		int rc = sync_wire_fee_answer(cases[k].status, cases[k].body, strlen(cases[k].body), "police", "fines",
					      "10012345", &a, &err);
		if (cases[k].kind < 0) {
			if (rc == 0)
				g_error("fee case %zu: accepted", k);
			g_assert_cmpint(rc, ==, KIO_ERR_PROTOCOL);
			check_refusal(cases[k].status, "GET /v1/fees", &err, cases[k].error);
			g_assert_cmpmem(&a, sizeof(a), &untouched, sizeof(untouched));
		} else {
			if (rc)
				g_error("fee case %zu: %s", k, err.msg);
			g_assert_cmpint(a.kind, ==, cases[k].kind);
			if (a.kind == SYNC_FEE_FOUND)
				g_assert_cmpint(a.fee_kind, ==, cases[k].fee_kind);
		}
	}
	/* The values of each kind. */
	struct sync_fee_answer a;
	struct kio_error err = {0};
	const char *items = cases[0].body;
	g_assert_cmpint(sync_wire_fee_answer(200, items, strlen(items), "police", "fines", "10012345", &a, &err), ==, 0);
	g_assert_cmpstr(a.payee, ==, "S*** R***");
	g_assert_cmpstr(a.description, ==, "Traffic fines");
	g_assert_cmpuint(a.n_items, ==, 2);
	g_assert_cmpuint(a.n_items_host, ==, 2);
	g_assert_cmpstr(a.items[0].id, ==, "F-1");
	g_assert_cmpstr(a.items[0].description, ==, "Speeding");
	g_assert_cmpint(a.items[0].amount_fils, ==, 60000);
	g_assert_cmpstr(a.items[1].id, ==, "F-2");
	g_assert_cmpint(a.items[1].amount_fils, ==, 40000);
	const char *open = cases[3].body;
	g_assert_cmpint(sync_wire_fee_answer(200, open, strlen(open), "police", "fines", "10012345", &a, &err), ==, 0);
	g_assert_cmpint(a.min_fils, ==, 5000);
	g_assert_cmpint(a.max_fils, ==, 100000);
	g_assert_cmpint(a.step_fils, ==, 5000);
	const char *fixed = cases[1].body;
	g_assert_cmpint(sync_wire_fee_answer(200, fixed, strlen(fixed), "police", "fines", "10012345", &a, &err), ==, 0);
	g_assert_cmpint(a.due_fils, ==, 24550);
	g_assert_cmpuint(a.n_items, ==, 0);
	/* Ten items: eight kept, all ten checked and counted. */
	GString *ten = g_string_new(FEE_HEAD "\"amount\": {\"kind\": \"items\"}, \"items\": [");
	for (int k = 1; k <= 10; k++)
		g_string_append_printf(ten, "%s{\"id\": \"F-%d\", \"description\": \"fine\", \"amount_fils\": %d}",
				       k > 1 ? ", " : "", k, k * 100);
	g_string_append(ten, "]}");
	g_assert_cmpint(sync_wire_fee_answer(200, ten->str, ten->len, "police", "fines", "10012345", &a, &err), ==, 0);
	g_assert_cmpuint(a.n_items, ==, SYNC_FEE_ITEMS_MAX);
	g_assert_cmpuint(a.n_items_host, ==, 10);
	g_assert_cmpstr(a.items[7].id, ==, "F-8");
	/* ... and a fault in the ninth refuses the whole answer. */
	char *at = strstr(ten->str, "\"amount_fils\": 900");
	memcpy(at, "\"amount_fils\": -90", 18);
	g_assert_cmpint(sync_wire_fee_answer(200, ten->str, ten->len, "police", "fines", "10012345", &a, &err), ==,
			KIO_ERR_PROTOCOL);
	check_refusal(200, "GET /v1/fees", &err, "item 9: 'amount_fils' is -90, below 1");
	g_string_free(ten, TRUE);
	/* A payee with a control character and an over-long description, kept printable and cut. */
	GString *odd = g_string_new("{\"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10012345\", "
				    "\"payee\": \"A\\u0007B\", \"description\": \"");
	for (int k = 0; k < 200; k++)
		g_string_append(odd, "\xd8\xb4");
	g_string_append(odd, "\", \"amount\": {\"kind\": \"fixed\", \"due_fils\": 1}, \"items\": []}");
	g_assert_cmpint(sync_wire_fee_answer(200, odd->str, odd->len, "police", "fines", "10012345", &a, &err), ==, 0);
	g_assert_cmpstr(a.payee, ==, "A?B");
	g_assert_true(g_utf8_validate(a.description, -1, NULL));
	g_assert_cmpuint(strlen(a.description), ==, SYNC_FEE_TEXT_MAX - 2);
	g_string_free(odd, TRUE);
}

#define VC "9123456789012345"
#define RID "0f4b3c2a-9d8e-4f71-a6b5-c4d3e2f1a0b9"
#define TXU "8d3f6b9e-2c41-4e0a-9b7d-5f1e2a3c4d5e"

struct vcase {
	int status;
	const char *body;
	int kind; /* -1 refused */
	const char *error;
};

static void test_voucher(void)
{
	const struct vcase cases[] = {
		{200, "{\"code\": \"" VC "\", \"status\": \"valid\", \"value_fils\": 5000, \"expires\": \"2099-12-31\"}",
		 SYNC_VOUCHER_VALID, NULL},
		{200, "{\"code\": \"" VC "\", \"status\": \"valid\", \"value_fils\": 5000, \"expires\": \"2028-02-29\"}",
		 SYNC_VOUCHER_VALID, NULL},
		{200, "{\"code\": \"" VC "\", \"status\": \"valid\", \"value_fils\": 5000, \"expires\": \"2027-02-29\"}", -1,
		 "expires '2027-02-29' is not a date YYYY-MM-DD"},
		{200, "{\"code\": \"" VC "\", \"status\": \"valid\", \"value_fils\": 5000, \"expires\": \"2099-13-01\"}", -1,
		 "expires '2099-13-01' is not a date YYYY-MM-DD"},
		{200, "{\"code\": \"" VC "\", \"status\": \"valid\", \"value_fils\": 5000, \"expires\": 4102444799}", -1,
		 "'expires' is not a string"},
		{200, "{\"code\": \"" VC "\", \"status\": \"valid\", \"value_fils\": 0, \"expires\": \"2099-12-31\"}", -1,
		 "'value_fils' is 0, below 1"},
		{200, "{\"code\": \"" VC "\", \"status\": \"valid\", \"value_fils\": 50.5, \"expires\": \"2099-12-31\"}", -1,
		 "'value_fils' has a fraction or an exponent (an integer is needed)"},
		{200, "{\"code\": \"" VC "\", \"status\": \"spent\", \"value_fils\": 5000, \"expires\": \"2099-12-31\"}", -1,
		 "status 'spent' (a 200 is only ever valid)"},
		{200, "{\"code\": \"9123456789012346\", \"status\": \"valid\", \"value_fils\": 5000, \"expires\": "
		      "\"2099-12-31\"}",
		 -1, "the answer is about code '9123456789012346', not '" VC "'"},
		{404, "{\"error\": {\"code\": \"voucher_unknown\", \"message\": \"no voucher\"}}", SYNC_VOUCHER_UNKNOWN, NULL},
		{409, "{\"error\": {\"code\": \"voucher_spent\"}}", SYNC_VOUCHER_SPENT, NULL},
		{410, "{\"error\": {\"code\": \"voucher_expired\"}}", SYNC_VOUCHER_EXPIRED, NULL},
		{410, "{\"error\": {\"code\": \"voucher_spent\"}}", -1, "error code 'voucher_spent' comes with status 409, not 410"},
		{400, "{\"error\": {\"code\": \"bad_request\"}}", SYNC_VOUCHER_REFUSED, NULL},
		{502, "", SYNC_VOUCHER_RETRY, NULL},
		{404, "", -1, "an empty body"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		struct sync_voucher_answer a, untouched;
		memset(&a, 0x5A, sizeof(a));
		memset(&untouched, 0x5A, sizeof(untouched));
		struct kio_error err = {0};
		int rc = sync_wire_voucher_answer(cases[k].status, cases[k].body, strlen(cases[k].body), VC, &a, &err);
		if (cases[k].kind < 0) {
			if (rc == 0)
				g_error("voucher case %zu: accepted", k);
			check_refusal(cases[k].status, "POST /v1/vouchers/validate", &err, cases[k].error);
			g_assert_cmpmem(&a, sizeof(a), &untouched, sizeof(untouched));
		} else {
			if (rc)
				g_error("voucher case %zu: %s", k, err.msg);
			g_assert_cmpint(a.kind, ==, cases[k].kind);
		}
	}
	struct sync_voucher_answer a;
	struct kio_error err = {0};
	g_assert_cmpint(sync_wire_voucher_answer(200, cases[0].body, strlen(cases[0].body), VC, &a, &err), ==, 0);
	g_assert_cmpint(a.value_fils, ==, 5000);
	g_assert_cmpstr(a.expires, ==, "2099-12-31");
	g_assert_cmpint(a.expires_s, ==, 4102444800 - 4 * 3600 - 1); /* 2099-12-31 23:59:59 in Dubai */
	g_assert_cmpint(sync_wire_voucher_answer(200, cases[1].body, strlen(cases[1].body), VC, &a, &err), ==, 0);
	g_assert_cmpint(a.expires_s, ==, 1835481600 - 4 * 3600 - 1); /* 2028-03-01 00:00 UTC, a leap year */
}

static void test_redeem(void)
{
	const struct vcase cases[] = {
		{200, "{\"code\": \"" VC "\", \"redemption_id\": \"" RID "\", \"redeemed_fils\": 5000, \"remaining_fils\": 15000}",
		 SYNC_VOUCHER_REDEEMED, NULL},
		{200, "{\"code\": \"" VC "\", \"redemption_id\": \"0F4B3C2A-9D8E-4F71-A6B5-C4D3E2F1A0B9\", \"redeemed_fils\": "
		      "5000, \"remaining_fils\": 0}",
		 SYNC_VOUCHER_REDEEMED, NULL},
		{200, "{\"code\": \"" VC "\", \"redemption_id\": \"" RID "\", \"redeemed_fils\": 4000, \"remaining_fils\": 0}",
		 -1, "redeemed 4000 fils, but 5000 were asked"},
		{200, "{\"code\": \"" VC "\", \"redemption_id\": \"" RID "\", \"redeemed_fils\": 5000, \"remaining_fils\": -1}",
		 -1, "'remaining_fils' is -1, below 0"},
		{200, "{\"code\": \"" VC "\", \"redemption_id\": \"1f4b3c2a-9d8e-4f71-a6b5-c4d3e2f1a0b9\", \"redeemed_fils\": "
		      "5000, \"remaining_fils\": 0}",
		 -1, "the answer is about redemption '1f4b3c2a-9d8e-4f71-a6b5-c4d3e2f1a0b9', not '" RID "'"},
		{200, "{\"code\": \"" VC "\", \"redeemed_fils\": 5000, \"remaining_fils\": 0}", -1, "no 'redemption_id'"},
		{422, "{\"error\": {\"code\": \"idempotency_mismatch\", \"message\": \"other body\"}}", SYNC_VOUCHER_MISMATCH,
		 NULL},
		{409, "{\"error\": {\"code\": \"voucher_spent\", \"message\": \"holds 100 fils\"}}", SYNC_VOUCHER_SPENT, NULL},
		{410, "{\"error\": {\"code\": \"voucher_expired\"}}", SYNC_VOUCHER_EXPIRED, NULL},
		{404, "{\"error\": {\"code\": \"voucher_unknown\"}}", SYNC_VOUCHER_UNKNOWN, NULL},
		{500, "{\"error\": {\"code\": \"internal_error\"}}", SYNC_VOUCHER_RETRY, NULL},
		{200, "{\"code\": ", -1, "not JSON (*"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		struct sync_redeem_answer a, untouched;
		memset(&a, 0x5A, sizeof(a));
		memset(&untouched, 0x5A, sizeof(untouched));
		struct kio_error err = {0};
		int rc = sync_wire_redeem_answer(cases[k].status, cases[k].body, strlen(cases[k].body), VC, RID, 5000, &a,
						 &err);
		if (cases[k].kind < 0) {
			if (rc == 0)
				g_error("redeem case %zu: accepted", k);
			check_refusal(cases[k].status, "POST /v1/vouchers/redeem", &err, cases[k].error);
			g_assert_cmpmem(&a, sizeof(a), &untouched, sizeof(untouched));
		} else {
			if (rc)
				g_error("redeem case %zu: %s", k, err.msg);
			g_assert_cmpint(a.kind, ==, cases[k].kind);
		}
	}
	struct sync_redeem_answer a;
	struct kio_error err = {0};
	g_assert_cmpint(sync_wire_redeem_answer(200, cases[0].body, strlen(cases[0].body), VC, RID, 5000, &a, &err), ==, 0);
	g_assert_cmpint(a.redeemed_fils, ==, 5000);
	g_assert_cmpint(a.remaining_fils, ==, 15000);
}

static void test_pay(void)
{
	const struct vcase cases[] = {
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 2, \"status\": \"refused\", \"reason\": "
		      "\"already_paid\", \"message\": \"paid on 1 Dec\"}, {\"n\": 1, \"status\": \"paid\", \"host_ref\": \"P-17\"}]}",
		 SYNC_PAY_ANSWERED, NULL},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"paid\", \"host_ref\": \"P-17\"}]}", -1,
		 "1 lines answered, 2 sent"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"paid\", \"host_ref\": \"P-1\"}, "
		      "{\"n\": 1, \"status\": \"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "line 1 answered twice"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"paid\", \"host_ref\": \"P-1\"}, "
		      "{\"n\": 3, \"status\": \"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "line 3 answered, but 2 were sent"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"paid\"}, {\"n\": 2, \"status\": "
		      "\"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "line 1: no 'host_ref'"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"refused\"}, {\"n\": 2, \"status\": "
		      "\"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "line 1: no 'reason'"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"refused\", \"reason\": \"Already "
		      "Paid\"}, {\"n\": 2, \"status\": \"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "line 1: reason is not a snake_case word"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"pending\"}, {\"n\": 2, \"status\": "
		      "\"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "line 1: unknown status 'pending'"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 0, \"status\": \"paid\", \"host_ref\": \"P\"}, "
		      "{\"n\": 2, \"status\": \"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "'n' is 0, below 1"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [{\"n\": 1, \"status\": \"paid\", \"host_ref\": \"P\\n1\"}, "
		      "{\"n\": 2, \"status\": \"paid\", \"host_ref\": \"P-2\"}]}",
		 -1, "line 1: 'host_ref' holds a byte 0x0A (printable ASCII only)"},
		{200, "{\"tx_uuid\": \"" TXU "\", \"lines\": [7, 8]}", -1, "a line is not an object"},
		{200, "{\"tx_uuid\": \"" TXU "\"}", -1, "no 'lines'"},
		{200, "{\"tx_uuid\": \"" RID "\", \"lines\": []}", -1,
		 "the answer is about transaction '" RID "', not '" TXU "'"},
		{422, "{\"error\": {\"code\": \"idempotency_mismatch\"}}", SYNC_PAY_MISMATCH, NULL},
		{400, "{\"error\": {\"code\": \"bad_request\", \"message\": \"line 2: no amount\"}}", SYNC_PAY_REFUSED, NULL},
		{422, "{\"error\": {\"code\": \"bad_record\", \"rec\": 3}}", SYNC_PAY_REFUSED, NULL},
		{503, "", SYNC_PAY_RETRY, NULL},
		{302, "", -1, "not an answer this call has"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		struct sync_pay_answer a, untouched;
		memset(&a, 0x5A, sizeof(a));
		memset(&untouched, 0x5A, sizeof(untouched));
		struct kio_error err = {0};
		int rc = sync_wire_pay_answer(cases[k].status, cases[k].body, strlen(cases[k].body), TXU, 2, &a, &err);
		if (cases[k].kind < 0) {
			if (rc == 0)
				g_error("pay case %zu: accepted", k);
			check_refusal(cases[k].status, "POST /v1/payments", &err, cases[k].error);
			g_assert_cmpmem(&a, sizeof(a), &untouched, sizeof(untouched));
		} else {
			if (rc)
				g_error("pay case %zu: %s", k, err.msg);
			g_assert_cmpint(a.kind, ==, cases[k].kind);
		}
	}
	struct sync_pay_answer a;
	struct kio_error err = {0};
	g_assert_cmpint(sync_wire_pay_answer(200, cases[0].body, strlen(cases[0].body), TXU, 2, &a, &err), ==, 0);
	g_assert_cmpuint(a.n, ==, 2);
	g_assert_cmpint(a.lines[0].status, ==, SYNC_LINE_PAID); /* placed by n, not by order */
	g_assert_cmpstr(a.lines[0].host_ref, ==, "P-17");
	g_assert_cmpint(a.lines[1].status, ==, SYNC_LINE_REFUSED);
	g_assert_cmpstr(a.lines[1].reason, ==, "already_paid");
	g_assert_cmpstr(a.lines[1].message, ==, "paid on 1 Dec");
	g_assert_cmpint(sync_wire_pay_answer(200, cases[0].body, strlen(cases[0].body), TXU, 11, &a, &err), ==,
			KIO_ERR_INVALID);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sync/wire/records", test_records);
	g_test_add_func("/sync/wire/records-details", test_records_details);
	g_test_add_func("/sync/wire/card", test_card);
	g_test_add_func("/sync/wire/heartbeat", test_heartbeat);
	g_test_add_func("/sync/wire/fee", test_fee);
	g_test_add_func("/sync/wire/voucher", test_voucher);
	g_test_add_func("/sync/wire/redeem", test_redeem);
	g_test_add_func("/sync/wire/pay", test_pay);
	return g_test_run();
}
