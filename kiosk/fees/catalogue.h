/*
 * The fees catalogue (issue 13): which entities a customer can pay here, their services, how
 * each fee is set (fixed, looked up at the host, or an open amount) and what reference each
 * needs. Data, not code: assets/catalogue/<entity>.json, schema in docs/catalogue.md. Pure C:
 * no SQLite or GLib in this header, so screens and flows can include it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

struct ledger;

enum cat_fee_kind { CAT_FEE_FIXED, CAT_FEE_INQUIRY, CAT_FEE_OPEN, CAT_FEE_KIND_COUNT };
/* The check a reference's digits carry (docs/catalogue.md says which entity uses which):
 * LUHN: ISO/IEC 7812-1 annex B, the last digit checks the others (e-Dirham card numbers).
 * MOD97: ISO 7064 MOD 97-10, the whole number read in decimal is 1 modulo 97 (as an IBAN's).
 * DAMM: the last digit is a Damm check digit over the others (kiosk/core/vcode.h's table). */
enum cat_ref_check { CAT_CHECK_NONE, CAT_CHECK_LUHN, CAT_CHECK_MOD97, CAT_CHECK_DAMM, CAT_CHECK_COUNT };
#define CAT_ID_MAX 32        /* ids: [a-z0-9-]{1,32} */
#define CAT_NAME_MAX 160     /* UTF-8 bytes */
#define CAT_REF_MAX 24       /* a reference's longest length */
#define CAT_ICON_MAX 63      /* an icon's file name: [a-z0-9-]{1,59}.png */
#define CAT_ENTITIES_MAX 64  /* in one catalogue */
#define CAT_SERVICES_MAX 32  /* in one entity */
#define CAT_ORDER_MAX 9999   /* an entity's order: 0..CAT_ORDER_MAX */
/* The largest amount any fee may name: AED 100,000 (a kiosk takes notes; beyond this a fee is
 * paid at a counter). */
#define CAT_AMOUNT_MAX_FILS INT64_C(10000000)
#define CAT_FILE_MAX (256 * 1024) /* one catalogue file's bytes */

struct cat_text { char en[CAT_NAME_MAX + 1], ar[CAT_NAME_MAX + 1]; };
struct cat_reference { struct cat_text name; int min_len, max_len; enum cat_ref_check check; };
struct cat_service {
	char id[CAT_ID_MAX + 1]; struct cat_text name; enum cat_fee_kind kind;
	int64_t amount_fils;                       /* FIXED */
	int64_t min_fils, max_fils, step_fils;     /* OPEN */
	bool has_reference; struct cat_reference reference;
	char host_entity[CAT_ID_MAX + 1], host_service[CAT_ID_MAX + 1];
	bool needs_host;
};
struct cat_entity { char id[CAT_ID_MAX + 1]; struct cat_text name; char icon[64]; int order;
	size_t n_services; struct cat_service *services; };
/* Entities sorted by order, then id; services in their file's order. version: the SHA-256
 * (hex) of the files it was read from (name and bytes, in name order): the same files give the
 * same version, which is what the store compares and a host download's ETag will name. */
struct catalogue { size_t n_entities; struct cat_entity *entities; char version[65]; };

/*
 * Reads every *.json file of dir (one entity each, {"entities":[{...}]}, the entity's id the
 * file's name without .json) and validates the whole (docs/catalogue.md lists every rule).
 * 0 with *out (caller frees with catalogue_free); else *out is NULL and err says the file and
 * the entry: "police.json: services[2] (police-fines): fee.step_fils 300 does not divide
 * max_fils - min_fils (9900)". KIO_ERR_NOT_FOUND: dir missing or has no *.json; KIO_ERR_IO: a
 * file unreadable; KIO_ERR_INVALID: any file or entry bad.
 */
int catalogue_load_dir(const char *dir, struct catalogue **out, struct kio_error *err); /* error names file and entry */
/* One document's bytes ({"entities":[...]}, any number of entities), `file` naming it in
 * errors: parsed and validated like a directory (the fuzz target's entry). Never reads past len. */
int catalogue_parse(const char *buf, size_t len, const char *file, struct catalogue **out, struct kio_error *err);
void catalogue_free(struct catalogue *c); /* accepts NULL */
/* Borrowed from c; NULL when absent (or c, e or id NULL). */
const struct cat_entity *catalogue_entity(const struct catalogue *c, const char *id);
const struct cat_service *catalogue_service(const struct cat_entity *e, const char *id);

