/*
 * kiosk-host: the reference host's command line (docs/host.md). One subcommand per job: serve,
 * migrate, demo-data, ca init, enrol, revoke, dump, catalogue load. Exit 0 done, 1 failed, 2 usage.
 */
#define LOG_MODULE "kiosk-host"
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalogue.h"
#include "db.h"
#include "demo.h"
#include "dump.h"
#include "host/pki/pki.h"
#include "kiosk/core/log.h"
#include "server.h"

static const char usage_text[] =
	"usage: kiosk-host serve --db CONNINFO --cert host.crt --key host.key --ca ca.crt [--listen ADDR:PORT]\n"
	"                        [--threads N] [--faults FILE]\n"
	"       kiosk-host migrate --db CONNINFO\n"
	"       kiosk-host demo-data --db CONNINFO\n"
	"       kiosk-host ca init --out DIR [--name HOSTNAME] [--ip ADDR]\n"
	"       kiosk-host enrol --db CONNINFO --ca DIR --kiosk-id ID --out DIR\n"
	"       kiosk-host revoke --db CONNINFO --kiosk-id ID\n"
	"       kiosk-host dump --db CONNINFO [--kiosk ID]\n"
	"       kiosk-host query --db CONNINFO --sql SQL\n"
	"       kiosk-host catalogue load --db CONNINFO [--dir DIR]\n";

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "kiosk-host: %s\n", why);
	fputs(usage_text, stderr);
	fprintf(stderr, "catalogue load's default --dir: %s\n", host_catalogue_default_dir());
	return 2;
}

enum opt { OPT_DB = 1, OPT_CERT, OPT_KEY, OPT_CA, OPT_LISTEN, OPT_THREADS, OPT_OUT, OPT_NAME, OPT_IP, OPT_KIOSK_ID, OPT_FAULTS, OPT_SQL,
	   OPT_DIR };

struct opts {
	const char *db, *cert, *key, *ca, *listen, *out, *name, *ip, *kiosk_id, *faults, *sql, *dir;
	unsigned threads;
};

/* Parses argv (after the subcommand) accepting only the options in `allowed`. */
static int parse(int argc, char **argv, const char *allowed, struct opts *o)
{
	static const struct option longs[] = {
		{"db", required_argument, NULL, OPT_DB},         {"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},       {"ca", required_argument, NULL, OPT_CA},
		{"listen", required_argument, NULL, OPT_LISTEN}, {"threads", required_argument, NULL, OPT_THREADS},
		{"out", required_argument, NULL, OPT_OUT},       {"name", required_argument, NULL, OPT_NAME},
		{"ip", required_argument, NULL, OPT_IP},         {"kiosk-id", required_argument, NULL, OPT_KIOSK_ID},
		{"kiosk", required_argument, NULL, OPT_KIOSK_ID}, {"faults", required_argument, NULL, OPT_FAULTS},
		{"sql", required_argument, NULL, OPT_SQL},       {"dir", required_argument, NULL, OPT_DIR},
		{NULL, 0, NULL, 0},
	};
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (ch == '?' || ch < 1 || !strchr(allowed, 'a' + ch - 1))
			return usage("an option this command does not take");
		switch (ch) {
		case OPT_DB: o->db = optarg; break;
		case OPT_CERT: o->cert = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_CA: o->ca = optarg; break;
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_THREADS: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || n < 1 || n > 64)
				return usage("--threads takes 1 to 64");
			o->threads = (unsigned)n;
			break;
		}
		case OPT_OUT: o->out = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_IP: o->ip = optarg; break;
		case OPT_KIOSK_ID: o->kiosk_id = optarg; break;
		case OPT_FAULTS: o->faults = optarg; break;
		case OPT_SQL: o->sql = optarg; break;
		case OPT_DIR: o->dir = optarg; break;
		default: break;
		}
	}
	if (optind != argc)
		return usage("unexpected arguments");
	return 0;
}

/* Option letters for `allowed`: 'a' + OPT_x - 1. */
#define A(opt) ((char)('a' + (opt) - 1))

static int fail(const struct kio_error *err)
{
	fprintf(stderr, "kiosk-host: %s\n", err->msg);
	return 1;
}

static int with_db(const char *conninfo, PGconn **c, struct kio_error *err)
{
	if (!conninfo)
		return kio_fail(err, KIO_ERR_INVALID, "--db CONNINFO is needed");
	return hdb_connect(conninfo, c, err);
}

