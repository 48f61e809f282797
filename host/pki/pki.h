/*
 * The operator's private CA for mutual TLS between kiosks and their host (issue 12): makes the
 * CA and the host's certificate, enrols a kiosk (its key, certificate and ledger chain key),
 * and judges the client certificate of a TLS session on the host's side.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "kiosk/core/err.h"

/* A kiosk certificate's validity when the caller names none (pki_enrol): 825 days, the
 * CA/Browser Forum's former ceiling for leaf certificates, long enough to outlast a kiosk's
 * service visits, short enough that a lost key dies on its own. */
#define PKI_KIOSK_DAYS_DEFAULT 825u

/*
 * Makes the operator's CA in dir (created, with its parents, 0700 if missing):
 *   dir/ca.key   0600  the CA's private key (ECDSA P-256, PKCS #8 PEM)
 *   dir/ca.crt   0644  the self-signed CA certificate (10 years)
 *   dir/host.key 0600  the host's private key
 *   dir/host.crt 0644  the host's certificate, signed by the CA: CN and SAN DNS host_name,
 *                      SAN IP host_ip unless NULL (dotted IPv4 or IPv6), TLS server usage
 * host_name: 1..253 characters of [A-Za-z0-9.-]. Each file is written whole (temp, fsync,
 * rename, fsync of dir) and never replaces one that exists; ca.key is written last, so a
 * directory with ca.key holds a complete CA.
 * Returns 0, or KIO_ERR_INVALID (bad host_name or host_ip; any of the four files exists,
 * named: an existing ca.key is never overwritten), KIO_ERR_IO (file system, named with
 * errno), KIO_ERR_PROTOCOL (a GnuTLS call failed, named with its error). On failure the
 * files this call made are removed.
 */
int pki_ca_init(const char *dir, const char *host_name, const char *host_ip, struct kio_error *err);

struct pki_enrolment {
	char kiosk_id[64];       /* as given, NUL-terminated */
	char fingerprint[65];    /* lowercase hex SHA-256 of kiosk.crt's DER, NUL-terminated */
	uint8_t chain_key[32];   /* the ledger chain key written to ledger.secret */
};

/*
 * Enrols a kiosk with the CA in ca_dir (ca.key and ca.crt, as pki_ca_init made them). Writes
 * into out_dir (created 0700 if missing):
 *   kiosk.key     0600  the kiosk's private key (ECDSA P-256, PKCS #8 PEM)
 *   kiosk.crt     0644  CN = kiosk_id, TLS client usage, random 16-byte serial, valid
 *                       PKI_KIOSK_DAYS_DEFAULT days, signed by the CA
 *   host-ca.crt   0644  a copy of ca.crt: the kiosk pins it (CURLOPT_CAINFO)
 *   ledger.secret 0600  the ledger chain key in kiosk/ledger/chain.h's format
 *                       ("kiosk-ledger-secret v1\n", 64 lowercase hex, "\n"), from
 *                       gnutls_rnd(GNUTLS_RND_KEY); the kiosk keeps it as <db>.secret
 * and fills out (which the caller owns; the chain key is there to register at the host).
 * kiosk_id: 1..63 characters of [A-Za-z0-9._-].
 * Returns 0, or KIO_ERR_INVALID (bad kiosk_id; a file in out_dir exists, named),
 * KIO_ERR_NOT_FOUND (no ca.key or ca.crt in ca_dir, named), KIO_ERR_CORRUPT (ca.key or
 * ca.crt does not parse, or the key is not the certificate's, named), KIO_ERR_IO,
 * KIO_ERR_PROTOCOL (a GnuTLS call failed, named). On failure nothing is left in out_dir.
 */
int pki_enrol(const char *ca_dir, const char *kiosk_id, const char *out_dir, struct pki_enrolment *out,
	struct kio_error *err);

/* pki_enrol with the certificate valid `days` days from now (1..36500); KIO_ERR_INVALID
 * outside that range. For an operator's `--days` and for tests. */
int pki_enrol_days(const char *ca_dir, const char *kiosk_id, const char *out_dir, unsigned days,
	struct pki_enrolment *out, struct kio_error *err);

/* hex = lowercase hex SHA-256 of der (len bytes), NUL-terminated. Returns 0, or
 * KIO_ERR_INVALID for an empty input, KIO_ERR_PROTOCOL if GnuTLS cannot hash. */
int pki_fingerprint_der(const void *der, size_t len, char hex[65]);

/* The fingerprint (as pki_fingerprint_der) of the first certificate in a PEM file.
 * Returns 0, or KIO_ERR_NOT_FOUND / KIO_ERR_IO (reading, named), KIO_ERR_CORRUPT (not a
 * PEM certificate, named). */
int pki_fingerprint_file(const char *crt_pem_path, char hex[65], struct kio_error *err);

enum pki_peer {
	PKI_PEER_OK,   /* a valid kiosk certificate: fingerprint filled */
	PKI_PEER_NONE, /* the client sent no certificate */
	PKI_PEER_BAD,  /* it sent one that does not verify, is expired or not yet valid, is not
	                  for TLS clients, or is a CA: why says which */
};

/*
 * The host's judgement of the client certificate of an established session, whose
 * credentials trust the operator's CA (MHD_OPTION_HTTPS_MEM_TRUST). libmicrohttpd only
 * requests a client certificate, so a client without one completes the handshake: this
 * check is what refuses it. Verifies the peer's chain against the session's trust with the
 * TLS client purpose (gnutls_certificate_verify_peers), then checks the leaf itself.
 * fingerprint: on OK, lowercase hex SHA-256 of the peer's DER certificate (set to "" else).
 * why (why_len bytes, may be NULL/0): on NONE and BAD, the reason in words.
 */
enum pki_peer pki_peer_check(gnutls_session_t session, char fingerprint[65], char *why, size_t why_len);
