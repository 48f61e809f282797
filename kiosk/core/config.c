/* Configuration keys, their defaults and ranges, and applying a key file to them. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/transport/usb-ids.h"
#include "ini.h"
#include "install.h"
#include "kiosk-config.h"

enum key_type { KEY_INT, KEY_INT64, KEY_STRING, KEY_CHOICE, KEY_USB_ID, KEY_HEX64, KEY_AED, KEY_PREFIXES, KEY_URL,
		KEY_PATH, KEY_SCALE };

/* KEY_AED: whole dirhams in the file, fils in memory (money is integer fils everywhere). */
#define FILS_PER_AED 100

struct key_desc {
	const char *section, *name;
	enum key_type type;
	size_t offset, size;       /* size: string buffer size */
	int64_t min, max;          /* KEY_INT, KEY_INT64 */
	const char *const *choices; /* KEY_CHOICE: stored as the int index */
	const char *doc;
};

static const char *const language_choices[] = {"ar", "en", NULL};
static const char *const digit_choices[] = {"western", "eastern", NULL};
static const char *const off_on_choices[] = {"off", "on", NULL};

#define OFF(f) offsetof(struct core_config, f)
#define SZ(f) sizeof(((struct core_config *)0)->f)

static const struct key_desc keys[] = {
	{"kiosk", "id", KEY_STRING, OFF(kiosk_id), SZ(kiosk_id), 0, 0, NULL,
	 "Kiosk identity, printed on receipts and sent to the host"},
	{"kiosk", "default_language", KEY_STRING, OFF(default_language), SZ(default_language), 0, 0,
	 language_choices, "Language the kiosk starts in: ar or en"},
	/* The sizes the layouts are proven at (issue 11): the page check (kiosk/ui/check.h) passes
	 * every scenario, with every device notice in both languages, at the corners of this range
	 * (tests/scenario/meson.build: 768 x 1024, 1024 x 768, 800 x 1280, 1280 x 800, 1920 x 768,
	 * 768 x 1920, 1080 x 1920, 1920 x 1080, 2160 x 3840). UI_ASPECT_MAX bounds the shape:
	 * the long side at most 2.5 times the short one (check_screen). */
	{"ui", "width", KEY_INT, OFF(width), 0, UI_SIDE_MIN, UI_SIDE_MAX, NULL, "Logical screen width in pixels"},
	{"ui", "height", KEY_INT, OFF(height), 0, UI_SIDE_MIN, UI_SIDE_MAX, NULL, "Logical screen height in pixels"},
	{"ui", "inactivity_timeout_s", KEY_INT, OFF(inactivity_timeout_s), 0, 10, 600, NULL,
	 "Seconds without a touch before a customer screen returns to attract"},
	{"ui", "digits", KEY_CHOICE, OFF(digits), 0, 0, 0, digit_choices,
	 "Digits for numbers and amounts: western (UAE receipts) or eastern (Arabic-Indic)"},
	/* [display] scale: "fit", or output pixels per page pixel with at most two decimals,
	 * kept in per cent (min and max); a factor the output cannot hold is fitted (display.h). */
	{"display", "scale", KEY_SCALE, OFF(display_scale_pct), 0, 25, 400, NULL,
	 "Page pixels to output pixels: fit (the largest that fits, aspect kept), or a factor 0.25 to 4"},
	{"paths", "data_dir", KEY_STRING, OFF(data_dir), SZ(data_dir), 0, 0, NULL,
	 "Folder holding assets/ (the catalogues are compiled: README, Catalogues)"},
	{"paths", "db", KEY_STRING, OFF(db_path), SZ(db_path), 0, 0, NULL, "SQLite database file"},
	{"paths", "out_dir", KEY_STRING, OFF(out_dir), SZ(out_dir), 0, 0, NULL,
	 "Folder for screenshots and simulated receipt and card images"},
	{"devices", "cash_usb", KEY_USB_ID, OFF(cash_usb), SZ(cash_usb), 0, 0, NULL,
	 "Note acceptor USB id: VID:PID in hex, then optionally :SERIAL and ,if=N ,in=EP ,out=EP"},
	{"devices", "receipt_usb", KEY_USB_ID, OFF(receipt_usb), SZ(receipt_usb), 0, 0, NULL,
	 "Receipt printer USB id (same form)"},
	{"devices", "card_usb", KEY_USB_ID, OFF(card_usb), SZ(card_usb), 0, 0, NULL,
	 "Card printer USB id (same form)"},
	{"devices", "receipt_width_dots", KEY_INT, OFF(receipt_width_dots), 0, 384, 832, NULL,
	 "Printable dots per receipt line: 576 for 80 mm paper at 203 dpi, 384 for 58 mm"},
	{"devices", "cash_encryption", KEY_CHOICE, OFF(cash_encryption), 0, 0, 0, off_on_choices,
	 "eSSP encryption with the note acceptor (off|on): on for a validator set to require it"},
	{"devices", "cash_fixed_key", KEY_HEX64, OFF(cash_fixed_key), 0, 0, 0, NULL,
	 "eSSP fixed key, 16 hex digits (ITL's factory default 0123456701234567)"},
	{"topup", "card_prefixes", KEY_PREFIXES, OFF(topup_prefixes), SZ(topup_prefixes), 0, 0, NULL,
	 "Issuer prefixes of the e-Dirham cards the kiosk tops up: 1 to 8 digits each, comma separated"},
	{"topup", "min_aed", KEY_AED, OFF(topup_min_fils), 0, 1, 100000, NULL,
	 "Smallest top-up in whole AED (finish is offered from this amount)"},
	{"topup", "max_aed", KEY_AED, OFF(topup_max_fils), 0, 1, 100000, NULL,
	 "Largest top-up in whole AED, at least min_aed (a note above it is returned)"},
	{"topup", "done_seconds", KEY_INT, OFF(topup_done_s), 0, 5, 600, NULL,
	 "Seconds the top-up's done screen stays before the kiosk returns to attract"},
	{"topup", "no_receipt_seconds", KEY_INT, OFF(topup_no_receipt_s), 0, 5, 600, NULL,
	 "Seconds the done screen stays when no receipt prints (the customer copies the transaction "
	 "number), counted from the receipt's failure"},
	{"sim", "virtual_epoch_s", KEY_INT64, OFF(virtual_epoch_s), 0, 0, INT64_C(4102444800), NULL,
	 "Wall-clock time (Unix seconds) at the start of a headless run"},
	/* The host link (issue 12, kiosk/sync): mutual TLS, the operator CA pinned. */
	{"host", "url", KEY_URL, OFF(host_url), SZ(host_url), 0, 0, NULL,
	 "The host's address, https://NAME[:PORT]; empty: no host (the kiosk runs standalone, nothing syncs)"},
	{"host", "ca", KEY_PATH, OFF(host_ca), SZ(host_ca), 0, 0, NULL,
	 "The operator CA certificate (PEM): the only one the kiosk trusts for the host"},
	{"host", "cert", KEY_PATH, OFF(host_cert), SZ(host_cert), 0, 0, NULL, "This kiosk's certificate (PEM)"},
	{"host", "key", KEY_PATH, OFF(host_key), SZ(host_key), 0, 0, NULL, "This kiosk's private key (PEM, mode 0600)"},
	{"host", "timeout_ms", KEY_INT, OFF(host_timeout_ms), 0, 200, 120000, NULL,
	 "Milliseconds one exchange with the host may take, connecting included"},
	{"host", "batch", KEY_INT, OFF(host_batch), 0, 1, 500, NULL, "Ledger records per upload"},
	{"host", "heartbeat_seconds", KEY_INT, OFF(host_heartbeat_s), 0, 5, 3600, NULL,
	 "Seconds between heartbeats (also the longest wait before an idle drain looks again)"},
	{"host", "catalogue_interval_s", KEY_INT, OFF(host_catalogue_interval_s), 0, 0, 86400, NULL,
	 "Seconds between asks for the host's fees catalogue (ETag: unchanged costs one small answer); 0: never"},
	{"host", "backoff_min_ms", KEY_INT, OFF(host_backoff_min_ms), 0, 50, 600000, NULL,
	 "Delay before the first retry after a failed upload; each next one may double"},
	{"host", "backoff_max_ms", KEY_INT, OFF(host_backoff_max_ms), 0, 50, 3600000, NULL,
	 "Longest delay between retries, at least backoff_min_ms"},
	{"host", "retention_days", KEY_INT, OFF(host_retention_days), 0, 1, 3650, NULL,
	 "Days acknowledged records are kept before they may be pruned (unacknowledged ones never are)"},
	/* Offline limits (issue 12): like card terminals' store-and-forward caps, what the kiosk
	 * accepts while the host has not acknowledged it. Fils, as every amount. */
	{"offline", "card_max_fils", KEY_INT64, OFF(offline_card_max_fils), 0, 100, INT64_C(100000000), NULL,
	 "Fils of top-ups one card may have that the host has not acknowledged (a top-up past it needs the host)"},
	{"offline", "card_max_count", KEY_INT, OFF(offline_card_max_count), 0, 1, 1000, NULL,
	 "Top-ups one card may have that the host has not acknowledged"},
	{"offline", "kiosk_max_fils", KEY_INT64, OFF(offline_kiosk_max_fils), 0, 100, INT64_C(1000000000), NULL,
	 "Fils of top-ups the whole kiosk may hold that the host has not acknowledged"},
	{"offline", "kiosk_max_count", KEY_INT, OFF(offline_kiosk_max_count), 0, 1, 100000, NULL,
	 "Top-ups the whole kiosk may hold that the host has not acknowledged"},
	/* The fees catalogue (issue 13, docs/catalogue.md): loaded and checked at start; a bad one
	 * leaves the last good copy in use. */
	{"fees", "catalogue", KEY_STRING, OFF(fees_catalogue), SZ(fees_catalogue), 0, 0, NULL,
	 "Folder of the fees catalogue (<entity>.json files, docs/catalogue.md)"},
	/* No change is given (issue 13, "Money rules"): a note is taken only while the overpayment
	 * it causes stays within the cap, so a 1,000 AED note is returned for a 45.50 AED rest. */
	{"fees", "overpay_cap_fils", KEY_INT64, OFF(fees_overpay_cap_fils), 0, 0, INT64_C(100000000), NULL,
	 "Fils a note may pay past what a fees basket still owes (the overpayment goes to a card or an e-voucher)"},
	{"fees", "voucher_days", KEY_INT, OFF(fees_voucher_days), 0, 1, 3650, NULL,
	 "Days an e-voucher the kiosk issues (an overpayment, a cancelled payment) can be redeemed"},
};

