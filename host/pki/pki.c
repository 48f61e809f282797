/*
 * The operator's private CA (pki.h): keys and certificates made with GnuTLS's own API (never
 * a certtool child), written whole with exact modes, and the host's check of a client's
 * certificate.
 *
 * Key type: ECDSA P-256 for the CA, the host and every kiosk. On Debian 12, libmicrohttpd
 * 0.9.75 serving and libcurl 7.88.1 (GnuTLS 3.7.9 flavour) fetching complete a mutual TLS 1.2
 * and 1.3 handshake with P-256 certificates from this file, and with Ed25519 ones as well
 * (checked 2026-12-06: both answered 200 on pki_peer_check's OK, and 403 on its NONE for a
 * client without a certificate). P-256 is chosen because it reaches further: every TLS stack
 * an operator may put in front of the host (OpenSSL's curl, a load balancer terminating TLS,
 * a browser for the operator's console) and every TPM 2.0 or HSM that may later hold a
 * kiosk's or the CA's key signs with it, where Ed25519 certificates are refused by several.
 *
 * Invariants:
 *  1. A file is never replaced: each is made under a temporary name and linked into place
 *     with RENAME_NOREPLACE (or link(2) where the file system lacks it), so two operators
 *     enrolling the same kiosk at once cannot both win, and a crash leaves either the old
 *     state or the whole new file, never part of one.
 *  2. A private key is never readable by group or others, not even while it is written: the
 *     temporary file is created 0600 by mkstemp and chmod'ed to its final mode before a byte
 *     is written.
 *  3. Every file is fsync'ed before its rename and the directory after, so a power cut after
 *     pki_* returned keeps what it reported as made.
 *  4. A call that fails removes what it made (pki_ca_init's ca.key is made last, so a
 *     directory with ca.key holds a whole CA). A crash in the middle can leave a hidden
 *     temporary `.NAME.XXXXXX` (0600 from its creation, invariant 2) that nothing reads, and
 *     the files made before it: the next call refuses, naming one, and an operator removes
 *     the folder's new files and runs it again.
 */
#include "host/pki/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "kiosk/core/infile.h"

#define CA_DAYS 3650u
/* Certificates start an hour in the past: a kiosk whose clock lags the operator's by a few
 * minutes must not refuse a host certificate made a minute ago (or the host the kiosk's). */
#define BACKDATE_S 3600
#define DAY_S 86400

/* kiosk/ledger/chain.h: LEDGER_SECRET_FILE_BYTES and ledger_secret_parse() define the
 * format; the pki tests parse what is written here with ledger_secret_parse. */
#define SECRET_MAGIC "kiosk-ledger-secret v1\n"

enum { MAX_FILES = 4 };

/* The files one call has made so far, removed again if the call fails (invariant 4). */
struct made {
	char *path[MAX_FILES];
	int n;
};

static void made_undo(struct made *m)
{
	for (int i = m->n - 1; i >= 0; i--)
		if (unlink(m->path[i]) != 0 && errno != ENOENT)
			fprintf(stderr, "pki: cannot remove %s after a failure: %s\n", m->path[i], strerror(errno));
}

static void made_free(struct made *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->path[i]);
	m->n = 0;
}

static char *join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static int gnutls_fail(struct kio_error *err, const char *call, const char *what, int rc)
{
	return kio_fail(err, KIO_ERR_PROTOCOL, "pki: %s (%s): %s", call, what, gnutls_strerror(rc));
}

/* mkdir -p with mode 0700 for what it makes; an existing directory is fine. */
static int make_dirs(const char *dir, struct kio_error *err)
{
	if (!dir || !*dir)
		return kio_fail(err, KIO_ERR_INVALID, "pki: no directory given");
	char *copy = strdup(dir);
	if (!copy)
		return kio_fail(err, KIO_ERR_NOMEM, "pki: out of memory");
	int rc = 0;
	for (char *p = copy + 1;; p++) {
		bool end = *p == '\0';
		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			rc = kio_fail(err, KIO_ERR_IO, "pki: mkdir %s: %s", copy, strerror(errno));
			break;
		}
		if (end)
			break;
		*p = '/';
	}
	struct stat st;
	if (rc == 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		rc = kio_fail(err, KIO_ERR_IO, "pki: %s is not a directory", dir);
	free(copy);
	return rc;
}