enum cat_ref_verdict { CAT_REF_OK, CAT_REF_EMPTY, CAT_REF_SHORT, CAT_REF_LONG, CAT_REF_CHAR, CAT_REF_CHECK, CAT_REF_VERDICT_COUNT };
/* typed as the keypad gave it (digits only, no separators). A service without a reference
 * takes only the empty string (CAT_REF_OK) and refuses anything else (CAT_REF_LONG). The
 * checks in order: EMPTY, CHAR (a non-digit), SHORT, LONG, CHECK. */
enum cat_ref_verdict catalogue_reference_check(const struct cat_service *s, const char *typed);
const char *cat_ref_verdict_name(int v); /* "ok", "short", ... for logs and scenario asserts */
/* An amount an open fee takes: min_fils..max_fils, on a whole number of steps from min_fils
 * (what amount.up/down reach and a typed amount must be). false for another kind of fee. */
bool catalogue_open_amount_ok(const struct cat_service *s, int64_t fils);
/* "fixed", "inquiry", "open"; "none", "luhn", "mod97", "damm". NULL for another value. */
const char *cat_fee_kind_name(int kind);
const char *cat_ref_check_name(int check);

/* The kiosk's catalogue: a stored download of the host's, when one is stored and passes
 * every rule (catalogue_store_download below); else load the directory, validate, store in
 * SQLite (migration 10) when good, else log the error (file and entry) and load the last good
 * copy from SQLite.
 * 0 with *out from the directory or, when the directory is bad, from the store (err then
 * keeps the directory's error, already logged). A failed store write is logged and the good
 * directory is used anyway (the rows are configuration, not money). Nonzero with *out NULL
 * when the directory is bad and nothing good is stored: err says why (the directory's error;
 * KIO_ERR_CORRUPT when the stored copy fails validation). ledger NULL: the directory only. */
int catalogue_open(struct ledger *ledger, const char *dir, struct catalogue **out, struct kio_error *err);

/*
 * The host's download (GET /v1/catalogue, kiosk/sync/sync.h; docs/catalogue.md "The host's
 * download"). A downloaded copy is stored with the ETag it came with (catalogue_meta.source =
 * CAT_SOURCE_HOST + the ETag); while one is stored, catalogue_open uses it rather than the
 * directory (the host replaced the bundled files; the next download keeps it current), unless
 * it fails validation, when the directory is used as before.
 */
#define CAT_SOURCE_HOST "host ETag "
#define CAT_ETAG_MAX 95 /* an ETag's bytes, quotes included: printable ASCII, no space */
/* Stores c (which passed catalogue_parse) as the last good copy, replacing the stored one in
 * one commit, with etag (the host's ETag as sent, 1..CAT_ETAG_MAX printable ASCII bytes).
 * KIO_ERR_INVALID for a bad etag (nothing written); the store's write errors (nothing
 * changed). */
int catalogue_store_download(struct ledger *ledger, const struct catalogue *c, const char *etag,
			     struct kio_error *err);
/* The ETag of the stored copy when it is a download, into etag[CAT_ETAG_MAX + 1]; "" when the
 * stored copy came from files or nothing is stored. Read errors as KIO_ERR_IO. */
int catalogue_stored_etag(struct ledger *ledger, char *etag, struct kio_error *err);
/* Exchanges the contents of a and b: whoever holds the pointer a (the app, recovery's
 * receipts) sees b's catalogue from now on, and b holds a's old one (free it). Only when no one
 * holds a pointer into a's entities or services (the fees flow does, for a whole session). */
void catalogue_swap(struct catalogue *a, struct catalogue *b);

/* Every entity's icon is a readable PNG in icons_dir, square, CAT_ICON_SIDE_MIN..MAX px a side
 * (the loader checks only the name: where icons live is the caller's). 0, or KIO_ERR_NOT_FOUND
 * / KIO_ERR_INVALID naming the entity and the file. */
#define CAT_ICON_SIDE_MIN 48
#define CAT_ICON_SIDE_MAX 512
int catalogue_icons_check(const struct catalogue *c, const char *icons_dir, struct kio_error *err);

/* `kiosk catalogue check DIR [--icons DIR]`: exit 0 (the catalogue's summary printed), 1 (the
 * error naming the file and the entry on stderr), 2 bad arguments. argv[0] is "catalogue". */
int catalogue_tool_main(int argc, char **argv);
