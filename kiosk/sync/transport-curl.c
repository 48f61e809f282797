/* The real transport: libcurl over mutual TLS to the host (contract: transport and
 * authentication), the operator CA pinned, a size limit on answers, timeouts. */
#define LOG_MODULE "sync-curl"
#include "transport.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/core/infile.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "wire.h"

struct curl_transport {
	struct sync_transport base; /* first: the table is the object */
	CURL *easy;
	char *url, *ca, *cert, *key;
	int timeout_ms;
};

struct sink {
	char *buf;
	size_t len, cap;
	bool too_big;
};

void sync_response_clear(struct sync_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void sync_http_date(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	/* strftime's %a and %b follow the locale; IMF-fixdate is English whatever it is. */
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The body limit is checked as the bytes come, so a hostile host cannot make the kiosk hold
 * more than SYNC_WIRE_BODY_MAX of it: returning short aborts the transfer. */
static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct sink *s = user;
	size_t len = size * n;
	if (s->len + len > SYNC_WIRE_BODY_MAX) {
		s->too_big = true;
		return 0;
	}
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + len + 1)
			cap *= 2;
		s->buf = xrealloc(s->buf, cap);
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

/* The ETag header, kept only whole and printable (it goes back out as If-None-Match). */
static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	struct sync_response *resp = user;
	size_t len = size * n;
	static const char name[] = "etag:";
	if (len < sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1) != 0)
		return len;
	const char *v = data + sizeof(name) - 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	resp->etag[0] = '\0';
	if ((size_t)(end - v) >= sizeof(resp->etag))
		return len;
	for (const char *p = v; p < end; p++)
		if (*p < 0x21 || *p > 0x7e)
			return len;
	memcpy(resp->etag, v, (size_t)(end - v));
	resp->etag[end - v] = '\0';
	return len;
}

/* Each file libcurl will open by its path, looked at without waiting on it (core_infile_regular):
 * access() passes a FIFO, and GnuTLS's open of one through libcurl waits for a writer, which
 * would hold the sync worker (and the kiosk's stop, which joins it) for good. */
static int readable(const char *what, const char *path, struct kio_error *err)
{
	if (!path || !*path)
		return kio_fail(err, KIO_ERR_INVALID, "host.%s: a file is needed for mutual TLS", what);
	if (access(path, R_OK) != 0)
		return kio_fail(err, KIO_ERR_INVALID, "host.%s = %s: cannot be read", what, path);
	struct kio_error why = {0};
	if (core_infile_regular(path, path, &why) != 0)
		return kio_fail(err, KIO_ERR_INVALID, "host.%s = %s: %s", what, path,
				why.code == KIO_ERR_INVALID ? "not a regular file (a FIFO or a device is never waited on)"
							    : why.msg);
	return 0;
}

