/* Unit tests of the receipt proof (kiosk/proof/proof.h): Ed25519 through nettle against RFC
 * 8032's vectors, the key's derivation against GLib's own HMAC and SHA-256, base32 against RFC
 * 4648's vectors, the record's round trip, every tamper of every field, and each kind of bad
 * input refused with its fault. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/store.h"
#include "kiosk/proof/proof.h"

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
	g_assert_cmpuint(strlen(hex), ==, 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		g_assert_cmpint(sscanf(hex + 2 * i, "%2x", &v), ==, 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 8032 section 7.1, TEST 1, 2 and 3: seed, public key, message, signature. */
static void test_rfc8032(void)
{
	static const struct {
		const char *seed, *pub, *msg, *sig;
	} v[] = {
		{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		 "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
		{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		 "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		 "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
		{"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		 "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		 "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
		uint8_t seed[32], pub[32], sig[64], msg[2], got[64];
		size_t n = strlen(v[i].msg) / 2;
		hex_to(v[i].seed, seed, 32);
		hex_to(v[i].pub, pub, 32);
		hex_to(v[i].sig, sig, 64);
		hex_to(v[i].msg, msg, n);
		struct proof_key k;
		proof_key_from_seed(seed, &k);
		g_assert_cmpmem(k.pub, 32, pub, 32);
		proof_ed25519_sign(&k, msg, n, got);
		g_assert_cmpmem(got, 64, sig, 64);
		g_assert_true(proof_ed25519_verify(pub, msg, n, sig));
		for (size_t b = 0; b < 64 * 8; b += 37) { /* a flipped bit anywhere fails */
			got[b / 8] ^= (uint8_t)(1u << (b % 8));
			g_assert_false(proof_ed25519_verify(pub, msg, n, got));
			got[b / 8] ^= (uint8_t)(1u << (b % 8));
		}
		if (n) {
			msg[0] ^= 1;
			g_assert_false(proof_ed25519_verify(pub, msg, n, sig));
		}
		proof_key_wipe(&k);
	}
}

/* The seed is HMAC-SHA256(secret, label) and the key id SHA-256(pub)[0..3], computed here by
 * GLib, not by nettle. */
static void test_derivation(void)
{
	uint8_t secret[32], seed[32];
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	proof_seed_from_secret(secret, seed);
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, secret, sizeof(secret));
	g_hmac_update(h, (const guchar *)"kiosk-receipt-ed25519-v1", -1);
	uint8_t want[32];
	gsize wl = sizeof(want);
	g_hmac_get_digest(h, want, &wl);
	g_hmac_unref(h);
	g_assert_cmpmem(seed, 32, want, 32);

	struct proof_key k;
	proof_key_from_secret(secret, &k);
	g_assert_cmpmem(k.seed, 32, want, 32);
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(c, k.pub, 32);
	uint8_t d[32];
	gsize dl = sizeof(d);
	g_checksum_get_digest(c, d, &dl);
	g_checksum_free(c);
	g_assert_cmpmem(k.key_id, 4, d, 4);
	proof_key_wipe(&k);
}

/* A real ledger derives the same seed from its secret as the host and the CLI do from the
 * secret file. */
static void test_ledger_seed(void)
{
	char *dir = g_dir_make_tmp("proof-XXXXXX", NULL);
	char *db = g_build_filename(dir, "k.db", NULL);
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(db, &l, &err), ==, 0);
	uint8_t a[32], secret[32], b[32];
	ledger_derive_key(l, PROOF_SEED_LABEL, a);
	ledger_close(l);
	g_assert_cmpint(ledger_secret_read(db, false, secret, &err), ==, 0);
	proof_seed_from_secret(secret, b);
	g_assert_cmpmem(a, 32, b, 32);
	char *files[] = {g_strconcat(db, ".secret", NULL), g_strconcat(db, ".lock", NULL),
			 g_strconcat(db, "-wal", NULL), g_strconcat(db, "-shm", NULL), g_strdup(db)};
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_remove(files[i]);
		g_free(files[i]);
	}
	g_rmdir(dir);
	g_free(db);
	g_free(dir);
}

