/* The libcurl transport (kiosk/sync/transport-curl.c) against a local TLS server that asks
 * for the kiosk's certificate (gnutls-serv, with a CA, host and kiosk certificates minted by
 * certtool for the test): an answer over mutual TLS with the operator CA pinned, a host
 * certificate from another CA refused, an answer above 4 MiB refused, a host that never
 * answers timed out, the Date header's format. gnutls-bin missing: skipped (77). Not the
 * host: the integration with the reference host is the network suite's. */
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiosk/sync/transport.h"
#include "kiosk/sync/wire.h"

static char *dir;

static void run(const char *cmdline)
{
	int wstatus = 0;
	GError *gerr = NULL;
	if (!g_spawn_command_line_sync(cmdline, NULL, NULL, &wstatus, &gerr))
		g_error("%s: %s", cmdline, gerr->message);
	if (!g_spawn_check_wait_status(wstatus, NULL))
		g_error("%s: failed", cmdline);
}

static char *at(const char *name) { return g_build_filename(dir, name, NULL); }

static void write_file(const char *name, const char *text)
{
	char *p = at(name);
	g_assert_true(g_file_set_contents(p, text, -1, NULL));
	g_free(p);
}

/* A key and a certificate NAME.key / NAME.crt from template text, signed by ca (NULL: self). */
static void mint(const char *name, const char *tmpl, const char *ca)
{
	char *t = g_strdup_printf("%s.tmpl", name);
	write_file(t, tmpl);
	char *cmd = g_strdup_printf("certtool --generate-privkey --key-type=ecdsa --outfile %s/%s.key", dir, name);
	run(cmd);
	g_free(cmd);
	char *key = g_strdup_printf("%s/%s.key", dir, name);
	g_assert_cmpint(g_chmod(key, 0600), ==, 0); /* the transport refuses a key others may read */
	g_free(key);
	if (ca)
		cmd = g_strdup_printf("certtool --generate-certificate --load-privkey %s/%s.key --load-ca-certificate "
				      "%s/%s.crt --load-ca-privkey %s/%s.key --template %s/%s --outfile %s/%s.crt",
				      dir, name, dir, ca, dir, ca, dir, t, dir, name);
	else
		cmd = g_strdup_printf("certtool --generate-self-signed --load-privkey %s/%s.key --template %s/%s "
				      "--outfile %s/%s.crt",
				      dir, name, dir, t, dir, name);
	run(cmd);
	g_free(cmd);
	g_free(t);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* gnutls-serv answering every request with the bytes of file `data`; its pid. */
static GPid serve(const char *host, const char *data, int *port)
{
	*port = free_port();
	char *p = g_strdup_printf("%d", *port), *ca = at("ca.crt"), *key = g_strdup_printf("%s/%s.key", dir, host),
	     *crt = g_strdup_printf("%s/%s.crt", dir, host), *d = at(data);
	char *cafile = g_strdup_printf("--x509cafile=%s", ca), *keyfile = g_strdup_printf("--x509keyfile=%s", key),
	     *certfile = g_strdup_printf("--x509certfile=%s", crt), *httpdata = g_strdup_printf("--httpdata=%s", d);
	const char *argv[] = {"gnutls-serv", "--http", "--port", p, cafile, keyfile, certfile,
			      "--require-client-cert", httpdata, NULL};
	GPid pid;
	GError *gerr = NULL;
	if (!g_spawn_async(NULL, (char **)argv, NULL,
			   G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
				   G_SPAWN_STDERR_TO_DEV_NULL,
			   NULL, NULL, &pid, &gerr))
		g_error("gnutls-serv: %s", gerr->message);
	gint64 end = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
	while (!accepts(*port)) {
		if (g_get_monotonic_time() > end)
			g_error("gnutls-serv did not listen on %d", *port);
		g_usleep(20000);
	}
	g_free(p);
	g_free(ca);
	g_free(key);
	g_free(crt);
	g_free(d);
	g_free(cafile);
	g_free(keyfile);
	g_free(certfile);
	g_free(httpdata);
	return pid;
}

static void stop(GPid pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	g_spawn_close_pid(pid);
}

static struct sync_transport *transport(int port, const char *ca, int timeout_ms)
{
	char *url = g_strdup_printf("https://127.0.0.1:%d/", port);
	char *c = at(ca), *cert = at("kiosk.crt"), *key = at("kiosk.key");
	struct sync_tls tls = {url, c, cert, key, timeout_ms};
	struct sync_transport *t = NULL;
	struct kio_error err = {0};
	if (sync_transport_curl_new(&tls, &t, &err) != 0)
		g_error("transport: %s", err.msg);
	g_free(url);
	g_free(c);
	g_free(cert);
	g_free(key);
	return t;
}

static bool have_tools(void)
{
	char *a = g_find_program_in_path("certtool"), *b = g_find_program_in_path("gnutls-serv");
	bool ok = a && b;
	g_free(a);
	g_free(b);
	return ok;
}

static void test_answer_over_mutual_tls(void)
{
	write_file("card.json", "{\"card\": \"7841000024680132\", \"status\": \"active\", \"balance_fils\": 2500}");
	int port;
	GPid pid = serve("host", "card.json", &port);
	struct sync_transport *t = transport(port, "ca.crt", 10000);
	struct sync_request req = {"GET", "/v1/cards/7841000024680132", NULL, 0, 1798761600, NULL};
	struct sync_response resp;
	struct kio_error err = {0};
	if (t->exchange(t, &req, &resp, &err) != 0)
		g_error("exchange: %s", err.msg);
	g_assert_cmpint(resp.status, ==, 200);
	struct sync_card_answer a;
	g_assert_cmpint(sync_wire_card_answer(resp.status, resp.body, resp.len, "7841000024680132", &a, &err), ==, 0);
	g_assert_cmpint(a.balance_fils, ==, 2500);
	sync_response_clear(&resp);
	/* The easy handle is reused: a second exchange on the same transport. */
	g_assert_cmpint(t->exchange(t, &req, &resp, &err), ==, 0);
	g_assert_cmpint(resp.status, ==, 200);
	sync_response_clear(&resp);
	t->free(t);
	/* The pin: a host whose certificate another CA signed is refused. */
	struct sync_transport *other = transport(port, "rogue.crt", 10000);
	g_assert_cmpint(other->exchange(other, &req, &resp, &err), ==, KIO_ERR_IO);
	g_assert_true(g_str_has_prefix(err.msg, "GET https://127.0.0.1:"));
	g_assert_nonnull(strstr(err.msg, "certificate"));
	g_assert_null(resp.body);
	other->free(other);
	stop(pid);
}

static void test_answer_too_big(void)
{
	GString *big = g_string_sized_new(SYNC_WIRE_BODY_MAX + 2);
	g_string_append_c(big, '"');
	while (big->len < SYNC_WIRE_BODY_MAX + 1)
		g_string_append(big, "xxxxxxxxxxxxxxxx");
	g_string_append_c(big, '"');
	write_file("big.json", big->str);
	g_string_free(big, TRUE);
	int port;
	GPid pid = serve("host", "big.json", &port);
	struct sync_transport *t = transport(port, "ca.crt", 20000);
	struct sync_request req = {"GET", "/v1/cards/7841000024680132", NULL, 0, 1798761600, NULL};
	struct sync_response resp;
	struct kio_error err = {0};
	g_assert_cmpint(t->exchange(t, &req, &resp, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "the answer exceeds 4194304 bytes"));
	g_assert_null(resp.body);
	t->free(t);
	stop(pid);
}

/* A listener that accepts and never says a word (no TLS handshake either). */
static void test_timeout(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(listen(fd, 4), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	struct sync_transport *t = transport(ntohs(a.sin_port), "ca.crt", 300);
	struct sync_request req = {"POST", "/v1/records", "{\"records\": []}", 15, 1798761600, NULL};
	struct sync_response resp;
	struct kio_error err = {0};
	gint64 t0 = g_get_monotonic_time();
	g_assert_cmpint(t->exchange(t, &req, &resp, &err), ==, KIO_ERR_TIMEOUT);
	gint64 took = (g_get_monotonic_time() - t0) / 1000;
	g_assert_cmpint(took, >=, 250);
	g_assert_cmpint(took, <, 5000);
	g_assert_nonnull(strstr(err.msg, "no answer within 300 ms"));
	t->free(t);
	close(fd);
}

static void test_refusals_and_date(void)
{
	struct sync_transport *t = NULL;
	struct kio_error err = {0};
	struct sync_tls tls = {"http://127.0.0.1:1", "a", "b", "c", 1000};
	g_assert_cmpint(sync_transport_curl_new(&tls, &t, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpstr(err.msg, ==, "host.url: must begin with https:// (the host is reached over TLS only)");
	tls.url = "https://127.0.0.1:1";
	tls.ca = "/nonexistent/ca.crt";
	g_assert_cmpint(sync_transport_curl_new(&tls, &t, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpstr(err.msg, ==, "host.ca = /nonexistent/ca.crt: cannot be read");
	g_assert_null(t);
	/* A private key others may read is refused, naming its mode. */
	char *tmp = g_dir_make_tmp("kiosk-curl-key-XXXXXX", NULL);
	char *key = g_build_filename(tmp, "k.key", NULL);
	g_assert_true(g_file_set_contents(key, "x", -1, NULL));
	g_assert_cmpint(g_chmod(key, 0644), ==, 0);
	tls.ca = tls.cert = tls.key = key;
	g_assert_cmpint(sync_transport_curl_new(&tls, &t, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "readable by it alone (mode 0600)"));
	g_assert_nonnull(strstr(err.msg, "mode 0644"));
	g_assert_cmpint(g_chmod(key, 0600), ==, 0);
	g_assert_cmpint(sync_transport_curl_new(&tls, &t, &err), ==, 0);
	t->free(t);
	g_unlink(key);
	g_rmdir(tmp);
	g_free(key);
	g_free(tmp);
	char date[40];
	sync_http_date(1798761600, date, sizeof(date));
	g_assert_cmpstr(date, ==, "Fri, 01 Jan 2027 00:00:00 GMT");
	sync_http_date(1765065600 + 13 * 3600 + 62, date, sizeof(date));
	g_assert_cmpstr(date, ==, "Sun, 07 Dec 2025 13:01:02 GMT");
}

/* A FIFO where a TLS file is named: refused when the transport is made, and, put there after
 * it was made, refused by the exchange before libcurl opens it: GnuTLS's open of a FIFO waits
 * for a writer, which held the sync worker for good. The exchange runs in a subprocess with a
 * time limit, so a transport that waits fails the test instead of hanging it. The listener
 * accepts without a word: libcurl reaches the TLS set-up, where it loads the CA. */
static void test_fifo_refused(void)
{
	char *tmp = g_dir_make_tmp("kiosk-curl-fifo-XXXXXX", NULL);
	char *ca = g_build_filename(tmp, "ca.crt", NULL), *key = g_build_filename(tmp, "k.key", NULL);
	char *fifo = g_build_filename(tmp, "fifo.crt", NULL);
	g_assert_true(g_file_set_contents(key, "x", -1, NULL));
	g_assert_cmpint(g_chmod(key, 0600), ==, 0);
	g_assert_true(g_file_set_contents(ca, "x", -1, NULL));
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(listen(fd, 4), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	char *url = g_strdup_printf("https://127.0.0.1:%u", ntohs(a.sin_port));
	struct sync_transport *t = NULL;
	struct kio_error err = {0};
	const char *names[] = {"ca", "cert", "key"};
	for (int i = 0; i < 3; i++) {
		struct sync_tls tls = {url, i == 0 ? fifo : ca, i == 1 ? fifo : ca, i == 2 ? fifo : key, 2000};
		g_assert_cmpint(sync_transport_curl_new(&tls, &t, &err), ==, KIO_ERR_INVALID);
		char *want = g_strdup_printf("host.%s = %s: not a regular file", names[i], fifo);
		g_assert_nonnull(strstr(err.msg, want));
		g_assert_null(t);
		g_free(want);
	}
	if (g_test_subprocess()) {
		struct sync_tls tls = {url, ca, ca, key, 2000};
		g_assert_cmpint(sync_transport_curl_new(&tls, &t, &err), ==, 0);
		g_assert_cmpint(g_rename(fifo, ca), ==, 0);
		struct sync_request req = {"GET", "/v1/heartbeat", NULL, 0, 1798761600, NULL};
		struct sync_response resp;
		g_assert_cmpint(t->exchange(t, &req, &resp, &err), ==, KIO_ERR_IO);
		g_assert_nonnull(strstr(err.msg, "/v1/heartbeat: no TLS session: host.ca = "));
		g_assert_nonnull(strstr(err.msg, "not a regular file"));
		t->free(t);
	} else {
		g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
		g_test_trap_assert_passed();
	}
	close(fd);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(url);
	g_free(fifo);
	g_free(key);
	g_free(ca);
	g_free(tmp);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sync/curl/refusals-and-date", test_refusals_and_date);
	g_test_add_func("/sync/curl/fifo-refused", test_fifo_refused);
	if (!have_tools()) {
		g_print("certtool or gnutls-serv missing (gnutls-bin): skipped\n");
		return 77;
	}
	dir = g_dir_make_tmp("kiosk-curl-XXXXXX", NULL);
	mint("ca", "cn = Kiosk operator test CA\nca\ncert_signing_key\nexpiration_days = 2\n", NULL);
	mint("rogue", "cn = Someone else's CA\nca\ncert_signing_key\nexpiration_days = 2\n", NULL);
	mint("host", "cn = 127.0.0.1\nip_address = 127.0.0.1\ntls_www_server\nsigning_key\nexpiration_days = 2\n", "ca");
	mint("kiosk", "cn = K-0001\ntls_www_client\nsigning_key\nexpiration_days = 2\n", "ca");
	g_test_add_func("/sync/curl/answer-over-mutual-tls", test_answer_over_mutual_tls);
	g_test_add_func("/sync/curl/answer-too-big", test_answer_too_big);
	g_test_add_func("/sync/curl/timeout", test_timeout);
	int rc = g_test_run();
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	g_free(cmd);
	g_free(dir);
	return rc;
}
