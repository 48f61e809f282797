/*
 * The sync to the host as the app sees it: a worker thread that drains the ledger to the
 * host, sends the heartbeat, asks the host's questions (card balances, fees, vouchers,
 * payments) and fetches the fees catalogue the host serves, never blocking a frame. The app gives a
 * wake callback (called from the worker; the app turns it into its SDL wake event) and polls
 * the mailbox from its loop: the status snapshot and card answers. Pure C: no libcurl, SQLite
 * or GLib here. sync.c has the threads' hand-off; drain.c the drain's state machine.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/config.h"
#include "kiosk/core/err.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/sync-state.h"
#include "transport.h"
#include "wire.h"

struct sync;
struct catalogue; /* kiosk/fees/catalogue.h */

/* Called from the worker thread whenever the mailbox has news (status changed, a card
 * answer came). Must be thread-safe and quick (SDL_PushEvent is). */
typedef void (*sync_wake_fn)(void *user);

/* A sync for the ledger at db_path (copied) with cfg's [host] and [offline] (copied). With
 * host.url empty the sync is not configured: sync_start starts nothing, the status says so,
 * card asks answer SYNC_ASK_NOT_CONFIGURED. Never fails for an unreachable host. */
struct sync *sync_new(const struct core_config *cfg, const char *db_path, sync_wake_fn wake, void *user);
/* Stops the worker if running, then frees. Accepts NULL. */
void sync_free(struct sync *s);

/* Starts the worker (its own SQLite connection and libcurl handle). KIO_ERR_INVALID for
 * unreadable TLS files or a URL that is not https://; the ledger's errors (sync-state.h)
 * when the database cannot be opened for the sync. 0 and nothing started when not
 * configured. */
int sync_start(struct sync *s, struct kio_error *err);
/* Asks the worker to stop and joins it: an exchange under way ends within host.timeout_ms. */
void sync_stop(struct sync *s);

/* A record was committed (a transaction ended): drain now rather than at the next timer,
 * unless a backoff after a failure is under way (its delay is kept). */
void sync_kick(struct sync *s);

/* A device's state for the heartbeat ("cash" -> "ok"); both copied, up to 8 devices. */
void sync_set_device(struct sync *s, const char *device, const char *state);

enum sync_fault_state { SYNC_STATUS_FAULT_NONE, SYNC_STATUS_FAULT_RECORD_CONFLICT, SYNC_STATUS_FAULT_CHAIN_BROKEN,
			SYNC_STATUS_FAULT_BAD_RECORD };

struct sync_status {
	bool configured;          /* host.url set */
	bool running;             /* the worker runs */
	bool reachable;           /* the last exchange got an HTTP answer */
	int64_t acked_rec;        /* the host holds the ledger's records 1..acked_rec */
	int64_t queue_depth;      /* records the host has not acknowledged */
	int64_t oldest_unsynced_rec, oldest_unsynced_s; /* 0 when the queue is empty */
	int64_t last_ok_s;        /* 0: never */
	char last_error[256];
	int64_t last_error_s;
	enum sync_fault_state fault; /* sticky until the next start (drain.c invariant 4) */
	int64_t fault_rec;
	/* The catalogue download (GET /v1/catalogue, below): */
	int64_t catalogue_fetched;        /* 200s whose document passed catalogue_parse */
	int64_t catalogue_unchanged;      /* 304s: the host's document is the one held */
	int64_t catalogue_refused;        /* 200s refused (the parser, no ETag) and error statuses */
	char catalogue_etag[SYNC_ETAG_MAX]; /* the ETag of the newest good copy; "" none yet */
	char catalogue_error[256];        /* the last refusal ("" none): file "host catalogue", entry */
	uint64_t generation;      /* grows with every change, so the app redraws only then */
};
/* A consistent copy, taken under the mailbox's lock. */
void sync_status_get(struct sync *s, struct sync_status *out);

/* ---- the card-balance ask (GET /v1/cards/{card}) ---- */

enum sync_ask_result {
	SYNC_ASK_ANSWERED,       /* answer holds the host's word (found, unknown, refused...) */
	SYNC_ASK_UNREACHABLE,    /* no answer in time, or one the parser refused: why says */
	SYNC_ASK_NOT_CONFIGURED, /* no host: the app says the balance needs the host */
};
struct sync_card_result {
	uint32_t ask;                   /* the id sync_card_ask returned */
	enum sync_ask_result result;
	struct sync_card_answer answer; /* SYNC_ASK_ANSWERED */
	char why[256];
};
/* Queues the question for card (16 digits); a newer ask replaces an unanswered one. Returns
 * its id (never 0); 0 and KIO_ERR_INVALID for a card that is not 16 digits. */
uint32_t sync_card_ask(struct sync *s, const char *card, struct kio_error *err);
/* The loop polls: true, with *out, once the answer to the latest ask is in (then consumed). */
bool sync_card_poll(struct sync *s, struct sync_card_result *out);

