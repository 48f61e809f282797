/*
 * The kiosk's parser of every host answer (docs/host-api.yaml; the contracts of issues 12 and
 * 13): POST /v1/records, GET /v1/cards/{card}, POST /v1/heartbeat, GET /v1/fees/..., POST
 * /v1/vouchers/validate and /redeem, POST /v1/payments and the error object. Takes
 * the HTTP status and the body (buf, len; never reads past len) and either fills a typed
 * answer or refuses with a clear error. A refusal marks nothing: the drain treats it as a
 * host error and tries again later. Integers are gint64 from the text itself; a fraction,
 * an exponent or a string where an integer belongs, a negative count or amount, an integer
 * beyond 64 bits, JSON nested deeper than SYNC_WIRE_DEPTH_MAX, a NUL byte, an unknown error
 * code: each refused. Unknown members are ignored (forward compatibility).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

#define SYNC_WIRE_BODY_MAX (4 * 1024 * 1024) /* the contract's body limit, both ways */
#define SYNC_WIRE_DEPTH_MAX 16
#define SYNC_WIRE_CODE_MAX 48
#define SYNC_WIRE_MESSAGE_MAX 160

/* A host error object: {"error": {"code": ..., "message": ..., ...}}. */
struct sync_wire_error {
	int status;                             /* the HTTP status it came with */
	char code[SYNC_WIRE_CODE_MAX];          /* one of the contract's codes, or "" (a 5xx without one) */
	char message[SYNC_WIRE_MESSAGE_MAX];    /* the host's text, control characters replaced */
};

enum sync_records_kind {
	SYNC_RECORDS_ACKED,        /* 200: acked, applied, duplicates */
	SYNC_RECORDS_SEQUENCE_GAP, /* 409 sequence_gap: the host holds 1..acked, resend from acked + 1 */
	SYNC_RECORDS_CONFLICT,     /* 409 record_conflict: rec differs from the host's copy (a fault) */
	SYNC_RECORDS_CHAIN_BROKEN, /* 422 chain_broken: rec's MAC does not verify at the host (a fault) */
	SYNC_RECORDS_BAD_RECORD,   /* 422 bad_record: rec breaks the host's rules (a fault) */
	SYNC_RECORDS_RETRY,        /* 5xx, 408, 429: the host cannot now; try again after a backoff */
	SYNC_RECORDS_REFUSED,      /* another contract error (certificate, date, bad_json...): backoff */
	SYNC_RECORDS_KIND_COUNT
};
/* "acked", "sequence-gap", "conflict", "chain-broken", "bad-record", "retry", "refused". */
const char *sync_records_kind_name(int kind);

/* What was sent: records first..last, after the host's acknowledgement first - 1. */
struct sync_wire_sent {
	int64_t first_rec, last_rec;
};

struct sync_records_answer {
	enum sync_records_kind kind;
	int64_t acked;      /* ACKED, SEQUENCE_GAP */
	int64_t applied, duplicates; /* ACKED (0 when the host leaves them out) */
	int64_t rec;        /* CONFLICT, CHAIN_BROKEN, BAD_RECORD */
	struct sync_wire_error error; /* every kind but ACKED */
};

/* The answer to POST /v1/records for the batch `sent`. Refusals (KIO_ERR_PROTOCOL, out
 * untouched but for its error), besides the body's own faults: a 200 whose acked is below
 * first_rec - 1 (below what the host had acknowledged when the batch was made) or beyond
 * last_rec (beyond what was sent); a sequence_gap whose acked is not below first_rec - 1 (no
 * gap: it would loop); a conflict, chain_broken or bad_record naming a rec outside the batch;
 * a status other than 200 for success, or an error code that does not belong to its status. */
int sync_wire_records_answer(int status, const char *buf, size_t len, const struct sync_wire_sent *sent,
			     struct sync_records_answer *out, struct kio_error *err);

enum sync_card_status { SYNC_CARD_ACTIVE, SYNC_CARD_BLOCKED, SYNC_CARD_UNREGISTERED, SYNC_CARD_STATUS_COUNT };
/* "active", "blocked", "unregistered"; NULL otherwise. */
const char *sync_card_status_name(int status);

enum sync_card_kind {
	SYNC_CARD_FOUND,   /* 200 */
	SYNC_CARD_UNKNOWN, /* 404 card_unknown */
	SYNC_CARD_BAD,     /* 400 bad_card */
	SYNC_CARD_RETRY,   /* 5xx, 408, 429 */
	SYNC_CARD_REFUSED, /* another contract error */
	SYNC_CARD_KIND_COUNT
};