static int fsync_dir(const char *dir, struct kio_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kio_fail(err, KIO_ERR_IO, "pki: open %s: %s", dir, strerror(errno));
	int rc = 0;
	if (fsync(fd) != 0)
		rc = kio_fail(err, KIO_ERR_IO, "pki: fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/* Moves tmp to path unless path exists (invariant 1). */
static int place_noreplace(const char *tmp, const char *path, struct kio_error *err)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		return kio_fail(err, KIO_ERR_INVALID, "pki: %s exists; it is never overwritten", path);
	if (errno != EINVAL && errno != ENOSYS)
		return kio_fail(err, KIO_ERR_IO, "pki: rename %s to %s: %s", tmp, path, strerror(errno));
	/* No RENAME_NOREPLACE here: link(2) fails the same way on an existing name. */
	if (link(tmp, path) != 0) {
		if (errno == EEXIST)
			return kio_fail(err, KIO_ERR_INVALID, "pki: %s exists; it is never overwritten", path);
		return kio_fail(err, KIO_ERR_IO, "pki: link %s to %s: %s", tmp, path, strerror(errno));
	}
	if (unlink(tmp) != 0)
		return kio_fail(err, KIO_ERR_IO, "pki: unlink %s: %s", tmp, strerror(errno));
	return 0;
}

/* Writes dir/name with exactly `mode` (invariants 1-3) and records it in m. */
static int write_new(struct made *m, const char *dir, const char *name, const void *data, size_t len,
	mode_t mode, struct kio_error *err)
{
	char *path = join(dir, name);
	char *tmp = NULL;
	if (!path || asprintf(&tmp, "%s/.%s.XXXXXX", dir, name) < 0) {
		free(path);
		return kio_fail(err, KIO_ERR_NOMEM, "pki: out of memory");
	}
	int rc = 0;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = kio_fail(err, KIO_ERR_IO, "pki: create %s: %s", tmp, strerror(errno));
		goto out_free;
	}
	if (fchmod(fd, mode) != 0) {
		rc = kio_fail(err, KIO_ERR_IO, "pki: chmod %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	const uint8_t *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = kio_fail(err, KIO_ERR_IO, "pki: write %s: %s", tmp, n < 0 ? strerror(errno) : "wrote nothing");
			goto out_unlink;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = kio_fail(err, KIO_ERR_IO, "pki: fsync %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = kio_fail(err, KIO_ERR_IO, "pki: close %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	rc = place_noreplace(tmp, path, err);
	if (rc != 0)
		goto out_unlink;
	m->path[m->n++] = path;
	path = NULL;
	rc = fsync_dir(dir, err);
	goto out_free;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free:
	free(tmp);
	free(path);
	return rc;
}

/* KIO_ERR_INVALID naming the first of names that exists in dir. */
static int refuse_existing(const char *dir, const char *const *names, int n, struct kio_error *err)
{
	for (int i = 0; i < n; i++) {
		char *path = join(dir, names[i]);
		if (!path)
			return kio_fail(err, KIO_ERR_NOMEM, "pki: out of memory");
		struct stat st;
		int exists = lstat(path, &st) == 0;
		int rc = exists ? kio_fail(err, KIO_ERR_INVALID, "pki: %s exists; it is never overwritten", path) : 0;
		free(path);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Reads a whole small file (certificates and keys: at most 1 MiB) into a gnutls_datum_t the
 * caller frees with gnutls_free. */
static int read_small(const char *path, gnutls_datum_t *out, struct kio_error *err)
{
	out->data = NULL;
	out->size = 0;
	/* Without waiting (core_infile_open): a FIFO named as the CA's key or a kiosk's certificate
	 * is refused below, not waited on for a writer. */
	struct stat st;
	struct kio_error why = {0};
	int fd = core_infile_open(path, path, 0, &st, &why);
	if (fd == KIO_ERR_INVALID)
		return kio_fail(err, KIO_ERR_CORRUPT, "pki: %s is not a file of at most 1 MiB", path);
	if (fd < 0)
		return kio_fail(err, fd, "pki: open %s", why.msg);
	int rc = 0;
	if (st.st_size > (1 << 20)) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "pki: %s is not a file of at most 1 MiB", path);
		goto out_close;
	}
	size_t size = (size_t)st.st_size;
	out->data = gnutls_malloc(size + 1);
	if (!out->data) {
		rc = kio_fail(err, KIO_ERR_NOMEM, "pki: out of memory reading %s", path);
		goto out_close;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, out->data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = kio_fail(err, KIO_ERR_IO, "pki: read %s: %s", path, strerror(errno));
			goto out_close;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	out->data[got] = '\0';
	out->size = (unsigned)got;
out_close:
	close(fd);
	if (rc != 0) {
		gnutls_free(out->data);
		out->data = NULL;
		out->size = 0;
	}
	return rc;
}

static void to_hex(const uint8_t *b, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[2 * n] = '\0';
}

int pki_fingerprint_der(const void *der, size_t len, char hex[65])
{
	hex[0] = '\0';
	if (!der || len == 0)
		return KIO_ERR_INVALID;
	uint8_t digest[32];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, digest) < 0)
		return KIO_ERR_PROTOCOL;
	to_hex(digest, sizeof digest, hex);
	return 0;
}

static int crt_fingerprint(gnutls_x509_crt_t crt, char hex[65], const char *what, struct kio_error *err)
{
	gnutls_datum_t der = {NULL, 0};
	int g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
	if (g < 0)
		return gnutls_fail(err, "gnutls_x509_crt_export2", what, g);
	int rc = pki_fingerprint_der(der.data, der.size, hex);
	gnutls_free(der.data);
	if (rc != 0)
		return kio_fail(err, rc, "pki: SHA-256 of %s failed", what);
	return 0;
}

int pki_fingerprint_file(const char *crt_pem_path, char hex[65], struct kio_error *err)
{
	hex[0] = '\0';
	gnutls_datum_t pem;
	int rc = read_small(crt_pem_path, &pem, err);
	if (rc != 0)
		return rc;
	gnutls_x509_crt_t crt;
	int g = gnutls_x509_crt_init(&crt);
	if (g < 0) {
		rc = gnutls_fail(err, "gnutls_x509_crt_init", crt_pem_path, g);
		goto out_pem;
	}
	g = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "pki: %s is not a PEM certificate: gnutls_x509_crt_import: %s",
			crt_pem_path, gnutls_strerror(g));
		goto out_crt;
	}
	rc = crt_fingerprint(crt, hex, crt_pem_path, err);
out_crt:
	gnutls_x509_crt_deinit(crt);
out_pem:
	gnutls_free(pem.data);
	return rc;
}

