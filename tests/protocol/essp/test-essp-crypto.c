/* eSSP encryption layer: key layout, 64-bit Diffie-Hellman, packet sealing with eLEN,
 * eCOUNT and eCRC checked against a real NV11 reply's decrypted bytes, and the count rule. */
#include <glib.h>
#include <nettle/aes.h>
#include <string.h>

#include "essp-test-util.h"

static void test_key_layout(void)
{
	struct essp_crypto c;
	essp_crypto_init(&c, ESSP_FIXED_KEY_DEFAULT, 0x1122334455667788ull);
	static const uint8_t want[16] = {0x67, 0x45, 0x23, 0x01, 0x67, 0x45, 0x23, 0x01,
					 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
	g_assert_cmpmem(c.key, 16, want, 16);
	g_assert_cmpuint(c.count, ==, 0);
}

static void test_dh(void)
{
	/* GA138's Set Generator / Set Modulus examples. */
	const uint64_t g = 982451653, p = 1287821;
	g_assert_true(essp_is_prime(g));
	g_assert_true(essp_is_prime(p));
	g_assert_true(essp_is_prime(2));
	g_assert_true(essp_is_prime(2305843009213693951ull)); /* 2^61 - 1 */
	g_assert_false(essp_is_prime(0));
	g_assert_false(essp_is_prime(1));
	g_assert_false(essp_is_prime(561));                   /* Carmichael */
	g_assert_false(essp_is_prime(3215031751ull));         /* strong pseudoprime to 2,3,5,7 */
	g_assert_false(essp_is_prime(p * 3));

	const uint64_t host_rnd = 1234567, dev_rnd = 7654321;
	uint64_t host_inter = essp_dh_powmod(g, host_rnd, p);
	uint64_t dev_inter = essp_dh_powmod(g, dev_rnd, p);
	uint64_t k1 = essp_dh_powmod(dev_inter, host_rnd, p);
	uint64_t k2 = essp_dh_powmod(host_inter, dev_rnd, p);
	g_assert_cmpuint(k1, ==, k2);
	g_assert_cmpuint(host_inter, <, p);
	g_assert_cmpuint(essp_dh_powmod(3, 4, 5), ==, 1);     /* 81 mod 5 */
	g_assert_cmpuint(essp_dh_powmod(2, 64, UINT64_MAX), ==, 1);
	g_assert_cmpuint(essp_dh_powmod(5, 0, 1), ==, 0);
}

static void test_seal_layout(void)
{
	/* A real decrypted NV11 poll reply (research §1.7): eLEN 2, eCOUNT 7, F0 C6, seven
	 * padding bytes, eCRC 06 F4. Sealing the same parts must give exactly that block. */
	uint8_t want[16];
	hex_bytes("02 07 00 00 00 F0 C6 BA B3 78 19 66 EF 04 06 F4", want, sizeof(want));
	struct essp_crypto c;
	essp_crypto_init(&c, ESSP_FIXED_KEY_DEFAULT, 0xDEADBEEFull);
	static const uint8_t data[] = {0xF0, 0xC6};
	static const uint8_t pad[16] = {0xBA, 0xB3, 0x78, 0x19, 0x66, 0xEF, 0x04};
	struct essp_cmd sealed;
	g_assert_cmpint(essp_crypto_seal(&c, 7, data, sizeof(data), pad, &sealed), ==, 0);
	g_assert_cmpuint(sealed.len, ==, 17);
	g_assert_cmphex(sealed.data[0], ==, ESSP_STEX);

	struct aes128_ctx aes;
	uint8_t plain[16];
	aes128_set_decrypt_key(&aes, c.key);
	aes128_decrypt(&aes, 16, plain, sealed.data + 1);
	g_assert_cmpmem(plain, 16, want, 16);

	uint8_t out[ESSP_DATA_MAX];
	size_t out_len = 0;
	uint32_t count = 0;
	g_assert_cmpint(essp_crypto_open(&c, sealed.data, sealed.len, out, &out_len, &count, NULL), ==, 0);
	g_assert_cmpuint(count, ==, 7);
	g_assert_cmpmem(out, out_len, data, sizeof(data));

	/* Sizes: 9 bytes of eDATA still fit one block; 10 need two. */
	uint8_t big[ESSP_CRYPTO_DATA_MAX + 1];
	memset(big, 0x7F, sizeof(big));
	g_assert_cmpint(essp_crypto_seal(&c, 0, big, 9, pad, &sealed), ==, 0);
	g_assert_cmpuint(sealed.len, ==, 17);
	g_assert_cmpint(essp_crypto_seal(&c, 0, big, 10, pad, &sealed), ==, 0);
	g_assert_cmpuint(sealed.len, ==, 33);
	g_assert_cmpint(essp_crypto_seal(&c, 0, big, ESSP_CRYPTO_DATA_MAX, pad, &sealed), ==, 0);
	g_assert_cmpuint(sealed.len, ==, 241);
	g_assert_cmpint(essp_crypto_seal(&c, 0, big, ESSP_CRYPTO_DATA_MAX + 1, pad, &sealed), ==, KIO_ERR_INVALID);
	g_assert_cmpint(essp_crypto_seal(&c, 0, big, 0, pad, &sealed), ==, KIO_ERR_INVALID);
	/* The sealed DATA frames like any other. */
	uint8_t wire[ESSP_WIRE_MAX];
	size_t n;
	g_assert_cmpint(essp_frame_encode(0x80, sealed.data, sealed.len, wire, sizeof(wire), &n), ==, 0);
	struct essp_frame f;
	decode_one(wire, n, &f);
	g_assert_cmpint(essp_crypto_open(&c, f.data, f.len, out, &out_len, &count, NULL), ==, 0);
	g_assert_cmpuint(out_len, ==, ESSP_CRYPTO_DATA_MAX);
}

static void test_host_count_rule(void)
{
	struct essp_crypto host, dev;
	essp_crypto_init(&host, ESSP_FIXED_KEY_DEFAULT, 42);
	essp_crypto_init(&dev, ESSP_FIXED_KEY_DEFAULT, 42);
	static const uint8_t pad[16] = {0};
	struct essp_cmd poll, sealed, reply;
	struct kio_error err = {0};
	essp_cmd_poll(&poll);

	for (uint32_t round = 0; round < 3; round++) {
		g_assert_cmpint(essp_crypto_host_seal(&host, &poll, pad, &sealed), ==, 0);
		g_assert_cmpuint(host.count, ==, round + 1);
		/* The device side: command carries the old count, reply the new one. */
		uint8_t in[ESSP_DATA_MAX];
		size_t in_len;
		uint32_t count;
		g_assert_cmpint(essp_crypto_open(&dev, sealed.data, sealed.len, in, &in_len, &count, NULL), ==, 0);
		g_assert_cmpuint(count, ==, round);
		g_assert_cmpuint(in_len, ==, 1);
		g_assert_cmphex(in[0], ==, ESSP_CMD_POLL);
		static const uint8_t ok[] = {0xF0, 0xEE, 0x03};
		g_assert_cmpint(essp_crypto_seal(&dev, count + 1, ok, sizeof(ok), pad, &reply), ==, 0);

		uint8_t out[ESSP_DATA_MAX];
		size_t out_len;
		g_assert_cmpint(essp_crypto_host_open(&host, reply.data, reply.len, out, &out_len, &err), ==, 0);
		g_assert_cmpmem(out, out_len, ok, sizeof(ok));
		/* A stale reply (old count) is refused. */
		g_assert_cmpint(essp_crypto_seal(&dev, count, ok, sizeof(ok), pad, &reply), ==, 0);
		g_assert_cmpint(essp_crypto_host_open(&host, reply.data, reply.len, out, &out_len, &err), ==,
				KIO_ERR_PROTOCOL);
		g_assert_nonnull(strstr(err.msg, "eCOUNT"));
	}

	/* Wrong key: the decrypted CRC fails. Misaligned or plain packets are refused. */
	struct essp_crypto other;
	essp_crypto_init(&other, ESSP_FIXED_KEY_DEFAULT, 43);
	uint8_t out[ESSP_DATA_MAX];
	size_t out_len;
	uint32_t count;
	g_assert_cmpint(essp_crypto_host_seal(&host, &poll, pad, &sealed), ==, 0);
	g_assert_cmpint(essp_crypto_open(&other, sealed.data, sealed.len, out, &out_len, &count, &err), ==,
			KIO_ERR_PROTOCOL);
	/* Garbage plaintext: caught by the eLEN bound or, failing that, by the eCRC. */
	g_assert_true(strstr(err.msg, "CRC") || strstr(err.msg, "eLEN"));
	g_assert_cmpint(essp_crypto_open(&host, sealed.data, sealed.len - 1, out, &out_len, &count, NULL), ==,
			KIO_ERR_PROTOCOL);
	static const uint8_t plain_ok[] = {0xF0};
	g_assert_cmpint(essp_crypto_open(&host, plain_ok, 1, out, &out_len, &count, NULL), ==, KIO_ERR_PROTOCOL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/essp/crypto/key-layout", test_key_layout);
	g_test_add_func("/essp/crypto/dh", test_dh);
	g_test_add_func("/essp/crypto/seal-layout", test_seal_layout);
	g_test_add_func("/essp/crypto/count-rule", test_host_count_rule);
	return g_test_run();
}