/* ---- the fees asks (issue 13) ----
 * Each kind has one slot: the latest ask of the kind, its id (never 0, unique across kinds and
 * the card ask) and, once in, its answer for the poll, which returns it once. The fee ask is
 * tried once (the customer waits at a CHECKING step; UNREACHABLE is an answer). */

enum sync_fee_status {
	SYNC_FEE_OK,             /* the host's answer: kind, amounts, items */
	SYNC_FEE_NOT_FOUND,      /* 404: code is entity_unknown, service_unknown or reference_unknown */
	SYNC_FEE_UNREACHABLE,    /* no answer in time, a 5xx, or one the parser refused: why says */
	SYNC_FEE_NOT_CONFIGURED, /* no host: the service needs the host */
	SYNC_FEE_ERROR,          /* the host refused the question (bad_request, certificate, date): code, why */
	SYNC_FEE_STATUS_COUNT
};
/* "ok", "not-found", "unreachable", "not-configured", "error". */
const char *sync_fee_status_name(int status);

struct sync_fee_result {
	uint32_t ask; /* the id sync_fee_ask returned */
	enum sync_fee_status result;
	/* SYNC_FEE_OK: */
	char payee[SYNC_FEE_PAYEE_MAX];   /* masked by the host */
	char description[SYNC_FEE_TEXT_MAX];
	enum sync_fee_kind kind;
	int64_t due_fils;                  /* FIXED */
	size_t n_items, n_items_host;      /* ITEMS: kept (<= SYNC_FEE_ITEMS_MAX), and how many the host has */
	struct sync_fee_item items[SYNC_FEE_ITEMS_MAX];
	int64_t min_fils, max_fils, step_fils; /* OPEN */
	char code[SYNC_WIRE_CODE_MAX];     /* NOT_FOUND, ERROR: the host's error code */
	char why[256];                     /* every status but OK: for the log and the technician */
};
/* Asks GET /v1/fees/{entity}/{service}/{reference} (each copied); a newer fee ask replaces an
 * unanswered one. Returns its id; 0 and KIO_ERR_INVALID when entity or service is not
 * [a-z0-9_-]{1,32} or reference not [A-Za-z0-9-]{1,32} (nothing asked). */
uint32_t sync_fee_ask(struct sync *s, const char *entity, const char *service, const char *reference,
		      struct kio_error *err);
/* True, with *out, once the answer to the latest fee ask is in (then consumed). */
bool sync_fee_poll(struct sync *s, struct sync_fee_result *out);

/* A voucher's validity (POST /v1/vouchers/validate), tried once like the fee ask: ANSWERED
 * with answer.kind VALID (value_fils, expires), UNKNOWN, SPENT, EXPIRED, or RETRY/REFUSED
 * (the host could not or would not say); UNREACHABLE; NOT_CONFIGURED. */
struct sync_voucher_result {
	uint32_t ask;
	enum sync_ask_result result;
	struct sync_voucher_answer answer; /* SYNC_ASK_ANSWERED */
	char why[256];
};
/* code: the canonical 16 digits, check digit holding (vcode.h; copied). 0 and
 * KIO_ERR_INVALID otherwise. A newer
 * voucher ask replaces an unanswered one. */
uint32_t sync_voucher_ask(struct sync *s, const char *code, struct kio_error *err);
bool sync_voucher_poll(struct sync *s, struct sync_voucher_result *out);

/*
 * The asks that move money at the host, redeem and pay, are retried with their same
 * idempotency key (redemption_id, tx_uuid) until the host answers: a timeout, a 5xx or an
 * answer the parser refused may hide a commit, and the retry gets the first answer again.
 * Delays double from host.backoff_min_ms up to SYNC_ASK_RETRY_MAX_MS. The poll gives only
 * the final answer (result ANSWERED; NOT_CONFIGURED or UNREACHABLE only when there is no
 * worker, nothing sent); sync_ask_give_up stops the retries. One of each kind at a time: a
 * second ask while one is unanswered is refused KIO_ERR_BUSY (replacing it would stop the
 * retries of one the host may have applied).
 */
#define SYNC_ASK_RETRY_MAX_MS 5000

struct sync_redeem_result {
	uint32_t ask;
	enum sync_ask_result result;
	struct sync_redeem_answer answer; /* SYNC_ASK_ANSWERED: REDEEMED, UNKNOWN, SPENT, EXPIRED, MISMATCH, REFUSED */
	int attempts;                     /* exchanges it took */
	char why[256];                    /* the last failed attempt's, or the host's refusal */
};
/* Redeems amount_fils (>= 1) of the voucher code (canonical, vcode.h) into the transaction tx_uuid,
 * idempotent per redemption_id (a UUID the caller made and stored before the first attempt).
 * All copied. 0 and KIO_ERR_INVALID for a bad shape, KIO_ERR_BUSY while a redemption is
 * unanswered. */
uint32_t sync_voucher_redeem(struct sync *s, const char *code, const char *redemption_id, const char *tx_uuid,
			     int64_t amount_fils, struct kio_error *err);
bool sync_redeem_poll(struct sync *s, struct sync_redeem_result *out);