/* A fresh ECDSA P-256 key (see the file header for why P-256). */
static int new_key(gnutls_privkey_t *key, const char *what, struct kio_error *err)
{
	int g = gnutls_privkey_init(key);
	if (g < 0)
		return gnutls_fail(err, "gnutls_privkey_init", what, g);
	g = gnutls_privkey_generate2(*key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
		NULL, 0);
	if (g < 0) {
		gnutls_privkey_deinit(*key);
		*key = NULL;
		return gnutls_fail(err, "gnutls_privkey_generate2", what, g);
	}
	return 0;
}

/* The key as unencrypted PKCS #8 PEM ("PRIVATE KEY"), which GnuTLS, libcurl and OpenSSL all
 * read. Caller gnutls_free's out->data. */
static int export_key(gnutls_privkey_t key, gnutls_datum_t *out, const char *what, struct kio_error *err)
{
	gnutls_x509_privkey_t xkey;
	int g = gnutls_privkey_export_x509(key, &xkey);
	if (g < 0)
		return gnutls_fail(err, "gnutls_privkey_export_x509", what, g);
	g = gnutls_x509_privkey_export2_pkcs8(xkey, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, out);
	gnutls_x509_privkey_deinit(xkey);
	if (g < 0)
		return gnutls_fail(err, "gnutls_x509_privkey_export2_pkcs8", what, g);
	return 0;
}

/* A positive 16-byte serial: the top bit cleared (DER INTEGERs are signed) and the next set,
 * so the encoding is exactly 16 bytes; 126 random bits. */
