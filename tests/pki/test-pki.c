/*
 * The operator's CA (host/pki/pki.h): what pki_ca_init and pki_enrol write, checked with
 * GnuTLS and nettle independently of the library; their refusals; and pki_peer_check on the
 * server side of real mutual-TLS handshakes over a socketpair.
 */
#include "host/pki/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <gnutls/x509.h>
#include <nettle/sha2.h>

#include "kiosk/ledger/chain.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *dir)
{
	g_assert_cmpint(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

struct fixture {
	char *root;  /* a fresh temporary directory */
	char *ca;    /* root/ca, made by pki_ca_init */
};

static void fx_setup(struct fixture *fx, gconstpointer data)
{
	GError *gerr = NULL;
	fx->root = g_dir_make_tmp("test-pki-XXXXXX", &gerr);
	g_assert_no_error(gerr);
	fx->ca = g_build_filename(fx->root, "ca", NULL);
	struct kio_error err = {0};
	int rc = pki_ca_init(fx->ca, "localhost", "127.0.0.1", &err);
	g_assert_cmpint(rc, ==, 0);
}

static void fx_teardown(struct fixture *fx, gconstpointer data)
{
	rm_tree(fx->root);
	g_free(fx->ca);
	g_free(fx->root);
}

static char *path_in(const char *dir, const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static GBytes *slurp(const char *dir, const char *name)
{
	char *p = path_in(dir, name);
	gchar *buf = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	g_file_get_contents(p, &buf, &len, &gerr);
	g_assert_no_error(gerr);
	g_free(p);
	return g_bytes_new_take(buf, len);
}

static void assert_mode(const char *dir, const char *name, mode_t mode)
{
	char *p = path_in(dir, name);
	struct stat st;
	g_assert_cmpint(stat(p, &st), ==, 0);
	g_assert_true(S_ISREG(st.st_mode));
	g_assert_cmpuint(st.st_mode & 07777, ==, mode);
	g_free(p);
}

static gnutls_x509_crt_t load_crt(const char *dir, const char *name)
{
	GBytes *b = slurp(dir, name);
	gsize len;
	gnutls_datum_t pem = {(unsigned char *)g_bytes_get_data(b, &len), 0};
	pem.size = (unsigned)len;
	gnutls_x509_crt_t crt;
	g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM), ==, 0);
	g_bytes_unref(b);
	return crt;
}

/* The fingerprint computed apart from pki.c: the certificate's DER re-encoded by GnuTLS,
 * hashed by nettle (what `certtool --fingerprint --hash sha256` prints, without colons). */
static void independent_fingerprint(gnutls_x509_crt_t crt, char hex[65])
{
	gnutls_datum_t der = {NULL, 0};
	g_assert_cmpint(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), ==, 0);
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, der.size, der.data);
	sha256_digest(&ctx, sizeof digest, digest);
	for (size_t i = 0; i < sizeof digest; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	gnutls_free(der.data);
}

static void assert_verifies(gnutls_x509_crt_t leaf, gnutls_x509_crt_t ca, bool expect)
{
	unsigned status = 0;
	g_assert_cmpint(gnutls_x509_crt_list_verify(&leaf, 1, &ca, 1, NULL, 0, 0, &status), ==, 0);
	if (expect)
		g_assert_cmpuint(status, ==, 0);
	else
		g_assert_cmpuint(status & GNUTLS_CERT_INVALID, !=, 0);
}

static bool has_purpose(gnutls_x509_crt_t crt, const char *oid_want)
{
	for (unsigned i = 0;; i++) {
		char oid[128];
		size_t n = sizeof oid;
		int g = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &n, NULL);
		if (g == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return false;
		g_assert_cmpint(g, >=, 0);
		if (strcmp(oid, oid_want) == 0)
			return true;
	}
}

