/* Fuzz target: the receipt verifier (kiosk/proof/proof.h), as an inspector's phone or the
 * host's endpoint feeds it: the input is the QR's text. Beyond not crashing: a refusal names
 * one fault of the parser's kinds and says why; a text it reads is the one canonical text of
 * its record (base32 of its bytes again); and a record that verifies under the test key is
 * byte for byte what that key signs for its fields (no second form of a signed receipt). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/proof/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The corpus's valid records are signed with this key: secret 32 x 0x11. */
	static struct proof_key key;
	static int have_key;
	if (!have_key) {
		uint8_t secret[PROOF_SECRET_BYTES];
		memset(secret, 0x11, sizeof(secret));
		proof_key_from_secret(secret, &key);
		have_key = 1;
	}
	struct proof_parsed p;
	enum proof_fault f = PROOF_FAULT_COUNT;
	struct kio_error err = {0};
	int rc = proof_qr_parse((const char *)data, size, &p, &f, &err);
	if (rc) {
		if (rc != KIO_ERR_CORRUPT || f <= PROOF_OK || f >= PROOF_FAULT_KEY_ID || !err.msg[0])
			abort();
		return 0;
	}
	if (f != PROOF_OK || p.signed_len == 0)
		abort();
	size_t n = p.signed_len + 2 + PROOF_SIG_BYTES;
	char again[PROOF_QR_TEXT_MAX + 1];
	memcpy(again, PROOF_QR_PREFIX, 5);
	if (!proof_base32_encode(p.tlv, n, again + 5, sizeof(again) - 5) || strlen(again) != size ||
	    memcmp(again, data, size) != 0)
		abort();
	rc = proof_verify(&p, key.pub, &f, &err);
	if (rc) {
		if (rc != KIO_ERR_CORRUPT || (f != PROOF_FAULT_KEY_ID && f != PROOF_FAULT_SIGNATURE) || !err.msg[0])
			abort();
		return 0;
	}
	uint8_t signed_again[PROOF_TLV_MAX];
	size_t len;
	if (proof_sign(&p.r, &key, signed_again, sizeof(signed_again), &len, &err) || len != n ||
	    memcmp(signed_again, p.tlv, n) != 0)
		abort();
	return 0;
}
