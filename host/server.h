/*
 * `kiosk-host serve`: the HTTPS front of the reference host. libmicrohttpd with GnuTLS and
 * mutual TLS; every request is authenticated (the client certificate's fingerprint names an
 * enrolled, unrevoked kiosk), dated (Date within SERVER_DATE_WINDOW_S of the host's clock),
 * bounded (WIRE_BODY_MAX) and routed to records.c or accounts.c with a database connection of
 * its own. No state between requests but the connection pool.
 */
#pragma once

#include "kiosk/core/err.h"

#define SERVER_DATE_WINDOW_S 180

struct server_config {
	const char *db;      /* libpq conninfo */
	const char *cert;    /* host certificate, PEM */
	const char *key;     /* host key, PEM */
	const char *ca;      /* the operator's CA, PEM: kiosks' certificates must chain to it */
	const char *listen;  /* "ADDR:PORT"; port 0 picks one */
	unsigned threads;    /* request threads (and pooled connections) */
	const char *faults;  /* test switch: a file naming the answer fault (faults.h), or NULL */
};

/* Serves until SIGINT or SIGTERM, printing "listening on ADDR:PORT" on stdout once ready.
 * 0 after a clean stop; KIO_ERR_INVALID for a bad option or unreadable file, KIO_ERR_IO when
 * the database or the socket cannot be had. */
int server_run(const struct server_config *cfg, struct kio_error *err);
