/*
 * Receipts anyone can verify (issue 13): the compact signed record a receipt's QR code carries,
 * its TLV encoding, the text of the QR ("EDK1:" + base32), and the kiosk's Ed25519 key derived
 * from the ledger's secret. Pure C over nettle: no SQLite, no GLib; the kiosk, `kiosk receipt`
 * and the host (POST /v1/receipts/verify) share it. docs/receipts.md is the format's reference.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

#define PROOF_SEED_BYTES 32
#define PROOF_PUB_BYTES 32
#define PROOF_SIG_BYTES 64
#define PROOF_KEY_ID_BYTES 4
#define PROOF_SECRET_BYTES 32 /* the ledger's chain secret (LEDGER_KEY_BYTES) */

/* The seed's derivation label: seed = HMAC-SHA256(ledger secret, label). */
#define PROOF_SEED_LABEL "kiosk-receipt-ed25519-v1"

/* The one record version this build writes and reads. */
#define PROOF_VERSION 1
/* The QR text's prefix, and the text's longest form (a longer text is refused unread). */
#define PROOF_QR_PREFIX "EDK1:"
#define PROOF_QR_TEXT_MAX 512
/* The TLV's longest form: every field at its longest, with the signature. */
#define PROOF_TLV_MAX 256
/* Kiosk ids as the host enrols them: 1..64 of [A-Za-z0-9._-]. */
#define PROOF_KIOSK_ID_MAX 64

/* The TLV tags, in the only order a record may hold them (docs/receipts.md). */
enum proof_tag {
	PROOF_TAG_VERSION = 0x01,  /* 1 byte: PROOF_VERSION */
	PROOF_TAG_KIOSK = 0x02,    /* 1..64 bytes of [A-Za-z0-9._-] */
	PROOF_TAG_KEY_ID = 0x03,   /* 4 bytes: SHA-256(public key)[0..3] */
	PROOF_TAG_SEQ = 0x04,      /* unsigned, >= 1: the transaction number */
	PROOF_TAG_TX_UUID = 0x05,  /* 16 bytes: the transaction's uuid */
	PROOF_TAG_TIME = 0x06,     /* unsigned: seconds since 1970 UTC, its completion */
	PROOF_TAG_PAID = 0x07,     /* unsigned: fils the customer paid in */
	PROOF_TAG_CURRENCY = 0x08, /* 3 bytes of A-Z: "AED" */
	PROOF_TAG_LINES = 0x09,    /* unsigned, >= 1: the receipt's lines (items) */
	PROOF_TAG_SIGNATURE = 0x0A /* 64 bytes: Ed25519 over every byte before this tag */
};
/* "Unsigned": big-endian, 1..8 bytes, no leading zero byte (0 is the one byte 0x00), at most
 * INT64_MAX. One value has one encoding, so a record has one byte form. */

/* Why a QR text or a record was refused. Keep proof_fault_name in step. */
enum proof_fault {
	PROOF_OK = 0,
	PROOF_FAULT_PREFIX,    /* not "EDK1:" (or longer than PROOF_QR_TEXT_MAX) */
	PROOF_FAULT_BASE32,    /* a character outside A-Z2-7, an impossible length, stray bits */
	PROOF_FAULT_TRUNCATED, /* a field or the signature cut short */
	PROOF_FAULT_TRAILING,  /* bytes after the signature */
	PROOF_FAULT_VERSION,   /* a version this build does not know */
	PROOF_FAULT_TAG,       /* an unknown tag, or a known one out of its place */
	PROOF_FAULT_FIELD,     /* a field's length or value is not allowed */
	PROOF_FAULT_KEY_ID,    /* the record names another key than the one given */
	PROOF_FAULT_SIGNATURE, /* the signature does not verify */
	PROOF_FAULT_COUNT
};
/* "prefix", "base32", ...; "ok" for PROOF_OK; NULL for another value. */
const char *proof_fault_name(int fault);

/* What a receipt's QR says. */
struct proof_receipt {
	char kiosk_id[PROOF_KIOSK_ID_MAX + 1];
	uint8_t key_id[PROOF_KEY_ID_BYTES]; /* filled by proof_sign from the key */
	int64_t seq;                        /* >= 1 */
	uint8_t tx_uuid[16];
	int64_t time_s;   /* >= 0 */
	int64_t paid_fils; /* >= 0 */
	char currency[4]; /* "AED" */
	int64_t lines;    /* >= 1 */
};

/* The kiosk's receipt key. Holds the seed: wipe with proof_key_wipe after use. */
struct proof_key {
	uint8_t seed[PROOF_SEED_BYTES];
	uint8_t pub[PROOF_PUB_BYTES];
	uint8_t key_id[PROOF_KEY_ID_BYTES];
};

