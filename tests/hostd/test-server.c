/*
 * kiosk-host over mutual TLS, as a kiosk meets it: one throwaway cluster and one `kiosk-host
 * serve` on port 0 for the binary, a CA and kiosks made with `kiosk-host ca init` / `enrol`,
 * libcurl (GnuTLS) presenting each kiosk's certificate. Records come from a real kiosk ledger
 * opened with the enrolment's ledger.secret. Covers the authentication refusals (no, unknown,
 * revoked and foreign certificates; Date missing and outside the window), the body limit, and
 * every route once; after each refusal the host's tables are unchanged.
 */
#include <curl/curl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/db.h"
#include "host/pki/pki.h"
#include "hostfix.h"

#define CARD_DEMO "7841000024680132"

static char *cluster_dir, *conninfo, *host_bin, *base_url, *ca_dir;
static PGconn *db;
static GPid server_pid;

/* Runs kiosk-host with args; returns its stdout (g_free), aborting unless it exits 0. */
static char *host_cmd(const char *const *args)
{
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, host_bin);
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (char *)*a);
	g_ptr_array_add(argv, NULL);
	char *out = NULL, *errout = NULL;
	int status;
	GError *gerr = NULL;
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL, &out, &errout, &status, &gerr))
		g_error("%s: %s", host_bin, gerr->message);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("kiosk-host %s failed: %s", args[0], errout);
	g_free(errout);
	g_ptr_array_free(argv, TRUE);
	return out;
}

/* Runs kiosk-host with args; returns its exit status, *err_out (may be NULL) its stderr. */
static int host_status(const char *const *args, char **err_out)
{
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, host_bin);
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (char *)*a);
	g_ptr_array_add(argv, NULL);
	char *errout = NULL;
	int status;
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &errout,
			  &status, NULL))
		g_error("cannot run %s", host_bin);
	g_ptr_array_free(argv, TRUE);
	if (err_out)
		*err_out = errout;
	else
		g_free(errout);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* host_status under timeout(1): 124 when the host is still running after 20 s. */
static int host_status_within(const char *const *args, char **err_out)
{
	const char *cmd[64] = {"20", host_bin};
	size_t n = 2;
	for (const char *const *a = args; *a && n < G_N_ELEMENTS(cmd) - 1; a++)
		cmd[n++] = *a;
	cmd[n] = NULL;
	char *saved = host_bin;
	host_bin = (char *)"/usr/bin/timeout";
	int rc = host_status(cmd, err_out);
	host_bin = saved;
	return rc;
}

static char *enrol(const char *ca, const char *id)
{
	char *out = g_build_filename(cluster_dir, id, NULL);
	const char *args[] = {"enrol", "--db", conninfo, "--ca", ca, "--kiosk-id", id, "--out", out, NULL};
	g_free(host_cmd(args));
	return out;
}

/* In the server's child before exec: it dies with this test, even by an abort, instead of
 * serving on after the keeper stopped its database. */
static void die_with_parent(gpointer unused)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void start_server(void)
{
	char *cert = g_build_filename(ca_dir, "host.crt", NULL), *key = g_build_filename(ca_dir, "host.key", NULL),
	     *ca = g_build_filename(ca_dir, "ca.crt", NULL);
	char *argv[] = {host_bin, "serve", "--db", conninfo, "--cert", cert, "--key", key, "--ca", ca,
			"--listen", "127.0.0.1:0", "--threads", "2", NULL};
	int out_fd;
	GError *gerr = NULL;
	if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, &server_pid,
				      NULL, &out_fd, NULL, &gerr))
		g_error("serve: %s", gerr->message);
	/* "listening on 127.0.0.1:PORT": the server is ready when it says so. */
	char line[128] = "";
	size_t n = 0;
	while (n < sizeof(line) - 1) {
		ssize_t got = read(out_fd, line + n, 1);
		if (got <= 0)
			g_error("kiosk-host serve ended before listening");
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(out_fd);
	const char *addr = g_str_has_prefix(line, "listening on ") ? line + 13 : NULL;
	g_assert_nonnull(addr);
	base_url = g_strdup_printf("https://%s", addr);
	g_free(cert);
	g_free(key);
	g_free(ca);
}

static void stop_server(void)
{
	kill(server_pid, SIGTERM);
	int status;
	g_assert_cmpint(waitpid(server_pid, &status, 0), ==, server_pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_spawn_close_pid(server_pid);
}

enum date_mode { DATE_NOW, DATE_NONE, DATE_OLD, DATE_FUTURE, DATE_GARBAGE };

struct answer {
	long status;
	GString *body;
	char etag[80];
	JsonObject *json; /* parsed body, NULL when empty or not JSON */
};

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
	g_string_append_len(((struct answer *)user)->body, p, (gssize)(size * n));
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
	struct answer *a = user;
	if (g_ascii_strncasecmp(p, "ETag: ", 6) == 0) {
		g_strlcpy(a->etag, p + 6, sizeof(a->etag));
		g_strchomp(a->etag);
	}
	return size * n;
}

