/* The signed receipt record: TLV writer and strict reader, base32, Ed25519 keys (proof.h). */
#include "kiosk/proof/proof.h"

#include <inttypes.h>
#include <nettle/eddsa.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const fault_names[PROOF_FAULT_COUNT] = {
	[PROOF_OK] = "ok",
	[PROOF_FAULT_PREFIX] = "prefix",
	[PROOF_FAULT_BASE32] = "base32",
	[PROOF_FAULT_TRUNCATED] = "truncated",
	[PROOF_FAULT_TRAILING] = "trailing",
	[PROOF_FAULT_VERSION] = "version",
	[PROOF_FAULT_TAG] = "tag",
	[PROOF_FAULT_FIELD] = "field",
	[PROOF_FAULT_KEY_ID] = "key-id",
	[PROOF_FAULT_SIGNATURE] = "signature",
};

const char *proof_fault_name(int fault)
{
	return fault >= 0 && fault < PROOF_FAULT_COUNT ? fault_names[fault] : NULL;
}

/* ---- keys ---- */

void proof_seed_from_secret(const uint8_t secret[PROOF_SECRET_BYTES], uint8_t seed[PROOF_SEED_BYTES])
{
	struct hmac_sha256_ctx h;
	hmac_sha256_set_key(&h, PROOF_SECRET_BYTES, secret);
	hmac_sha256_update(&h, strlen(PROOF_SEED_LABEL), (const uint8_t *)PROOF_SEED_LABEL);
	hmac_sha256_digest(&h, PROOF_SEED_BYTES, seed);
	explicit_bzero(&h, sizeof(h));
}

void proof_key_id_of(const uint8_t pub[PROOF_PUB_BYTES], uint8_t key_id[PROOF_KEY_ID_BYTES])
{
	struct sha256_ctx s;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&s);
	sha256_update(&s, PROOF_PUB_BYTES, pub);
	sha256_digest(&s, sizeof(d), d);
	memcpy(key_id, d, PROOF_KEY_ID_BYTES);
}

void proof_key_from_seed(const uint8_t seed[PROOF_SEED_BYTES], struct proof_key *out)
{
	memcpy(out->seed, seed, PROOF_SEED_BYTES);
	ed25519_sha512_public_key(out->pub, out->seed);
	proof_key_id_of(out->pub, out->key_id);
}

void proof_key_from_secret(const uint8_t secret[PROOF_SECRET_BYTES], struct proof_key *out)
{
	uint8_t seed[PROOF_SEED_BYTES];
	proof_seed_from_secret(secret, seed);
	proof_key_from_seed(seed, out);
	explicit_bzero(seed, sizeof(seed));
}

void proof_key_wipe(struct proof_key *key)
{
	explicit_bzero(key, sizeof(*key));
}

void proof_ed25519_sign(const struct proof_key *key, const uint8_t *msg, size_t len, uint8_t sig[PROOF_SIG_BYTES])
{
	ed25519_sha512_sign(key->pub, key->seed, len, msg, sig);
}

bool proof_ed25519_verify(const uint8_t pub[PROOF_PUB_BYTES], const uint8_t *msg, size_t len,
			  const uint8_t sig[PROOF_SIG_BYTES])
{
	return ed25519_sha512_verify(pub, len, msg, sig) == 1;
}

