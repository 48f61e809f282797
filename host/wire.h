/*
 * The host's parsers of request bodies and headers (docs/host-api.yaml): JSON through json-glib,
 * integers as gint64 (a number with a fraction or exponent where an integer belongs is refused,
 * never rounded), every size checked. Pure: no database, no network; the fuzz target calls them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/ledger/recmac.h"

#define WIRE_BATCH_MAX 500          /* records per POST /v1/records */
#define WIRE_BODY_MAX (4u << 20)    /* 4 MiB: above, 413 body_too_large */
#define WIRE_TEXT_MAX 512           /* any text field of a record, in bytes */
#define WIRE_DEPTH_MAX 16           /* nesting of a body; the deepest the contract has is 3 */

/* How a body is refused: the HTTP status and stable code each maps to (server.c). */
enum wire_fault {
	WIRE_OK,
	WIRE_BAD_JSON,    /* 400 bad_json: not JSON, or not an object at the top */
	WIRE_BAD_REQUEST, /* 400 bad_request: a member missing or of the wrong shape, a fraction */
	WIRE_BAD_RECORD,  /* 422 bad_record: a ledger record breaking the ledger's rules (rec named) */
};

struct wire_error {
	enum wire_fault fault;
	int64_t rec; /* WIRE_BAD_RECORD: the record; 0 otherwise */
	char msg[200];
};

/* One uploaded ledger record: its table, its columns' values in MAC order, its MAC. */
struct wire_record {
	int64_t rec;
	const char *type;        /* static: the ledger's table name */
	const char *const *cols; /* static, n_cols names (ledger_rec_columns) */
	size_t n_cols;
	struct ledger_rec_val vals[LEDGER_REC_COLS_MAX]; /* texts point into `texts` */
	char *texts[LEDGER_REC_COLS_MAX];                /* owned */
	uint8_t mac[LEDGER_MAC_BYTES];
	char mac_hex[2 * LEDGER_MAC_BYTES + 1];
};

struct wire_batch {
	struct wire_record *recs; /* owned; n of them, in the order sent */
	size_t n;
};

/* POST /v1/records: {"records": [...]}, at most WIRE_BATCH_MAX. Each record must name a chained
 * table (the fees tables of issue 13 too), carry every column of it with the ledger's type
 * (integer, text or null where the kiosk's schema allows) and value rules (no negative
 * amounts, 16-digit cards, a v4-shaped uuid, canonical voucher codes, entity and service ids,
 * known kinds, states, statuses and reasons), and a 64-hex MAC; unknown members are ignored. Records must
 * come in strictly increasing `rec` (WIRE_BAD_REQUEST otherwise). Relations between records
 * (a tx_end's tx, its credited sum) are records.c's. 0 with *out filled (free it with
 * wire_batch_clear), or -1 with err filled and *out empty. */
int wire_records_parse(const char *buf, size_t len, struct wire_batch *out, struct wire_error *err);
void wire_batch_clear(struct wire_batch *b);

/* The canonical JSON of a record as the host stores and dumps it: the kiosk's export line
 * (`rec`, `type`, the columns in MAC order, `mac`), so a dump compares byte for byte with
 * `kiosk ledger export`. Caller frees with g_free. */
char *wire_record_json(const struct wire_record *r);

struct wire_voucher {
	char code[65];
	char redemption_id[37]; /* redeem only */
	char tx_uuid[37];       /* redeem only */
	int64_t amount_fils;    /* redeem only, > 0 */
};

/* POST /v1/vouchers/validate ({"code"}) and /redeem ({"code", "redemption_id", "tx_uuid",
 * "amount_fils"}). Codes are 1..64 bytes of printable ASCII; ids are RFC 4122 text. */
int wire_voucher_validate_parse(const char *buf, size_t len, struct wire_voucher *out, struct wire_error *err);
int wire_voucher_redeem_parse(const char *buf, size_t len, struct wire_voucher *out, struct wire_error *err);

/* POST /v1/payments (issue 13): a basket's lines, paid idempotently per tx_uuid. */
#define WIRE_PAY_LINES_MAX 10              /* the kiosk's LEDGER_BASKET_MAX */
#define WIRE_FILS_MAX INT64_C(1000000000000) /* 10^12 fils: the kiosk's SYNC_WIRE_FILS_MAX */

struct wire_pay_line {
	int n;                   /* 1..: its place in the basket */
	char entity[33], service[33];
	char reference[33];      /* "" for none (null) */
	char bill[33];           /* the host's item id, "" for none (null) */
	int64_t amount_fils;     /* 1..WIRE_FILS_MAX */
};

struct wire_payment {
	char tx_uuid[37];
	size_t n;
	struct wire_pay_line lines[WIRE_PAY_LINES_MAX];
};

/* {"tx_uuid": uuid, "lines": [{"n", "entity", "service", "reference", "bill", "amount_fils"}]}:
 * 1..WIRE_PAY_LINES_MAX lines numbered 1, 2, ... in order; entity and service [a-z0-9_-]{1,32};
 * reference null or [A-Za-z0-9-]{1,32}; bill null or 1..32 printable ASCII. */
int wire_payment_parse(const char *buf, size_t len, struct wire_payment *out, struct wire_error *err);
/* The request's canonical JSON (members in one order, absent reference and bill as null):
 * what the idempotency check compares. Caller g_frees. */
char *wire_payment_json(const struct wire_payment *p);

#define WIRE_DEVICES_MAX 32

struct wire_heartbeat {
	char version[33];
	int64_t queue_depth;       /* >= 0 */
	bool has_oldest;
	int64_t oldest_unsynced_s; /* when has_oldest */
	int64_t sent_s;
	char *devices_json;        /* owned (g_free): {"name": "state", ...}, re-serialised */
};

/* POST /v1/heartbeat. Free with wire_heartbeat_clear. */
int wire_heartbeat_parse(const char *buf, size_t len, struct wire_heartbeat *out, struct wire_error *err);
void wire_heartbeat_clear(struct wire_heartbeat *hb);

/* An HTTP Date (RFC 7231 IMF-fixdate only: "Sun, 06 Nov 1994 08:49:37 GMT") as Unix seconds.
 * false for anything else. */
bool wire_http_date_parse(const char *s, int64_t *out);

/* Shapes shared with the routes: 16 ASCII digits; RFC 4122 text (8-4-4-4-12 lowercase or
 * uppercase hex). */
bool wire_card_ok(const char *s);
bool wire_uuid_ok(const char *s);