/* Files in dir, not counting . and .. (temporary files left behind would show here). */
static int count_entries(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return -1;
	int n = 0;
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

/* ---- pki_ca_init ---- */

static void test_ca_files(struct fixture *fx, gconstpointer data)
{
	assert_mode(fx->ca, "ca.key", 0600);
	assert_mode(fx->ca, "host.key", 0600);
	assert_mode(fx->ca, "ca.crt", 0644);
	assert_mode(fx->ca, "host.crt", 0644);
	g_assert_cmpint(count_entries(fx->ca), ==, 4);
	struct stat st;
	g_assert_cmpint(stat(fx->ca, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0700);

	gnutls_x509_crt_t ca = load_crt(fx->ca, "ca.crt");
	gnutls_x509_crt_t host = load_crt(fx->ca, "host.crt");
	unsigned is_ca = 0;
	g_assert_cmpint(gnutls_x509_crt_get_basic_constraints(ca, NULL, &is_ca, NULL), >=, 0);
	g_assert_true(is_ca);
	g_assert_true(gnutls_x509_crt_check_issuer(ca, ca));
	assert_verifies(ca, ca, true);
	assert_verifies(host, ca, true);
	g_assert_true(has_purpose(host, GNUTLS_KP_TLS_WWW_SERVER));
	g_assert_false(has_purpose(host, GNUTLS_KP_TLS_WWW_CLIENT));
	g_assert_cmpint(gnutls_x509_crt_get_pk_algorithm(host, NULL), ==, GNUTLS_PK_ECDSA);

	/* The SANs, read one by one. */
	bool dns = false, ip = false;
	for (unsigned i = 0;; i++) {
		char san[256];
		size_t n = sizeof san;
		int g = gnutls_x509_crt_get_subject_alt_name(host, i, san, &n, NULL);
		if (g == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		g_assert_cmpint(g, >=, 0);
		if (g == GNUTLS_SAN_DNSNAME && n == 9 && memcmp(san, "localhost", 9) == 0)
			dns = true;
		if (g == GNUTLS_SAN_IPADDRESS && n == 4 && memcmp(san, "\x7f\x00\x00\x01", 4) == 0)
			ip = true;
	}
	g_assert_true(dns);
	g_assert_true(ip);
	g_assert_true(gnutls_x509_crt_check_hostname(host, "localhost"));
	g_assert_true(gnutls_x509_crt_check_ip(host, (const unsigned char *)"\x7f\x00\x00\x01", 4, 0));
	g_assert_false(gnutls_x509_crt_check_hostname(host, "example.org"));
	gnutls_x509_crt_deinit(host);
	gnutls_x509_crt_deinit(ca);

	/* The keys parse and are the certificates'. */
	GBytes *kb = slurp(fx->ca, "host.key");
	gsize klen;
	gnutls_datum_t kpem = {(unsigned char *)g_bytes_get_data(kb, &klen), 0};
	kpem.size = (unsigned)klen;
	g_assert_nonnull(strstr((const char *)kpem.data, "-----BEGIN PRIVATE KEY-----"));
	gnutls_x509_privkey_t key;
	g_assert_cmpint(gnutls_x509_privkey_init(&key), ==, 0);
	g_assert_cmpint(gnutls_x509_privkey_import(key, &kpem, GNUTLS_X509_FMT_PEM), ==, 0);
	uint8_t id1[64], id2[64];
	size_t n1 = sizeof id1, n2 = sizeof id2;
	g_assert_cmpint(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, id1, &n1), ==, 0);
	host = load_crt(fx->ca, "host.crt");
	g_assert_cmpint(gnutls_x509_crt_get_key_id(host, GNUTLS_KEYID_USE_SHA256, id2, &n2), ==, 0);
	g_assert_cmpmem(id1, n1, id2, n2);
	gnutls_x509_crt_deinit(host);
	gnutls_x509_privkey_deinit(key);
	g_bytes_unref(kb);
}

static void test_ca_ipv6_and_no_ip(struct fixture *fx, gconstpointer data)
{
	struct kio_error err = {0};
	char *d6 = path_in(fx->root, "ca6");
	g_assert_cmpint(pki_ca_init(d6, "host-1.example", "::1", &err), ==, 0);
	gnutls_x509_crt_t host = load_crt(d6, "host.crt");
	static const unsigned char lo6[16] = {[15] = 1};
	g_assert_true(gnutls_x509_crt_check_ip(host, lo6, 16, 0));
	g_assert_true(gnutls_x509_crt_check_hostname(host, "host-1.example"));
	gnutls_x509_crt_deinit(host);

	/* NULL host_ip: no IP SAN at all. */
	char *dn = path_in(fx->root, "deep/er/ca");
	g_assert_cmpint(pki_ca_init(dn, "host.example", NULL, &err), ==, 0);
	host = load_crt(dn, "host.crt");
	for (unsigned i = 0;; i++) {
		char san[256];
		size_t n = sizeof san;
		int g = gnutls_x509_crt_get_subject_alt_name(host, i, san, &n, NULL);
		if (g == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		g_assert_cmpint(g, ==, GNUTLS_SAN_DNSNAME);
	}
	g_assert_false(gnutls_x509_crt_check_ip(host, (const unsigned char *)"\x7f\x00\x00\x01", 4, 0));
	gnutls_x509_crt_deinit(host);
	g_free(d6);
	g_free(dn);
}

static void test_ca_refusals(struct fixture *fx, gconstpointer data)
{
	struct kio_error err = {0};
	/* An existing CA is never overwritten: named, and its key unchanged. */
	GBytes *before = slurp(fx->ca, "ca.key");
	g_assert_cmpint(pki_ca_init(fx->ca, "localhost", NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "ca.key"));
	GBytes *after = slurp(fx->ca, "ca.key");
	g_assert_true(g_bytes_equal(before, after));
	g_bytes_unref(before);
	g_bytes_unref(after);
	g_assert_cmpint(count_entries(fx->ca), ==, 4);

	/* Any of the other files existing also refuses, and the call leaves nothing. */
	char *d = path_in(fx->root, "half");
	g_assert_cmpint(mkdir(d, 0700), ==, 0);
	char *crt = path_in(d, "host.crt");
	g_assert_true(g_file_set_contents(crt, "x", 1, NULL));
	err = (struct kio_error){0};
	g_assert_cmpint(pki_ca_init(d, "localhost", NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "host.crt"));
	g_assert_cmpint(count_entries(d), ==, 1);

	/* Bad names and addresses: refused before anything is made. */
	static const char *const bad_names[] = {"", "a b", "host/1", "h\xc3\xa9", "a_b"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad_names); i++) {
		char *e = path_in(fx->root, "bad");
		err = (struct kio_error){0};
		g_assert_cmpint(pki_ca_init(e, bad_names[i], NULL, &err), ==, KIO_ERR_INVALID);
		g_assert_nonnull(strstr(err.msg, "host name"));
		g_assert_false(g_file_test(e, G_FILE_TEST_EXISTS));
		g_free(e);
	}
	char *e = path_in(fx->root, "bad");
	g_assert_cmpint(pki_ca_init(e, NULL, NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(pki_ca_init(e, "localhost", "300.1.1.1", &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "300.1.1.1"));
	g_assert_cmpint(pki_ca_init(e, "localhost", "localhost", &err), ==, KIO_ERR_INVALID);
	g_assert_false(g_file_test(e, G_FILE_TEST_EXISTS));
	g_free(e);
	g_free(crt);
	g_free(d);
}

/* ---- pki_enrol ---- */

static void test_enrol_files(struct fixture *fx, gconstpointer data)
{
	char *out = path_in(fx->root, "k1");
	struct pki_enrolment en;
	struct kio_error err = {0};
	int rc = pki_enrol(fx->ca, "K-0001", out, &en, &err);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpstr(en.kiosk_id, ==, "K-0001");
	assert_mode(out, "kiosk.key", 0600);
	assert_mode(out, "ledger.secret", 0600);
	assert_mode(out, "kiosk.crt", 0644);
	assert_mode(out, "host-ca.crt", 0644);
	g_assert_cmpint(count_entries(out), ==, 4);

	/* host-ca.crt is ca.crt, byte for byte. */
	GBytes *a = slurp(fx->ca, "ca.crt"), *b = slurp(out, "host-ca.crt");
	g_assert_true(g_bytes_equal(a, b));
	g_bytes_unref(a);
	g_bytes_unref(b);

	gnutls_x509_crt_t ca = load_crt(fx->ca, "ca.crt");
	gnutls_x509_crt_t crt = load_crt(out, "kiosk.crt");
	assert_verifies(crt, ca, true);
	g_assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT));
	g_assert_false(has_purpose(crt, GNUTLS_KP_TLS_WWW_SERVER));
	char cn[128];
	size_t cn_len = sizeof cn;
	g_assert_cmpint(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_len), ==, 0);
	g_assert_cmpstr(cn, ==, "K-0001");
	unsigned is_ca = 1;
	gnutls_x509_crt_get_basic_constraints(crt, NULL, &is_ca, NULL);
	g_assert_false(is_ca);

	/* Serial: 16 bytes, positive. */
	uint8_t serial[64];
	size_t serial_len = sizeof serial;
	g_assert_cmpint(gnutls_x509_crt_get_serial(crt, serial, &serial_len), ==, 0);
	g_assert_cmpuint(serial_len, ==, 16);
	g_assert_cmpuint(serial[0] & 0x80, ==, 0);

	/* Validity: the default 825 days (within the hour it was backdated). */
	time_t now = time(NULL);
	time_t not_after = gnutls_x509_crt_get_expiration_time(crt);
	time_t not_before = gnutls_x509_crt_get_activation_time(crt);
	g_assert_cmpint(not_before, <=, now);
	g_assert_cmpint(not_after - now, >, 825LL * 86400 - 60);
	g_assert_cmpint(not_after - now, <=, 825LL * 86400);

	/* The fingerprint, computed apart, and through pki_fingerprint_file. */
	char hex[65], hex_file[65];
	independent_fingerprint(crt, hex);
	g_assert_cmpstr(en.fingerprint, ==, hex);
	char *crt_path = path_in(out, "kiosk.crt");
	g_assert_cmpint(pki_fingerprint_file(crt_path, hex_file, &err), ==, 0);
	g_assert_cmpstr(hex_file, ==, hex);

	/* ledger.secret: what the kiosk's ledger reads, holding the key reported. */
	GBytes *s = slurp(out, "ledger.secret");
	gsize slen;
	const uint8_t *sdata = g_bytes_get_data(s, &slen);
	g_assert_cmpuint(slen, ==, LEDGER_SECRET_FILE_BYTES);
	uint8_t key[LEDGER_KEY_BYTES];
	g_assert_cmpint(ledger_secret_parse(sdata, slen, key, &err), ==, 0);
	g_assert_cmpmem(key, sizeof key, en.chain_key, sizeof en.chain_key);
	static const uint8_t zero[32];
	g_assert_true(memcmp(en.chain_key, zero, 32) != 0);
	g_bytes_unref(s);

	/* A second kiosk gets its own key, serial, fingerprint and chain key. */
	char *out2 = path_in(fx->root, "k2");
	struct pki_enrolment en2;
	g_assert_cmpint(pki_enrol(fx->ca, "K-0002", out2, &en2, &err), ==, 0);
	g_assert_cmpstr(en2.fingerprint, !=, en.fingerprint);
	g_assert_true(memcmp(en2.chain_key, en.chain_key, 32) != 0);
	gnutls_x509_crt_t crt2 = load_crt(out2, "kiosk.crt");
	uint8_t serial2[64];
	size_t serial2_len = sizeof serial2;
	g_assert_cmpint(gnutls_x509_crt_get_serial(crt2, serial2, &serial2_len), ==, 0);
	g_assert_true(serial2_len != serial_len || memcmp(serial, serial2, serial_len) != 0);

	gnutls_x509_crt_deinit(crt2);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	g_free(crt_path);
	g_free(out2);
	g_free(out);
}

static void test_enrol_days(struct fixture *fx, gconstpointer data)
{
	char *out = path_in(fx->root, "k");
	struct pki_enrolment en;
	struct kio_error err = {0};
	g_assert_cmpint(pki_enrol_days(fx->ca, "K-1", out, 0, &en, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(pki_enrol_days(fx->ca, "K-1", out, 36501, &en, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(pki_enrol_days(fx->ca, "K-1", out, 30, &en, &err), ==, 0);
	gnutls_x509_crt_t crt = load_crt(out, "kiosk.crt");
	time_t left = gnutls_x509_crt_get_expiration_time(crt) - time(NULL);
	g_assert_cmpint(left, >, 30 * 86400 - 60);
	g_assert_cmpint(left, <=, 30 * 86400);
	gnutls_x509_crt_deinit(crt);
	g_free(out);
}

static void test_enrol_bad_ids(struct fixture *fx, gconstpointer data)
{
	char long63[64], long64[65];
	memset(long63, 'a', 63);
	long63[63] = '\0';
	memset(long64, 'a', 64);
	long64[64] = '\0';
	const char *const bad[] = {"", long64, "K 1", "K/1", "../K", "K\n", "K\xc3\xa9", "K:1", "K*"};
	char *out = path_in(fx->root, "k");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct pki_enrolment en;
		struct kio_error err = {0};
		g_assert_cmpint(pki_enrol(fx->ca, bad[i], out, &en, &err), ==, KIO_ERR_INVALID);
		g_assert_nonnull(strstr(err.msg, "kiosk id"));
		g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	}
	struct pki_enrolment en;
	struct kio_error err = {0};
	g_assert_cmpint(pki_enrol(fx->ca, NULL, out, &en, &err), ==, KIO_ERR_INVALID);
	/* The edges of the rule pass: 63 characters, every allowed class. */
	g_assert_cmpint(pki_enrol(fx->ca, long63, out, &en, &err), ==, 0);
	g_assert_cmpstr(en.kiosk_id, ==, long63);
	char *out2 = path_in(fx->root, "k2");
	g_assert_cmpint(pki_enrol(fx->ca, "a.Z-9_x", out2, &en, &err), ==, 0);
	g_free(out2);
	g_free(out);
}

static void test_enrol_refusals(struct fixture *fx, gconstpointer data)
{
	struct pki_enrolment en;
	struct kio_error err = {0};
	char *out = path_in(fx->root, "k");
	g_assert_cmpint(pki_enrol(fx->ca, "K-1", out, &en, &err), ==, 0);

	/* Enrolling into the same folder again: refused, nothing changed. */
	GBytes *key_before = slurp(out, "kiosk.key"), *sec_before = slurp(out, "ledger.secret");
	err = (struct kio_error){0};
	g_assert_cmpint(pki_enrol(fx->ca, "K-1", out, &en, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "kiosk.key"));
	g_assert_nonnull(strstr(err.msg, "never overwritten"));
	GBytes *key_after = slurp(out, "kiosk.key"), *sec_after = slurp(out, "ledger.secret");
	g_assert_true(g_bytes_equal(key_before, key_after));
	g_assert_true(g_bytes_equal(sec_before, sec_after));
	g_assert_cmpint(count_entries(out), ==, 4);
	g_bytes_unref(key_before);
	g_bytes_unref(key_after);
	g_bytes_unref(sec_before);
	g_bytes_unref(sec_after);

	/* One file of the four is enough to refuse, and nothing else is written. */
	char *out2 = path_in(fx->root, "k2");
	g_assert_cmpint(mkdir(out2, 0700), ==, 0);
	char *sec = path_in(out2, "ledger.secret");
	g_assert_true(g_file_set_contents(sec, "old", 3, NULL));
	g_assert_cmpint(pki_enrol(fx->ca, "K-2", out2, &en, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "ledger.secret"));
	g_assert_cmpint(count_entries(out2), ==, 1);
	g_assert_cmpstr(en.fingerprint, ==, "");

	/* No CA there. */
	char *nowhere = path_in(fx->root, "no-such-ca");
	char *out3 = path_in(fx->root, "k3");
	g_assert_cmpint(pki_enrol(nowhere, "K-3", out3, &en, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_nonnull(strstr(err.msg, "ca.key"));
	g_assert_false(g_file_test(out3, G_FILE_TEST_EXISTS));

	/* A corrupt ca.key. */
	char *bad_ca = path_in(fx->root, "bad-ca");
	g_assert_cmpint(pki_ca_init(bad_ca, "localhost", NULL, &err), ==, 0);
	char *bad_key = path_in(bad_ca, "ca.key");
	GBytes *k = slurp(bad_ca, "ca.key");
	gsize klen;
	const void *kdata = g_bytes_get_data(k, &klen);
	char *mangled = g_memdup2(kdata, klen);
	mangled[40] ^= 0x55; /* inside the base64 body */
	g_assert_true(g_file_set_contents(bad_key, mangled, (gssize)klen, NULL));
	g_assert_cmpint(pki_enrol(bad_ca, "K-3", out3, &en, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "ca.key"));
	g_assert_false(g_file_test(out3, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_set_contents(bad_key, "not a key\n", -1, NULL));
	g_assert_cmpint(pki_enrol(bad_ca, "K-3", out3, &en, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "ca.key"));

	/* A well-formed key that is not the CA certificate's: another CA's. */
	GBytes *other = slurp(fx->ca, "ca.key");
	gsize olen;
	g_assert_true(g_file_set_contents(bad_key, g_bytes_get_data(other, &olen), -1, NULL));
	g_assert_cmpint(pki_enrol(bad_ca, "K-3", out3, &en, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "is not the key of"));
	g_assert_false(g_file_test(out3, G_FILE_TEST_EXISTS));

	/* A corrupt ca.crt. */
	char *ca_crt = path_in(fx->ca, "ca.crt");
	g_assert_true(g_file_set_contents(ca_crt, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", -1,
		NULL));
	g_assert_cmpint(pki_enrol(fx->ca, "K-4", out3, &en, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "ca.crt"));

	g_bytes_unref(other);
	g_bytes_unref(k);
	g_free(mangled);
	g_free(ca_crt);
	g_free(bad_key);
	g_free(bad_ca);
	g_free(nowhere);
	g_free(out3);
	g_free(sec);
	g_free(out2);
	g_free(out);
}

/* ---- fingerprints ---- */

static void test_fingerprint(struct fixture *fx, gconstpointer data)
{
	char hex[65];
	/* FIPS 180-2's example "abc". */
	g_assert_cmpint(pki_fingerprint_der("abc", 3, hex), ==, 0);
	g_assert_cmpstr(hex, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	g_assert_cmpint(pki_fingerprint_der("", 0, hex), ==, KIO_ERR_INVALID);
	g_assert_cmpint(pki_fingerprint_der(NULL, 3, hex), ==, KIO_ERR_INVALID);

	struct kio_error err = {0};
	char *missing = path_in(fx->root, "none.crt");
	g_assert_cmpint(pki_fingerprint_file(missing, hex, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_nonnull(strstr(err.msg, "none.crt"));
	char *key = path_in(fx->ca, "ca.key");
	g_assert_cmpint(pki_fingerprint_file(key, hex, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "ca.key"));

	char *crt = path_in(fx->ca, "host.crt");
	char want[65];
	gnutls_x509_crt_t c = load_crt(fx->ca, "host.crt");
	independent_fingerprint(c, want);
	gnutls_x509_crt_deinit(c);
	g_assert_cmpint(pki_fingerprint_file(crt, hex, &err), ==, 0);
	g_assert_cmpstr(hex, ==, want);
	g_free(crt);
	g_free(key);
	g_free(missing);
}

/* ---- pki_peer_check over real handshakes ---- */

struct server {
	int fd;
	const char *ca_dir;
	int handshake;       /* gnutls_handshake's result */
	enum pki_peer peer;
	char fingerprint[65];
	char why[256];
	time_t shift_s;      /* the clock as the check sees it, moved this far */
};

static time_t shift_s;

static time_t shifted_time(time_t *t)
{
	time_t now = time(NULL) + shift_s;
	if (t)
		*t = now;
	return now;
}

static gpointer server_run(gpointer data)
{
	struct server *s = data;
	char *crt = path_in(s->ca_dir, "host.crt"), *key = path_in(s->ca_dir, "host.key"),
	     *ca = path_in(s->ca_dir, "ca.crt");
	gnutls_certificate_credentials_t cred;
	g_assert_cmpint(gnutls_certificate_allocate_credentials(&cred), ==, 0);
	g_assert_cmpint(gnutls_certificate_set_x509_key_file(cred, crt, key, GNUTLS_X509_FMT_PEM), ==, 0);
	g_assert_cmpint(gnutls_certificate_set_x509_trust_file(cred, ca, GNUTLS_X509_FMT_PEM), ==, 1);
	gnutls_session_t session;
	g_assert_cmpint(gnutls_init(&session, GNUTLS_SERVER), ==, 0);
	g_assert_cmpint(gnutls_set_default_priority(session), ==, 0);
	g_assert_cmpint(gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred), ==, 0);
	/* What libmicrohttpd does with MHD_OPTION_HTTPS_MEM_TRUST: request, not require. */
	gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
	gnutls_transport_set_int(session, s->fd);
	do
		s->handshake = gnutls_handshake(session);
	while (s->handshake < 0 && !gnutls_error_is_fatal(s->handshake));
	if (s->handshake == 0) {
		shift_s = s->shift_s;
		gnutls_global_set_time_function(shifted_time);
		s->peer = pki_peer_check(session, s->fingerprint, s->why, sizeof s->why);
		shift_s = 0;
	}
	gnutls_deinit(session);
	gnutls_certificate_free_credentials(cred);
	g_free(crt);
	g_free(key);
	g_free(ca);
	return NULL;
}

/* A client pinning ca_dir's CA presents cert_dir's cert_name/key_name (NULL: none), with
 * `priority` (NULL: the default); the server's verdict lands in s. */
static void handshake(const char *ca_dir, const char *cert_dir, const char *cert_name, const char *key_name,
	const char *priority, time_t shift, struct server *s)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	*s = (struct server){.fd = sv[0], .ca_dir = ca_dir, .peer = -1, .shift_s = shift};
	GThread *th = g_thread_new("tls-server", server_run, s);

	gnutls_certificate_credentials_t cred;
	g_assert_cmpint(gnutls_certificate_allocate_credentials(&cred), ==, 0);
	char *ca = path_in(ca_dir, "ca.crt");
	g_assert_cmpint(gnutls_certificate_set_x509_trust_file(cred, ca, GNUTLS_X509_FMT_PEM), ==, 1);
	if (cert_name) {
		char *crt = path_in(cert_dir, cert_name), *key = path_in(cert_dir, key_name);
		g_assert_cmpint(gnutls_certificate_set_x509_key_file(cred, crt, key, GNUTLS_X509_FMT_PEM), ==, 0);
		g_free(crt);
		g_free(key);
	}
	gnutls_session_t session;
	g_assert_cmpint(gnutls_init(&session, GNUTLS_CLIENT), ==, 0);
	if (priority)
		g_assert_cmpint(gnutls_priority_set_direct(session, priority, NULL), ==, 0);
	else
		g_assert_cmpint(gnutls_set_default_priority(session), ==, 0);
	g_assert_cmpint(gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred), ==, 0);
	/* The kiosk's side: the host's certificate must verify against the pinned CA and name
	 * the host (libcurl's CURLOPT_CAINFO with host verification). */
	gnutls_session_set_verify_cert(session, "localhost", 0);
	g_assert_cmpint(gnutls_server_name_set(session, GNUTLS_NAME_DNS, "localhost", 9), ==, 0);
	gnutls_transport_set_int(session, sv[1]);
	int rc;
	do
		rc = gnutls_handshake(session);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	g_assert_cmpint(rc, ==, 0);
	g_thread_join(th);
	g_assert_cmpint(s->handshake, ==, 0);
	gnutls_deinit(session);
	gnutls_certificate_free_credentials(cred);
	close(sv[0]);
	close(sv[1]);
	g_free(ca);
}

/* dir/kiosk.crt and kiosk.key: a certificate signed by ca_dir's CA with no extended key
 * usage, made here with GnuTLS rather than by pki.c; is_ca: a CA allowed to sign anything. */
static void mint_leaf(const char *ca_dir, const char *dir, bool is_ca)
{
	g_assert_cmpint(mkdir(dir, 0700), ==, 0);
	GBytes *kb = slurp(ca_dir, "ca.key");
	gsize klen;
	gnutls_datum_t kpem = {(unsigned char *)g_bytes_get_data(kb, &klen), 0};
	kpem.size = (unsigned)klen;
	gnutls_x509_privkey_t ca_key, key;
	g_assert_cmpint(gnutls_x509_privkey_init(&ca_key), ==, 0);
	g_assert_cmpint(gnutls_x509_privkey_import(ca_key, &kpem, GNUTLS_X509_FMT_PEM), ==, 0);
	gnutls_x509_crt_t ca = load_crt(ca_dir, "ca.crt");
	g_assert_cmpint(gnutls_x509_privkey_init(&key), ==, 0);
	g_assert_cmpint(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), ==, 0);
	gnutls_x509_crt_t crt;
	g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_set_key(crt, key), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_set_version(crt, 3), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_set_serial(crt, "\x01\x02", 2), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 86400), ==, 0);
	g_assert_cmpint(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "K-plain", 7), ==, 0);
	if (is_ca) {
		g_assert_cmpint(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), ==, 0);
		g_assert_cmpint(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN),
			==, 0);
	}
	g_assert_cmpint(gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0), ==, 0);
	gnutls_datum_t crt_pem, key_pem;
	g_assert_cmpint(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem), ==, 0);
	g_assert_cmpint(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &key_pem), ==, 0);
	char *cp = path_in(dir, "kiosk.crt"), *kp = path_in(dir, "kiosk.key");
	g_assert_true(g_file_set_contents(cp, (const char *)crt_pem.data, crt_pem.size, NULL));
	g_assert_true(g_file_set_contents(kp, (const char *)key_pem.data, key_pem.size, NULL));
	g_free(cp);
	g_free(kp);
	gnutls_free(crt_pem.data);
	gnutls_free(key_pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(ca_key);
	g_bytes_unref(kb);
}