static int random_serial(uint8_t serial[16], const char *what, struct kio_error *err)
{
	int g = gnutls_rnd(GNUTLS_RND_NONCE, serial, 16);
	if (g < 0)
		return gnutls_fail(err, "gnutls_rnd", what, g);
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
	return 0;
}

enum leaf_kind { LEAF_CA, LEAF_SERVER, LEAF_CLIENT };

/*
 * A certificate for `key` named cn, valid `days` days from an hour ago, signed by issuer
 * (issuer_crt NULL: self-signed by key). Server: SAN DNS dns and IP ip (binary, ip_len
 * 4 or 16; 0 for none).
 */
static int make_crt(gnutls_x509_crt_t *out, enum leaf_kind kind, const char *cn, unsigned days,
	gnutls_privkey_t key, gnutls_x509_crt_t issuer_crt, gnutls_privkey_t issuer_key, const char *dns,
	const void *ip, size_t ip_len, struct kio_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	const char *call;
	int rc = 0;
	uint8_t serial[16];
	int g = gnutls_x509_crt_init(&crt);
	if (g < 0) {
		call = "gnutls_x509_crt_init";
		goto out_fail;
	}
	g = gnutls_pubkey_init(&pub);
	if (g < 0) {
		call = "gnutls_pubkey_init";
		goto out_fail;
	}
	g = gnutls_pubkey_import_privkey(pub, key, 0, 0);
	if (g < 0) {
		call = "gnutls_pubkey_import_privkey";
		goto out_fail;
	}
	g = gnutls_x509_crt_set_pubkey(crt, pub);
	if (g < 0) {
		call = "gnutls_x509_crt_set_pubkey";
		goto out_fail;
	}
	g = gnutls_x509_crt_set_version(crt, 3);
	if (g < 0) {
		call = "gnutls_x509_crt_set_version";
		goto out_fail;
	}
	rc = random_serial(serial, cn, err);
	if (rc != 0)
		goto out_free;
	g = gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
	if (g < 0) {
		call = "gnutls_x509_crt_set_serial";
		goto out_fail;
	}
	time_t now = time(NULL);
	g = gnutls_x509_crt_set_activation_time(crt, now - BACKDATE_S);
	if (g < 0) {
		call = "gnutls_x509_crt_set_activation_time";
		goto out_fail;
	}
	g = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * DAY_S);
	if (g < 0) {
		call = "gnutls_x509_crt_set_expiration_time";
		goto out_fail;
	}
	g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn));
	if (g < 0) {
		call = "gnutls_x509_crt_set_dn_by_oid(CN)";
		goto out_fail;
	}
	g = gnutls_x509_crt_set_basic_constraints(crt, kind == LEAF_CA, kind == LEAF_CA ? 0 : -1);
	if (g < 0) {
		call = "gnutls_x509_crt_set_basic_constraints";
		goto out_fail;
	}
	/* ECDSA signs the handshake: digitalSignature is the only usage a TLS leaf needs. */
	g = gnutls_x509_crt_set_key_usage(crt,
		kind == LEAF_CA ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN : GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (g < 0) {
		call = "gnutls_x509_crt_set_key_usage";
		goto out_fail;
	}
	if (kind != LEAF_CA) {
		g = gnutls_x509_crt_set_key_purpose_oid(crt,
			kind == LEAF_SERVER ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT, 1);
		if (g < 0) {
			call = "gnutls_x509_crt_set_key_purpose_oid";
			goto out_fail;
		}
	}
	if (kind == LEAF_SERVER) {
		g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns, (unsigned)strlen(dns),
			GNUTLS_FSAN_APPEND);
		if (g < 0) {
			call = "gnutls_x509_crt_set_subject_alt_name(DNS)";
			goto out_fail;
		}
		if (ip_len > 0) {
			g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, (unsigned)ip_len,
				GNUTLS_FSAN_APPEND);
			if (g < 0) {
				call = "gnutls_x509_crt_set_subject_alt_name(IP)";
				goto out_fail;
			}
		}
	}
	uint8_t kid[64];
	size_t kid_len = sizeof kid;
	g = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1, kid, &kid_len);
	if (g < 0) {
		call = "gnutls_pubkey_get_key_id";
		goto out_fail;
	}
	g = gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len);
	if (g < 0) {
		call = "gnutls_x509_crt_set_subject_key_id";
		goto out_fail;
	}
	if (issuer_crt) {
		kid_len = sizeof kid;
		g = gnutls_x509_crt_get_subject_key_id(issuer_crt, kid, &kid_len, NULL);
		if (g < 0) {
			call = "gnutls_x509_crt_get_subject_key_id(CA)";
			goto out_fail;
		}
		g = gnutls_x509_crt_set_authority_key_id(crt, kid, kid_len);
		if (g < 0) {
			call = "gnutls_x509_crt_set_authority_key_id";
			goto out_fail;
		}
	}
	g = gnutls_x509_crt_privkey_sign(crt, issuer_crt ? issuer_crt : crt, issuer_key, GNUTLS_DIG_SHA256, 0);
	if (g < 0) {
		call = "gnutls_x509_crt_privkey_sign";
		goto out_fail;
	}
	gnutls_pubkey_deinit(pub);
	*out = crt;
	return 0;