/* One basket line as POST /v1/payments sends it (the ledger's struct ledger_fee_line: n is
 * its place, from 1). reference and bill "" when the line has none (sent as null). */
struct sync_pay_line {
	char entity[33], service[33], reference[25], bill[33];
	int64_t amount_fils; /* 1..SYNC_WIRE_FILS_MAX */
};
struct sync_pay_result {
	uint32_t ask;
	enum sync_ask_result result;
	struct sync_pay_answer answer; /* SYNC_ASK_ANSWERED: ANSWERED (per line paid/refused), MISMATCH, REFUSED */
	int attempts;
	char why[256];
};
/* Pays lines[0..n-1] (copied; 1..SYNC_PAY_LINES_MAX, entity and service [a-z0-9_-]{1,32},
 * reference [A-Za-z0-9-]{0,24}, bill printable ASCII {0,32}) for the transaction tx_uuid,
 * idempotent per tx_uuid at the host. 0 and KIO_ERR_INVALID for a bad shape, KIO_ERR_BUSY
 * while a payment is unanswered. */
uint32_t sync_pay_ask(struct sync *s, const char *tx_uuid, const struct sync_pay_line *lines, size_t n,
		      struct kio_error *err);
bool sync_pay_poll(struct sync *s, struct sync_pay_result *out);

/* Stops retrying the redeem or pay ask `ask` (an exchange under way finishes; its answer is
 * dropped). The host may have applied it: the caller keeps the key to settle it later. True
 * when ask was still unanswered. */
bool sync_ask_give_up(struct sync *s, uint32_t ask);

/* ---- the catalogue download (GET /v1/catalogue; docs/catalogue.md "The host's download") ----
 * The worker asks at its start and every host.catalogue_interval_s (0: never), with
 * If-None-Match naming the newest good copy's ETag (at start: the stored download's, read from
 * the ledger's catalogue_meta). A 200 is checked by catalogue_parse (file "host catalogue") and
 * must carry an ETag; a good one waits in the mailbox for the app, a bad one is logged as an
 * error naming the entry, counted in the status and changes nothing (the ETag stays, so the
 * next ask fetches again). 304: nothing to do; 404 (the host serves none), a 5xx or no answer: a
 * warning, nothing changes. The worker never stores or swaps a catalogue:
 * the app does, between customer sessions (kiosk/app.c apply_catalogue_update). */

/* The newest good download not yet taken: true once with *out (the caller owns it:
 * catalogue_free) and its ETag in etag[SYNC_ETAG_MAX]; a newer download replaces (frees) one
 * not yet taken. false, *out NULL, when none waits. */
bool sync_catalogue_take(struct sync *s, struct catalogue **out, char *etag);
/* Ask for the catalogue now rather than at the next interval (tests, the technician). */
void sync_catalogue_kick(struct sync *s);

/* ---- offline limits ([offline]) ---- */

enum sync_offline_result {
	SYNC_OFFLINE_OK,
	SYNC_OFFLINE_CARD_COUNT, /* this card has card_max_count credits the host has not acknowledged */
	SYNC_OFFLINE_CARD_FILS,  /* with this one the card's would pass card_max_fils */
	SYNC_OFFLINE_KIOSK_COUNT,
	SYNC_OFFLINE_KIOSK_FILS,
	SYNC_OFFLINE_RESULT_COUNT
};
const char *sync_offline_result_name(int result);
struct sync_offline_verdict {
	enum sync_offline_result result;
	struct ledger_unacked unacked; /* what the host has not acknowledged, before this one */
};
/* May a top-up of amount_fils (>= 0) to card be accepted now, or the rest of a fees basket be
 * credited to card? Counts the money the host has not acknowledged (ledger_unacked_money over
 * the app's own connection, so the UI thread reads its own commits: the card's top-ups and the
 * fees rests credited to it, and the kiosk's every such transaction), plus this one as one
 * more transaction, against [offline]: the card's count and amount first, then the kiosk's.
 * With no host configured everything is accepted (a standalone kiosk has nothing to wait
 * for). KIO_ERR_INVALID for a bad card or amount; the ledger's read errors. */
int sync_offline_check(const struct sync *s, struct ledger *ledger, const char *card, int64_t amount_fils,
		       struct sync_offline_verdict *out, struct kio_error *err);
/* May a fees basket whose lines will be settled `offline` (fixed fees, no host to ask), fils
 * (>= 0) in all, be opened now? The kiosk-wide money the host has not acknowledged (top-ups,
 * fees lines settled offline or unconfirmed, fees rests credited to cards), plus this basket as
 * one more transaction, against [offline] kiosk_max_count and kiosk_max_fils: the verdict is
 * OK, KIOSK_COUNT or KIOSK_FILS (card_* of out->unacked are 0). No host configured: OK.
 * KIOSK_FILS leaves kiosk_max_fils - out->unacked.kiosk_fils for the basket (that much is
 * still accepted). KIO_ERR_INVALID for a negative fils; the ledger's read errors. */
int sync_offline_check_basket(const struct sync *s, struct ledger *ledger, int64_t fils,
			      struct sync_offline_verdict *out, struct kio_error *err);
