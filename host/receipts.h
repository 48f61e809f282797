/*
 * POST /v1/receipts/verify (docs/receipts.md, docs/host-api.yaml): the host checks a receipt's
 * QR text with the kiosk's public key, which it derives from the chain key it holds for every
 * enrolled kiosk, so nobody has to hand it a key.
 */
#pragma once

#include <libpq-fe.h>
#include <stddef.h>

#include "reply.h"

/* Body {"qr": text}. 200 {"valid": true, the record's fields} or {"valid": false, "fault",
 * "reason"} (a receipt that does not verify is an answer, not an error); 400 bad_json /
 * bad_request for a body that is not such an object; 500 when the database does not answer.
 * Borrows c (outside a transaction, left so). */
void receipts_verify(PGconn *c, const char *buf, size_t len, struct host_reply *reply);