/* RFC 4648 section 10, without the padding. */
static void test_base32(void)
{
	static const char *const v[][2] = {{"", ""},        {"f", "MY"},          {"fo", "MZXQ"},
					   {"foo", "MZXW6"}, {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"},
					   {"foobar", "MZXW6YTBOI"}};
	for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
		char out[32];
		g_assert_true(proof_base32_encode((const uint8_t *)v[i][0], strlen(v[i][0]), out, sizeof(out)));
		g_assert_cmpstr(out, ==, v[i][1]);
		uint8_t back[16];
		size_t n, bad;
		const char *why;
		g_assert_true(proof_base32_decode(out, strlen(out), back, sizeof(back), &n, &bad, &why));
		g_assert_cmpmem(back, n, v[i][0], strlen(v[i][0]));
	}
	char small[2];
	g_assert_false(proof_base32_encode((const uint8_t *)"f", 1, small, sizeof(small)));
	/* Refused: a length no bytes give, lower case, padding, outside the alphabet, stray bits. */
	static const struct {
		const char *text;
		size_t at;
	} bad[] = {{"M", 1}, {"MZX", 3}, {"MZXW6Y", 6}, {"my", 0}, {"MY==", 2}, {"M1", 1}, {"M8", 1}, {"MZ", 1}};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		uint8_t back[16];
		size_t n, at;
		const char *why = NULL;
		g_assert_false(proof_base32_decode(bad[i].text, strlen(bad[i].text), back, sizeof(back), &n, &at, &why));
		g_assert_nonnull(why);
		g_assert_cmpuint(at, ==, bad[i].at);
	}
}

static struct proof_key test_key(uint8_t fill)
{
	uint8_t secret[32];
	memset(secret, fill, sizeof(secret));
	struct proof_key k;
	proof_key_from_secret(secret, &k);
	return k;
}

static struct proof_receipt sample(void)
{
	struct proof_receipt r = {.seq = 42, .time_s = 1805000000, .paid_fils = 15000, .lines = 1};
	snprintf(r.kiosk_id, sizeof(r.kiosk_id), "KSK-DXB-0042");
	snprintf(r.currency, sizeof(r.currency), "AED");
	g_assert_true(proof_uuid_parse("0f8fad5b-d9cb-469f-a165-70867728950e", r.tx_uuid));
	return r;
}

static void assert_same(const struct proof_receipt *a, const struct proof_receipt *b)
{
	g_assert_cmpstr(a->kiosk_id, ==, b->kiosk_id);
	g_assert_cmpint(a->seq, ==, b->seq);
	g_assert_cmpmem(a->tx_uuid, 16, b->tx_uuid, 16);
	g_assert_cmpint(a->time_s, ==, b->time_s);
	g_assert_cmpint(a->paid_fils, ==, b->paid_fils);
	g_assert_cmpstr(a->currency, ==, b->currency);
	g_assert_cmpint(a->lines, ==, b->lines);
}

static void test_round_trip(void)
{
	struct proof_key k = test_key(3);
	struct proof_receipt cases[4] = {sample(), sample(), sample(), sample()};
	cases[1].seq = 1, cases[1].paid_fils = 0, cases[1].time_s = 0;
	cases[2].seq = INT64_MAX, cases[2].paid_fils = INT64_MAX, cases[2].time_s = INT64_MAX, cases[2].lines = INT64_MAX;
	memset(cases[3].kiosk_id, 'z', PROOF_KIOSK_ID_MAX);
	cases[3].kiosk_id[PROOF_KIOSK_ID_MAX] = '\0';
	cases[3].seq = 256; /* two bytes, the low one zero */
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char text[PROOF_QR_TEXT_MAX + 1];
		struct kio_error err = {0};
		g_assert_cmpint(proof_qr_text(&cases[i], &k, text, sizeof(text), &err), ==, 0);
		g_assert_true(g_str_has_prefix(text, "EDK1:"));
		/* QR alphanumeric mode only: 0-9, A-Z, space $ % * + - . / : */
		for (const char *p = text; *p; p++)
			g_assert_nonnull(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", *p));
		struct proof_parsed p;
		enum proof_fault f = PROOF_FAULT_COUNT;
		g_assert_cmpint(proof_qr_parse(text, strlen(text), &p, &f, &err), ==, 0);
		g_assert_cmpint(f, ==, PROOF_OK);
		assert_same(&p.r, &cases[i]);
		g_assert_cmpmem(p.r.key_id, 4, k.key_id, 4);
		g_assert_cmpint(proof_verify(&p, k.pub, &f, &err), ==, 0);
		g_assert_cmpint(f, ==, PROOF_OK);
		/* Deterministic: the same record twice is the same text (Ed25519 has no nonce). */
		char again[PROOF_QR_TEXT_MAX + 1];
		g_assert_cmpint(proof_qr_text(&cases[i], &k, again, sizeof(again), &err), ==, 0);
		g_assert_cmpstr(again, ==, text);
	}
	/* The sample's size: what the receipt's QR holds. */
	char text[PROOF_QR_TEXT_MAX + 1];
	struct kio_error err = {0};
	struct proof_receipt r = sample();
	g_assert_cmpint(proof_qr_text(&r, &k, text, sizeof(text), &err), ==, 0);
	g_test_message("sample QR text: %zu characters", strlen(text));
	g_assert_cmpuint(strlen(text), <, 240);
	proof_key_wipe(&k);
}