_Static_assert(sizeof(keys) / sizeof(keys[0]) == CORE_CONFIG_KEYS, "CORE_CONFIG_KEYS is the table's size");

void core_config_defaults(struct core_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->kiosk_id, sizeof(cfg->kiosk_id), "KIOSK-0001");
	snprintf(cfg->default_language, sizeof(cfg->default_language), "ar");
	cfg->width = 1080;
	cfg->height = 1920;
	cfg->inactivity_timeout_s = 60;
	cfg->digits = CONFIG_DIGITS_WESTERN;
	/* The source tree while uninstalled, datadir/kiosk once installed (install.h). */
	const char *data = core_install_data_dir();
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", data);
	snprintf(cfg->fees_catalogue, sizeof(cfg->fees_catalogue), "%s/assets/catalogue", data);
	snprintf(cfg->db_path, sizeof(cfg->db_path), "kiosk.db");
	snprintf(cfg->out_dir, sizeof(cfg->out_dir), "out");
	/* The models the drivers were written for; a site with other units sets its own ids. */
	snprintf(cfg->cash_usb, sizeof(cfg->cash_usb), "%s", USB_ID_CASH_DEFAULT);
	snprintf(cfg->receipt_usb, sizeof(cfg->receipt_usb), "%s", USB_ID_RECEIPT_DEFAULT);
	snprintf(cfg->card_usb, sizeof(cfg->card_usb), "%s", USB_ID_CARD_DEFAULT);
	cfg->receipt_width_dots = 576;
	cfg->cash_encryption = 0;
	cfg->cash_fixed_key = UINT64_C(0x0123456701234567); /* GA973 §6.2.2: the factory key */
	snprintf(cfg->topup_prefixes, sizeof(cfg->topup_prefixes), "784"); /* ISO 3166 code of the UAE */
	cfg->topup_min_fils = 10 * FILS_PER_AED;
	cfg->topup_max_fils = 5000 * FILS_PER_AED;
	cfg->topup_done_s = 30;
	cfg->topup_no_receipt_s = 60;
	cfg->virtual_epoch_s = INT64_C(1798761600); /* 2027-01-01 00:00 UTC: fixed, so runs repeat */
	cfg->host_timeout_ms = 5000;
	cfg->host_batch = 200;
	cfg->host_heartbeat_s = 60;
	cfg->host_catalogue_interval_s = 900;
	cfg->host_backoff_min_ms = 500;
	cfg->host_backoff_max_ms = 60000;
	cfg->host_retention_days = 90;
	/* Store-and-forward caps in the spirit of card terminals' (Moneris: $250 a payment, 500
	 * records): AED 1,000 and 3 top-ups a card, AED 10,000 and 50 top-ups a kiosk. */
	cfg->offline_card_max_fils = 1000 * FILS_PER_AED;
	cfg->offline_card_max_count = 3;
	cfg->offline_kiosk_max_fils = 10000 * FILS_PER_AED;
	cfg->offline_kiosk_max_count = 50;
	cfg->fees_overpay_cap_fils = 200 * FILS_PER_AED; /* issue 13: 200 AED */
	cfg->fees_voucher_days = 30;
}