static int cmd_enrol(const struct opts *o, struct kio_error *err)
{
	if (!o->ca || !o->kiosk_id || !o->out)
		return kio_fail(err, KIO_ERR_INVALID, "enrol needs --ca DIR, --kiosk-id ID and --out DIR");
	PGconn *c;
	int rc = with_db(o->db, &c, err);
	if (rc)
		return rc;
	PGresult *res = NULL;
	const char *p[] = {o->kiosk_id};
	/* Refused before any file is made: a kiosk keeps its chain key for life (its ledger is
	 * chained with it), so enrolling an id again would orphan the records already sent. */
	rc = hdb_query(c, "SELECT 1 FROM kiosk WHERE kiosk_id = $1", 1, p, &res, NULL, "look up the kiosk", err);
	if (!rc && PQntuples(res))
		rc = kio_fail(err, KIO_ERR_INVALID, "kiosk %s is enrolled already (revoke it and enrol a new id)", o->kiosk_id);
	PQclear(res);
	struct pki_enrolment e;
	if (!rc)
		rc = pki_enrol(o->ca, o->kiosk_id, o->out, &e, err);
	if (rc)
		goto out_finish;
	char key_hex[65];
	for (size_t k = 0; k < sizeof(e.chain_key); k++)
		snprintf(key_hex + 2 * k, 3, "%02x", e.chain_key[k]);
	explicit_bzero(e.chain_key, sizeof(e.chain_key));
	const char *pk[] = {o->kiosk_id, key_hex}, *pc[] = {e.fingerprint, o->kiosk_id};
	rc = hdb_begin(c, err);
	if (!rc)
		rc = hdb_query(c, "INSERT INTO kiosk (kiosk_id, chain_key) VALUES ($1, decode($2, 'hex'))", 2, pk, NULL, NULL,
			       "register the kiosk", err);
	if (!rc)
		rc = hdb_query(c, "INSERT INTO kiosk_cert (fingerprint, kiosk_id) VALUES ($1, $2)", 2, pc, NULL, NULL,
			       "register the certificate", err);
	if (!rc)
		rc = hdb_query(c, "INSERT INTO kiosk_sync (kiosk_id) VALUES ($1)", 1, pk, NULL, NULL, "start the sync row",
			       err);
	if (!rc)
		rc = hdb_commit(c, err);
	explicit_bzero(key_hex, sizeof(key_hex));
	if (rc) {
		/* A kiosk holding a key the host never registered could never sync: take the files
		 * back, so a rerun starts clean. */
		hdb_rollback(c);
		static const char *const made[] = {"kiosk.key", "kiosk.crt", "host-ca.crt", "ledger.secret"};
		for (size_t k = 0; k < sizeof(made) / sizeof(made[0]); k++) {
			char *path = g_build_filename(o->out, made[k], NULL);
			unlink(path);
			g_free(path);
		}
		rmdir(o->out);
	}
	if (!rc)
		printf("enrolled kiosk %s, certificate %s; give the kiosk %s/ (kiosk.key kiosk.crt host-ca.crt"
		       " ledger.secret)\n",
		       o->kiosk_id, e.fingerprint, o->out);
out_finish:
	PQfinish(c);
	return rc;
}

static int cmd_revoke(const struct opts *o, struct kio_error *err)
{
	if (!o->kiosk_id)
		return kio_fail(err, KIO_ERR_INVALID, "revoke needs --kiosk-id ID");
	PGconn *c;
	int rc = with_db(o->db, &c, err);
	if (rc)
		return rc;
	PGresult *res = NULL;
	const char *p[] = {o->kiosk_id};
	rc = hdb_query(c,
		       "WITH k AS (SELECT kiosk_id FROM kiosk WHERE kiosk_id = $1),"
		       " r AS (UPDATE kiosk_cert SET revoked_at = now() WHERE kiosk_id = $1 AND revoked_at IS NULL"
		       " RETURNING 1)"
		       " SELECT (SELECT count(*) FROM k), (SELECT count(*) FROM r)",
		       1, p, &res, NULL, "revoke", err);
	if (!rc && hdb_int(res, 0, 0) == 0)
		rc = kio_fail(err, KIO_ERR_NOT_FOUND, "no kiosk %s", o->kiosk_id);
	else if (!rc)
		printf("kiosk %s: %" PRId64 " certificate(s) revoked\n", o->kiosk_id, hdb_int(res, 0, 1));
	PQclear(res);
	PQfinish(c);
	return rc;
}

/* One value for the scenarios' expect-host: the first column of the first row, "NULL" or
 * "(no row)", in a read-only transaction (a test's query changes nothing). */
static int cmd_query(const struct opts *o, struct kio_error *err)
{
	if (!o->sql)
		return kio_fail(err, KIO_ERR_INVALID, "query needs --sql SQL");
	PGconn *c;
	int rc = with_db(o->db, &c, err);
	if (rc)
		return rc;
	PGresult *res = NULL;
	rc = hdb_exec(c, "BEGIN READ ONLY", "begin a read-only query", err);
	if (!rc)
		rc = hdb_query(c, o->sql, 0, NULL, &res, NULL, "the query", err);
	if (!rc)
		printf("%s\n", PQntuples(res) == 0 || PQnfields(res) == 0 ? "(no row)"
			       : PQgetisnull(res, 0, 0)		  ? "NULL"
									  : PQgetvalue(res, 0, 0));
	PQclear(res);
	hdb_rollback(c);
	PQfinish(c);
	return rc;
}