struct sync_card_answer {
	enum sync_card_kind kind;
	char card[17];
	enum sync_card_status status;
	int64_t balance_fils; /* >= 0 */
	struct sync_wire_error error;
};
/* The answer to GET /v1/cards/{card} for `card` (16 digits, borrowed): a 200 must name that
 * card, a known status and a balance in integer fils, not negative. */
int sync_wire_card_answer(int status, const char *buf, size_t len, const char *card, struct sync_card_answer *out,
			  struct kio_error *err);

/* The answer to POST /v1/heartbeat: 200 {"server_time_s": N > 0}; anything else refused,
 * an error object's code and message in err. */
int sync_wire_heartbeat_answer(int status, const char *buf, size_t len, int64_t *server_time_s,
			       struct kio_error *err);

/* ---- fees (issue 13) ---- */

/* The most the kiosk takes from any amount of a fees answer: 10^12 fils (AED 10 billion), so
 * a basket's sums of up to 10 lines never come near int64 overflow. */
#define SYNC_WIRE_FILS_MAX INT64_C(1000000000000)
#define SYNC_FEE_ITEMS_MAX 8      /* items a fees answer keeps (the rest counted, not kept) */
#define SYNC_FEE_ID_MAX 32        /* an item id: the ledger's fee_item.bill holds it, sent back in /v1/payments */
#define SYNC_FEE_PAYEE_MAX 96
#define SYNC_FEE_TEXT_MAX 160     /* descriptions */

enum sync_fee_kind { SYNC_FEE_KIND_FIXED, SYNC_FEE_KIND_ITEMS, SYNC_FEE_KIND_OPEN, SYNC_FEE_KIND_COUNT };
/* "fixed", "items", "open"; NULL otherwise. */
const char *sync_fee_kind_name(int kind);

enum sync_fee_answer_kind {
	SYNC_FEE_FOUND,   /* 200 */
	SYNC_FEE_UNKNOWN, /* 404 entity_unknown, service_unknown or reference_unknown (error.code says which) */
	SYNC_FEE_RETRY,   /* 5xx, 408, 429 */
	SYNC_FEE_REFUSED, /* another contract error (bad_request, certificate, date) */
	SYNC_FEE_ANSWER_KIND_COUNT
};

struct sync_fee_item {
	char id[SYNC_FEE_ID_MAX + 1];          /* the host's item id ("F-1"): printable ASCII, no spaces */
	char description[SYNC_FEE_TEXT_MAX];
	int64_t amount_fils;                   /* 1..SYNC_WIRE_FILS_MAX */
};

struct sync_fee_answer {
	enum sync_fee_answer_kind kind;
	char payee[SYNC_FEE_PAYEE_MAX];        /* masked by the host; control characters replaced */
	char description[SYNC_FEE_TEXT_MAX];
	enum sync_fee_kind fee_kind;
	int64_t due_fils;                      /* FIXED: 0..SYNC_WIRE_FILS_MAX (0: nothing is due) */
	int64_t min_fils, max_fils, step_fils; /* OPEN: 1 <= min <= max, step >= 1 */
	size_t n_items;                        /* ITEMS: kept, at most SYNC_FEE_ITEMS_MAX */
	size_t n_items_host;                   /* ITEMS: how many the host listed (> n_items: the rest left out) */
	struct sync_fee_item items[SYNC_FEE_ITEMS_MAX];
	struct sync_wire_error error;          /* every kind but FOUND */
};
/* The answer to GET /v1/fees/{entity}/{service}/{reference} (the three borrowed). A 200 must
 * name the same entity, service and reference; `amount` an object whose kind is fixed (with
 * due_fils), items (with the items, ids unique and 1..32 printable characters, amounts >= 1)
 * or open (min_fils >= 1, max_fils >= min_fils, step_fils >= 1); every amount at most
 * SYNC_WIRE_FILS_MAX. Items past SYNC_FEE_ITEMS_MAX are checked too, then counted only. */
int sync_wire_fee_answer(int status, const char *buf, size_t len, const char *entity, const char *service,
			 const char *reference, struct sync_fee_answer *out, struct kio_error *err);

