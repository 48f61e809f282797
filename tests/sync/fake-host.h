/* An in-process host behind the transport seam (kiosk/sync/transport.h) for the sync's
 * tests: it keeps records by rec with their MACs as the contract's host does (duplicates,
 * conflicts, gaps), or answers from a script. Its state may live in shared memory so it
 * outlives a killed child. Not a host: no TLS, no database, no MAC verification. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/sync/transport.h"

#define FAKE_RECS_MAX 256

struct fake_host_state {
	int64_t acked;
	char macs[FAKE_RECS_MAX + 1][65]; /* by rec */
	int64_t applied, duplicates;      /* totals over every request */
	int64_t requests;                 /* POST /v1/records seen */
	int apply_max;                    /* > 0: at most this many new records per batch (partial ack) */
	int64_t card_balance_fils;        /* GET /v1/cards answers this for every card */
};

struct fake_step {
	int rc;           /* != 0: the transport fails with it (KIO_ERR_TIMEOUT, KIO_ERR_IO) */
	int status;
	const char *body; /* copied into the response */
};

struct fake_transport {
	struct sync_transport base;
	struct fake_host_state *host; /* borrowed (may be shared memory) */
	struct fake_step script[32];  /* answered in order before the host is asked */
	int n_script, next;
	struct fake_step by_path[16]; /* answered, in order, to requests of their path, before script */
	const char *paths[16];
	bool used[16];
	int n_by_path;
	int64_t last_first, last_last; /* the last batch sent */
	int exchanges;
	int posts; /* exchanges of POST /v1/records, answered from the script or not */
	int fee_asks; /* GET /v1/fees/... answered by the host (DEWA 2000123456 fixed 24550, else 404) */
	int redeems, pays;    /* POST /v1/vouchers/redeem, /v1/payments: every attempt, scripted or not */
	char last_body[2048]; /* the last redeem's or payment's body */
	/* GET /v1/catalogue, answered apart from the script and not counted in exchanges (the
	 * worker asks at its start): 404 while catalogue_body is NULL; 304 when If-None-Match is
	 * catalogue_etag; else 200 with both. Set them before the worker starts or under no race
	 * (the tests change them only between kicks they wait on). */
	const char *catalogue_body, *catalogue_etag; /* borrowed */
	int catalogue_status;                        /* != 0: this status and an error body instead */
	int catalogue_asks;
	char last_if_none_match[128]; /* "" when the last ask sent none */
};

/* A transport over host (borrowed); free with ->free (it does not free host). */
struct fake_transport *fake_transport_new(struct fake_host_state *host);
void fake_script(struct fake_transport *t, int rc, int status, const char *body);
/* A step answered only to a request of path (borrowed), before the general script. */
void fake_script_path(struct fake_transport *t, const char *path, int rc, int status, const char *body);
