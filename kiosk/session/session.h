/*
 * The customer's session: the language, the card number being typed, the amounts due and
 * paid, and the timeout policy (what inactivity means at each moment). Pure C, no SDL, no
 * SQLite: flows (kiosk/flows/) own one and screens only read it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_CARD_DIGITS 16
/* "7840 1234 5678 9012" and NUL. */
#define SESSION_CARD_TEXT 20
#define SESSION_PREFIXES_MAX 8
#define SESSION_PREFIX_DIGITS 8

/* Where the note the customer last inserted is (one at a time: the escrow holds one). */
enum session_path {
	SESSION_PATH_EMPTY,     /* no note between the bezel and the cashbox */
	SESSION_PATH_ACCEPTED,  /* accepted from escrow, not yet credited */
	SESSION_PATH_RETURNING, /* going back to the customer */
	SESSION_PATH_COUNT
};

struct session {
	char lang[3];                          /* "ar" or "en" */
	char card[SESSION_CARD_DIGITS + 1];    /* digits typed so far */
	size_t card_len;
	int64_t min_fils, max_fils;            /* what this top-up may take */
	int64_t paid_fils;                     /* credited and booked: the ledger's figure */
	int64_t notes;                         /* notes credited */
	enum session_path path;
	int64_t path_fils;                     /* the note in the path, when not EMPTY */
	uint64_t last_activity_ms;             /* the customer's last sign of life */
};

/* A new session in lang ("ar"/"en"; anything else is taken as "en"), nothing typed or paid. */
void session_start(struct session *s, const char *lang, int64_t min_fils, int64_t max_fils, uint64_t now_ms);
/* The customer did something (a key, a note): inactivity counts from now. */
void session_touch(struct session *s, uint64_t now_ms);

/* Keypad. key: false when refused (not a digit, or 16 already typed); del/clear: false when
 * there was nothing to remove. */
bool session_card_key(struct session *s, char digit);
bool session_card_del(struct session *s);
bool session_card_clear(struct session *s);

/* The digits typed so far grouped in fours ("7840 1234 56"); out must hold SESSION_CARD_TEXT. */
void session_card_grouped(const struct session *s, char out[SESSION_CARD_TEXT]);
/* A full card number as shown after it is entered: the last four digits only
 * ("**** **** **** 9012"); "" for anything but 16 digits. */
void session_card_masked(const char *card, char out[SESSION_CARD_TEXT]);

/* The Luhn check over n digits (ISO/IEC 7812-1 annex B). false for a non-digit or n == 0. */
bool session_luhn_ok(const char *digits, size_t n);
/*
 * What is wrong with the card number typed so far, as a message id (the list in
 * kiosk/flows/topup.h), or NULL when it is a valid number of this issuer:
 *   "topup.card.enter"       nothing typed yet
 *   "topup.card.bad-prefix"  the digits typed cannot begin any of the issuer prefixes (said
 *                            as soon as they diverge, not only at the 16th digit)
 *   "topup.card.incomplete"  fewer than 16 digits
 *   "topup.card.bad-luhn"    16 digits, the check digit is wrong (a typing mistake)
 * prefixes: n of them, digits only; n == 0 accepts every issuer.
 */
const char *session_card_problem(const char *card, size_t len, const char *const *prefixes, size_t n);

/*
 * The timeout policy: what inactivity means now, from the money alone (the flow adds the
 * step's own idle time).
 *   ATTRACT   nothing paid, nothing in the path: the customer left; end the session.
 *   WAIT      a note is in the path: take no more cash and wait for it to be credited or
 *             returned, never walk away from money moving; then one of the other two.
 *   COMPLETE  money credited: complete the top-up as on finish (money is never abandoned in
 *             an open transaction, issue 11).
 */
enum session_idle { SESSION_IDLE_ATTRACT, SESSION_IDLE_WAIT, SESSION_IDLE_COMPLETE, SESSION_IDLE_COUNT };
enum session_idle session_idle_action(const struct session *s);
/* True when idle_ms have passed since the last activity (idle_ms 0: never). */
bool session_idle(const struct session *s, uint64_t now_ms, uint64_t idle_ms);
