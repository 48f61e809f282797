/*
 * The e-voucher code (issue 13, "Money rules"): what the kiosk prints on a voucher, the
 * customer types on the numeric keypad at any kiosk, and the host keys its vouchers by.
 *
 * Sixteen digits, printed in groups of four: `9` (an e-Dirham card number starts 784, so a
 * voucher typed where a card is expected, or the reverse, is refused by its first digit),
 * fourteen random digits, and a Damm check digit over the first fifteen. Damm's quasigroup
 * catches every single-digit error and every transposition of two adjacent digits, the two
 * mistakes people make copying a number from paper; Luhn misses 09/90. Fourteen random digits
 * are 10^14 codes: redemption is online only and the host answers unknown codes, so guessing
 * one that is live is hopeless long before the host notices.
 *
 * The canonical form is the sixteen digits without separators: stored in the ledger, sent to
 * the host, carried in a receipt's QR. Pure C, no I/O but getrandom in vcode_generate.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define VCODE_DIGITS 16
#define VCODE_PREFIX '9'
/* "9123 4567 8901 2345": four groups of four, three spaces. */
#define VCODE_FORMATTED_LEN (VCODE_DIGITS + 3)

enum vcode_verdict {
	VCODE_OK,
	VCODE_ERR_EMPTY,  /* nothing but separators */
	VCODE_ERR_CHAR,   /* a character that is neither a digit nor a separator */
	VCODE_ERR_LENGTH, /* not sixteen digits (too few: still being typed) */
	VCODE_ERR_PREFIX, /* does not start with 9: not a voucher (a card number, perhaps) */
	VCODE_ERR_CHECK,  /* the check digit does not match: mistyped */
	VCODE_VERDICT_COUNT,
};

/* "ok", "empty", "char", "length", "prefix", "check": for logs and scenario asserts. */
const char *vcode_verdict_name(int verdict);

/* The Damm check digit ('0'..'9') of n ASCII digits; -1 if one of them is not a digit. */
int vcode_damm(const char *digits, size_t n);

/* Reads a typed code: spaces and dashes between digits are ignored. On VCODE_OK out holds the
 * canonical sixteen digits, NUL-terminated; otherwise out is "" and the verdict says why. The
 * checks run in the order of the enum, so a short code still being typed is LENGTH, not CHECK. */
enum vcode_verdict vcode_parse(const char *typed, char out[VCODE_DIGITS + 1]);

/* A new random code (getrandom) in canonical form. 0, or -1 with errno when the kernel's
 * random source fails (the caller must not issue a voucher then). */
int vcode_generate(char out[VCODE_DIGITS + 1]);

/* "9123 4567 8901 2345" from a canonical code. false (out "") for anything not canonical. */
bool vcode_format(const char *code, char out[VCODE_FORMATTED_LEN + 1]);
