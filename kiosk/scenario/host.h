/*
 * A scenario's own host (README "Scenarios": `host up|down|slow|error|cut-after-commit`,
 * `wait-synced`, `expect-host`): a throwaway PostgreSQL cluster (scripts/pg-throwaway.sh),
 * migrated, with the demo data, a CA, this kiosk enrolled (its ledger.secret installed as
 * `<db>.secret`), `kiosk-host serve --faults FILE` and the network suite's fault proxy in
 * front (tests/network/faultproxy.c), all from the build tree (KIOSK_BUILD_ROOT). A keeper
 * process stops the cluster and removes its folder when the kiosk process ends, however it
 * ends; the host and the proxy die with the kiosk (PR_SET_PDEATHSIG). Test port only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kiosk/core/config.h"
#include "kiosk/core/err.h"

struct scn_host;

/* Starts it all for the kiosk whose configuration is cfg (its db_path, kiosk_id and
 * host_timeout_ms read; host_url, host_ca, host_cert and host_key set to this host's).
 * KIO_ERR_INVALID when the database already has a chain key (`<db>.secret`: a new
 * enrolment would orphan it); KIO_ERR_UNSUPPORTED with no PostgreSQL server; KIO_ERR_IO for
 * anything else that does not start. Nothing is left running on failure. */
int scn_host_start(struct core_config *cfg, struct scn_host **out, struct kio_error *err);
/* Stops the host, the proxy and the cluster, waits for them, removes the folder. NULL ok. */
void scn_host_stop(struct scn_host *h);

/* `host MODE`: up (proxy up, no answer fault), down (proxy refuses and cuts), slow (the proxy
 * holds the host's bytes longer than the kiosk's timeout), error (500s), cut-after-commit.
 * KIO_ERR_INVALID for another word. */
int scn_host_mode(struct scn_host *h, const char *mode, struct kio_error *err);
/* Whether mode is one of the above. */
bool scn_host_mode_known(const char *mode);

/* expect-host: one value of a read-only query on the host's database ("NULL", "(no row)"). */
int scn_host_query(struct scn_host *h, const char *sql, char *value, size_t cap, struct kio_error *err);

/* host-sql: one statement run on the host's database with psql, writes allowed: for a
 * scenario that puts the host out of line with the kiosk on purpose, to show the end check
 * below sees it. KIO_ERR_IO naming the failure (psql missing, the statement refused). */
int scn_host_sql(struct scn_host *h, const char *sql, struct kio_error *err);

/* The end of a run: the kiosk's export at db_path equals the host's records of this kiosk
 * line for line, every card balance is opening + credits, one card_credit per completed
 * top-up the kiosk booked, and the fees lines the host holds paid are, in number and in fils,
 * those the kiosk took money for (paid, offline or unconfirmed) in its ended transactions.
 * 0, or KIO_ERR_CORRUPT with the first difference in err. */
int scn_host_check(struct scn_host *h, const char *db_path, struct kio_error *err);