out_fail:
	rc = gnutls_fail(err, call, cn, g);
out_free:
	gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

static int export_crt(gnutls_x509_crt_t crt, gnutls_datum_t *pem, const char *what, struct kio_error *err)
{
	int g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, pem);
	if (g < 0)
		return gnutls_fail(err, "gnutls_x509_crt_export2", what, g);
	return 0;
}

static bool valid_host_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int pki_ca_init(const char *dir, const char *host_name, const char *host_ip, struct kio_error *err)
{
	if (!valid_host_name(host_name))
		return kio_fail(err, KIO_ERR_INVALID, "pki: host name '%s' is not 1..253 characters of [A-Za-z0-9.-]",
			host_name ? host_name : "(null)");
	uint8_t ip[16];
	size_t ip_len = 0;
	if (host_ip) {
		if (inet_pton(AF_INET, host_ip, ip) == 1)
			ip_len = 4;
		else if (inet_pton(AF_INET6, host_ip, ip) == 1)
			ip_len = 16;
		else
			return kio_fail(err, KIO_ERR_INVALID, "pki: host IP '%s' is neither IPv4 nor IPv6", host_ip);
	}
	/* ca.key first in the refusal: it is the file whose loss or replacement costs most. */
	static const char *const names[] = {"ca.key", "ca.crt", "host.key", "host.crt"};
	int rc = make_dirs(dir, err);
	if (rc != 0)
		return rc;
	rc = refuse_existing(dir, names, 4, err);
	if (rc != 0)
		return rc;

	struct made made = {0};
	gnutls_privkey_t ca_key = NULL, host_key = NULL;
	gnutls_x509_crt_t ca_crt = NULL, host_crt = NULL;
	gnutls_datum_t ca_key_pem = {NULL, 0}, ca_pem = {NULL, 0}, host_key_pem = {NULL, 0}, host_pem = {NULL, 0};
	if ((rc = new_key(&ca_key, "CA key", err)) != 0 || (rc = new_key(&host_key, "host key", err)) != 0)
		goto out_free;
	rc = make_crt(&ca_crt, LEAF_CA, "kiosk operator CA", CA_DAYS, ca_key, NULL, ca_key, NULL, NULL, 0, err);
	if (rc != 0)
		goto out_free;
	rc = make_crt(&host_crt, LEAF_SERVER, host_name, CA_DAYS, host_key, ca_crt, ca_key, host_name, ip, ip_len,
		err);
	if (rc != 0)
		goto out_free;
	if ((rc = export_key(ca_key, &ca_key_pem, "CA key", err)) != 0 ||
		(rc = export_key(host_key, &host_key_pem, "host key", err)) != 0 ||
		(rc = export_crt(ca_crt, &ca_pem, "CA certificate", err)) != 0 ||
		(rc = export_crt(host_crt, &host_pem, "host certificate", err)) != 0)
		goto out_free;
	/* ca.key last (invariant 4). */
	if ((rc = write_new(&made, dir, "ca.crt", ca_pem.data, ca_pem.size, 0644, err)) != 0 ||
		(rc = write_new(&made, dir, "host.key", host_key_pem.data, host_key_pem.size, 0600, err)) != 0 ||
		(rc = write_new(&made, dir, "host.crt", host_pem.data, host_pem.size, 0644, err)) != 0 ||
		(rc = write_new(&made, dir, "ca.key", ca_key_pem.data, ca_key_pem.size, 0600, err)) != 0)
		made_undo(&made);

out_free:
	made_free(&made);
	if (ca_key_pem.data)
		gnutls_memset(ca_key_pem.data, 0, ca_key_pem.size);
	if (host_key_pem.data)
		gnutls_memset(host_key_pem.data, 0, host_key_pem.size);
	gnutls_free(ca_key_pem.data);
	gnutls_free(host_key_pem.data);
	gnutls_free(ca_pem.data);
	gnutls_free(host_pem.data);
	if (ca_crt)
		gnutls_x509_crt_deinit(ca_crt);
	if (host_crt)
		gnutls_x509_crt_deinit(host_crt);
	gnutls_privkey_deinit(ca_key);
	gnutls_privkey_deinit(host_key);
	return rc;
}