/*
 * The shape of a USB id ("VID:PID[:SERIAL][,if=N][,in=EP][,out=EP]"): printable, no spaces,
 * with a ':'. Its fields are checked by the transport's parser (usbx_id_parse) when the kiosk
 * starts, before anything is opened.
 */
static bool usb_id_shaped(const char *v)
{
	if (!strchr(v, ':'))
		return false;
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	return true;
}

/* The host's address: https:// and a host name, printable, no spaces (libcurl takes the rest
 * apart; this catches a typo such as http:// or a pasted space at load). */
static bool url_shaped(const char *v)
{
	if (strncmp(v, "https://", 8) != 0 || v[8] == '\0' || v[8] == '/' || v[8] == ':')
		return false;
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	return true;
}

/* Splits a prefix list; false (why says what) when an item is not 1 to CONFIG_PREFIX_DIGITS
 * digits or there are more than CONFIG_PREFIXES_MAX. Spaces around an item are allowed. */
static bool split_prefixes(const char *v, char out[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1], size_t *n,
			   char *why, size_t why_len)
{
	*n = 0;
	const char *p = v;
	for (;;) {
		while (*p == ' ')
			p++;
		size_t len = strspn(p, "0123456789");
		const char *end = p + len;
		while (*end == ' ')
			end++;
		if (len == 0 || len > CONFIG_PREFIX_DIGITS || (*end != ',' && *end != '\0')) {
			snprintf(why, why_len, "item %zu is not 1 to %d digits", *n + 1, CONFIG_PREFIX_DIGITS);
			return false;
		}
		if (*n == CONFIG_PREFIXES_MAX) {
			snprintf(why, why_len, "more than %d prefixes", CONFIG_PREFIXES_MAX);
			return false;
		}
		memcpy(out[*n], p, len);
		out[(*n)++][len] = '\0';
		if (*end == '\0')
			return true;
		p = end + 1;
	}
}