int main(int argc, char **argv)
{
	const char *env_level = getenv("KIOSK_LOG");
	enum log_level level = LOG_INFO;
	if (env_level && !log_level_parse(env_level, &level))
		level = LOG_INFO;
	log_set_level(level);
	if (argc < 2)
		return usage(NULL);
	const char *cmd = argv[1];
	struct opts o = {0};
	struct kio_error err = {0};
	int rc;
	if (strcmp(cmd, "serve") == 0) {
		char allowed[] = {A(OPT_DB), A(OPT_CERT), A(OPT_KEY), A(OPT_CA), A(OPT_LISTEN), A(OPT_THREADS), A(OPT_FAULTS), 0};
		if ((rc = parse(argc - 1, argv + 1, allowed, &o)))
			return rc;
		if (!o.db || !o.cert || !o.key || !o.ca)
			return usage("serve needs --db, --cert, --key and --ca");
		struct server_config cfg = {o.db, o.cert, o.key, o.ca, o.listen, o.threads, o.faults};
		rc = server_run(&cfg, &err);
	} else if (strcmp(cmd, "migrate") == 0 || strcmp(cmd, "demo-data") == 0 || strcmp(cmd, "dump") == 0) {
		bool dump = strcmp(cmd, "dump") == 0;
		char allowed[] = {A(OPT_DB), dump ? A(OPT_KIOSK_ID) : 0, 0};
		if ((rc = parse(argc - 1, argv + 1, allowed, &o)))
			return rc;
		PGconn *c = NULL;
		rc = with_db(o.db, &c, &err);
		if (!rc && strcmp(cmd, "migrate") == 0) {
			int applied = 0;
			rc = hdb_migrate(c, &applied, &err);
			if (!rc)
				printf("schema at %d (%d migration(s) applied)\n", hdb_schema_latest(), applied);
		} else if (!rc && dump) {
			rc = dump_print(c, o.kiosk_id, stdout, &err);
		} else if (!rc) {
			rc = demo_load(c, &err);
		}
		if (c)
			PQfinish(c);
	} else if (strcmp(cmd, "ca") == 0) {
		if (argc < 3 || strcmp(argv[2], "init") != 0)
			return usage("ca init is the one ca command");
		char allowed[] = {A(OPT_OUT), A(OPT_NAME), A(OPT_IP), 0};
		if ((rc = parse(argc - 2, argv + 2, allowed, &o)))
			return rc;
		if (!o.out)
			return usage("ca init needs --out DIR");
		rc = pki_ca_init(o.out, o.name ? o.name : "localhost", o.ip ? o.ip : "127.0.0.1", &err);
		if (!rc)
			printf("CA and host certificate in %s (ca.key ca.crt host.key host.crt)\n", o.out);
	} else if (strcmp(cmd, "enrol") == 0) {
		char allowed[] = {A(OPT_DB), A(OPT_CA), A(OPT_KIOSK_ID), A(OPT_OUT), 0};
		if ((rc = parse(argc - 1, argv + 1, allowed, &o)))
			return rc;
		rc = cmd_enrol(&o, &err);
	} else if (strcmp(cmd, "query") == 0) {
		char allowed[] = {A(OPT_DB), A(OPT_SQL), 0};
		if ((rc = parse(argc - 1, argv + 1, allowed, &o)))
			return rc;
		rc = cmd_query(&o, &err);
	} else if (strcmp(cmd, "catalogue") == 0) {
		if (argc < 3 || strcmp(argv[2], "load") != 0)
			return usage("catalogue load is the one catalogue command");
		char allowed[] = {A(OPT_DB), A(OPT_DIR), 0};
		if ((rc = parse(argc - 2, argv + 2, allowed, &o)))
			return rc;
		if (!o.db)
			return usage("catalogue load needs --db");
		PGconn *c = NULL;
		rc = with_db(o.db, &c, &err);
		int64_t version = 0;
		char etag[64] = "";
		const char *dir = o.dir ? o.dir : host_catalogue_default_dir();
		if (!rc)
			rc = host_catalogue_load(c, dir, &version, etag, sizeof(etag), &err);
		if (!rc)
			printf("catalogue from %s served as version %" PRId64 ", ETag \"%s\"\n", dir, version, etag);
		if (c)
			PQfinish(c);
	} else if (strcmp(cmd, "revoke") == 0) {
		char allowed[] = {A(OPT_DB), A(OPT_KIOSK_ID), 0};
		if ((rc = parse(argc - 1, argv + 1, allowed, &o)))
			return rc;
		rc = cmd_revoke(&o, &err);
	} else {
		return usage("unknown command");
	}
	return rc ? (rc == KIO_ERR_INVALID && !err.msg[0] ? 2 : fail(&err)) : 0;
}
