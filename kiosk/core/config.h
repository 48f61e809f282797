/*
 * The kiosk's configuration: one INI file (`kiosk --print-config` lists every key), every key
 * with a default and a range checked at load. A bad value is an error naming the file,
 * the line and the key; an unknown key is an error too, since a typo in a money kiosk's
 * configuration must not silently fall back to a default.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "err.h"

enum config_digits { CONFIG_DIGITS_WESTERN, CONFIG_DIGITS_EASTERN };

enum { CORE_CONFIG_KEYS = 40 }; /* the keys in config.c's table */

/*
 * The screen sizes the layouts are proven at (README, Configuration): each side
 * UI_SIDE_MIN..UI_SIDE_MAX logical px, the long side at most UI_ASPECT_MAX_X10 / 10 times the
 * short one (portrait or landscape).
 */
enum { UI_SIDE_MIN = 768, UI_SIDE_MAX = 3840, UI_ASPECT_MAX_X10 = 25 };

struct core_config {
	/* [kiosk] */
	char kiosk_id[32];         /* printed on receipts, sent to the host */
	char default_language[3];  /* "ar" or "en": the language the kiosk starts in */
	/* [ui] */
	int width, height;         /* logical screen size in pixels */
	int inactivity_timeout_s;  /* idle customer screens return to attract */
	enum config_digits digits; /* digits used when formatting numbers */
	/* [display] */
	int display_scale_pct;     /* 0: fit the page to the output; else output px per 100 page px */
	/* [paths] */
	char data_dir[512];        /* assets/ live here */
	char db_path[512];
	char out_dir[512];         /* screenshots, receipt and card images */
	/* [devices] */
	char cash_usb[64];         /* VID:PID[:serial] of the note acceptor */
	char receipt_usb[64];      /* ... of the receipt printer */
	char card_usb[64];         /* ... of the card printer */
	int receipt_width_dots;    /* printable dots per receipt line */
	int cash_encryption;       /* 0 off, 1 on: eSSP (key exchange, AES-128) */
	uint64_t cash_fixed_key;   /* eSSP fixed key, the lower 64 bits of the AES key */
	/* [topup] (kiosk/flows/topup.h) */
	char topup_prefixes[80];   /* issuer prefixes of the cards taken, "784" or "784,785" */
	int64_t topup_min_fils;    /* read in whole AED, kept in fils */
	int64_t topup_max_fils;
	int topup_done_s;          /* the done screen returns to attract by itself */
	int topup_no_receipt_s;    /* the same with no receipt, from its failure (flows/topup.h inv. 8) */
	/* [sim] */
	int64_t virtual_epoch_s;   /* wall clock at the start of a headless run */
	/* [host] (kiosk/sync/sync.h; the contract of issue 12) */
	char host_url[256];        /* "https://host:port"; empty: no host, no sync */
	char host_ca[512];         /* the operator CA (PEM), pinned */
	char host_cert[512];       /* the kiosk's certificate (PEM) */
	char host_key[512];        /* its private key (PEM) */
	int host_timeout_ms;       /* one exchange with the host */
	int host_batch;            /* records per upload */
	int host_heartbeat_s;
	int host_backoff_min_ms, host_backoff_max_ms;
	int host_retention_days;   /* acknowledged records kept at least this long */
	int host_catalogue_interval_s; /* between catalogue downloads (GET /v1/catalogue); 0: never */
	/* [offline]: top-ups the host has not acknowledged, per card and for the kiosk */
	int64_t offline_card_max_fils;
	int offline_card_max_count;
	int64_t offline_kiosk_max_fils;
	int offline_kiosk_max_count;
	/* [fees] */
	char fees_catalogue[512];  /* the catalogue's folder (default KIOSK_DATA_DIR/assets/catalogue) */
	int64_t fees_overpay_cap_fils; /* the most a note may pay past a basket's due (no change given) */
	int fees_voucher_days;     /* an e-voucher the kiosk issues is good this many days */

	/* Where the values came from, for messages about them found after loading (a USB id,
	 * a path): the file last loaded (borrowed from the caller of core_config_load, NULL
	 * while every value is a default) and the line each key was set on (0: not set). */
	const char *source;
	int lines[CORE_CONFIG_KEYS];
};

#define CONFIG_PREFIXES_MAX 8
#define CONFIG_PREFIX_DIGITS 8
/* topup.card_prefixes split at its commas (checked at load: 1 to CONFIG_PREFIXES_MAX items of
 * 1 to CONFIG_PREFIX_DIGITS digits). Returns how many were written to out. */
size_t core_config_prefixes(const struct core_config *cfg, char out[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1]);

/* Fills cfg with every default. */
void core_config_defaults(struct core_config *cfg);

/* Reads path over the current values of cfg (through core_ini, see ini.h for the format).
 * On error returns KIO_ERR_INVALID (or KIO_ERR_IO / KIO_ERR_NOT_FOUND if the file cannot be
 * read) with "path:line: section.key: reason" in err, and cfg is unchanged. An unknown
 * section or key is an error. cfg->source borrows path. */
int core_config_load(struct core_config *cfg, const char *path, struct kio_error *err);
/* The same from len bytes of buf; name is used in messages and borrowed as cfg->source. */
int core_config_load_data(struct core_config *cfg, const char *name, const char *buf, size_t len,
			  struct kio_error *err);
/* The same from a NUL-terminated string (tests). */
int core_config_load_string(struct core_config *cfg, const char *name, const char *text,
			    struct kio_error *err);

/* Where section.name's value came from, for a message: "file:line: section.name" when the
 * file set it, else "section.name (default)". Always NUL-terminates buf. */
void core_config_where(const struct core_config *cfg, const char *section, const char *name, char *buf,
		       size_t cap);

/* Writes every key with its current value and documentation, as a template file. */
void core_config_dump(const struct core_config *cfg, FILE *out);
