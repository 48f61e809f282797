/* `kiosk receipt pubkey|verify`: the kiosk's receipt public key from its ledger's secret, and
 * an inspector's check of a receipt's QR text against a public key (docs/receipts.md). */
#include "kiosk/proof/tool.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kiosk/core/cli.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/print/print.h"
#include "kiosk/proof/proof.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: kiosk receipt pubkey --db PATH\n"
		"       kiosk receipt verify (--pubkey HEX | --db PATH) TEXT\n"
		"\n"
		"pubkey  prints the key id and the Ed25519 public key (64 hex digits) that sign this\n"
		"        kiosk's receipts, derived from the ledger's secret (PATH.secret).\n"
		"verify  checks TEXT, what a receipt's QR code holds (EDK1:...), against a kiosk's public\n"
		"        key (--pubkey, as `pubkey` printed it, or --db to derive it), and prints what\n"
		"        the receipt says. docs/receipts.md describes the record.\n"
		"\n"
		"Exit status: 0 the receipt is genuine, 1 it is not (the reason on stderr), 2 bad\n"
		"arguments, 3 the database's secret cannot be read.\n");
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The receipt key of the ledger at db: 0, or 3 with the reason printed. */
static int key_of_db(const char *cmd, const char *db, struct proof_key *key)
{
	uint8_t secret[PROOF_SECRET_BYTES];
	struct kio_error err = {0};
	if (ledger_secret_read(db, false, secret, &err) != 0) {
		fprintf(stderr, "kiosk receipt %s: %s\n", cmd, err.msg);
		return 3;
	}
	proof_key_from_secret(secret, key);
	explicit_bzero(secret, sizeof(secret));
	return 0;
}

static int verify_main(const char *text, const uint8_t pub[PROOF_PUB_BYTES])
{
	struct proof_parsed p;
	enum proof_fault fault = PROOF_OK;
	struct kio_error err = {0};
	if (proof_qr_parse(text, strlen(text), &p, &fault, &err) != 0 || proof_verify(&p, pub, &fault, &err) != 0) {
		fprintf(stderr, "kiosk receipt verify: NOT VALID (%s): %s\n", proof_fault_name(fault), err.msg);
		return 1;
	}
	const struct proof_receipt *r = &p.r;
	char id[2 * PROOF_KEY_ID_BYTES + 1], uuid[37], when[32], amount[32];
	hex(r->key_id, PROOF_KEY_ID_BYTES, id);
	proof_uuid_format(r->tx_uuid, uuid);
	print_format_time(r->time_s, when, sizeof(when));
	print_format_fils(r->paid_fils, amount, sizeof(amount));
	printf("valid: signed by kiosk %s's key %s\n"
	       "kiosk id: %s\n"
	       "key id: %s\n"
	       "reference: TXN-%06" PRId64 "\n"
	       "transaction number: %" PRId64 "\n"
	       "transaction uuid: %s\n"
	       "time: %s Gulf time (%" PRId64 " s since 1970 UTC)\n"
	       "paid: %s %s (%" PRId64 " fils)\n"
	       "lines: %" PRId64 "\n",
	       r->kiosk_id, id, r->kiosk_id, id, r->seq, r->seq, uuid, when, r->time_s, r->currency, amount,
	       r->paid_fils, r->lines);
	return 0;
}

int proof_tool_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	bool pubkey = strcmp(cmd, "pubkey") == 0, verify = strcmp(cmd, "verify") == 0;
	if (!pubkey && !verify) {
		fprintf(stderr, "kiosk receipt: unknown command '%s' (pubkey or verify)\n", cmd);
		return 2;
	}
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"pubkey", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *pub_hex = NULL;
	optind = 1;
	opterr = 0;
	int c;
	int ac = argc - 1;
	char **av = argv + 1;
	/* "+": options before TEXT only, so a text can never be taken for an option's value. */
	while ((c = getopt_long(ac, av, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'p':
			if (!verify) {
				fprintf(stderr, "kiosk receipt pubkey: --pubkey belongs to verify\n");
				return 2;
			}
			pub_hex = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: return core_cli_bad_option("receipt", cmd, av);
		}
	}
	if (pubkey) {
		if (core_cli_check_db("receipt", cmd, ac, av, db) != 0)
			return 2;
		struct proof_key key;
		int rc = key_of_db(cmd, db, &key);
		if (rc)
			return rc;
		char id[2 * PROOF_KEY_ID_BYTES + 1], pub[2 * PROOF_PUB_BYTES + 1];
		hex(key.key_id, PROOF_KEY_ID_BYTES, id);
		hex(key.pub, PROOF_PUB_BYTES, pub);
		proof_key_wipe(&key);
		printf("key id: %s\npublic key: %s\n", id, pub);
		return 0;
	}
	if (optind >= ac) {
		fprintf(stderr, "kiosk receipt verify: the receipt's QR text is needed (kiosk receipt verify --pubkey HEX TEXT)\n");
		return 2;
	}
	if (optind + 1 < ac) {
		fprintf(stderr, "kiosk receipt verify: unexpected argument '%s' (one receipt's text at a time)\n",
			av[optind + 1]);
		return 2;
	}
	if (!pub_hex == !db || (db && !*db)) {
		fprintf(stderr, "kiosk receipt verify: give the kiosk's public key with --pubkey HEX, or --db PATH to "
				"derive it (one of them)\n");
		return 2;
	}
	uint8_t pub[PROOF_PUB_BYTES];
	if (pub_hex && !proof_pub_parse_hex(pub_hex, pub)) {
		fprintf(stderr, "kiosk receipt verify: --pubkey '%.80s' is not 64 hex digits (kiosk receipt pubkey prints it)\n",
			pub_hex);
		return 2;
	}
	if (db) {
		struct proof_key key;
		int rc = key_of_db(cmd, db, &key);
		if (rc)
			return rc;
		memcpy(pub, key.pub, sizeof(pub));
		proof_key_wipe(&key);
	}
	return verify_main(av[optind], pub);
}