/* The answers about vouchers: POST /v1/vouchers/validate and /redeem. */
enum sync_voucher_kind {
	SYNC_VOUCHER_VALID,    /* validate 200 */
	SYNC_VOUCHER_REDEEMED, /* redeem 200 (or the first answer to this redemption id, again) */
	SYNC_VOUCHER_UNKNOWN,  /* 404 voucher_unknown */
	SYNC_VOUCHER_SPENT,    /* 409 voucher_spent (also: less remains than was asked) */
	SYNC_VOUCHER_EXPIRED,  /* 410 voucher_expired */
	SYNC_VOUCHER_MISMATCH, /* redeem 422 idempotency_mismatch: this redemption id had another body */
	SYNC_VOUCHER_RETRY,    /* 5xx, 408, 429 */
	SYNC_VOUCHER_REFUSED,  /* another contract error (bad_request, certificate, date) */
	SYNC_VOUCHER_KIND_COUNT
};
/* "valid", "redeemed", "unknown", "spent", "expired", "mismatch", "retry", "refused". */
const char *sync_voucher_kind_name(int kind);

struct sync_voucher_answer {
	enum sync_voucher_kind kind;
	int64_t value_fils;   /* VALID: what is left to redeem, 1..SYNC_WIRE_FILS_MAX */
	char expires[11];     /* VALID: the last day it can be redeemed, "YYYY-MM-DD" (Asia/Dubai) */
	int64_t expires_s;    /* VALID: the last second of that day, Unix seconds (Dubai is UTC+4 all year) */
	struct sync_wire_error error;
};
/* The answer to POST /v1/vouchers/validate for code (borrowed): a 200 names that code,
 * status "valid", value_fils >= 1 and a real calendar date in expires. */
int sync_wire_voucher_answer(int status, const char *buf, size_t len, const char *code,
			     struct sync_voucher_answer *out, struct kio_error *err);

struct sync_redeem_answer {
	enum sync_voucher_kind kind;
	int64_t redeemed_fils;  /* REDEEMED: exactly what was asked */
	int64_t remaining_fils; /* REDEEMED: left on the voucher (its code keeps it at the host) */
	struct sync_wire_error error;
};
/* The answer to POST /v1/vouchers/redeem (code, redemption_id borrowed): a 200 names that code
 * and redemption id (the id compared without case), redeemed_fils equal to amount_fils and
 * remaining_fils in 0..SYNC_WIRE_FILS_MAX. */
int sync_wire_redeem_answer(int status, const char *buf, size_t len, const char *code, const char *redemption_id,
			    int64_t amount_fils, struct sync_redeem_answer *out, struct kio_error *err);

/* The answer to POST /v1/payments. */
#define SYNC_PAY_LINES_MAX 10 /* a basket's most lines (the ledger's LEDGER_BASKET_MAX) */
#define SYNC_HOST_REF_MAX 32

enum sync_line_status { SYNC_LINE_PAID, SYNC_LINE_REFUSED, SYNC_LINE_STATUS_COUNT };
/* "paid", "refused"; NULL otherwise. */
const char *sync_line_status_name(int status);

struct sync_pay_line_answer {
	enum sync_line_status status;
	char host_ref[SYNC_HOST_REF_MAX + 1]; /* PAID: the host's payment reference (printable ASCII) */
	char reason[SYNC_WIRE_CODE_MAX];      /* REFUSED: a snake_case word: already_paid, amount_mismatch,
					       * reference_unknown, out_of_bounds (others kept as sent) */
	char message[SYNC_WIRE_MESSAGE_MAX];  /* REFUSED: for people, may be empty */
};

enum sync_pay_kind {
	SYNC_PAY_ANSWERED, /* 200: a status for every line */
	SYNC_PAY_MISMATCH, /* 422 idempotency_mismatch: this tx_uuid was paid with another body */
	SYNC_PAY_RETRY,    /* 5xx, 408, 429 */
	SYNC_PAY_REFUSED,  /* another contract error (bad_request, certificate, date) */
	SYNC_PAY_KIND_COUNT
};
/* "answered", "mismatch", "retry", "refused". */
const char *sync_pay_kind_name(int kind);

struct sync_pay_answer {
	enum sync_pay_kind kind;
	size_t n;                                         /* ANSWERED: the lines sent */
	struct sync_pay_line_answer lines[SYNC_PAY_LINES_MAX]; /* ANSWERED: line n at [n - 1] */
	struct sync_wire_error error;
};
/* The answer to POST /v1/payments for tx_uuid (borrowed, compared without case) and n lines
 * (1..SYNC_PAY_LINES_MAX): a 200 answers each line 1..n exactly once, a paid line with a
 * host_ref, a refused one with a reason. */
int sync_wire_pay_answer(int status, const char *buf, size_t len, const char *tx_uuid, size_t n,
			 struct sync_pay_answer *out, struct kio_error *err);

/* Whether code is one of the contract's error codes. */
bool sync_wire_code_known(const char *code);