static void sign_bytes(const struct proof_receipt *r, const struct proof_key *k, uint8_t *out, size_t *len)
{
	struct kio_error err = {0};
	g_assert_cmpint(proof_sign(r, k, out, PROOF_TLV_MAX, len, &err), ==, 0);
}

/* Parse then verify: the fault, PROOF_OK when both pass. */
static enum proof_fault check_bytes(const uint8_t *b, size_t n, const uint8_t pub[32], char *msg, size_t msz)
{
	struct proof_parsed p;
	enum proof_fault f = PROOF_FAULT_COUNT;
	struct kio_error err = {0};
	int rc = proof_tlv_parse(b, n, &p, &f, &err);
	if (rc == 0)
		rc = proof_verify(&p, pub, &f, &err);
	g_assert_true(rc == 0 ? f == PROOF_OK : (rc == KIO_ERR_CORRUPT && f != PROOF_OK && err.msg[0]));
	if (msg)
		snprintf(msg, msz, "%s", err.msg);
	return f;
}

/* Every bit of every byte flipped, every field given another value under the old signature:
 * nothing verifies. */
static void test_tamper(void)
{
	struct proof_key k = test_key(5);
	struct proof_receipt r = sample();
	uint8_t good[PROOF_TLV_MAX];
	size_t n;
	sign_bytes(&r, &k, good, &n);
	g_assert_cmpint(check_bytes(good, n, k.pub, NULL, 0), ==, PROOF_OK);
	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			uint8_t t[PROOF_TLV_MAX];
			memcpy(t, good, n);
			t[i] ^= (uint8_t)(1u << bit);
			if (check_bytes(t, n, k.pub, NULL, 0) == PROOF_OK)
				g_error("byte %zu bit %d flipped still verifies", i, bit);
		}
	/* Each field changed to another valid value, the original signature kept. */
	for (int field = 0; field < 8; field++) {
		struct proof_receipt m = r;
		switch (field) {
		case 0: m.kiosk_id[4] = 'X'; break;
		case 1: m.seq++; break;
		case 2: m.tx_uuid[15] ^= 1; break;
		case 3: m.time_s--; break;
		case 4: m.paid_fils += 100; break;
		case 5: memcpy(m.currency, "USD", 4); break;
		case 6: m.lines = 2; break;
		case 7: break; /* the key id: below */
		}
		struct proof_key mk = field == 7 ? test_key(6) : k;
		uint8_t t[PROOF_TLV_MAX];
		size_t tn;
		sign_bytes(&m, &mk, t, &tn);
		/* Splice the good record's signature onto the changed bytes. */
		memcpy(t + tn - 64, good + n - 64, 64);
		char msg[256];
		enum proof_fault want = field == 7 ? PROOF_FAULT_KEY_ID : PROOF_FAULT_SIGNATURE;
		g_assert_cmpint(check_bytes(t, tn, k.pub, msg, sizeof(msg)), ==, want);
		/* Against the other key too: a forger who swaps the key id in is caught by the key. */
		if (field == 7)
			g_assert_cmpint(check_bytes(t, tn, mk.pub, NULL, 0), ==, PROOF_FAULT_SIGNATURE);
		proof_key_wipe(&mk);
	}
	/* The right record under another kiosk's key: the key id says so. */
	struct proof_key other = test_key(9);
	char msg[256];
	g_assert_cmpint(check_bytes(good, n, other.pub, msg, sizeof(msg)), ==, PROOF_FAULT_KEY_ID);
	g_assert_nonnull(strstr(msg, "signed with key"));
	proof_key_wipe(&other);
	proof_key_wipe(&k);
}

