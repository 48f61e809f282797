/*
 * The host's account routes other than the ledger upload (docs/host-api.yaml): card status and
 * balance, fee inquiry, voucher validation and idempotent redemption, the catalogue with its
 * ETag, and the kiosk's heartbeat. Each answers one request on a borrowed connection that is
 * outside a transaction and left outside one, and always fills the reply.
 */
#pragma once

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

/* GET /v1/cards/{card}: 200, 400 bad_card, 404 card_unknown. */
void accounts_card(PGconn *c, const char *card, struct host_reply *reply);
/* GET /v1/fees/{entity}/{service}/{reference}: 200, 404 entity_unknown / service_unknown /
 * reference_unknown, 400 bad_request for a malformed path part. */
void accounts_fee(PGconn *c, const char *entity, const char *service, const char *reference,
		  struct host_reply *reply);
/* POST /v1/vouchers/validate and /redeem. Redeem is idempotent per redemption_id: the same id
 * and body answers the first answer again, another body 422 idempotency_mismatch. 404
 * voucher_unknown, 409 voucher_spent (nothing left, or less than asked), 410 voucher_expired. */
void accounts_voucher_validate(PGconn *c, const char *buf, size_t len, struct host_reply *reply);
void accounts_voucher_redeem(PGconn *c, const char *kiosk_id, const char *buf, size_t len, struct host_reply *reply);
/* GET /v1/catalogue: 200 with the document and its ETag, or 304 when if_none_match (may be
 * NULL) names the current one. 404 catalogue_missing before any is loaded. */
void accounts_catalogue(PGconn *c, const char *if_none_match, struct host_reply *reply);
/* POST /v1/heartbeat: stores the kiosk's latest beat; 200 {"server_time_s": now_s}. */
void accounts_heartbeat(PGconn *c, const char *kiosk_id, const char *buf, size_t len, int64_t now_s,
			struct host_reply *reply);

/* "M*** A*** K***": each word's first character and three stars (UTF-8 aware). Caller g_frees. */
char *accounts_mask_name(const char *name);
