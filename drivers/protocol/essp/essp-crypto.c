/* eSSP encryption layer: 64-bit Diffie-Hellman helpers and the AES-128-ECB packet with
 * eLEN, eCOUNT and eCRC (GA138 "Encryption Layer"). AES comes from nettle. */
#include "essp.h"

#include <nettle/aes.h>
#include <string.h>

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)(((unsigned __int128)a * b) % m);
}

uint64_t essp_dh_powmod(uint64_t base, uint64_t exp, uint64_t m)
{
	uint64_t result = 1 % m;
	base %= m;
	while (exp) {
		if (exp & 1)
			result = mulmod(result, base, m);
		base = mulmod(base, base, m);
		exp >>= 1;
	}
	return result;
}

bool essp_is_prime(uint64_t n)
{
	if (n < 2)
		return false;
	static const uint64_t small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		if (n == small[i])
			return true;
		if (n % small[i] == 0)
			return false;
	}
	/* Miller-Rabin with the first 12 primes as bases is exact below 2^64. */
	uint64_t d = n - 1;
	int r = 0;
	while (!(d & 1)) {
		d >>= 1;
		r++;
	}
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		uint64_t x = essp_dh_powmod(small[i], d, n);
		if (x == 1 || x == n - 1)
			continue;
		bool composite = true;
		for (int k = 1; k < r && composite; k++) {
			x = mulmod(x, x, n);
			composite = x != n - 1;
		}
		if (composite)
			return false;
	}
	return true;
}

void essp_crypto_init(struct essp_crypto *c, uint64_t fixed_key, uint64_t negotiated_key)
{
	for (int i = 0; i < 8; i++) {
		c->key[i] = (uint8_t)(fixed_key >> (8 * i));
		c->key[8 + i] = (uint8_t)(negotiated_key >> (8 * i));
	}
	c->count = 0;
}

int essp_crypto_seal(const struct essp_crypto *c, uint32_t count, const uint8_t *data, size_t len,
		     const uint8_t pad[16], struct essp_cmd *out)
{
	if (len == 0 || len > ESSP_CRYPTO_DATA_MAX)
		return KIO_ERR_INVALID;
	uint8_t plain[ESSP_DATA_MAX - 1];
	size_t total = (len + 7 + 15) / 16 * 16;
	size_t pad_len = total - (len + 7);

	plain[0] = (uint8_t)len;
	for (int i = 0; i < 4; i++)
		plain[1 + i] = (uint8_t)(count >> (8 * i));
	memcpy(plain + 5, data, len);
	memcpy(plain + 5 + len, pad, pad_len);
	uint16_t crc = essp_crc16(0xFFFF, plain, total - 2);
	plain[total - 2] = (uint8_t)(crc & 0xFF);
	plain[total - 1] = (uint8_t)(crc >> 8);

	struct aes128_ctx aes;
	aes128_set_encrypt_key(&aes, c->key);
	out->data[0] = ESSP_STEX;
	aes128_encrypt(&aes, total, out->data + 1, plain); /* ECB: block by block */
	out->len = (uint8_t)(1 + total);
	return 0;
}

int essp_crypto_open(const struct essp_crypto *c, const uint8_t *buf, size_t len, uint8_t *out,
		     size_t *out_len, uint32_t *count, struct kio_error *err)
{
	if (len < 17 || len > ESSP_DATA_MAX || buf[0] != ESSP_STEX || (len - 1) % 16 != 0)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: %zu-byte packet is not an encrypted one", len);
	size_t total = len - 1;
	uint8_t plain[ESSP_DATA_MAX - 1];
	struct aes128_ctx aes;
	aes128_set_decrypt_key(&aes, c->key);
	aes128_decrypt(&aes, total, plain, buf + 1);

	size_t elen = plain[0];
	if (elen == 0 || elen + 7 > total)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: decrypted eLEN %zu does not fit %zu bytes", elen, total);
	/* GA138 says a CRC run over the block including its CRC gives zero; not for this
	 * CRC sent low byte first (research §1.7), so compare instead. */
	uint16_t crc = essp_crc16(0xFFFF, plain, total - 2);
	if ((crc & 0xFF) != plain[total - 2] || (crc >> 8) != plain[total - 1])
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: decrypted packet fails its CRC (wrong key?)");
	*count = (uint32_t)plain[1] | ((uint32_t)plain[2] << 8) | ((uint32_t)plain[3] << 16) |
		 ((uint32_t)plain[4] << 24);
	memcpy(out, plain + 5, elen);
	*out_len = elen;
	return 0;
}

int essp_crypto_host_seal(struct essp_crypto *c, const struct essp_cmd *plain, const uint8_t pad[16],
			  struct essp_cmd *out)
{
	int rc = essp_crypto_seal(c, c->count, plain->data, plain->len, pad, out);
	if (!rc)
		c->count++;
	return rc;
}

int essp_crypto_host_open(const struct essp_crypto *c, const uint8_t *buf, size_t len, uint8_t *out,
			  size_t *out_len, struct kio_error *err)
{
	uint32_t count = 0;
	int rc = essp_crypto_open(c, buf, len, out, out_len, &count, err);
	if (!rc && count != c->count)
		rc = kio_fail(err, KIO_ERR_PROTOCOL, "essp: reply eCOUNT %u, expected %u", count, c->count);
	return rc;
}