/* Writes text of bytes b as a QR text. */
static void qr_of(const uint8_t *b, size_t n, char *out, size_t cap)
{
	memcpy(out, "EDK1:", 5);
	g_assert_true(proof_base32_encode(b, n, out + 5, cap - 5));
}

static enum proof_fault qr_fault(const char *text, char *msg, size_t msz)
{
	struct proof_parsed p;
	enum proof_fault f = PROOF_FAULT_COUNT;
	struct kio_error err = {0};
	int rc = proof_qr_parse(text, strlen(text), &p, &f, &err);
	g_assert_cmpint(rc, ==, KIO_ERR_CORRUPT);
	snprintf(msg, msz, "%s", err.msg);
	return f;
}

/* Each kind of bad input, its fault and its words. */
static void test_bad_inputs(void)
{
	struct proof_key k = test_key(7);
	struct proof_receipt r = sample();
	uint8_t good[PROOF_TLV_MAX + 8];
	size_t n;
	sign_bytes(&r, &k, good, &n);
	char text[PROOF_QR_TEXT_MAX * 2], msg[256];
	qr_of(good, n, text, sizeof(text));

	g_assert_cmpint(qr_fault("https://example.com/x", msg, sizeof(msg)), ==, PROOF_FAULT_PREFIX);
	g_assert_nonnull(strstr(msg, "does not start EDK1:"));
	g_assert_cmpint(qr_fault("", msg, sizeof(msg)), ==, PROOF_FAULT_PREFIX);
	g_assert_cmpint(qr_fault("EDK1", msg, sizeof(msg)), ==, PROOF_FAULT_PREFIX);
	char *lower = g_ascii_strdown(text, -1);
	g_assert_cmpint(qr_fault(lower, msg, sizeof(msg)), ==, PROOF_FAULT_PREFIX);
	g_assert_nonnull(strstr(msg, "lower case"));
	g_free(lower);
	char other[sizeof(text)];
	snprintf(other, sizeof(other), "EDK2:%s", text + 5);
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_VERSION);
	g_assert_nonnull(strstr(msg, "EDK2:"));
	/* The text is (buffer, length), not a string: a refusal quotes its head without reading
	 * past it (ASan caught '%.8s' doing so on the fuzz corpus), and only as printable ASCII,
	 * so no control character or cut UTF-8 reaches a log line or the host's JSON. */
	static const char *const heads[] = {"EDK", "x", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", "\x1b[2Jab", "EDK9"};
	for (size_t i = 0; i < G_N_ELEMENTS(heads); i++) {
		size_t hl = strlen(heads[i]);
		char *exact = g_memdup2(heads[i], hl); /* no NUL after it */
		struct proof_parsed p;
		enum proof_fault hf;
		struct kio_error herr = {0};
		g_assert_cmpint(proof_qr_parse(exact, hl, &p, &hf, &herr), ==, KIO_ERR_CORRUPT);
		g_assert_cmpint(hf, ==, PROOF_FAULT_PREFIX);
		for (const char *c = herr.msg; *c; c++)
			if (*c < 0x20 || *c >= 0x7f)
				g_error("message of head %zu has byte 0x%02x: %s", i, (unsigned char)*c, herr.msg);
		g_free(exact);
	}
	/* Too long to be a receipt at all. */
	char *longer = g_strnfill(PROOF_QR_TEXT_MAX + 1, 'A');
	memcpy(longer, "EDK1:", 5);
	g_assert_cmpint(qr_fault(longer, msg, sizeof(msg)), ==, PROOF_FAULT_PREFIX);
	g_free(longer);

	/* Base32: lower case, padding, a '1', a cut character. */
	snprintf(other, sizeof(other), "%s", text);
	other[10] = (char)g_ascii_tolower(other[10]) == other[10] ? '1' : (char)g_ascii_tolower(other[10]);
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_BASE32);
	g_assert_nonnull(strstr(msg, "character 11"));
	g_assert_cmpuint(strlen(text) + 2, <, sizeof(other));
	memcpy(other, text, strlen(text));
	memcpy(other + strlen(text), "=", 2);
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_BASE32);
	snprintf(other, sizeof(other), "%s", text);
	other[strlen(other) - 1] = '\0'; /* 1 character less: no whole number of bytes, or stray bits */
	enum proof_fault f = qr_fault(other, msg, sizeof(msg));
	g_assert_true(f == PROOF_FAULT_BASE32 || f == PROOF_FAULT_TRUNCATED);
	/* One more character makes a length no whole number of bytes gives (1, 3 or 6 mod 8). */
	size_t more = (strlen(text) - 5 + 1) % 8;
	g_assert_true(more == 1 || more == 3 || more == 6);
	memcpy(other, text, strlen(text));
	memcpy(other + strlen(text), "A", 2);
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_BASE32);
	g_assert_nonnull(strstr(msg, "a character missing, or one too many"));

	/* Truncated: every shorter record. */
	for (size_t cut = 0; cut < n; cut++) {
		qr_of(good, cut, other, sizeof(other));
		g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_TRUNCATED);
	}
	/* Trailing bytes after the signature, one and many. */
	uint8_t t[PROOF_QR_TEXT_MAX];
	memcpy(t, good, n);
	t[n] = 0;
	qr_of(t, n + 1, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_TRAILING);
	g_assert_nonnull(strstr(msg, "1 bytes after the signature"));
	memset(t + n, 0x0A, 100);
	qr_of(t, n + 100, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_TRAILING);

	/* Unknown version; unknown tag; a known tag out of its place (two tags swapped). */
	memcpy(t, good, n);
	t[2] = 2;
	qr_of(t, n, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_VERSION);
	g_assert_nonnull(strstr(msg, "version 2"));
	memcpy(t, good, n);
	t[3] = 0x42; /* the kiosk id's tag */
	qr_of(t, n, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_TAG);
	g_assert_nonnull(strstr(msg, "unknown tag 0x42"));
	memcpy(t, good, n);
	t[3] = PROOF_TAG_SEQ;
	qr_of(t, n, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_TAG);
	g_assert_nonnull(strstr(msg, "out-of-place"));

	/* Fields: a kiosk id with a space; then hand-made records: a version of 2 bytes, a key id of
	 * 3, a seq with a leading zero, a seq of 0, of 9 bytes, past INT64_MAX, an empty kiosk id. */
	memcpy(t, good, n);
	t[5] = ' '; /* inside the kiosk id */
	qr_of(t, n, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_FIELD);
	g_assert_nonnull(strstr(msg, "kiosk id"));
	struct {
		uint8_t bytes[PROOF_TLV_MAX];
		enum proof_fault want;
		const char *says;
	} made[] = {
		{{1, 2, 1, 0}, PROOF_FAULT_FIELD, "version"},
		{{1, 1, 1, 2, 1, 'K', 3, 3, 1, 2, 3}, PROOF_FAULT_FIELD, "key id"},
		{{1, 1, 1, 2, 1, 'K', 3, 4, 1, 2, 3, 4, 4, 2, 0, 5}, PROOF_FAULT_FIELD, "transaction number"},
		{{1, 1, 1, 2, 1, 'K', 3, 4, 1, 2, 3, 4, 4, 1, 0}, PROOF_FAULT_FIELD, "transaction number"},
		{{1, 1, 1, 2, 1, 'K', 3, 4, 1, 2, 3, 4, 4, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1}, PROOF_FAULT_FIELD,
		 "transaction number"},
		{{1, 1, 1, 2, 1, 'K', 3, 4, 1, 2, 3, 4, 4, 8, 0x80, 0, 0, 0, 0, 0, 0, 0}, PROOF_FAULT_FIELD,
		 "transaction number"},
		{{1, 1, 1, 2, 0}, PROOF_FAULT_FIELD, "kiosk id"},
	};
	/* Each ends right after its faulty field, so the fault is the field's, not a cut. */
	static const size_t made_len[] = {4, 11, 16, 15, 23, 22, 5};
	for (size_t i = 0; i < G_N_ELEMENTS(made); i++) {
		struct proof_parsed p;
		enum proof_fault ff = PROOF_FAULT_COUNT;
		struct kio_error err = {0};
		g_assert_cmpint(proof_tlv_parse(made[i].bytes, made_len[i], &p, &ff, &err), ==, KIO_ERR_CORRUPT);
		if (ff != made[i].want || !strstr(err.msg, made[i].says))
			g_error("made record %zu: fault %s, '%s'", i, proof_fault_name(ff), err.msg);
	}
	/* A currency in lower case, a lines of 0: signed properly, still refused at the field. */
	memcpy(t, good, n);
	size_t cur = n - 66 - 3 - 5; /* the currency's tag: before lines (3 bytes) and signature */
	g_assert_cmpint(t[cur], ==, PROOF_TAG_CURRENCY);
	t[cur + 2] = 'a';
	qr_of(t, n, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_FIELD);
	g_assert_nonnull(strstr(msg, "currency"));
	memcpy(t, good, n);
	g_assert_cmpint(t[n - 66 - 3], ==, PROOF_TAG_LINES);
	t[n - 66 - 1] = 0;
	qr_of(t, n, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_FIELD);
	g_assert_nonnull(strstr(msg, "number of lines"));
	/* A 63-byte signature with a byte of something after it: the length is the signature's. */
	memcpy(t, good, n);
	t[n - 65] = 63;
	qr_of(t, n, other, sizeof(other));
	g_assert_cmpint(qr_fault(other, msg, sizeof(msg)), ==, PROOF_FAULT_FIELD);
	g_assert_nonnull(strstr(msg, "signature"));

	/* A bad signature: the text itself, its last signature byte changed. */
	memcpy(t, good, n);
	t[n - 1] ^= 0x40;
	qr_of(t, n, other, sizeof(other));
	struct proof_parsed p;
	struct kio_error err = {0};
	g_assert_cmpint(proof_qr_parse(other, strlen(other), &p, &f, &err), ==, 0);
	g_assert_cmpint(proof_verify(&p, k.pub, &f, &err), ==, KIO_ERR_CORRUPT);
	g_assert_cmpint(f, ==, PROOF_FAULT_SIGNATURE);
	g_assert_nonnull(strstr(err.msg, "does not verify"));
	proof_key_wipe(&k);
}

