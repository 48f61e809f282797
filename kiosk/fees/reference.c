/* What a customer may enter for a service: a reference's verdict (catalogue_reference_check)
 * with the check digits behind it, and an open fee's amount. */
#include "reference.h"

#include "catalogue.h"
#include "kiosk/core/vcode.h"
#include "kiosk/session/session.h"

#include <string.h>

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The top-up's card check (kiosk/session): an e-Dirham card number is refused alike whether it
 * is typed for a top-up or as a fee's reference. */
bool fees_luhn_ok(const char *digits, size_t n) { return session_luhn_ok(digits, n); }

bool fees_mod97_ok(const char *digits, size_t n)
{
	if (!all_digits(digits, n))
		return false;
	unsigned r = 0; /* the remainder so far: below 97, so r * 10 + 9 never overflows */
	for (size_t i = 0; i < n; i++)
		r = (r * 10 + (unsigned)(digits[i] - '0')) % 97;
	return r == 1;
}

/* One Damm table in the tree: the voucher code's (kiosk/core/vcode.c). Damm over the whole
 * number ends at 0 exactly when the last digit is the check digit of the rest. */
bool fees_damm_ok(const char *digits, size_t n)
{
	return all_digits(digits, n) && vcode_damm(digits, n) == '0';
}

enum cat_ref_verdict catalogue_reference_check(const struct cat_service *s, const char *typed)
{
	size_t n = typed ? strlen(typed) : 0;
	if (!s->has_reference)
		return n == 0 ? CAT_REF_OK : CAT_REF_LONG;
	const struct cat_reference *r = &s->reference;
	if (n == 0)
		return CAT_REF_EMPTY;
	for (size_t i = 0; i < n; i++)
		if (typed[i] < '0' || typed[i] > '9')
			return CAT_REF_CHAR;
	if (n < (size_t)r->min_len)
		return CAT_REF_SHORT;
	if (n > (size_t)r->max_len)
		return CAT_REF_LONG;
	bool ok = true;
	switch (r->check) {
	case CAT_CHECK_NONE:
		break;
	case CAT_CHECK_LUHN:
		ok = fees_luhn_ok(typed, n);
		break;
	case CAT_CHECK_MOD97:
		ok = fees_mod97_ok(typed, n);
		break;
	case CAT_CHECK_DAMM:
		ok = fees_damm_ok(typed, n);
		break;
	case CAT_CHECK_COUNT:
		ok = false; /* the loader never lets one through; refuse rather than pass it */
		break;
	}
	return ok ? CAT_REF_OK : CAT_REF_CHECK;
}

bool catalogue_open_amount_ok(const struct cat_service *s, int64_t fils)
{
	/* step_fils >= 1 for every loaded open fee (rule 4); a zeroed struct must not divide by 0. */
	if (s->kind != CAT_FEE_OPEN || s->step_fils < 1)
		return false;
	return fils >= s->min_fils && fils <= s->max_fils && (fils - s->min_fils) % s->step_fils == 0;
}

const char *cat_ref_verdict_name(int v)
{
	static const char *const names[CAT_REF_VERDICT_COUNT] = {"ok", "empty", "short", "long", "char", "check"};
	return v >= 0 && v < CAT_REF_VERDICT_COUNT ? names[v] : "unknown";
}