static void answer_clear(struct answer *a)
{
	if (a->body)
		g_string_free(a->body, TRUE);
	if (a->json)
		json_object_unref(a->json);
	memset(a, 0, sizeof(*a));
}

/* One request as the kiosk whose enrolment folder is kiosk_dir (NULL: no certificate). */
static void request(struct answer *a, const char *kiosk_dir, const char *method, const char *path, const char *body,
		    size_t body_len, enum date_mode date, const char *if_none_match)
{
	memset(a, 0, sizeof(*a));
	a->body = g_string_new(NULL);
	CURL *curl = curl_easy_init();
	char *url = g_strconcat(base_url, path, NULL);
	char *cacert = g_build_filename(ca_dir, "ca.crt", NULL);
	char *cert = kiosk_dir ? g_build_filename(kiosk_dir, "kiosk.crt", NULL) : NULL;
	char *key = kiosk_dir ? g_build_filename(kiosk_dir, "kiosk.key", NULL) : NULL;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);
	if (cert) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, key);
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, a);
	struct curl_slist *headers = NULL;
	time_t now = time(NULL);
	time_t when = date == DATE_OLD ? now - 600 : date == DATE_FUTURE ? now + 600 : now;
	char date_header[64];
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(date_header, sizeof(date_header), "Date: %a, %d %b %Y %H:%M:%S GMT", &tm);
	if (date == DATE_GARBAGE)
		g_strlcpy(date_header, "Date: yesterday", sizeof(date_header));
	if (date != DATE_NONE)
		headers = curl_slist_append(headers, date_header);
	if (if_none_match) {
		char *h = g_strdup_printf("If-None-Match: %s", if_none_match);
		headers = curl_slist_append(headers, h);
		g_free(h);
	}
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	CURLcode rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
		g_error("%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->status);
	if (a->body->len) {
		JsonParser *p = json_parser_new();
		if (json_parser_load_from_data(p, a->body->str, (gssize)a->body->len, NULL) &&
		    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
			a->json = json_object_ref(json_node_get_object(json_parser_get_root(p)));
		g_object_unref(p);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	g_free(url);
	g_free(cacert);
	g_free(cert);
	g_free(key);
}

static const char *code_of(struct answer *a)
{
	g_assert_nonnull(a->json);
	return json_object_get_string_member(json_object_get_object_member(a->json, "error"), "code");
}

/* The request must be refused with status and code and change no table. */
static void refused(const char *kiosk_dir, const char *method, const char *path, const char *body, size_t len,
		    enum date_mode date, long status, const char *code)
{
	char *before = hostfix_snapshot(db);
	struct answer a;
	request(&a, kiosk_dir, method, path, body, len, date, NULL);
	g_assert_cmpint(a.status, ==, status);
	g_assert_cmpstr(code_of(&a), ==, code);
	answer_clear(&a);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
}

static int64_t card_balance(const char *kiosk_dir, const char *card)
{
	struct answer a;
	char *path = g_strdup_printf("/v1/cards/%s", card);
	request(&a, kiosk_dir, "GET", path, NULL, 0, DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	int64_t v = json_object_get_int_member(a.json, "balance_fils");
	answer_clear(&a);
	g_free(path);
	return v;
}

static char *kiosk_a, *kiosk_revoked, *kiosk_foreign, *kiosk_unknown;
static const int64_t notes[] = {10000, 5000, 0};

static void test_sync_over_tls(void)
{
	struct kfix k;
	kfix_open(&k, kiosk_a); /* its ledger.secret is the enrolment's */
	int64_t before = card_balance(kiosk_a, CARD_DEMO);
	kfix_topup(&k, CARD_DEMO, notes);
	GPtrArray *lines = kfix_export(&k, 0);
	char *body = kfix_batch(lines, 0, lines->len);
	struct answer a;
	request(&a, kiosk_a, "POST", "/v1/records", body, strlen(body), DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(a.json, "acked"), ==, lines->len);
	g_assert_cmpint(json_object_get_int_member(a.json, "applied"), ==, lines->len);
	answer_clear(&a);
	g_assert_cmpint(card_balance(kiosk_a, CARD_DEMO), ==, before + 15000);
	/* Replayed: acknowledged again, applied once. */
	char *snap = hostfix_snapshot(db);
	request(&a, kiosk_a, "POST", "/v1/records", body, strlen(body), DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(a.json, "duplicates"), ==, lines->len);
	answer_clear(&a);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(snap, ==, after);
	g_assert_cmpint(card_balance(kiosk_a, CARD_DEMO), ==, before + 15000);
	/* `kiosk-host dump` holds exactly what the kiosk exports. */
	const char *args[] = {"dump", "--db", conninfo, "--kiosk", "K-A", NULL};
	char *dump = host_cmd(args);
	GString *want = g_string_new("{\"kiosk\":\"K-A\",\"acked\":5}\n");
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(want, "%s\n", (char *)lines->pdata[i]);
	g_assert_true(g_str_has_prefix(dump, want->str));
	g_assert_nonnull(strstr(dump, "{\"card\":\"" CARD_DEMO "\",\"status\":\"active\""));
	hostfix_assert_balances(db);

	refused(kiosk_a, "POST", "/v1/records", "{\"records\":[", 12, DATE_NOW, 400, "bad_json");
	/* One byte over 4 MiB. */
	size_t big = (4u << 20) + 1;
	char *huge = g_malloc(big);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	refused(kiosk_a, "POST", "/v1/records", huge, big, DATE_NOW, 413, "body_too_large");
	g_free(huge);
	g_string_free(want, TRUE);
	g_free(dump);
	g_free(snap);
	g_free(after);
	g_free(body);
	g_ptr_array_unref(lines);
	kfix_close(&k);
}

static void test_refused_certificates(void)
{
	const char *body = "{\"records\":[]}";
	size_t len = strlen(body);
	refused(NULL, "POST", "/v1/records", body, len, DATE_NOW, 403, "no_certificate");
	refused(NULL, "GET", "/v1/cards/" CARD_DEMO, NULL, 0, DATE_NOW, 403, "no_certificate");
	refused(kiosk_unknown, "POST", "/v1/records", body, len, DATE_NOW, 403, "unknown_certificate");
	refused(kiosk_revoked, "POST", "/v1/records", body, len, DATE_NOW, 403, "revoked_certificate");
	/* Enrolled in this database, but by another CA: the chain does not verify. */
	refused(kiosk_foreign, "POST", "/v1/records", body, len, DATE_NOW, 403, "bad_certificate");
}

static void test_date_window(void)
{
	const char *body = "{\"records\":[]}";
	size_t len = strlen(body);
	refused(kiosk_a, "POST", "/v1/records", body, len, DATE_NONE, 400, "date_missing");
	refused(kiosk_a, "POST", "/v1/records", body, len, DATE_GARBAGE, 400, "date_missing");
	refused(kiosk_a, "POST", "/v1/records", body, len, DATE_OLD, 401, "date_out_of_window");
	refused(kiosk_a, "POST", "/v1/records", body, len, DATE_FUTURE, 401, "date_out_of_window");
	struct answer a;
	request(&a, kiosk_a, "GET", "/v1/catalogue", NULL, 0, DATE_OLD, NULL);
	g_assert_cmpint(a.status, ==, 401);
	int64_t server_time = json_object_get_int_member(json_object_get_object_member(a.json, "error"), "server_time");
	g_assert_cmpint(server_time, >=, (int64_t)time(NULL) - 5);
	g_assert_cmpint(server_time, <=, (int64_t)time(NULL));
	answer_clear(&a);
}

static void test_routes(void)
{
	struct answer a;
	request(&a, kiosk_a, "GET", "/v1/fees/dewa/bill/2000123456", NULL, 0, DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(a.json, "amount"), "due_fils"), ==,
			24550);
	answer_clear(&a);
	request(&a, kiosk_a, "GET", "/v1/cards/7841000000000000", NULL, 0, DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 404);
	g_assert_cmpstr(code_of(&a), ==, "card_unknown");
	answer_clear(&a);

	const char *validate = "{\"code\":\"9135724680246804\"}";
	request(&a, kiosk_a, "POST", "/v1/vouchers/validate", validate, strlen(validate), DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(a.json, "status"), ==, "valid");
	answer_clear(&a);
	const char *redeem = "{\"code\":\"9135724680246804\",\"redemption_id\":\"1a2b3c4d-0000-4000-8000-000000000001\","
			     "\"tx_uuid\":\"1a2b3c4d-0000-4000-8000-0000000000ff\",\"amount_fils\":5000}";
	for (int k = 0; k < 2; k++) {
		request(&a, kiosk_a, "POST", "/v1/vouchers/redeem", redeem, strlen(redeem), DATE_NOW, NULL);
		g_assert_cmpint(a.status, ==, 200);
		g_assert_cmpint(json_object_get_int_member(a.json, "remaining_fils"), ==, 0);
		answer_clear(&a);
	}
	const char *other = "{\"code\":\"9135724680246804\",\"redemption_id\":\"1a2b3c4d-0000-4000-8000-000000000001\","
			    "\"tx_uuid\":\"1a2b3c4d-0000-4000-8000-0000000000ff\",\"amount_fils\":4000}";
	refused(kiosk_a, "POST", "/v1/vouchers/redeem", other, strlen(other), DATE_NOW, 422, "idempotency_mismatch");

	request(&a, kiosk_a, "GET", "/v1/catalogue", NULL, 0, DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_cmpuint(strlen(a.etag), >, 2);
	char etag[80];
	g_strlcpy(etag, a.etag, sizeof(etag));
	answer_clear(&a);
	request(&a, kiosk_a, "GET", "/v1/catalogue", NULL, 0, DATE_NOW, etag);
	g_assert_cmpint(a.status, ==, 304);
	g_assert_cmpuint(a.body->len, ==, 0);
	answer_clear(&a);

	const char *hb = "{\"version\":\"0.1.0\",\"queue_depth\":0,\"oldest_unsynced_s\":null,"
			 "\"devices\":{\"cash\":\"ok\"},\"sent_s\":1765000100}";
	request(&a, kiosk_a, "POST", "/v1/heartbeat", hb, strlen(hb), DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_cmpint(json_object_get_int_member(a.json, "server_time_s"), >, 0);
	answer_clear(&a);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM heartbeat WHERE kiosk_id = 'K-A'"), ==, 1);

	/* The receipt check's route (its cases: test-receipts.c): not a receipt is an answer. */
	const char *qr = "{\"qr\":\"not a receipt\"}";
	request(&a, kiosk_a, "POST", "/v1/receipts/verify", qr, strlen(qr), DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_false(json_object_get_boolean_member(a.json, "valid"));
	g_assert_cmpstr(json_object_get_string_member(a.json, "fault"), ==, "prefix");
	answer_clear(&a);
	refused(kiosk_a, "POST", "/v1/receipts/verify", "{}", 2, DATE_NOW, 400, "bad_request");
	refused(kiosk_a, "GET", "/v1/receipts/verify", NULL, 0, DATE_NOW, 405, "method_not_allowed");

	const char *pay = "{\"tx_uuid\":\"1a2b3c4d-0000-4000-8000-0000000000aa\",\"lines\":[{\"n\":1,\"entity\":\"salik\","
			  "\"service\":\"topup\",\"reference\":\"40012345\",\"bill\":null,\"amount_fils\":10000}]}";
	request(&a, kiosk_a, "POST", "/v1/payments", pay, strlen(pay), DATE_NOW, NULL);
	g_assert_cmpint(a.status, ==, 200);
	JsonObject *line = json_array_get_object_element(json_object_get_array_member(a.json, "lines"), 0);
	g_assert_cmpstr(json_object_get_string_member(line, "status"), ==, "paid");
	answer_clear(&a);
	refused(kiosk_a, "POST", "/v1/payments", "{\"tx_uuid\":\"x\"}", 15, DATE_NOW, 400, "bad_request");
	refused(kiosk_a, "GET", "/v1/payments", NULL, 0, DATE_NOW, 405, "method_not_allowed");

	refused(kiosk_a, "GET", "/v1/nothing", NULL, 0, DATE_NOW, 404, "not_found");
	refused(kiosk_a, "GET", "/v1/records", NULL, 0, DATE_NOW, 405, "method_not_allowed");
}

static void test_commands(void)
{
	char *err = NULL;
	/* An id enrols once; the refusal makes no file. */
	char *again = g_build_filename(cluster_dir, "again", NULL);
	const char *enrol_again[] = {"enrol", "--db", conninfo, "--ca", ca_dir, "--kiosk-id", "K-A", "--out", again, NULL};
	g_assert_cmpint(host_status(enrol_again, &err), ==, 1);
	g_assert_nonnull(strstr(err, "enrolled already"));
	g_assert_false(g_file_test(again, G_FILE_TEST_EXISTS));
	g_free(err);
	const char *revoke_none[] = {"revoke", "--db", conninfo, "--kiosk-id", "K-NONE", NULL};
	g_assert_cmpint(host_status(revoke_none, &err), ==, 1);
	g_assert_nonnull(strstr(err, "no kiosk K-NONE"));
	g_free(err);
	const char *no_db[] = {"dump", NULL};
	g_assert_cmpint(host_status(no_db, NULL), ==, 1);
	const char *bad_opt[] = {"migrate", "--db", conninfo, "--cert", "x", NULL};
	g_assert_cmpint(host_status(bad_opt, NULL), ==, 2);
	const char *unknown[] = {"frobnicate", NULL};
	g_assert_cmpint(host_status(unknown, NULL), ==, 2);
	/* serve refuses a database whose schema is not its own. */
	hostfix_exec(db, "DROP DATABASE IF EXISTS empty");
	hostfix_exec(db, "CREATE DATABASE empty");
	char *empty = g_strdup_printf("%s dbname=empty", conninfo);
	PGconn *e = hostfix_connect(empty);
	hostfix_exec(e, "CREATE TABLE schema_migration (version int PRIMARY KEY, applied_at timestamptz)");
	PQfinish(e);
	char *cert = g_build_filename(ca_dir, "host.crt", NULL), *key = g_build_filename(ca_dir, "host.key", NULL),
	     *ca = g_build_filename(ca_dir, "ca.crt", NULL);
	const char *serve[] = {"serve", "--db", empty, "--cert", cert, "--key", key, "--ca", ca, "--listen", "127.0.0.1:0",
			       NULL};
	g_assert_cmpint(host_status(serve, &err), ==, 1);
	g_assert_nonnull(strstr(err, "run kiosk-host migrate"));
	g_free(err);
	/* A FIFO named as a file serve reads: refused at once, naming it, not waited on for a
	 * writer (under timeout(1): a host that waits fails with 124 instead of hanging the test). */
	char *fifo = g_build_filename(cluster_dir, "a-fifo", NULL);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	const char *opts[] = {"--cert", "--key", "--ca", "--faults"};
	for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
		const char *fserve[] = {"serve", "--db", conninfo, "--cert", i == 0 ? fifo : cert, "--key", i == 1 ? fifo : key,
					"--ca", i == 2 ? fifo : ca, "--listen", "127.0.0.1:0", "--faults", fifo, NULL};
		if (i < 3)
			fserve[11] = NULL; /* no --faults */
		g_assert_cmpint(host_status_within(fserve, &err), ==, 1);
		char *want = g_strdup_printf("%s %s: not a regular file", opts[i], fifo);
		if (!strstr(err, want))
			g_error("serve with %s a FIFO: %s", opts[i], err);
		g_free(want);
		g_free(err);
	}
	g_assert_cmpint(unlink(fifo), ==, 0);
	g_free(fifo);
	g_free(cert);
	g_free(key);
	g_free(ca);
	g_free(empty);
	g_free(again);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	host_bin = g_strdup(g_getenv("KIOSK_HOST_BIN"));
	g_assert_nonnull(host_bin);
	if (hostfix_cluster_start(&cluster_dir, &conninfo) == 77)
		return 77;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	db = hostfix_connect(conninfo);
	const char *demo[] = {"demo-data", "--db", conninfo, NULL};
	g_free(host_cmd(demo));
	ca_dir = g_build_filename(cluster_dir, "ca", NULL);
	const char *init[] = {"ca", "init", "--out", ca_dir, "--name", "localhost", "--ip", "127.0.0.1", NULL};
	g_free(host_cmd(init));
	char *other_ca = g_build_filename(cluster_dir, "other-ca", NULL);
	const char *init_other[] = {"ca", "init", "--out", other_ca, NULL};
	g_free(host_cmd(init_other));
	kiosk_a = enrol(ca_dir, "K-A");
	kiosk_revoked = enrol(ca_dir, "K-R");
	const char *revoke[] = {"revoke", "--db", conninfo, "--kiosk-id", "K-R", NULL};
	g_free(host_cmd(revoke));
	kiosk_foreign = enrol(other_ca, "K-F");
	/* Made by the right CA, never registered at this host. */
	kiosk_unknown = g_build_filename(cluster_dir, "K-U", NULL);
	struct pki_enrolment e;
	struct kio_error err;
	if (pki_enrol(ca_dir, "K-U", kiosk_unknown, &e, &err) != 0)
		g_error("%s", err.msg);
	start_server();

	g_test_add_func("/hostd/server/sync-over-tls", test_sync_over_tls);
	g_test_add_func("/hostd/server/refused-certificates", test_refused_certificates);
	g_test_add_func("/hostd/server/date-window", test_date_window);
	g_test_add_func("/hostd/server/routes", test_routes);
	g_test_add_func("/hostd/server/commands", test_commands);
	int rc = g_test_run();

	stop_server();
	PQfinish(db);
	curl_global_cleanup();
	hostfix_cluster_stop(cluster_dir);
	g_free(other_ca);
	return rc;
}
