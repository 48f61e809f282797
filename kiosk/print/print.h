/*
 * What the kiosk prints, drawn by its own text engine before the printer classes see it:
 * receipt documents rendered to a 1-bit struct receipt_image (with the logical lines as plain
 * text beside it), the bilingual transaction receipt, and the card face as RGBA. No SDL, no
 * printer bytes: Arabic reaches the printers only as pixels (issue 5).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/class/cardprn.h"
#include "drivers/class/receipt.h"
#include "kiosk/core/err.h"
#include "kiosk/core/i18n.h"
#include "kiosk/text/text.h"

/* Text sizes in pixels per em at 203 dpi (8 dots/mm): 24 px is a 3 mm em, a body size that
 * stays legible on thermal paper. */
#define PRINT_SIZE_SMALL 20
#define PRINT_SIZE_BODY 24
#define PRINT_SIZE_LARGE 30
#define PRINT_SIZE_TITLE 36

struct print_style {
	int size_px;           /* 0 = PRINT_SIZE_BODY */
	bool bold;
	enum text_dir dir;     /* AUTO: the first strong character decides */
	enum text_align align; /* START: right in RTL, left in LTR */
};

/* ---- receipt documents ---- */

struct print_doc;

/* Caller frees with print_doc_free (accepts NULL). Aborts on exhaustion (xmalloc). */
struct print_doc *print_doc_new(void);
void print_doc_free(struct print_doc *doc);

/* A paragraph, wrapped at the paper width. st NULL = body, AUTO, START. utf8 is copied. */
void print_doc_text(struct print_doc *doc, const struct print_style *st, const char *utf8);
/*
 * A label and its value in one paragraph direction: the label at the start edge, the value at
 * the end edge (label right and value left in RTL, the reverse in LTR), on one line when they
 * fit; otherwise the label on its line and the value, wrapped, end-aligned below it. Wrap
 * values that must read left to right inside Arabic (references, dates, card numbers) with
 * print_ltr. Copied.
 */
void print_doc_row(struct print_doc *doc, const struct print_style *st, const char *label,
	const char *value);
void print_doc_rule(struct print_doc *doc);          /* a separator across the paper */
/*
 * A QR code of text (libqrencode, error correction M: 15% of the symbol may be lost to a
 * scuff or a fold), centred: each module PRINT_QR_MODULE_DOTS square (0.5 mm at 203 dpi),
 * PRINT_QR_MODULE_DOTS_MIN when the paper is too narrow for that, with the 4-module quiet zone
 * ISO/IEC 18004 requires on every side. The logical text gets the line "QR\t<text>". Text is
 * copied. KIO_ERR_INVALID for empty text or text longer than PRINT_QR_TEXT_MAX (nothing
 * added); KIO_ERR_NOMEM if libqrencode cannot encode it. A symbol wider than the paper at the
 * smaller module is refused by print_doc_render (KIO_ERR_INVALID).
 */
#define PRINT_QR_MODULE_DOTS 4
#define PRINT_QR_MODULE_DOTS_MIN 3
#define PRINT_QR_QUIET_MODULES 4
#define PRINT_QR_TEXT_MAX 1024
int print_doc_qr(struct print_doc *doc, const char *text, struct kio_error *err);
void print_doc_space(struct print_doc *doc, int px); /* blank paper */

struct print_receipt {
	struct receipt_image image; /* bits owned here: MSB leftmost, 1 = ink */
	/* The logical lines, UTF-8, each ended by '\n': a paragraph as written, a row as
	 * "label\tvalue", a rule as "---"; no bidi controls, no wrapping (the .txt beside the
	 * simulator's PNG, for assertions). */
	char *text;
};

/*
 * Lays out and draws doc at width_dots (0 = 576) into a 1-bit image: coverage thresholded at
 * 50% (no dither: strokes stay crisp, research §1.6). Borrows engine. Caller frees *out with
 * print_receipt_free. KIO_ERR_INVALID for a width out of 64..2048 or an empty doc;
 * KIO_ERR_NOMEM if the engine cannot lay out.
 */
int print_doc_render(const struct print_doc *doc, struct text_engine *engine, int width_dots,
	struct print_receipt **out, struct kio_error *err);
void print_receipt_free(struct print_receipt *r); /* accepts NULL */
/* Writes r->text to path. KIO_ERR_IO naming the path. */
int print_receipt_write_text(const struct print_receipt *r, const char *path,
	struct kio_error *err);

/* ---- formatting ---- */