size_t core_config_prefixes(const struct core_config *cfg, char out[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1])
{
	size_t n = 0;
	char why[64];
	return split_prefixes(cfg->topup_prefixes, out, &n, why, sizeof(why)) ? n : 0;
}

/* A factor as digits with at most two decimals ("1", "1.5", "0.75"), in per cent; no sign,
 * exponent or spaces (strtod would take them, and a locale's decimal comma). */
static bool parse_scale(const char *value, int *pct)
{
	size_t whole = strspn(value, "0123456789");
	if (whole == 0 || whole > 3)
		return false;
	int v = 0;
	for (size_t i = 0; i < whole; i++)
		v = v * 10 + (value[i] - '0');
	v *= 100;
	const char *p = value + whole;
	if (*p == '.') {
		size_t frac = strspn(p + 1, "0123456789");
		if (frac == 0 || frac > 2 || p[1 + frac] != '\0')
			return false;
		v += (p[1] - '0') * 10 + (frac == 2 ? p[2] - '0' : 0);
	} else if (*p != '\0') {
		return false;
	}
	*pct = v;
	return true;
}

static int set_key(const struct key_desc *k, struct core_config *cfg, const char *value,
		   struct kio_error *err)
{
	char *field = (char *)cfg + k->offset;
	if (k->type == KEY_PREFIXES) {
		char items[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1], why[64];
		size_t n;
		if (strlen(value) >= k->size)
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s: longer than %zu bytes", k->section, k->name,
					k->size - 1);
		if (!split_prefixes(value, items, &n, why, sizeof(why)))
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s = '%s': %s (issuer prefixes, e.g. 784 or 784,785)",
					k->section, k->name, value, why);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	}
	if (k->type == KEY_USB_ID) {
		if (strlen(value) >= k->size || !usb_id_shaped(value))
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s = '%s': not a USB id (VID:PID in hex, e.g. 191c:4104, then optionally :SERIAL and ,if=N ,in=EP ,out=EP)",
					k->section, k->name, value);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	}
	if (k->type == KEY_URL || k->type == KEY_PATH) {
		if (strlen(value) >= k->size)
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s: longer than %zu bytes", k->section, k->name,
					k->size - 1);
		if (k->type == KEY_URL && value[0] && !url_shaped(value))
			return kio_fail(err, KIO_ERR_INVALID,
					"%s.%s = '%s': not an https:// address (https://NAME[:PORT], no spaces; empty for none)",
					k->section, k->name, value);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	}
	if (k->type == KEY_HEX64) {
		/* Exactly 16 hex digits: strtoull alone would take a sign, spaces or "0x". */
		if (strlen(value) != 16 || strspn(value, "0123456789abcdefABCDEF") != 16)
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s: not 16 hex digits", k->section, k->name);
		*(uint64_t *)field = strtoull(value, NULL, 16);
		return 0;
	}
	if (k->type == KEY_STRING) {
		if (strlen(value) >= k->size)
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s: longer than %zu bytes", k->section,
					k->name, k->size - 1);
		if (value[0] == '\0')
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s: must not be empty", k->section, k->name);
		/* The kiosk id is the one the host enrols (its certificate's CN, [A-Za-z0-9._-]) and
		 * the one every receipt's signed QR carries (docs/receipts.md): another character
		 * would leave receipts without their QR and the kiosk impossible to enrol. */
		if (k->offset == offsetof(struct core_config, kiosk_id) &&
			strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(value))
			return kio_fail(err, KIO_ERR_INVALID,
					"%s.%s = '%s': only letters A-Z a-z, digits and . _ - (the id the host enrols and "
					"receipts carry)",
					k->section, k->name, value);
		if (k->choices) {
			bool ok = false;
			for (const char *const *c = k->choices; *c; c++)
				ok |= strcmp(*c, value) == 0;
			if (!ok)
				return kio_fail(err, KIO_ERR_INVALID, "%s.%s = '%s': not one of the allowed values",
						k->section, k->name, value);
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	}
	if (k->type == KEY_CHOICE) {
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(k->choices[i], value) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		return kio_fail(err, KIO_ERR_INVALID, "%s.%s = '%s': not one of the allowed values", k->section,
				k->name, value);
	}
	if (k->type == KEY_SCALE) {
		int pct = 0;
		if (strcmp(value, "fit") != 0 && !parse_scale(value, &pct))
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s = '%s': not fit or a factor like 1, 1.5 or 0.75",
					k->section, k->name, value);
		if (strcmp(value, "fit") != 0 && (pct < k->min || pct > k->max))
			return kio_fail(err, KIO_ERR_INVALID, "%s.%s = %s: must be fit or between 0.25 and 4", k->section,
					k->name, value);
		*(int *)field = pct;
		return 0;
	}
	char *end = NULL;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno || end == value || *end != '\0')
		return kio_fail(err, KIO_ERR_INVALID, "%s.%s = '%s': not a whole number", k->section, k->name,
				value);
	if (v < k->min || v > k->max)
		return kio_fail(err, KIO_ERR_INVALID, "%s.%s = %lld: must be between %lld and %lld", k->section,
				k->name, v, (long long)k->min, (long long)k->max);
	if (k->type == KEY_INT)
		*(int *)field = (int)v;
	else if (k->type == KEY_AED)
		*(int64_t *)field = v * FILS_PER_AED;
	else
		*(int64_t *)field = v;
	return 0;
}

