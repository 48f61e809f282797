/*
 * Tamper evidence of the money ledger: every booked record carries an HMAC-SHA256 over its
 * fields and the previous record's MAC, keyed with a per-kiosk secret kept in a file beside
 * the database (docs/ledger.md, "The chain"). This header is the pure-C face: the secret
 * file's format and the verification of a database file, for `kiosk ledger verify`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

#define LEDGER_KEY_BYTES 32
#define LEDGER_MAC_BYTES 32

/* The secret file's exact bytes: "kiosk-ledger-secret v1\n", 64 lowercase hex digits, "\n". */
#define LEDGER_SECRET_FILE_BYTES (23 + 2 * LEDGER_KEY_BYTES + 1)

/* Parses a secret file's contents (buf, len; never reads past len). KIO_ERR_CORRUPT, naming
 * what is wrong but never any byte of the key, for anything but the exact format. */
int ledger_secret_parse(const uint8_t *buf, size_t len, uint8_t key[LEDGER_KEY_BYTES], struct kio_error *err);

/* "<db_path>.secret". Caller frees. */
char *ledger_secret_path(const char *db_path);

/* Reads the secret of the database at db_path. With `strict`, the file must belong to this
 * process's user and be unreadable by group and others (the kiosk's start-up); the audit
 * tool reads any file it may. KIO_ERR_NOT_FOUND if there is none, KIO_ERR_CORRUPT for a bad
 * file or bad permissions, KIO_ERR_IO otherwise. */
int ledger_secret_read(const char *db_path, bool strict, uint8_t key[LEDGER_KEY_BYTES], struct kio_error *err);

/* The verdict on a chain. first_bad is the record number (`rec`) where it first breaks, 0
 * when it holds; why says how it breaks ("record 7 (payment) does not match its MAC"). */
struct ledger_verdict {
	bool ok;
	int64_t records;   /* records read */
	int64_t base;      /* records 1..base were pruned (retention); the chain read starts after */
	int64_t first_bad; /* 0 if ok */
	char why[256];
};

/* Verifies the chain of the database at db_path read-only (a running kiosk may hold it),
 * with the key in its secret file. Returns 0 with the verdict filled when the chain could be
 * read at all; KIO_ERR_IO / KIO_ERR_NOT_FOUND / KIO_ERR_CORRUPT (no such file, not a
 * ledger, no secret) when it could not. */
int ledger_verify_file(const char *db_path, struct ledger_verdict *verdict, struct kio_error *err);
