/*
 * One HTTPS exchange with the host: a request out, its status and body back. A table of
 * function pointers (the seam): the real one is libcurl over mutual TLS (transport-curl.c);
 * the tests put an in-process host behind the same table. Called only from the sync worker
 * thread; an exchange blocks that thread, never a frame.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

struct sync_request {
	const char *method;  /* "GET" or "POST" */
	const char *path;    /* "/v1/records": appended to the host's URL */
	const char *body;    /* POST: JSON, len bytes; NULL for GET */
	size_t len;
	int64_t date_s;      /* the Date header (RFC 7231 IMF-fixdate), wall seconds */
	const char *if_none_match; /* GET: the If-None-Match header's value (an ETag as the host sent
	                            * it); NULL: none */
};

#define SYNC_ETAG_MAX 96 /* an ETag's bytes, quotes included, with the NUL */

struct sync_response {
	int status;   /* the HTTP status */
	char *body;   /* owned, NUL-terminated after len bytes; NULL when empty */
	size_t len;
	char etag[SYNC_ETAG_MAX]; /* the ETag header's value ("" when none, or one too long or not
	                           * printable ASCII: such an ETag is not kept) */
};
void sync_response_clear(struct sync_response *r);

struct sync_transport {
	/* 0 when the host answered (any status; resp filled, caller clears it); KIO_ERR_TIMEOUT
	 * when no whole answer came in time; KIO_ERR_PROTOCOL for an answer above
	 * SYNC_WIRE_BODY_MAX; KIO_ERR_IO when no connection or TLS session came up (host down,
	 * certificate refused either way, a TLS file no longer a regular file: never waited on).
	 * err names the URL and the cause. */
	int (*exchange)(struct sync_transport *t, const struct sync_request *req, struct sync_response *resp,
			struct kio_error *err);
	void (*free)(struct sync_transport *t); /* the transport itself */
};

/* Where the host is and the kiosk's identity ([host] of the configuration). Borrowed. */
struct sync_tls {
	const char *url;   /* "https://host:port", no trailing path beyond an optional base */
	const char *ca;    /* the operator CA, PEM: the only one trusted (pinned) */
	const char *cert;  /* the kiosk's certificate, PEM */
	const char *key;   /* its private key, PEM */
	int timeout_ms;    /* the whole exchange; connecting gets at most the same */
};

/* libcurl (GnuTLS flavour) easy handle, reused across exchanges (one TLS session kept).
 * KIO_ERR_INVALID naming the fault for a URL that is not https://, a file that cannot be
 * read or is not a regular file (a FIFO would hold libcurl's open), or a key another user owns or group or others may read; the files are read again at
 * each connection by libcurl. Caller frees with ->free. */
int sync_transport_curl_new(const struct sync_tls *tls, struct sync_transport **out, struct kio_error *err);

/* The Date header's value for t: "Sun, 06 Dec 2026 16:00:00 GMT" (buf of at least 30). */
void sync_http_date(int64_t t, char *buf, size_t cap);