static const struct key_desc *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int key_index(const struct key_desc *k)
{
	return (int)(k - keys);
}

static bool known_section(const char *section)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/*
 * The screen's shape, which no single key can check: the long side at most UI_ASPECT_MAX_X10 / 10
 * times the short one. Named at the line of the size key given last (the one that made it so).
 */
static int check_screen(const struct core_config *cfg, const char *name, struct kio_error *err)
{
	int64_t s = cfg->width < cfg->height ? cfg->width : cfg->height;
	int64_t l = cfg->width < cfg->height ? cfg->height : cfg->width;
	if (l * 10 <= s * UI_ASPECT_MAX_X10)
		return 0;
	const struct key_desc *kw = find_key("ui", "width"), *kh = find_key("ui", "height");
	int lw = cfg->lines[key_index(kw)], lh = cfg->lines[key_index(kh)];
	bool h_last = lh >= lw;
	return kio_fail(err, KIO_ERR_INVALID,
			"%s:%d: ui.%s = %d: a %d x %d screen is more than %d.%d times as %s as it is %s (the layouts are proven up to that shape)",
			name, h_last ? lh : lw, h_last ? "height" : "width", h_last ? cfg->height : cfg->width, cfg->width,
			cfg->height, UI_ASPECT_MAX_X10 / 10, UI_ASPECT_MAX_X10 % 10,
			cfg->width > cfg->height ? "wide" : "tall", cfg->width > cfg->height ? "tall" : "wide");
}

