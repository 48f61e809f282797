/* The demo data set (docs/host-demo-data.md): cards, fee accounts, vouchers and a catalogue
 * that the demo and the tests use. */
#pragma once

#include <libpq-fe.h>

#include "kiosk/core/err.h"

/* Loads the set in one transaction; idempotent: what exists already (a card's balance moved
 * by top-ups, a spent voucher) is left as it is. KIO_ERR_IO on a database error. */
int demo_load(PGconn *c, struct kio_error *err);