/* fils as "1,250.00" ("-0.50" below zero): integers only, never a float. Returns out. */
char *print_format_fils(int64_t fils, char *out, size_t size);
/* Wall-clock seconds as Gulf Standard Time (UTC+4, no daylight saving), "2027-03-14 10:32". */
char *print_format_time(int64_t wall_s, char *out, size_t size);
/* A note's value as its face reads: whole dirhams without decimals ("100", "1,000"), a value
 * with fils as print_format_fils. Returns out. */
char *print_format_note_value(int64_t fils, char *out, size_t size);
/* Digits in groups of four, "6001 2345 6789 0123"; mask_all_but_last4 gives "•••• 0123". */
char *print_format_card_number(const char *digits, bool mask_all_but_last4, char *out,
	size_t size);
/*
 * A number formatted above (print_format_fils, a count, a date) as lang's text writes it: with
 * Eastern Arabic digits and separators for Arabic when the kiosk is set to
 * (`ui.digits = eastern`, i18n_set_eastern_digits), unchanged otherwise. Identifiers (kiosk id,
 * reference, card number) stay Western: staff and host systems match them character for
 * character. Truncates to size like snprintf. Returns out.
 */
char *print_localize_digits(const struct i18n *i18n, enum lang lang, const char *western, char *out,
	size_t size);
/* utf8 between LEFT-TO-RIGHT ISOLATE and POP DIRECTIONAL ISOLATE (UAX #9): a run of digits
 * and Latin that keeps its order inside an Arabic line. */
char *print_ltr(const char *utf8, char *out, size_t size);

/* ---- the transaction receipt ---- */

/* Notes of one value paid into a transaction: "2 x AED 100". */
struct print_denom {
	int64_t value_fils; /* one note's value */
	int64_t count;
};

struct print_txn {
	const char *kiosk_name_en, *kiosk_name_ar;
	const char *kiosk_id;          /* "KSK-DXB-0042" */
	int64_t when_s;                /* wall clock; printed in Gulf time */
	const char *reference;         /* "TXN-2027-000123" */
	const char *service_en, *service_ar;
	const char *card_number;       /* digits, printed masked; NULL = no line */
	int64_t amount_fils;           /* the service */
	int64_t fee_fils;              /* 0 = no line */
	int64_t paid_fils;             /* cash inserted; above the total, the rest is credited */
	unsigned notes;                /* banknotes inserted; 0 = no line */
	/* A real transaction's receipt (kiosk/txreceipt.h) adds what the sample leaves out: */
	const char *txn_id;            /* the transaction's uuid; NULL = no line */
	const struct print_denom *denoms; /* notes by value, a row each; NULL/0 = no rows */
	size_t n_denoms;
	int64_t credited_fils;         /* credited to the card; 0 = what was paid above the
					* total, if anything (the sample's change credited) */
	bool no_change;                /* says that the kiosk gives no change */
	bool recovered;                /* completed by start-up recovery after an interruption */
	bool duplicate;                /* a reprint: DUPLICATE above and below */
	/* The signed record's QR text (kiosk/proof, "EDK1:..."), drawn after the thanks under
	 * receipt.verify in both languages; NULL = no QR. */
	const char *proof_qr;
};

/* The sample the tests and the technician's test print use: TXN-2027-000123, an e-Dirham
 * card top-up of AED 150.00 paid with AED 200.00. Strings are static. */
void print_txn_sample(struct print_txn *out);
/*
 * Appends the bilingual receipt of t: titles, the Arabic block (RTL rows), the English block
 * (LTR rows), footer, in the words of the catalogues (receipt.* keys; receipt.money must hold
 * {amount}; the note count takes each language's plural form). Amounts, counts and the date
 * follow the Arabic digits setting in the Arabic block. Borrows i18n.
 * A real transaction's lines, in each block: "Transaction ID" (txn_id, left to right), one
 * row per note value ("2 × AED 100" and its subtotal, receipt.notes.denom), "Credited to card",
 * the recovery line (recovered), "No change is given" (no_change); DUPLICATE (receipt.duplicate)
 * opens and closes a reprint.
 * KIO_ERR_INVALID for a missing field, a negative amount or count, or a money template without
 * {amount} (nothing is added then).
 */
int print_doc_add_txn(struct print_doc *doc, const struct print_txn *t, const struct i18n *i18n,
	struct kio_error *err);

/* ---- the fees receipt ---- */

/* A basket's most lines (kiosk/ledger/basket.h's LEDGER_BASKET_MAX, checked in txreceipt.c). */
#define PRINT_FEES_LINES_MAX 10

