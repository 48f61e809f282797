/*
 * Paying a kiosk's basket at the host (issue 13): POST /v1/payments, and the same rules when a
 * fees transaction's records settle lines the kiosk could not get answered (records.c).
 */
#pragma once

#include <libpq-fe.h>
#include <stddef.h>

#include "kiosk/core/err.h"
#include "reply.h"
#include "wire.h"

/* POST /v1/payments: 200 {"tx_uuid", "lines": [{"n", "status": "paid"|"refused", "host_ref" |
 * "reason", "message"}]}, idempotent per tx_uuid (the same kiosk and body: the first answer
 * again; anything else 422 idempotency_mismatch, nothing changed); 400 for a bad body. */
void payments_post(PGconn *c, const char *kiosk_id, const char *buf, size_t len, struct host_reply *reply);

/* Inside the caller's transaction: pays p's lines as POST /v1/payments would (source "online"
 * or "records") and stores the payment and its first answer, unless tx_uuid has one already.
 * *answer (g_free) is the stored answer, *same whether p is the body it was made for (or the
 * new one). 0, or KIO_ERR_IO with sqlstate set (23505: a twin raced it; retry the
 * transaction). Takes the transaction-scoped lock of tx_uuid first. */
int payments_apply(PGconn *c, const char *kiosk_id, const struct wire_payment *p, const char *source, char **answer,
		   bool *same, char sqlstate[6], struct kio_error *err);