static int tls_files_readable(const char *ca, const char *cert, const char *key, struct kio_error *err)
{
	int rc = readable("ca", ca, err);
	if (!rc)
		rc = readable("cert", cert, err);
	if (!rc)
		rc = readable("key", key, err);
	return rc;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;
static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static int exchange(struct sync_transport *base, const struct sync_request *req, struct sync_response *resp,
		    struct kio_error *err)
{
	struct curl_transport *t = (struct curl_transport *)base;
	memset(resp, 0, sizeof(*resp));
	/* Again before each exchange: a file replaced by a FIFO since the start fails this
	 * exchange as no TLS session (retried with backoff, logged) instead of hanging the worker
	 * in libcurl. */
	struct kio_error why = {0};
	int rc = tls_files_readable(t->ca, t->cert, t->key, &why);
	if (rc)
		return kio_fail(err, KIO_ERR_IO, "%s%s: no TLS session: %s", t->url, req->path, why.msg);
	char *url = xasprintf("%s%s", t->url, req->path);
	char date[64], date_hdr[80];
	sync_http_date(req->date_s, date, sizeof(date));
	snprintf(date_hdr, sizeof(date_hdr), "Date: %s", date);
	struct curl_slist *hdrs = NULL;
	hdrs = curl_slist_append(hdrs, date_hdr);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	/* No 100-continue round trip: the bodies are small and the host answers at once. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (req->body)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	char inm_hdr[SYNC_ETAG_MAX + 32];
	if (req->if_none_match && req->if_none_match[0]) {
		snprintf(inm_hdr, sizeof(inm_hdr), "If-None-Match: %s", req->if_none_match);
		hdrs = curl_slist_append(hdrs, inm_hdr);
	}
	struct sink sink = {0};
	CURL *e = t->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* a worker thread: no SIGALRM for timeouts */
	/* The operator CA and nothing else: CAPATH off, so the system's store trusts no one. */
	curl_easy_setopt(e, CURLOPT_CAINFO, t->ca);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert);
	curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(e, CURLOPT_SSLKEY, t->key);
	curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)t->timeout_ms);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SYNC_WIRE_BODY_MAX);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->len : 0));
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	CURLcode cc = curl_easy_perform(e);
	if (cc == CURLE_OK) {
		long status = 0;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		resp->status = (int)status;
		resp->body = sink.buf;
		resp->len = sink.len;
		sink.buf = NULL;
	} else if (sink.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = kio_fail(err, KIO_ERR_PROTOCOL, "%s %s: the answer exceeds %d bytes", req->method, url,
			      SYNC_WIRE_BODY_MAX);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		rc = kio_fail(err, KIO_ERR_TIMEOUT, "%s %s: no answer within %d ms", req->method, url, t->timeout_ms);
	} else {
		rc = kio_fail(err, KIO_ERR_IO, "%s %s: %s", req->method, url, curl_easy_strerror(cc));
	}
	free(sink.buf);
	curl_slist_free_all(hdrs);
	free(url);
	return rc;
}

static void transport_free(struct sync_transport *base)
{
	struct curl_transport *t = (struct curl_transport *)base;
	if (!t)
		return;
	curl_easy_cleanup(t->easy);
	free(t->url);
	free(t->ca);
	free(t->cert);
	free(t->key);
	free(t);
}

int sync_transport_curl_new(const struct sync_tls *tls, struct sync_transport **out, struct kio_error *err)
{
	*out = NULL;
	if (!tls->url || strncmp(tls->url, "https://", 8) != 0)
		return kio_fail(err, KIO_ERR_INVALID, "host.url: must begin with https:// (the host is reached over TLS only)");
	int rc = tls_files_readable(tls->ca, tls->cert, tls->key, err);
	if (rc)
		return rc;
	/* The kiosk's private key is its identity at the host: like the ledger's secret, it must
	 * be its user's own and unreadable by anyone else (enrolment writes it 0600). */
	struct stat st;
	if (stat(tls->key, &st) != 0 || !S_ISREG(st.st_mode))
		return kio_fail(err, KIO_ERR_INVALID, "host.key = %s: not a regular file", tls->key);
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return kio_fail(err, KIO_ERR_INVALID,
				"host.key = %s: must belong to uid %ld and be readable by it alone (mode 0600); it is uid %ld"
				" mode %04o",
				tls->key, (long)geteuid(), (long)st.st_uid, (unsigned)(st.st_mode & 07777));
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return kio_fail(err, KIO_ERR_IO, "libcurl: %s", curl_easy_strerror(global_rc));
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	if (!v->ssl_version || strncmp(v->ssl_version, "GnuTLS", 6) != 0)
		LOG_WARN("libcurl uses %s, not GnuTLS: built against another flavour", v->ssl_version ? v->ssl_version : "no TLS");
	struct curl_transport *t = xcalloc(1, sizeof(*t));
	t->easy = curl_easy_init();
	if (!t->easy) {
		free(t);
		return kio_fail(err, KIO_ERR_IO, "libcurl: cannot make an easy handle");
	}
	t->base.exchange = exchange;
	t->base.free = transport_free;
	t->url = xstrdup(tls->url);
	size_t n = strlen(t->url);
	while (n > 8 && t->url[n - 1] == '/')
		t->url[--n] = '\0';
	t->ca = xstrdup(tls->ca);
	t->cert = xstrdup(tls->cert);
	t->key = xstrdup(tls->key);
	t->timeout_ms = tls->timeout_ms > 0 ? tls->timeout_ms : 5000;
	*out = &t->base;
	return 0;
}
