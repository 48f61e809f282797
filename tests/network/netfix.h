/*
 * The network suite's fixture, also used by the crash suite's sync kill points: one throwaway
 * cluster with the demo data, a CA (`kiosk-host ca init`), `kiosk-host serve --faults FILE`
 * and the fault proxy in front of it (tests/network/faultproxy.c), and kiosks enrolled with
 * `kiosk-host enrol`, each with a real ledger chained with its enrolment's ledger.secret, the
 * libcurl transport and the drain (kiosk/sync). netfix_check proves the promise after
 * a fault: the kiosk's export equals the host's records line for line, every card balance is
 * opening + credits, one card_credit per completed top-up, no alarm, nothing unacknowledged.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "kiosk/ledger/sync-state.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/sync/drain.h"
#include "kiosk/sync/sync.h"
#include "kiosk/sync/transport.h"
#include "tests/common/syncwait.h"
#include "tests/hostd/hostfix.h"

struct netfix {
	char *cluster_dir, *conninfo, *ca_dir, *faults, *control;
	char *url;       /* https://127.0.0.1:PROXY */
	int host_port, proxy_port;
	GPid host_pid, proxy_pid;
	PGconn *db;
};

/* Starts everything; 77 when no PostgreSQL server is installed (the caller exits 77). Needs
 * KIOSK_SOURCE_DIR, KIOSK_HOST_BIN and FAULTPROXY in the environment. */
int netfix_start(struct netfix *f);
/* Stops the host, the proxy and the cluster (also done by the keeper if the test aborts). */
void netfix_stop(struct netfix *f);
/* A test binary's main after g_test_init and its g_test_add_func: starts f, runs the tests,
 * stops f; g_test_run's status, or 77 when no PostgreSQL server is installed. */
int netfix_run(struct netfix *f);
/* The host's figure: the first column of the one row of the SQL fmt makes (printf-style). */
int64_t netfix_host_intf(struct netfix *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* After an ask sent while the host faults cut-after-commit: waits until the count the SQL
 * committed_fmt makes is not 0 (the host committed; its answer is lost), 20 s at most, then
 * puts the proxy down so the retries fail meanwhile and clears the host's fault. */
void netfix_wait_cut_commit(struct netfix *f, const char *committed_fmt, ...) G_GNUC_PRINTF(2, 3);

/* The host's answer fault (faults.h: "none", "error", "cut-after-commit", ...). */
void netfix_host_fault(struct netfix *f, const char *fault);
/* The proxy's mode ("up", "down", "slow MS", "cut BYTES"); waits until the proxy read it. */
void netfix_proxy(struct netfix *f, const char *mode);
/* Both back to normal: proxy up, host none. */
void netfix_clear(struct netfix *f);

/* A kiosk enrolled at the host as id, its ledger in cluster_dir/id/ledger. */
struct nkiosk {
	char *id, *dir;
	struct kfix k;
	int topups;      /* completed top-ups booked */
	int timeout_ms;  /* the transport's, 2000 unless set before netfix_drain_new */
	struct ledger_sync *ls;
	struct sync_transport *t;
	struct sync_drain *d;
};

void netfix_kiosk_new(struct netfix *f, struct nkiosk *k, const char *id);
void netfix_kiosk_free(struct nkiosk *k);
/* One completed top-up of card (notes in fils, 0-terminated). */
void netfix_topup(struct nkiosk *k, const char *card, const int64_t *notes);
/* A fresh transport (a full TLS handshake at its first exchange) and drain for the kiosk. */
void netfix_drain_new(struct netfix *f, struct nkiosk *k);
/* One exchange. */
void netfix_drain_once(struct nkiosk *k, struct sync_drain_outcome *o);
/* Drains until idle (at most 50 exchanges, a fault aborts the test). */
void netfix_drain_all(struct nkiosk *k);
/* The ledger's acked_rec / the host's acked for the kiosk. */
int64_t netfix_kiosk_acked(struct nkiosk *k);
int64_t netfix_host_acked(struct netfix *f, struct nkiosk *k);
/* Records the host holds for the kiosk. */
int64_t netfix_host_records(struct netfix *f, struct nkiosk *k);
/* The promise after every fault (above). */
void netfix_check(struct netfix *f, struct nkiosk *k);

/* The sync worker (kiosk/sync/sync.h) of an enrolled kiosk against the fixture's host, for the
 * tests of the app's asks: its wake callback signals w, which TEST_WAIT_FOR waits on
 * (tests/common/syncwait.h). */
struct nsync {
	struct nkiosk k;
	struct sync *s;
	struct test_waker w;
};

/* Enrols the kiosk id and starts its sync (timeout 2 s, backoff from 50 ms). */
void netfix_sync_new(struct netfix *f, struct nsync *ks, const char *id);
/* Starts a sync on ks->k again (after the test freed ks->s to play a restart). */
void netfix_sync_up(struct netfix *f, struct nsync *ks);
/* The app gives up on its ask, then the power goes: the sync stops, the faults are cleared,
 * the kiosk's ledger reopens and start-up recovery runs at now_s. It must end exactly one
 * transaction, whose end state is returned. */
enum ledger_tx_state netfix_sync_power_cut(struct netfix *f, struct nsync *ks, uint32_t ask, int64_t now_s);
/* Stops the sync (if any) and frees the kiosk. */
void netfix_sync_free(struct nsync *ks);
