/* Amounts, times and card numbers as printed: integer fils, Gulf time, groups of four, the
 * digits each language writes. */
#include "kiosk/print/print.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

char *print_format_fils(int64_t fils, char *out, size_t size)
{
	/* Magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
	uint64_t mag = fils < 0 ? (uint64_t)0 - (uint64_t)fils : (uint64_t)fils;
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(mag / 100));
	char grouped[40];
	size_t g = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			grouped[g++] = ',';
		grouped[g++] = digits[i];
	}
	grouped[g] = '\0';
	snprintf(out, size, "%s%s.%02u", fils < 0 ? "-" : "", grouped, (unsigned)(mag % 100));
	return out;
}

char *print_format_time(int64_t wall_s, char *out, size_t size)
{
	/* The UAE keeps UTC+4 all year: no time zone database needed, none to go stale. */
	time_t t = (time_t)(wall_s + 4 * 3600);
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, size, "?");
		return out;
	}
	snprintf(out, size, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min);
	return out;
}

char *print_format_note_value(int64_t fils, char *out, size_t size)
{
	print_format_fils(fils, out, size);
	size_t n = strlen(out);
	if (fils % 100 == 0 && n > 3 && strcmp(out + n - 3, ".00") == 0)
		out[n - 3] = '\0';
	return out;
}

char *print_format_card_number(const char *digits, bool mask_all_but_last4, char *out,
	size_t size)
{
	static const char dot[] = "\xE2\x80\xA2"; /* U+2022 BULLET */
	size_t n = strlen(digits), o = 0;
	if (size == 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		const char *piece = (mask_all_but_last4 && i + 4 < n) ? dot : (const char[]){digits[i], 0};
		size_t pl = strlen(piece);
		bool space = i > 0 && i % 4 == 0;
		if (o + pl + space + 1 > size)
			break;
		if (space)
			out[o++] = ' ';
		memcpy(out + o, piece, pl);
		o += pl;
	}
	out[o] = '\0';
	return out;
}

char *print_localize_digits(const struct i18n *i18n, enum lang lang, const char *western, char *out,
	size_t size)
{
	text_digits_apply(i18n_eastern_digits(i18n, lang) ? TEXT_DIGITS_EASTERN_ARABIC : TEXT_DIGITS_WESTERN,
		western, out, size);
	return out;
}

char *print_ltr(const char *utf8, char *out, size_t size)
{
	/* U+2066 LEFT-TO-RIGHT ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE (UAX #9, X5a, X6a). */
	snprintf(out, size, "\xE2\x81\xA6%s\xE2\x81\xA9", utf8);
	return out;
}
