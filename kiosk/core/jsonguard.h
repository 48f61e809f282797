/*
 * A lexical guard for JSON text that json-glib reads: one pass over the bytes, before the
 * parser sees them, refusing what json-glib would read silently wrong or not survive. Both
 * sides of the host link run it (kiosk/sync/wire.c on every host answer, host/wire.c on every
 * request body), so the two read one language.
 *
 * What json-glib does, and what the guard refuses instead:
 * - an integer literal is read with strtoull and cast: -18446744073709549616 comes back as
 *   2000. Refused: an integer (no fraction, no exponent) outside int64.
 * - a leading zero (010) is taken. Refused: RFC 8259 forbids it.
 * - its parser recurses once per nesting level: a 4 MiB "[[[[..." exhausts the stack.
 *   Refused: nesting deeper than the caller's depth_max.
 * - \u0000 is decoded into a string C then cuts short ("cash\u0000x" reads as "cash"); a NUL
 *   byte cuts the text itself. Refused, both; and a lone surrogate escape (no character).
 * - of two members with one name ({"acked":5,"acked":10}, or "acke\u0064" for the second)
 *   the last is kept; another reader keeps the first. Refused: names are compared after
 *   unescaping, per object.
 * - text that is not UTF-8. Refused (overlong forms, surrogates and > U+10FFFF too).
 * - an escape JSON does not have (\q) or a \u without four hex digits (\ud8;d): json-glib
 *   decodes them into something. Refused.
 * - hexadecimal, which JSON does not have: "value_fils":0x7D0 reads as 2000. Refused: a number
 *   whose digits run into a letter.
 * A number with a fraction or exponent is left to the caller's type checks (a clear "must be
 * an integer" there) unless the caller says fractions are refused outright.
 *
 * Everything else (the grammar: commas, colons, quotes) stays json-glib's job: the guard only
 * has to be right on text json-glib accepts.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum core_json_fault {
	CORE_JSON_OK,
	CORE_JSON_NUL,           /* a NUL byte in the text */
	CORE_JSON_UTF8,          /* bytes that are not UTF-8 */
	CORE_JSON_NUL_ESCAPE,    /* \u0000 in a string */
	CORE_JSON_SURROGATE,     /* a \uD800-\uDFFF escape not in a high-low pair */
	CORE_JSON_LEADING_ZERO,  /* 010, -01, 00.5 */
	CORE_JSON_INT_RANGE,     /* an integer outside int64 */
	CORE_JSON_FRACTION,      /* a fraction or exponent, where the caller refuses them */
	CORE_JSON_DEPTH,         /* objects and arrays nested deeper than depth_max */
	CORE_JSON_DUPLICATE,     /* a member name twice in one object, after unescaping */
	CORE_JSON_NOT_NUMBER,    /* digits run into a letter: 0x7D0 (json-glib reads hexadecimal) */
	CORE_JSON_BAD_ESCAPE,    /* \q, or \u without four hex digits (json-glib takes them) */
	CORE_JSON_FAULT_COUNT
};

struct core_json_limits {
	int depth_max;  /* deepest nesting allowed: 1 lets {"a":1} through, not {"a":{}} */
	bool fractions; /* false: refuse any number with a fraction or exponent here */
};

struct core_json_refusal {
	enum core_json_fault fault;
	size_t offset; /* of the first byte of what is refused */
	char msg[192]; /* "what at offset N"; a member's name with control bytes shown as '?' */
};

/* true when buf[0..len) passes every check of `lim`; false with *why filled for the first
 * fault in text order. Never reads past len; buf need not be NUL-terminated. why may be NULL. */
bool core_json_guard_ok(const char *buf, size_t len, const struct core_json_limits *lim,
			struct core_json_refusal *why);

/* A stable short name of a fault ("duplicate-member"...), for logs and tests; never NULL. */
const char *core_json_fault_name(enum core_json_fault fault);
