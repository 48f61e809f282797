/* The e-voucher code: parse, check, generate and format (vcode.h says why this shape). */
#include "vcode.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* Damm's totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004), as published. */
static const unsigned char damm_table[10][10] = {
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2}, {7, 0, 9, 2, 1, 5, 4, 8, 6, 3}, {4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6}, {6, 1, 2, 3, 0, 4, 5, 9, 7, 8}, {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4}, {8, 9, 4, 5, 3, 6, 2, 0, 1, 7}, {9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
};

static const char *const verdict_names[VCODE_VERDICT_COUNT] = {
	[VCODE_OK] = "ok", [VCODE_ERR_EMPTY] = "empty", [VCODE_ERR_CHAR] = "char",
	[VCODE_ERR_LENGTH] = "length", [VCODE_ERR_PREFIX] = "prefix", [VCODE_ERR_CHECK] = "check",
};

const char *vcode_verdict_name(int verdict)
{
	return verdict >= 0 && verdict < VCODE_VERDICT_COUNT ? verdict_names[verdict] : NULL;
}

int vcode_damm(const char *digits, size_t n)
{
	unsigned interim = 0;
	for (size_t i = 0; i < n; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return -1;
		interim = damm_table[interim][digits[i] - '0'];
	}
	return '0' + (int)interim;
}

static bool is_separator(char c)
{
	return c == ' ' || c == '-';
}

enum vcode_verdict vcode_parse(const char *typed, char out[VCODE_DIGITS + 1])
{
	char digits[VCODE_DIGITS + 1];
	size_t n = 0;
	bool too_long = false;

	out[0] = '\0';
	if (!typed)
		return VCODE_ERR_EMPTY;
	for (const char *p = typed; *p; p++) {
		if (is_separator(*p))
			continue;
		if (*p < '0' || *p > '9')
			return VCODE_ERR_CHAR;
		if (n == VCODE_DIGITS)
			too_long = true; /* keep reading: a bad character later still says CHAR */
		else
			digits[n++] = *p;
	}
	if (n == 0)
		return VCODE_ERR_EMPTY;
	if (too_long || n != VCODE_DIGITS)
		return VCODE_ERR_LENGTH;
	if (digits[0] != VCODE_PREFIX)
		return VCODE_ERR_PREFIX;
	/* Damm over all sixteen, check digit included, is 0 exactly when the check digit fits. */
	if (vcode_damm(digits, VCODE_DIGITS) != '0')
		return VCODE_ERR_CHECK;
	memcpy(out, digits, VCODE_DIGITS);
	out[VCODE_DIGITS] = '\0';
	return VCODE_OK;
}

int vcode_generate(char out[VCODE_DIGITS + 1])
{
	/* Rejection sampling: a byte of 250 or more is drawn again, so each digit is uniform
	 * (256 is not a multiple of 10). 32 bytes cover 14 digits with room; more are drawn if
	 * needed. */
	unsigned char pool[32];
	size_t used = sizeof(pool);

	out[0] = VCODE_PREFIX;
	for (size_t n = 1; n < VCODE_DIGITS - 1;) {
		if (used == sizeof(pool)) {
			ssize_t got = getrandom(pool, sizeof(pool), 0);
			if (got != (ssize_t)sizeof(pool)) {
				if (got >= 0)
					errno = EIO;
				out[0] = '\0';
				return -1;
			}
			used = 0;
		}
		unsigned char b = pool[used++];
		if (b < 250)
			out[n++] = (char)('0' + b % 10);
	}
	out[VCODE_DIGITS - 1] = (char)vcode_damm(out, VCODE_DIGITS - 1);
	out[VCODE_DIGITS] = '\0';
	return 0;
}

bool vcode_format(const char *code, char out[VCODE_FORMATTED_LEN + 1])
{
	char canonical[VCODE_DIGITS + 1];

	out[0] = '\0';
	if (!code || strlen(code) != VCODE_DIGITS || vcode_parse(code, canonical) != VCODE_OK)
		return false;
	size_t o = 0;
	for (size_t i = 0; i < VCODE_DIGITS; i++) {
		if (i && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = canonical[i];
	}
	out[o] = '\0';
	return true;
}