/* ---- base32 (RFC 4648 section 6, no padding) ---- */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bool proof_base32_encode(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	size_t need = (len * 8 + 4) / 5;
	if (need + 1 > cap)
		return false;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | buf[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return true;
}

bool proof_base32_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *out_len, size_t *bad_at,
			 const char **why)
{
	/* Lengths mod 8 that whole bytes give: 0, 2 (1 byte), 4 (2), 5 (3), 7 (4). */
	static const bool possible[8] = {true, false, true, false, true, true, false, true};
	*bad_at = 0;
	*out_len = 0;
	if (!possible[len % 8]) {
		*bad_at = len;
		*why = "its length is no whole number of bytes";
		return false;
	}
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		int v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else {
			*bad_at = i;
			*why = c == '=' ? "padding '=' (the QR text has none)"
			       : (c >= 'a' && c <= 'z') ? "a lower-case letter (the QR text is upper case)"
			       : (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				       ? "a space or line break (the QR text has none)"
				       : "a character outside A-Z and 2-7";
			return false;
		}
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o == cap) {
				*bad_at = i;
				*why = "it is longer than any receipt";
				return false;
			}
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= (1u << bits) - 1;
	}
	/* The last character's unused bits must be zero: one byte string, one text. */
	if (bits > 0 && acc != 0) {
		*bad_at = len - 1;
		*why = "its last character has bits set beyond the data";
		return false;
	}
	*out_len = o;
	return true;
}

/* ---- TLV writer ---- */

struct wbuf {
	uint8_t *p;
	size_t cap, len;
};