/* seed = HMAC-SHA256(secret, PROOF_SEED_LABEL). The host does this from each kiosk's stored
 * chain key, the kiosk from its ledger secret: no second secret exists. */
void proof_seed_from_secret(const uint8_t secret[PROOF_SECRET_BYTES], uint8_t seed[PROOF_SEED_BYTES]);
/* The Ed25519 key pair of seed (RFC 8032 5.1.5) and its key id. */
void proof_key_from_seed(const uint8_t seed[PROOF_SEED_BYTES], struct proof_key *out);
/* proof_seed_from_secret then proof_key_from_seed. */
void proof_key_from_secret(const uint8_t secret[PROOF_SECRET_BYTES], struct proof_key *out);
void proof_key_id_of(const uint8_t pub[PROOF_PUB_BYTES], uint8_t key_id[PROOF_KEY_ID_BYTES]);
void proof_key_wipe(struct proof_key *key);

/* Ed25519 (nettle ed25519_sha512): sign msg with key; verify a signature with a public key. */
void proof_ed25519_sign(const struct proof_key *key, const uint8_t *msg, size_t len, uint8_t sig[PROOF_SIG_BYTES]);
bool proof_ed25519_verify(const uint8_t pub[PROOF_PUB_BYTES], const uint8_t *msg, size_t len,
			  const uint8_t sig[PROOF_SIG_BYTES]);

/*
 * The signed TLV of r under key (r->key_id is ignored: the key's is written) into out (cap
 * bytes, PROOF_TLV_MAX is always enough), its length in *len. KIO_ERR_INVALID naming the field
 * for a value the format cannot hold (a kiosk id outside [A-Za-z0-9._-]{1,64}, a seq or lines
 * below 1, a negative time or amount, a currency that is not 3 of A-Z); nothing written then.
 */
int proof_sign(const struct proof_receipt *r, const struct proof_key *key, uint8_t *out, size_t cap, size_t *len,
	       struct kio_error *err);
/* The QR text of r under key: PROOF_QR_PREFIX + base32 of proof_sign's bytes, NUL-ended, into
 * out (cap bytes; PROOF_QR_TEXT_MAX + 1 is always enough). Errors as proof_sign. */
int proof_qr_text(const struct proof_receipt *r, const struct proof_key *key, char *out, size_t cap,
		  struct kio_error *err);

/* A record read back, not yet verified. */
struct proof_parsed {
	struct proof_receipt r;
	uint8_t sig[PROOF_SIG_BYTES];
	uint8_t tlv[PROOF_TLV_MAX];
	size_t signed_len; /* the bytes the signature covers: tlv[0 .. signed_len) */
};

/*
 * Reads a record's bytes (buf, len; never past len) strictly: every tag once, in order, each
 * length exact, no trailing byte. 0, or KIO_ERR_CORRUPT with *fault (may be NULL) saying which
 * kind and err naming the tag and offset. The signature is not checked here.
 */
int proof_tlv_parse(const uint8_t *buf, size_t len, struct proof_parsed *out, enum proof_fault *fault,
		    struct kio_error *err);
/* The same from a QR's text (text, len; need not be NUL-ended): prefix, base32, TLV. */
int proof_qr_parse(const char *text, size_t len, struct proof_parsed *out, enum proof_fault *fault,
		   struct kio_error *err);
/* Verifies p against pub: the key id first (PROOF_FAULT_KEY_ID: the receipt is another key's),
 * then the signature. 0 or KIO_ERR_CORRUPT with *fault and err. */
int proof_verify(const struct proof_parsed *p, const uint8_t pub[PROOF_PUB_BYTES], enum proof_fault *fault,
		 struct kio_error *err);

/* RFC 4648 base32, upper case, no padding. encode: out gets 8 characters per 5 bytes (rounded
 * up) and a NUL; false when cap is too small. decode: the canonical text only (upper case,
 * a possible length, unused bits zero); false naming the offset in *bad_at. */
bool proof_base32_encode(const uint8_t *buf, size_t len, char *out, size_t cap);
bool proof_base32_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *out_len, size_t *bad_at,
			 const char **why);

/* Parses 64 hex digits (either case) into a public key. false for anything else. */
bool proof_pub_parse_hex(const char *hex, uint8_t pub[PROOF_PUB_BYTES]);
/* Formats a uuid's 16 bytes as 36 lowercase characters and a NUL; parses the canonical text
 * back (8-4-4-4-12 hex digits, either case). */
void proof_uuid_format(const uint8_t uuid[16], char out[37]);
bool proof_uuid_parse(const char *text, uint8_t uuid[16]);