/* The line of whichever of two keys the file set last (0: neither). */
static int later_line(const struct core_config *cfg, const char *section, const char *a, const char *b)
{
	int la = cfg->lines[key_index(find_key(section, a))], lb = cfg->lines[key_index(find_key(section, b))];
	return la > lb ? la : lb;
}

/* [host] and [offline] across keys: a host needs the three TLS files, backoff_max is at least
 * backoff_min, and a card's limit is within the kiosk's. */
static int check_host(const struct core_config *cfg, const char *name, struct kio_error *err)
{
	if (cfg->host_url[0]) {
		const char *missing = !cfg->host_ca[0] ? "ca" : !cfg->host_cert[0] ? "cert" : !cfg->host_key[0] ? "key" : NULL;
		if (missing)
			return kio_fail(err, KIO_ERR_INVALID,
					"%s:%d: host.url is set but host.%s is empty (mutual TLS needs ca, cert and key)", name,
					cfg->lines[key_index(find_key("host", "url"))], missing);
	}
	if (cfg->host_backoff_max_ms < cfg->host_backoff_min_ms)
		return kio_fail(err, KIO_ERR_INVALID, "%s:%d: host.backoff_max_ms = %d is below host.backoff_min_ms = %d",
				name, later_line(cfg, "host", "backoff_min_ms", "backoff_max_ms"), cfg->host_backoff_max_ms,
				cfg->host_backoff_min_ms);
	if (cfg->offline_card_max_fils > cfg->offline_kiosk_max_fils)
		return kio_fail(err, KIO_ERR_INVALID,
				"%s:%d: offline.card_max_fils = %lld is above offline.kiosk_max_fils = %lld", name,
				later_line(cfg, "offline", "card_max_fils", "kiosk_max_fils"),
				(long long)cfg->offline_card_max_fils, (long long)cfg->offline_kiosk_max_fils);
	if (cfg->offline_card_max_count > cfg->offline_kiosk_max_count)
		return kio_fail(err, KIO_ERR_INVALID,
				"%s:%d: offline.card_max_count = %d is above offline.kiosk_max_count = %d", name,
				later_line(cfg, "offline", "card_max_count", "kiosk_max_count"), cfg->offline_card_max_count,
				cfg->offline_kiosk_max_count);
	return 0;
}

/* Applies every key of ini to a copy of cfg, so a file with a fault changes nothing. */
static int apply(struct core_config *cfg, const struct core_ini *ini, const char *name, struct kio_error *err)
{
	struct core_config next = *cfg;
	for (size_t i = 0; i < ini->n_sections; i++)
		if (!known_section(ini->sections[i].name))
			return kio_fail(err, KIO_ERR_INVALID, "%s:%d: [%s]: unknown section", name,
					ini->sections[i].line, ini->sections[i].name);
	memset(next.lines, 0, sizeof(next.lines));
	for (size_t i = 0; i < ini->n_entries; i++) {
		const struct core_ini_entry *e = &ini->entries[i];
		const struct key_desc *k = find_key(e->section, e->key);
		struct kio_error why = {0};
		int rc = k ? set_key(k, &next, e->value, &why)
			   : kio_fail(&why, KIO_ERR_INVALID, "%s.%s: unknown key", e->section, e->key);
		if (rc)
			return kio_fail(err, rc, "%s:%d: %s", name, e->line, why.msg);
		next.lines[key_index(k)] = e->line;
	}
	/* Across keys: the file's line of whichever of the two it set last (a maximum raised
	 * below the default minimum is the maximum's fault). */
	if (next.topup_max_fils < next.topup_min_fils) {
		const struct key_desc *kmin = find_key("topup", "min_aed"), *kmax = find_key("topup", "max_aed");
		int lmin = next.lines[key_index(kmin)], lmax = next.lines[key_index(kmax)];
		return kio_fail(err, KIO_ERR_INVALID, "%s:%d: topup.max_aed = %lld is below topup.min_aed = %lld", name,
				lmax > lmin ? lmax : lmin, (long long)(next.topup_max_fils / FILS_PER_AED),
				(long long)(next.topup_min_fils / FILS_PER_AED));
	}
	int rc = check_host(&next, name, err);
	if (!rc)
		rc = check_screen(&next, name, err);
	if (rc)
		return rc;
	next.source = name;
	*cfg = next;
	return 0;
}