static void put(struct wbuf *w, uint8_t tag, const uint8_t *v, size_t n)
{
	/* The caller's cap is checked once up front against PROOF_TLV_MAX's worst case. */
	w->p[w->len++] = tag;
	w->p[w->len++] = (uint8_t)n;
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void put_uint(struct wbuf *w, uint8_t tag, uint64_t v)
{
	uint8_t b[8];
	size_t n = 0;
	for (int shift = 56; shift >= 0; shift -= 8) {
		uint8_t byte = (uint8_t)(v >> shift);
		if (n == 0 && byte == 0 && shift > 0)
			continue;
		b[n++] = byte;
	}
	put(w, tag, b, n);
}

static bool kiosk_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

static bool kiosk_id_ok(const char *s, size_t n)
{
	if (n < 1 || n > PROOF_KIOSK_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!kiosk_char(s[i]))
			return false;
	return true;
}

static bool currency_ok(const char *s, size_t n)
{
	if (n != 3)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

int proof_sign(const struct proof_receipt *r, const struct proof_key *key, uint8_t *out, size_t cap, size_t *len,
	       struct kio_error *err)
{
	*len = 0;
	size_t kl = strnlen(r->kiosk_id, sizeof(r->kiosk_id));
	if (!kiosk_id_ok(r->kiosk_id, kl))
		return kio_fail(err, KIO_ERR_INVALID,
				"receipt proof: kiosk id '%.64s' is not 1..64 of A-Z a-z 0-9 . _ - (as the host enrols it)",
				r->kiosk_id);
	if (r->seq < 1 || r->lines < 1 || r->time_s < 0 || r->paid_fils < 0)
		return kio_fail(err, KIO_ERR_INVALID,
				"receipt proof: seq %" PRId64 ", lines %" PRId64 ", time %" PRId64 ", paid %" PRId64
				" fils: seq and lines are at least 1, time and amount not negative",
				r->seq, r->lines, r->time_s, r->paid_fils);
	if (!currency_ok(r->currency, strnlen(r->currency, sizeof(r->currency))))
		return kio_fail(err, KIO_ERR_INVALID, "receipt proof: currency '%.3s' is not 3 letters A-Z", r->currency);
	if (cap < PROOF_TLV_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "receipt proof: %zu bytes of room, %d needed", cap, PROOF_TLV_MAX);
	struct wbuf w = {out, cap, 0};
	uint8_t version = PROOF_VERSION;
	put(&w, PROOF_TAG_VERSION, &version, 1);
	put(&w, PROOF_TAG_KIOSK, (const uint8_t *)r->kiosk_id, kl);
	put(&w, PROOF_TAG_KEY_ID, key->key_id, PROOF_KEY_ID_BYTES);
	put_uint(&w, PROOF_TAG_SEQ, (uint64_t)r->seq);
	put(&w, PROOF_TAG_TX_UUID, r->tx_uuid, 16);
	put_uint(&w, PROOF_TAG_TIME, (uint64_t)r->time_s);
	put_uint(&w, PROOF_TAG_PAID, (uint64_t)r->paid_fils);
	put(&w, PROOF_TAG_CURRENCY, (const uint8_t *)r->currency, 3);
	put_uint(&w, PROOF_TAG_LINES, (uint64_t)r->lines);
	uint8_t sig[PROOF_SIG_BYTES];
	proof_ed25519_sign(key, out, w.len, sig);
	put(&w, PROOF_TAG_SIGNATURE, sig, sizeof(sig));
	*len = w.len;
	return 0;
}

int proof_qr_text(const struct proof_receipt *r, const struct proof_key *key, char *out, size_t cap,
		  struct kio_error *err)
{
	uint8_t tlv[PROOF_TLV_MAX];
	size_t len;
	int rc = proof_sign(r, key, tlv, sizeof(tlv), &len, err);
	if (rc)
		return rc;
	size_t pl = strlen(PROOF_QR_PREFIX);
	if (cap < pl + 1 || !proof_base32_encode(tlv, len, out + pl, cap - pl))
		return kio_fail(err, KIO_ERR_INVALID, "receipt proof: %zu bytes of room for the QR text", cap);
	memcpy(out, PROOF_QR_PREFIX, pl);
	return 0;
}

/* ---- TLV reader ---- */

/* The longest record: 10 tags and lengths, version 1, kiosk 64, key id 4, seq, time, paid and
 * lines 8 each, uuid 16, currency 3, signature 64. */
_Static_assert(10 * 2 + 1 + PROOF_KIOSK_ID_MAX + PROOF_KEY_ID_BYTES + 4 * 8 + 16 + 3 + PROOF_SIG_BYTES <= PROOF_TLV_MAX,
	       "a record always fits PROOF_TLV_MAX");

static const char *tag_name(int tag)
{
	switch (tag) {
	case PROOF_TAG_VERSION: return "version";
	case PROOF_TAG_KIOSK: return "kiosk id";
	case PROOF_TAG_KEY_ID: return "key id";
	case PROOF_TAG_SEQ: return "transaction number";
	case PROOF_TAG_TX_UUID: return "transaction uuid";
	case PROOF_TAG_TIME: return "time";
	case PROOF_TAG_PAID: return "amount paid";
	case PROOF_TAG_CURRENCY: return "currency";
	case PROOF_TAG_LINES: return "number of lines";
	case PROOF_TAG_SIGNATURE: return "signature";
	default: return "unknown";
	}
}

static int refuse(enum proof_fault *fault, enum proof_fault f, struct kio_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(enum proof_fault *fault, enum proof_fault f, struct kio_error *err, const char *fmt, ...)
{
	if (fault)
		*fault = f;
	va_list ap;
	va_start(ap, fmt);
	kio_vfail(err, KIO_ERR_CORRUPT, fmt, ap);
	va_end(ap);
	return KIO_ERR_CORRUPT;
}

/* A canonical unsigned: 1..8 bytes, no leading zero byte, at most INT64_MAX. */
static bool get_uint(const uint8_t *v, size_t n, int64_t *out)
{
	if (n < 1 || n > 8 || (n > 1 && v[0] == 0) || (n == 8 && v[0] & 0x80))
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++)
		x = (x << 8) | v[i];
	*out = (int64_t)x;
	return true;
}

int proof_tlv_parse(const uint8_t *buf, size_t len, struct proof_parsed *out, enum proof_fault *fault,
		    struct kio_error *err)
{
	static const uint8_t order[] = {PROOF_TAG_VERSION, PROOF_TAG_KIOSK, PROOF_TAG_KEY_ID, PROOF_TAG_SEQ,
					PROOF_TAG_TX_UUID, PROOF_TAG_TIME, PROOF_TAG_PAID, PROOF_TAG_CURRENCY,
					PROOF_TAG_LINES, PROOF_TAG_SIGNATURE};
	memset(out, 0, sizeof(*out));
	if (fault)
		*fault = PROOF_OK;
	size_t at = 0;
	for (size_t k = 0; k < sizeof(order); k++) {
		uint8_t want = order[k];
		if (at >= len)
			return refuse(fault, PROOF_FAULT_TRUNCATED, err, "receipt: it ends at byte %zu, before the %s",
				      at, tag_name(want));
		uint8_t tag = buf[at];
		if (tag != want) {
			bool known = tag >= PROOF_TAG_VERSION && tag <= PROOF_TAG_SIGNATURE;
			return refuse(fault, PROOF_FAULT_TAG, err, "receipt: byte %zu: %s tag 0x%02x where the %s belongs",
				      at, known ? "the out-of-place" : "unknown", tag, tag_name(want));
		}
		if (at + 2 > len)
			return refuse(fault, PROOF_FAULT_TRUNCATED, err, "receipt: the %s at byte %zu has no length",
				      tag_name(want), at);
		size_t n = buf[at + 1];
		const uint8_t *v = buf + at + 2;
		if (at + 2 + n > len)
			return refuse(fault, PROOF_FAULT_TRUNCATED, err,
				      "receipt: the %s at byte %zu says %zu bytes, %zu are left", tag_name(want), at, n,
				      len - at - 2);
		struct proof_receipt *r = &out->r;
		bool ok = true;
		switch (want) {
		case PROOF_TAG_VERSION:
			if (n != 1)
				ok = false;
			else if (v[0] != PROOF_VERSION)
				return refuse(fault, PROOF_FAULT_VERSION, err,
					      "receipt: version %u, this verifier knows version %d", v[0], PROOF_VERSION);
			break;
		case PROOF_TAG_KIOSK:
			ok = kiosk_id_ok((const char *)v, n);
			if (ok)
				memcpy(r->kiosk_id, v, n);
			break;
		case PROOF_TAG_KEY_ID:
			ok = n == PROOF_KEY_ID_BYTES;
			if (ok)
				memcpy(r->key_id, v, n);
			break;
		case PROOF_TAG_SEQ: ok = get_uint(v, n, &r->seq) && r->seq >= 1; break;
		case PROOF_TAG_TX_UUID:
			ok = n == 16;
			if (ok)
				memcpy(r->tx_uuid, v, n);
			break;
		case PROOF_TAG_TIME: ok = get_uint(v, n, &r->time_s); break;
		case PROOF_TAG_PAID: ok = get_uint(v, n, &r->paid_fils); break;
		case PROOF_TAG_CURRENCY:
			ok = currency_ok((const char *)v, n);
			if (ok)
				memcpy(r->currency, v, 3);
			break;
		case PROOF_TAG_LINES: ok = get_uint(v, n, &r->lines) && r->lines >= 1; break;
		case PROOF_TAG_SIGNATURE:
			ok = n == PROOF_SIG_BYTES;
			if (ok) {
				memcpy(out->sig, v, n);
				out->signed_len = at;
			}
			break;
		}
		if (!ok)
			return refuse(fault, PROOF_FAULT_FIELD, err, "receipt: the %s at byte %zu (%zu bytes) is not allowed",
				      tag_name(want), at, n);
		at += 2 + n;
	}
	if (at != len)
		return refuse(fault, PROOF_FAULT_TRAILING, err, "receipt: %zu bytes after the signature", len - at);
	/* The whole record fits out->tlv (the _Static_assert above). */
	memcpy(out->tlv, buf, at);
	return 0;
}

/* The first bytes of text (text, len: not NUL-ended) for a message, as printable ASCII: a
 * refusal quotes what it was given without reading past it, and never puts a control
 * character or a cut UTF-8 sequence into a log line or the host's JSON answer. */
static const char *head_of(const char *text, size_t len, char out[9])
{
	size_t n = len < 8 ? len : 8;
	for (size_t i = 0; i < n; i++)
		out[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
	out[n] = '\0';
	return out;
}

int proof_qr_parse(const char *text, size_t len, struct proof_parsed *out, enum proof_fault *fault,
		   struct kio_error *err)
{
	char head[9];
	memset(out, 0, sizeof(*out));
	size_t pl = strlen(PROOF_QR_PREFIX);
	if (len > PROOF_QR_TEXT_MAX)
		return refuse(fault, PROOF_FAULT_PREFIX, err, "receipt: %zu characters; a receipt's QR text is at most %d",
			      len, PROOF_QR_TEXT_MAX);
	if (len >= pl && strncasecmp(text, PROOF_QR_PREFIX, pl) == 0 && memcmp(text, PROOF_QR_PREFIX, pl) != 0)
		return refuse(fault, PROOF_FAULT_PREFIX, err,
			      "receipt: the text is in lower case ('%.5s'); a receipt's QR text is upper case, as scanned",
			      head_of(text, len, head));
	if (len < pl || memcmp(text, PROOF_QR_PREFIX, pl) != 0) {
		/* Another version's text is told apart from something that is no receipt at all. */
		bool other = len >= pl && memcmp(text, "EDK", 3) == 0 && text[4] == ':';
		return refuse(fault, other ? PROOF_FAULT_VERSION : PROOF_FAULT_PREFIX, err,
			      other ? "receipt: the text starts '%.5s', this verifier reads " PROOF_QR_PREFIX
				    : "receipt: the text does not start " PROOF_QR_PREFIX " (it is no e-Dirham receipt: '%s')",
			      head_of(text, len, head));
	}
	/* Room for the longest text's bytes, so bytes past a record are named as such. */
	uint8_t bytes[PROOF_QR_TEXT_MAX * 5 / 8 + 1];
	size_t n, bad_at;
	const char *why = "";
	if (!proof_base32_decode(text + pl, len - pl, bytes, sizeof(bytes), &n, &bad_at, &why)) {
		if (bad_at == len - pl)
			return refuse(fault, PROOF_FAULT_BASE32, err,
				      "receipt: %zu base32 characters: %s (a character missing, or one too many)", len - pl,
				      why);
		return refuse(fault, PROOF_FAULT_BASE32, err, "receipt: character %zu of the text: %s", pl + bad_at + 1,
			      why);
	}
	return proof_tlv_parse(bytes, n, out, fault, err);
}

int proof_verify(const struct proof_parsed *p, const uint8_t pub[PROOF_PUB_BYTES], enum proof_fault *fault,
		 struct kio_error *err)
{
	uint8_t id[PROOF_KEY_ID_BYTES];
	proof_key_id_of(pub, id);
	if (memcmp(id, p->r.key_id, sizeof(id)) != 0)
		return refuse(fault, PROOF_FAULT_KEY_ID, err,
			      "receipt: signed with key %02x%02x%02x%02x, the public key given is %02x%02x%02x%02x",
			      p->r.key_id[0], p->r.key_id[1], p->r.key_id[2], p->r.key_id[3], id[0], id[1], id[2], id[3]);
	if (p->signed_len == 0 || !proof_ed25519_verify(pub, p->tlv, p->signed_len, p->sig))
		return refuse(fault, PROOF_FAULT_SIGNATURE, err,
			      "receipt: the signature does not verify: the receipt was altered or not made by this kiosk");
	if (fault)
		*fault = PROOF_OK;
	return 0;
}

/* ---- hex and uuids ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool proof_pub_parse_hex(const char *hex, uint8_t pub[PROOF_PUB_BYTES])
{
	if (strlen(hex) != 2 * PROOF_PUB_BYTES)
		return false;
	for (size_t i = 0; i < PROOF_PUB_BYTES; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		pub[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void proof_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

bool proof_uuid_parse(const char *t, uint8_t u[16])
{
	if (strlen(t) != 36)
		return false;
	size_t o = 0;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (t[i++] != '-')
				return false;
			continue;
		}
		int hi = hexval(t[i]), lo = hexval(t[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		u[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return o == 16;
}
