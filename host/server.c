/*
 * The HTTPS front of the reference host (server.h).
 *
 * A request's life, in libmicrohttpd's calls of on_request:
 *   first call   authenticate: client certificate (pki_peer_check, then kiosk_cert), Date,
 *                route, Content-Length. A refusal is queued at once: MHD sends it without
 *                reading the body and closes the connection.
 *   upload calls the body is kept up to WIRE_BODY_MAX; past it, read and dropped (413 at the end).
 *   last call    the route runs on a pooled connection; the reply is queued.
 * MHD only *requests* a client certificate (MHD_OPTION_HTTPS_MEM_TRUST): a client without one
 * completes the handshake, so every request is checked here, never only at the TLS layer.
 */
#define LOG_MODULE "host-server"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "db.h"
#include "faults.h"
#include "host/pki/pki.h"
#include "kiosk/core/infile.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "receipts.h"
#include "payments.h"
#include "records.h"
#include "wire.h"

enum route {
	ROUTE_RECORDS,
	ROUTE_CARD,
	ROUTE_FEE,
	ROUTE_VOUCHER_VALIDATE,
	ROUTE_VOUCHER_REDEEM,
	ROUTE_CATALOGUE,
	ROUTE_HEARTBEAT,
	ROUTE_RECEIPT_VERIFY,
	ROUTE_PAYMENTS,
	ROUTE_COUNT
};

struct server {
	struct hdb_pool *pool;
	const char *faults; /* --faults FILE, or NULL (faults.h) */
};

struct request {
	enum route route;
	char parts[3][64]; /* the path's variable parts: card; entity, service, reference */
	char kiosk_id[65];
	GByteArray *body;
	bool too_large;
};

/* The route of method + url, its variable parts in parts; 404 or 405 when none. */
static unsigned route_of(const char *method, const char *url, enum route *route, char parts[3][64])
{
	static const struct {
		const char *method, *path; /* path: '*' stands for one segment */
		enum route route;
	} table[] = {
		{"POST", "/v1/records", ROUTE_RECORDS},
		{"GET", "/v1/cards/*", ROUTE_CARD},
		{"GET", "/v1/fees/*/*/*", ROUTE_FEE},
		{"POST", "/v1/vouchers/validate", ROUTE_VOUCHER_VALIDATE},
		{"POST", "/v1/vouchers/redeem", ROUTE_VOUCHER_REDEEM},
		{"GET", "/v1/catalogue", ROUTE_CATALOGUE},
		{"POST", "/v1/heartbeat", ROUTE_HEARTBEAT},
		{"POST", "/v1/receipts/verify", ROUTE_RECEIPT_VERIFY},
		{"POST", "/v1/payments", ROUTE_PAYMENTS},
	};
	unsigned status = 404;
	for (size_t t = 0; t < G_N_ELEMENTS(table); t++) {
		const char *p = table[t].path, *u = url;
		int n = 0;
		bool match = true;
		while (match && *p) {
			if (*p == '*') {
				size_t len = strcspn(u, "/");
				if (len == 0 || len >= sizeof(parts[0]))
					match = false;
				else {
					memcpy(parts[n], u, len);
					parts[n++][len] = '\0';
				}
				u += len;
				p++;
			} else if (*p++ != *u++) {
				match = false;
			}
		}
		if (!match || *u)
			continue;
		if (strcmp(method, table[t].method) != 0) {
			status = 405;
			continue;
		}
		*route = table[t].route;
		return 200;
	}
	return status;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct host_reply *r)
{
	size_t len = r->body ? strlen(r->body) : 0;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, r->body ? r->body : (char *)"",
								    MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->body)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (r->etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	enum MHD_Result rc = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* The first call's checks; the reply stays empty when the request may go on. */
static void authenticate(struct server *srv, struct MHD_Connection *conn, struct request *req, const char *method,
			 const char *url, struct host_reply *reply)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	char fp[65] = "", why[160] = "";
	enum pki_peer peer = info ? pki_peer_check((gnutls_session_t)info->tls_session, fp, why, sizeof(why))
				  : PKI_PEER_NONE;
	if (peer == PKI_PEER_NONE) {
		reply_error(reply, 403, "no_certificate", NULL, 0, "a client certificate is required");
		return;
	}
	if (peer != PKI_PEER_OK) {
		LOG_WARN("refused a certificate: %s", why);
		reply_error(reply, 403, "bad_certificate", NULL, 0, "the client certificate does not verify: %s", why);
		return;
	}
	PGconn *c;
	struct kio_error err;
	PGresult *res;
	const char *p[] = {fp};
	if (hdb_pool_get(srv->pool, &c, &err)) {
		LOG_ERR("%s", err.msg);
		reply_error(reply, 500, "internal_error", NULL, 0, "the host's database did not answer; try again");
		return;
	}
	if (hdb_query(c, "SELECT kiosk_id, revoked_at IS NOT NULL FROM kiosk_cert WHERE fingerprint = $1", 1, p, &res,
		      NULL, "look up a certificate", &err)) {
		LOG_ERR("%s", err.msg);
		reply_error(reply, 500, "internal_error", NULL, 0, "the host's database did not answer; try again");
		hdb_pool_put(srv->pool, c);
		return;
	}
	if (PQntuples(res) == 0) {
		LOG_WARN("refused an unknown certificate %.16s...", fp);
		reply_error(reply, 403, "unknown_certificate", NULL, 0, "this certificate is not enrolled");
	} else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		LOG_WARN("refused the revoked certificate of kiosk %s", PQgetvalue(res, 0, 0));
		reply_error(reply, 403, "revoked_certificate", NULL, 0, "this certificate has been revoked");
	} else {
		snprintf(req->kiosk_id, sizeof(req->kiosk_id), "%s", PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	hdb_pool_put(srv->pool, c);
	if (reply->status)
		return;

	const char *date = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_DATE);
	int64_t when, now = (int64_t)time(NULL);
	if (!date || !wire_http_date_parse(date, &when)) {
		reply_error(reply, 400, "date_missing", NULL, 0, "every request carries Date as an IMF-fixdate");
		return;
	}
	if (when > now + SERVER_DATE_WINDOW_S || when < now - SERVER_DATE_WINDOW_S) {
		LOG_WARN("kiosk %s: Date %s is %" PRId64 " s from the host's clock", req->kiosk_id, date, when - now);
		reply_error(reply, 401, "date_out_of_window", "server_time", now,
			    "Date is more than %d s from the host's clock", SERVER_DATE_WINDOW_S);
		return;
	}
	unsigned status = route_of(method, url, &req->route, req->parts);
	if (status == 404) {
		reply_error(reply, 404, "not_found", NULL, 0, "no such resource");
		return;
	}
	if (status == 405) {
		reply_error(reply, 405, "method_not_allowed", NULL, 0, "%s is not allowed here", method);
		return;
	}
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > WIRE_BODY_MAX)
		reply_error(reply, 413, "body_too_large", NULL, 0, "a body is at most %u bytes", WIRE_BODY_MAX);
}