int core_config_load(struct core_config *cfg, const char *path, struct kio_error *err)
{
	struct core_ini *ini = NULL;
	int rc = core_ini_load(path, &ini, err);
	if (rc == 0)
		rc = apply(cfg, ini, path, err);
	core_ini_free(ini);
	return rc;
}

int core_config_load_data(struct core_config *cfg, const char *name, const char *buf, size_t len,
			  struct kio_error *err)
{
	struct core_ini *ini = NULL;
	int rc = core_ini_parse(name, buf, len, &ini, err);
	if (rc == 0)
		rc = apply(cfg, ini, name, err);
	core_ini_free(ini);
	return rc;
}

int core_config_load_string(struct core_config *cfg, const char *name, const char *text,
			    struct kio_error *err)
{
	return core_config_load_data(cfg, name, text, strlen(text), err);
}

void core_config_where(const struct core_config *cfg, const char *section, const char *name, char *buf,
		       size_t cap)
{
	const struct key_desc *k = find_key(section, name);
	int line = k ? cfg->lines[key_index(k)] : 0;
	/* A long file name keeps its end, where the name is: messages hold 256 bytes. */
	size_t n = cfg->source ? strlen(cfg->source) : 0;
	if (line && n > 80)
		snprintf(buf, cap, "...%s:%d: %s.%s", cfg->source + n - 77, line, section, name);
	else if (line && cfg->source)
		snprintf(buf, cap, "%s:%d: %s.%s", cfg->source, line, section, name);
	else
		snprintf(buf, cap, "%s.%s (default)", section, name);
}

/* A value as core_ini reads it back: backslashes doubled, end spaces kept with \\s. */
static void dump_string(FILE *out, const char *name, const char *v)
{
	fprintf(out, "%s = ", name);
	size_t n = strlen(v);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\')
			fputs("\\\\", out);
		else if (v[i] == ' ' && (i == 0 || i == n - 1))
			fputs("\\s", out);
		else
			fputc(v[i], out);
	}
	fputc('\n', out);
}

void core_config_dump(const struct core_config *cfg, FILE *out)
{
	const char *section = "";
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_desc *k = &keys[i];
		const char *field = (const char *)cfg + k->offset;
		if (strcmp(section, k->section) != 0) {
			fprintf(out, "%s[%s]\n", i ? "\n" : "", k->section);
			section = k->section;
		}
		fprintf(out, "# %s", k->doc);
		if (k->type == KEY_INT || k->type == KEY_INT64 || k->type == KEY_AED)
			fprintf(out, " (%lld to %lld)", (long long)k->min, (long long)k->max);
		fprintf(out, "\n");
		switch (k->type) {
		case KEY_INT: fprintf(out, "%s = %d\n", k->name, *(const int *)field); break;
		case KEY_INT64: fprintf(out, "%s = %lld\n", k->name, (long long)*(const int64_t *)field); break;
		case KEY_AED:
			fprintf(out, "%s = %lld\n", k->name, (long long)(*(const int64_t *)field / FILS_PER_AED));
			break;
		case KEY_STRING:
		case KEY_URL:
		case KEY_PATH:
		case KEY_PREFIXES:
		case KEY_USB_ID: dump_string(out, k->name, field); break;
		case KEY_CHOICE: fprintf(out, "%s = %s\n", k->name, k->choices[*(const int *)field]); break;
		case KEY_SCALE: {
			int pct = *(const int *)field;
			if (pct == 0)
				fprintf(out, "%s = fit\n", k->name);
			else
				fprintf(out, "%s = %d.%02d\n", k->name, pct / 100, pct % 100);
			break;
		}
		case KEY_HEX64:
			fprintf(out, "%s = %016llx\n", k->name, (unsigned long long)*(const uint64_t *)field);
			break;
		}
	}
}
