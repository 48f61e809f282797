/* The ledger's records as JSON lines, for audits and the sync that follows: one object per
 * chained record, in chain order, amounts in integer fils (docs/ledger.md, "Export"). */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "kiosk/core/err.h"

/* Parses the --since argument: a record number, decimal digits only, 0..2^63-1 (s borrowed,
 * NUL-terminated). KIO_ERR_INVALID naming the fault otherwise. */
int ledger_export_since_parse(const char *s, int64_t *since, struct kio_error *err);

/* Writes every record after `since` of the database at db_path to out, after verifying the
 * whole chain in the same read transaction (a sync must not send forged records).
 * Returns 0 when written; KIO_ERR_CORRUPT when the chain is broken (nothing written; the
 * message names the first broken record); KIO_ERR_IO / KIO_ERR_NOT_FOUND when the database
 * or its secret cannot be read. */
int ledger_export_file(const char *db_path, int64_t since, FILE *out, struct kio_error *err);