/* What the writer refuses, and that it says which. */
static void test_sign_refuses(void)
{
	struct proof_key k = test_key(8);
	struct proof_receipt bad[6];
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		bad[i] = sample();
	snprintf(bad[0].kiosk_id, sizeof(bad[0].kiosk_id), "KSK DXB");
	bad[1].kiosk_id[0] = '\0';
	bad[2].seq = 0;
	bad[3].paid_fils = -1;
	bad[4].lines = 0;
	snprintf(bad[5].currency, sizeof(bad[5].currency), "ae");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		uint8_t out[PROOF_TLV_MAX];
		size_t len = 99;
		struct kio_error err = {0};
		g_assert_cmpint(proof_sign(&bad[i], &k, out, sizeof(out), &len, &err), ==, KIO_ERR_INVALID);
		g_assert_cmpuint(len, ==, 0);
		g_assert_true(g_str_has_prefix(err.msg, "receipt proof: "));
	}
	char small[40];
	struct kio_error err = {0};
	struct proof_receipt r = sample();
	g_assert_cmpint(proof_qr_text(&r, &k, small, sizeof(small), &err), ==, KIO_ERR_INVALID);
	proof_key_wipe(&k);
}

static void test_hex_uuid(void)
{
	uint8_t pub[32], u[16];
	g_assert_true(proof_pub_parse_hex("D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A", pub));
	g_assert_cmpint(pub[0], ==, 0xd7);
	g_assert_false(proof_pub_parse_hex("d75a", pub));
	g_assert_false(proof_pub_parse_hex("g75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", pub));
	g_assert_true(proof_uuid_parse("0F8FAD5B-D9CB-469F-A165-70867728950E", u));
	char back[37];
	proof_uuid_format(u, back);
	g_assert_cmpstr(back, ==, "0f8fad5b-d9cb-469f-a165-70867728950e");
	g_assert_false(proof_uuid_parse("0f8fad5bd9cb-469f-a165-70867728950e0", u));
	g_assert_false(proof_uuid_parse("0f8fad5b-d9cb-469f-a165-70867728950", u));
	g_assert_cmpstr(proof_fault_name(PROOF_FAULT_KEY_ID), ==, "key-id");
	g_assert_null(proof_fault_name(PROOF_FAULT_COUNT));
	for (int i = 0; i < PROOF_FAULT_COUNT; i++)
		g_assert_nonnull(proof_fault_name(i));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proof/rfc8032", test_rfc8032);
	g_test_add_func("/proof/derivation", test_derivation);
	g_test_add_func("/proof/ledger-seed", test_ledger_seed);
	g_test_add_func("/proof/base32", test_base32);
	g_test_add_func("/proof/round-trip", test_round_trip);
	g_test_add_func("/proof/tamper", test_tamper);
	g_test_add_func("/proof/bad-inputs", test_bad_inputs);
	g_test_add_func("/proof/sign-refuses", test_sign_refuses);
	g_test_add_func("/proof/hex-uuid", test_hex_uuid);
	return g_test_run();
}