static bool valid_kiosk_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
			    c == '_'))
			return false;
	}
	return true;
}

/* Loads ca_dir's key and certificate and checks they belong together. */
static int load_ca(const char *ca_dir, gnutls_privkey_t *key, gnutls_x509_crt_t *crt, gnutls_datum_t *ca_pem,
	struct kio_error *err)
{
	char *key_path = join(ca_dir, "ca.key");
	char *crt_path = join(ca_dir, "ca.crt");
	gnutls_datum_t key_pem = {NULL, 0};
	gnutls_pubkey_t pub = NULL;
	*key = NULL;
	*crt = NULL;
	ca_pem->data = NULL;
	int rc = 0, g;
	if (!key_path || !crt_path) {
		rc = kio_fail(err, KIO_ERR_NOMEM, "pki: out of memory");
		goto out;
	}
	if ((rc = read_small(key_path, &key_pem, err)) != 0 || (rc = read_small(crt_path, ca_pem, err)) != 0)
		goto out;
	if ((g = gnutls_privkey_init(key)) < 0) {
		rc = gnutls_fail(err, "gnutls_privkey_init", key_path, g);
		goto out;
	}
	g = gnutls_privkey_import_x509_raw(*key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (g < 0) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "pki: %s is not a private key: gnutls_privkey_import_x509_raw: %s",
			key_path, gnutls_strerror(g));
		goto out;
	}
	if ((g = gnutls_x509_crt_init(crt)) < 0) {
		rc = gnutls_fail(err, "gnutls_x509_crt_init", crt_path, g);
		goto out;
	}
	g = gnutls_x509_crt_import(*crt, ca_pem, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "pki: %s is not a PEM certificate: gnutls_x509_crt_import: %s",
			crt_path, gnutls_strerror(g));
		goto out;
	}
	unsigned ca_flag = 0;
	g = gnutls_x509_crt_get_basic_constraints(*crt, NULL, &ca_flag, NULL);
	if (g < 0 || !ca_flag) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "pki: %s is not a CA certificate", crt_path);
		goto out;
	}
	/* A key from another CA would sign certificates no kiosk or host could verify. */
	uint8_t id_key[64], id_crt[64];
	size_t n_key = sizeof id_key, n_crt = sizeof id_crt;
	if ((g = gnutls_pubkey_init(&pub)) < 0) {
		rc = gnutls_fail(err, "gnutls_pubkey_init", key_path, g);
		goto out;
	}
	if ((g = gnutls_pubkey_import_privkey(pub, *key, 0, 0)) < 0 ||
		(g = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id_key, &n_key)) < 0) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "pki: %s: cannot take its public key: %s", key_path, gnutls_strerror(g));
		goto out;
	}
	if ((g = gnutls_x509_crt_get_key_id(*crt, GNUTLS_KEYID_USE_SHA256, id_crt, &n_crt)) < 0) {
		rc = gnutls_fail(err, "gnutls_x509_crt_get_key_id", crt_path, g);
		goto out;
	}
	if (n_key != n_crt || memcmp(id_key, id_crt, n_key) != 0)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "pki: %s is not the key of %s", key_path, crt_path);