static void dispatch(struct server *srv, struct MHD_Connection *conn, struct request *req, struct host_reply *reply)
{
	if (req->too_large) {
		reply_error(reply, 413, "body_too_large", NULL, 0, "a body is at most %u bytes", WIRE_BODY_MAX);
		return;
	}
	PGconn *c;
	struct kio_error err;
	if (hdb_pool_get(srv->pool, &c, &err)) {
		LOG_ERR("%s", err.msg);
		reply_error(reply, 500, "internal_error", NULL, 0, "the host's database did not answer; try again");
		return;
	}
	const char *buf = req->body ? (const char *)req->body->data : "";
	size_t len = req->body ? req->body->len : 0;
	switch (req->route) {
	case ROUTE_RECORDS: records_upload(c, req->kiosk_id, buf, len, reply); break;
	case ROUTE_CARD: accounts_card(c, req->parts[0], reply); break;
	case ROUTE_FEE: accounts_fee(c, req->parts[0], req->parts[1], req->parts[2], reply); break;
	case ROUTE_VOUCHER_VALIDATE: accounts_voucher_validate(c, buf, len, reply); break;
	case ROUTE_VOUCHER_REDEEM: accounts_voucher_redeem(c, req->kiosk_id, buf, len, reply); break;
	case ROUTE_CATALOGUE:
		accounts_catalogue(c, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
				   reply);
		break;
	case ROUTE_HEARTBEAT: accounts_heartbeat(c, req->kiosk_id, buf, len, (int64_t)time(NULL), reply); break;
	case ROUTE_RECEIPT_VERIFY: receipts_verify(c, buf, len, reply); break;
	case ROUTE_PAYMENTS: payments_post(c, req->kiosk_id, buf, len, reply); break;
	case ROUTE_COUNT:
	default: reply_error(reply, 404, "not_found", NULL, 0, "no such resource"); break;
	}
	hdb_pool_put(srv->pool, c);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct request *req = *con_cls;
	struct host_reply reply = {0};
	enum MHD_Result rc;
	if (!req) {
		req = xcalloc(1, sizeof(*req));
		*con_cls = req;
		authenticate(srv, conn, req, method, url, &reply);
		if (reply.status) {
			LOG_DBG("%s %s -> %u (refused before the body)", method, url, reply.status);
			rc = send_reply(conn, &reply);
			reply_clear(&reply);
			return rc;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!req->too_large && (req->body ? req->body->len : 0) + *upload_data_size > WIRE_BODY_MAX) {
			req->too_large = true;
			if (req->body)
				g_byte_array_free(req->body, TRUE);
			req->body = NULL;
		}
		if (!req->too_large) {
			if (!req->body)
				req->body = g_byte_array_new();
			g_byte_array_append(req->body, (const guint8 *)upload_data, (guint)*upload_data_size);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	enum host_fault fault = host_fault_read(srv->faults);
	if (!host_fault_before(fault, &reply))
		dispatch(srv, conn, req, &reply);
	if (host_fault_after(fault, req->route == ROUTE_RECORDS, req->route == ROUTE_CARD, &reply)) {
		/* MHD_NO closes the connection with nothing sent: the answer is lost after the commit. */
		LOG_WARN("kiosk %s: %s %s -> %u, dropped unanswered (test fault)", req->kiosk_id, method, url, reply.status);
		reply_clear(&reply);
		return MHD_NO;
	}
	LOG_DBG("kiosk %s: %s %s -> %u", req->kiosk_id, method, url, reply.status);
	rc = send_reply(conn, &reply);
	reply_clear(&reply);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;
	if (!req)
		return;
	if (req->body)
		g_byte_array_free(req->body, TRUE);
	free(req);
	*con_cls = NULL;
}

static int parse_listen(const char *s, struct sockaddr_in *sa, struct kio_error *err)
{
	const char *colon = strrchr(s, ':');
	char addr[64];
	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return kio_fail(err, KIO_ERR_INVALID, "--listen: '%s' is not ADDR:PORT", s);
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = '\0';
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (errno || *end || end == colon + 1 || port > 65535 || inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return kio_fail(err, KIO_ERR_INVALID, "--listen: '%s' is not IPv4-ADDR:PORT", s);
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* A certificate chain or key far above any real one (pki.c reads at most 1 MiB too). */
#define PEM_MAX (1u << 20)

/* Read without waiting on what sits at the path (core_infile_read): a FIFO named as --cert
 * would otherwise hold the host before it listens, with nothing said. */
static char *read_pem(const char *what, const char *path, struct kio_error *err)
{
	if (!path) {
		kio_fail(err, KIO_ERR_INVALID, "--%s: a PEM file is needed", what);
		return NULL;
	}
	char *text = NULL;
	struct kio_error why = {0};
	if (core_infile_read(path, path, PEM_MAX, &text, NULL, &why) != 0) {
		kio_fail(err, KIO_ERR_INVALID, "--%s %s", what, why.msg);
		return NULL;
	}
	return text;
}

int server_run(const struct server_config *cfg, struct kio_error *err)
{
	struct sockaddr_in sa;
	int rc = parse_listen(cfg->listen ? cfg->listen : "127.0.0.1:8443", &sa, err);
	if (rc)
		return rc;
	char *cert = read_pem("cert", cfg->cert, err), *key = cert ? read_pem("key", cfg->key, err) : NULL,
	     *ca = key ? read_pem("ca", cfg->ca, err) : NULL;
	struct server srv = {0};
	struct MHD_Daemon *d = NULL;
	if (!ca) {
		rc = KIO_ERR_INVALID;
		goto out_free;
	}
	/* The schema must be this host's: an older one would refuse records at the first batch. */
	PGconn *c;
	int version = 0;
	if ((rc = hdb_connect(cfg->db, &c, err)))
		goto out_free;
	rc = hdb_schema_version(c, &version, err);
	PQfinish(c);
	if (rc || version != hdb_schema_latest()) {
		if (!rc)
			rc = kio_fail(err, KIO_ERR_INVALID, "the database's schema is at %d, this host needs %d: run kiosk-host migrate",
				      version, hdb_schema_latest());
		goto out_free;
	}
	unsigned threads = cfg->threads ? cfg->threads : 4;
	srv.pool = hdb_pool_new(cfg->db, threads);
	srv.faults = cfg->faults;
	/* The fault file may come and go while the host runs (faults.h), but what sits there at the
	 * start must be a file: a FIFO would hold every request that reads it. */
	if (srv.faults && (rc = host_faults_check(srv.faults, err)))
		goto out_free;
	if (srv.faults)
		LOG_WARN("test faults read from %s at every request", srv.faults);

	/* SIGINT/SIGTERM are taken by sigwait below, in this thread only: block them before MHD's
	 * threads start, so they inherit the mask. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
			     &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_CERT, cert,
			     MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_TRUST, ca, MHD_OPTION_THREAD_POOL_SIZE,
			     threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_NOTIFY_COMPLETED,
			     on_completed, &srv, MHD_OPTION_END);
	if (!d) {
		rc = kio_fail(err, KIO_ERR_IO, "cannot serve on %s (address in use, or a bad certificate or key)",
			      cfg->listen ? cfg->listen : "127.0.0.1:8443");
		goto out_free;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	printf("listening on %s:%u\n", addr, info ? info->port : ntohs(sa.sin_port));
	fflush(stdout);
	LOG_INFO("serving on %s:%u with %u threads", addr, info ? info->port : ntohs(sa.sin_port), threads);
	int sig = 0;
	sigwait(&stop, &sig);
	LOG_INFO("stopping on signal %d", sig);
	MHD_stop_daemon(d);
	rc = 0;
out_free:
	hdb_pool_free(srv.pool);
	if (key)
		explicit_bzero(key, strlen(key));
	free(cert);
	free(key);
	free(ca);
	return rc;
}