/* What became of a basket line (the ledger's fee_result, kiosk/ledger/basket.h). */
enum print_fees_result { PRINT_FEES_PAID, PRINT_FEES_REFUSED, PRINT_FEES_OFFLINE, PRINT_FEES_UNPAID,
	PRINT_FEES_UNCONFIRMED, PRINT_FEES_RESULT_COUNT };

struct print_fees_line {
	const char *entity_en, *entity_ar;   /* the catalogue's names (or the ids when it has none) */
	const char *service_en, *service_ar;
	const char *ref_name_en, *ref_name_ar; /* the reference's name; NULL: receipt.fees.reference */
	const char *reference;               /* NULL or "": no reference row */
	int64_t amount_fils;                 /* > 0 */
	enum print_fees_result result;
	const char *host_ref;                /* the entity's payment reference; NULL or "": no row */
};

/* A voucher paid into the transaction: printed masked to its last four digits. */
struct print_fees_voucher {
	const char *code; /* 16 digits */
	int64_t value_fils;
};

struct print_fees {
	const char *kiosk_name_en, *kiosk_name_ar;
	const char *kiosk_id;
	int64_t when_s;            /* the end, wall clock */
	const char *reference;     /* "TXN-000042" */
	const char *txn_id;        /* the transaction's uuid */
	const struct print_fees_line *lines; /* 1..PRINT_FEES_LINES_MAX */
	size_t n_lines;
	int64_t cash_fils;         /* cash paid in */
	unsigned notes;            /* how many banknotes; 0 = no line */
	const struct print_denom *denoms;
	size_t n_denoms;
	const struct print_fees_voucher *vouchers_in;
	size_t n_vouchers_in;
	int64_t lines_fils;        /* what the lines paid, offline or to be confirmed cost */
	int64_t paid_fils;         /* everything paid in: cash + vouchers */
	int64_t rest_fils;         /* paid_fils - lines_fils: went to rest_card or rest_voucher */
	const char *rest_card;     /* 16 digits, printed masked; NULL = not to a card */
	const char *rest_voucher;  /* the new voucher's 16 digits, printed in full; NULL = none */
	int64_t voucher_expires_s; /* wall clock */
	bool recovered;            /* ended by start-up recovery */
	bool duplicate;            /* a reprint */
	const char *proof_qr;      /* the signed record's QR text; NULL = no QR */
};

/*
 * Appends the bilingual receipt of a fees transaction (kiosk/txreceipt.c fills f from the
 * ledger): titles; in each language's block the kiosk, date, reference, transaction id, then
 * per line its number, entity, service, reference, amount, result (and the entity's payment
 * reference), the cash by note value, each voucher paid in (masked but its last four digits),
 * what the lines took, the total paid, and the rest: credited to the card (masked) or a new
 * e-voucher (code in full in groups of four, amount, valid until); the recovery line and "no
 * change". Then a new voucher's code once more as a QR code of its 16 digits, captioned, for a
 * kiosk's scanner; the thanks; the signed proof QR (as print_doc_add_txn). Borrows i18n.
 * KIO_ERR_INVALID, nothing added, for a missing field, no lines or more than 10, amounts that
 * do not add up (paid = cash + vouchers, rest = paid - lines, rest > 0 exactly when it went
 * somewhere, one place only), a code that is not 16 digits, a bidi override in a field, a
 * catalogue template without its placeholder, or a QR text print_doc_qr refuses.
 */
int print_doc_add_fees(struct print_doc *doc, const struct print_fees *f, const struct i18n *i18n,
	struct kio_error *err);

/* ---- the card face ---- */

struct print_card {
	const char *issuer_ar, *issuer_en; /* the kiosk's name */
	const char *number;                /* digits */
	int64_t issued_s;                  /* wall clock */
};

struct print_card_face {
	int width, height, stride; /* 1016 x 648 (Evolis panel, landscape), stride = width * 4 */
	uint8_t *rgba;             /* black on white, opaque */
};

/* Draws the front: titles in Arabic and English, the number in groups of four read left to
 * right, labels, issuer and date, in the words of the catalogues (card.* keys; card.issued must
 * hold {date}). Borrows engine and i18n; caller frees with print_card_face_free.
 * KIO_ERR_INVALID for a missing field, a number that is not 1..23 digits or a bad template. */
int print_card_face_render(struct text_engine *engine, const struct i18n *i18n,
	const struct print_card *card, struct print_card_face **out, struct kio_error *err);
void print_card_face_free(struct print_card_face *face); /* accepts NULL */
/* The face as the card issuer class takes it (borrowing face's pixels). */
struct cardprn_image print_card_face_image(const struct print_card_face *face);