out:
	gnutls_pubkey_deinit(pub);
	if (key_pem.data)
		gnutls_memset(key_pem.data, 0, key_pem.size);
	gnutls_free(key_pem.data);
	if (rc != 0) {
		gnutls_privkey_deinit(*key);
		*key = NULL;
		if (*crt)
			gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
		gnutls_free(ca_pem->data);
		ca_pem->data = NULL;
	}
	free(key_path);
	free(crt_path);
	return rc;
}

int pki_enrol(const char *ca_dir, const char *kiosk_id, const char *out_dir, struct pki_enrolment *out,
	struct kio_error *err)
{
	return pki_enrol_days(ca_dir, kiosk_id, out_dir, PKI_KIOSK_DAYS_DEFAULT, out, err);
}

int pki_enrol_days(const char *ca_dir, const char *kiosk_id, const char *out_dir, unsigned days,
	struct pki_enrolment *out, struct kio_error *err)
{
	memset(out, 0, sizeof *out);
	if (!valid_kiosk_id(kiosk_id))
		return kio_fail(err, KIO_ERR_INVALID, "pki: kiosk id '%s' is not 1..63 characters of [A-Za-z0-9._-]",
			kiosk_id ? kiosk_id : "(null)");
	if (days < 1 || days > 36500)
		return kio_fail(err, KIO_ERR_INVALID, "pki: validity of %u days is outside 1..36500", days);
	if (!ca_dir || !out_dir)
		return kio_fail(err, KIO_ERR_INVALID, "pki: no CA or output directory given");

	gnutls_privkey_t ca_key, kiosk_key = NULL;
	gnutls_x509_crt_t ca_crt, kiosk_crt = NULL;
	gnutls_datum_t ca_pem, key_pem = {NULL, 0}, crt_pem = {NULL, 0};
	struct made made = {0};
	char secret[sizeof SECRET_MAGIC - 1 + 64 + 1 + 1];
	int rc = load_ca(ca_dir, &ca_key, &ca_crt, &ca_pem, err);
	if (rc != 0)
		return rc;
	static const char *const names[] = {"kiosk.key", "kiosk.crt", "host-ca.crt", "ledger.secret"};
	if ((rc = make_dirs(out_dir, err)) != 0 || (rc = refuse_existing(out_dir, names, 4, err)) != 0)
		goto out_free;
	if ((rc = new_key(&kiosk_key, kiosk_id, err)) != 0)
		goto out_free;
	rc = make_crt(&kiosk_crt, LEAF_CLIENT, kiosk_id, days, kiosk_key, ca_crt, ca_key, NULL, NULL, 0, err);
	if (rc != 0)
		goto out_free;
	if ((rc = export_key(kiosk_key, &key_pem, kiosk_id, err)) != 0 ||
		(rc = export_crt(kiosk_crt, &crt_pem, kiosk_id, err)) != 0 ||
		(rc = crt_fingerprint(kiosk_crt, out->fingerprint, kiosk_id, err)) != 0)
		goto out_free;
	int g = gnutls_rnd(GNUTLS_RND_KEY, out->chain_key, sizeof out->chain_key);
	if (g < 0) {
		rc = gnutls_fail(err, "gnutls_rnd(GNUTLS_RND_KEY)", "ledger chain key", g);
		goto out_free;
	}
	memcpy(secret, SECRET_MAGIC, sizeof SECRET_MAGIC - 1);
	to_hex(out->chain_key, sizeof out->chain_key, secret + sizeof SECRET_MAGIC - 1);
	secret[sizeof secret - 2] = '\n';
	secret[sizeof secret - 1] = '\0';
	if ((rc = write_new(&made, out_dir, "kiosk.key", key_pem.data, key_pem.size, 0600, err)) != 0 ||
		(rc = write_new(&made, out_dir, "kiosk.crt", crt_pem.data, crt_pem.size, 0644, err)) != 0 ||
		(rc = write_new(&made, out_dir, "host-ca.crt", ca_pem.data, ca_pem.size, 0644, err)) != 0 ||
		(rc = write_new(&made, out_dir, "ledger.secret", secret, sizeof secret - 1, 0600, err)) != 0) {
		made_undo(&made);
		goto out_free;
	}
	snprintf(out->kiosk_id, sizeof out->kiosk_id, "%s", kiosk_id);

out_free:
	if (rc != 0)
		memset(out, 0, sizeof *out);
	gnutls_memset(secret, 0, sizeof secret);
	made_free(&made);
	if (key_pem.data)
		gnutls_memset(key_pem.data, 0, key_pem.size);
	gnutls_free(key_pem.data);
	gnutls_free(crt_pem.data);
	gnutls_free(ca_pem.data);
	if (kiosk_crt)
		gnutls_x509_crt_deinit(kiosk_crt);
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_privkey_deinit(kiosk_key);
	gnutls_privkey_deinit(ca_key);
	return rc;
}