static void test_peer_ok(struct fixture *fx, gconstpointer data)
{
	char *out = path_in(fx->root, "k");
	struct pki_enrolment en;
	struct kio_error err = {0};
	g_assert_cmpint(pki_enrol(fx->ca, "K-0001", out, &en, &err), ==, 0);
	static const char *const priorities[] = {NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.2"};
	for (size_t i = 0; i < G_N_ELEMENTS(priorities); i++) {
		struct server s;
		handshake(fx->ca, out, "kiosk.crt", "kiosk.key", priorities[i], 0, &s);
		g_assert_cmpint(s.peer, ==, PKI_PEER_OK);
		g_assert_cmpstr(s.fingerprint, ==, en.fingerprint);
	}
	g_free(out);
}

static void test_peer_none(struct fixture *fx, gconstpointer data)
{
	struct server s;
	handshake(fx->ca, NULL, NULL, NULL, NULL, 0, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_NONE);
	g_assert_cmpstr(s.fingerprint, ==, "");
	g_assert_nonnull(strstr(s.why, "no certificate"));
	handshake(fx->ca, NULL, NULL, NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2", 0, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_NONE);
}

static void test_peer_bad(struct fixture *fx, gconstpointer data)
{
	struct kio_error err = {0};
	struct pki_enrolment en;
	/* A kiosk of another CA. */
	char *other = path_in(fx->root, "other-ca"), *out = path_in(fx->root, "other-k");
	g_assert_cmpint(pki_ca_init(other, "localhost", NULL, &err), ==, 0);
	g_assert_cmpint(pki_enrol(other, "K-0001", out, &en, &err), ==, 0);
	struct server s;
	handshake(fx->ca, out, "kiosk.crt", "kiosk.key", NULL, 0, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_BAD);
	g_assert_cmpstr(s.fingerprint, ==, "");
	g_assert_nonnull(strstr(s.why, "does not verify"));
	g_test_message("another CA: %s", s.why);

	/* The host's own certificate, from the right CA but for TLS servers. */
	handshake(fx->ca, fx->ca, "host.crt", "host.key", NULL, 0, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_BAD);
	g_assert_cmpstr(s.fingerprint, ==, "");
	g_test_message("server usage: %s", s.why);

	/* A sub-CA of this CA, usable for signatures, presented by a client: its chain verifies
	 * for GnuTLS, but a CA is not a kiosk. */
	char *sub = path_in(fx->root, "sub");
	mint_leaf(fx->ca, sub, true);
	handshake(fx->ca, sub, "kiosk.crt", "kiosk.key", NULL, 0, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_BAD);
	g_assert_cmpstr(s.fingerprint, ==, "");
	g_assert_nonnull(strstr(s.why, "is a CA certificate"));
	g_free(sub);

	/* A leaf of this CA with no extended key usage at all, which GnuTLS's purpose check lets
	 * through: refused by pki_peer_check's own look at the leaf. */
	char *plain = path_in(fx->root, "plain");
	mint_leaf(fx->ca, plain, false);
	handshake(fx->ca, plain, "kiosk.crt", "kiosk.key", NULL, 0, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_BAD);
	g_assert_nonnull(strstr(s.why, "not for TLS client authentication"));
	g_free(plain);

	/* A kiosk of this CA, seen after its certificate has expired, and before it began. */
	char *mine = path_in(fx->root, "k");
	g_assert_cmpint(pki_enrol(fx->ca, "K-0002", mine, &en, &err), ==, 0);
	handshake(fx->ca, mine, "kiosk.crt", "kiosk.key", NULL, 826LL * 86400, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_BAD);
	g_assert_nonnull(strstr(s.why, "expired"));
	g_test_message("expired: %s", s.why);
	handshake(fx->ca, mine, "kiosk.crt", "kiosk.key", NULL, -2 * 3600, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_BAD);
	g_test_message("not yet valid: %s", s.why);
	/* ... and the same certificate now: OK (the two above failed for the clock only). */
	handshake(fx->ca, mine, "kiosk.crt", "kiosk.key", NULL, 0, &s);
	g_assert_cmpint(s.peer, ==, PKI_PEER_OK);
	g_assert_cmpstr(s.fingerprint, ==, en.fingerprint);
	g_free(mine);
	g_free(other);
	g_free(out);
}

/* A FIFO where the CA's key or a certificate is read: refused as not a file, never waited on
 * for a writer (an operator's `kiosk-host enrol --ca DIR` held for good). In a subprocess with
 * a time limit, so an open that waits fails the test instead of hanging it. */
static void test_fifo(struct fixture *fx, gconstpointer data)
{
	if (!g_test_subprocess()) {
		g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
		g_test_trap_assert_passed();
		return;
	}
	struct kio_error err = {0};
	char hex[65];
	char *fifo = path_in(fx->root, "fifo.crt");
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	g_assert_cmpint(pki_fingerprint_file(fifo, hex, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "fifo.crt is not a file"));
	/* The CA's key a FIFO: enrol refuses it, names it, and leaves nothing. */
	char *key = path_in(fx->ca, "ca.key"), *out = path_in(fx->root, "K-9");
	g_assert_cmpint(unlink(key), ==, 0);
	g_assert_cmpint(mkfifo(key, 0600), ==, 0);
	struct pki_enrolment en;
	g_assert_cmpint(pki_enrol(fx->ca, "K-9", out, &en, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "ca.key is not a file"));
	g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	g_free(out);
	g_free(key);
	g_free(fifo);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fx_setup, fn, fx_teardown)
	ADD("/pki/ca/files", test_ca_files);
	ADD("/pki/ca/ipv6-and-no-ip", test_ca_ipv6_and_no_ip);
	ADD("/pki/ca/refusals", test_ca_refusals);
	ADD("/pki/enrol/files", test_enrol_files);
	ADD("/pki/enrol/days", test_enrol_days);
	ADD("/pki/enrol/bad-ids", test_enrol_bad_ids);
	ADD("/pki/enrol/refusals", test_enrol_refusals);
	ADD("/pki/fingerprint", test_fingerprint);
	ADD("/pki/fifo", test_fifo);
	ADD("/pki/peer/ok", test_peer_ok);
	ADD("/pki/peer/none", test_peer_none);
	ADD("/pki/peer/bad", test_peer_bad);
	return g_test_run();
}