static void say(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_len, const char *fmt, ...)
{
	if (!why || why_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

enum pki_peer pki_peer_check(gnutls_session_t session, char fingerprint[65], char *why, size_t why_len)
{
	fingerprint[0] = '\0';
	say(why, why_len, "%s", "");
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509) {
		say(why, why_len, "the client's certificate is not X.509");
		return PKI_PEER_BAD;
	}
	unsigned n = 0;
	const gnutls_datum_t *chain = gnutls_certificate_get_peers(session, &n);
	if (!chain || n == 0) {
		say(why, why_len, "the client sent no certificate");
		return PKI_PEER_NONE;
	}
	/* The TLS-client purpose makes GnuTLS refuse a certificate whose extended key usage
	 * excludes it (the host's own certificate, replayed by a client, for one). */
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
		.size = 0,
	};
	unsigned status = 0;
	int g = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
	if (g < 0) {
		say(why, why_len, "gnutls_certificate_verify_peers: %s", gnutls_strerror(g));
		return PKI_PEER_BAD;
	}
	if (status != 0) {
		gnutls_datum_t text = {NULL, 0};
		g = gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
		say(why, why_len, "the client's certificate does not verify: %s",
			g < 0 ? gnutls_strerror(g) : (const char *)text.data);
		gnutls_free(text.data);
		/* GnuTLS ends its sentences with a space. */
		for (size_t len = why ? strnlen(why, why_len) : 0; len > 0 && why[len - 1] == ' '; len--)
			why[len - 1] = '\0';
		return PKI_PEER_BAD;
	}
	/* The chain verified; the leaf must also be a TLS client's and not a CA's: belt and
	 * braces over GnuTLS's purpose check, which accepts a leaf with no extended key usage. */
	gnutls_x509_crt_t crt;
	enum pki_peer verdict = PKI_PEER_BAD;
	if ((g = gnutls_x509_crt_init(&crt)) < 0) {
		say(why, why_len, "gnutls_x509_crt_init: %s", gnutls_strerror(g));
		return PKI_PEER_BAD;
	}
	if ((g = gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER)) < 0) {
		say(why, why_len, "gnutls_x509_crt_import: %s", gnutls_strerror(g));
		goto out_crt;
	}
	/* A negative return here and for the key usage below means the extension is absent:
	 * no CA flag, and no restriction on the key's use (RFC 5280, 4.2.1.3 and 4.2.1.9). */
	unsigned ca_flag = 0;
	g = gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca_flag, NULL);
	if (g >= 0 && ca_flag) {
		say(why, why_len, "the client's certificate is a CA certificate");
		goto out_crt;
	}
	bool client = false;
	for (unsigned i = 0;; i++) {
		char oid[128];
		size_t oid_len = sizeof oid;
		g = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &oid_len, NULL);
		if (g == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (g < 0) {
			say(why, why_len, "gnutls_x509_crt_get_key_purpose_oid: %s", gnutls_strerror(g));
			goto out_crt;
		}
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			client = true;
	}
	if (!client) {
		say(why, why_len, "the client's certificate is not for TLS client authentication");
		goto out_crt;
	}
	unsigned usage = 0;
	g = gnutls_x509_crt_get_key_usage(crt, &usage, NULL);
	if (g >= 0 && !(usage & GNUTLS_KEY_DIGITAL_SIGNATURE)) {
		say(why, why_len, "the client's certificate does not allow digital signatures");
		goto out_crt;
	}
	if (pki_fingerprint_der(chain[0].data, chain[0].size, fingerprint) != 0) {
		say(why, why_len, "SHA-256 of the client's certificate failed");
		goto out_crt;
	}
	verdict = PKI_PEER_OK;
out_crt:
	gnutls_x509_crt_deinit(crt);
	return verdict;
}
