/* The numbers the bidi algorithm would show backwards (bidinum.h). */
#include "bidinum.h"

#include <stdbool.h>
#include <stdio.h>

/* One code point of UTF-8 at *p (advanced past it); U+FFFD for a malformed byte (the text
 * engine refuses those before a page is drawn; here it only must not be misread). */
static unsigned next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned c = s[0];
	int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
	if (n < 0) {
		*p = s + 1;
		return 0xFFFD;
	}
	unsigned cp = n == 0 ? c : c & (0x3F >> n);
	for (int k = 1; k <= n; k++) {
		if ((s[k] & 0xC0) != 0x80) {
			*p = s + k;
			return 0xFFFD;
		}
		cp = cp << 6 | (s[k] & 0x3F);
	}
	*p = s + n + 1;
	return cp;
}

static bool arabic_letter(unsigned cp)
{
	bool arabic = (cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F) ||
		      (cp >= 0x08A0 && cp <= 0x08FF) || (cp >= 0xFB50 && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFF);
	/* Digits, separators and marks in those blocks are not letters (UAX #9: AN, EN, CS, NSM). */
	return arabic && !(cp >= 0x0660 && cp <= 0x066C) && !(cp >= 0x06F0 && cp <= 0x06F9) && cp != 0x060C &&
	       !(cp >= 0x064B && cp <= 0x065F) && cp != 0x0670;
}

static bool latin_letter(unsigned cp)
{
	return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
}

static int digit_kind(unsigned cp) /* 0 none, 1 European (EN), 2 Arabic-Indic (AN) */
{
	if ((cp >= '0' && cp <= '9') || (cp >= 0x06F0 && cp <= 0x06F9))
		return 1;
	return cp >= 0x0660 && cp <= 0x0669 ? 2 : 0;
}

const char *core_bidi_reversed_number(const char *text, char *out, size_t cap)
{
	if (!text)
		return NULL;
	int depth = 0;
	bool after_arabic = false;
	const unsigned char *p = (const unsigned char *)text;
	while (*p) {
		const unsigned char *start = p;
		unsigned cp = next_cp(&p);
		if (cp >= 0x2066 && cp <= 0x2068) {
			depth++;
			continue;
		}
		if (cp >= 0x202A && cp <= 0x202E && cp != 0x202C) {
			depth++;
			continue;
		}
		if ((cp == 0x2069 || cp == 0x202C) && depth > 0) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (arabic_letter(cp)) {
			after_arabic = true;
			continue;
		}
		if (latin_letter(cp)) {
			after_arabic = false;
			continue;
		}
		int kind = digit_kind(cp);
		if (!kind)
			continue;
		/* A run of digits, then "-" or "+", then a digit. */
		const unsigned char *q = p;
		unsigned c2 = 0;
		while (*q) {
			const unsigned char *at = q;
			c2 = next_cp(&q);
			if (!digit_kind(c2)) {
				q = at;
				break;
			}
			if (digit_kind(c2) == 2)
				kind = 2;
		}
		p = q;
		if (*q != '-' && *q != '+')
			continue;
		const unsigned char *r = q + 1;
		unsigned c3 = *r ? next_cp(&r) : 0;
		if (!digit_kind(c3) || (kind != 2 && digit_kind(c3) != 2 && !after_arabic))
			continue;
		/* The whole of it for the message: "2099-12-31", not "2099-12". */
		while (*r) {
			const unsigned char *at = r;
			unsigned c4 = next_cp(&r);
			if (digit_kind(c4))
				continue;
			const unsigned char *after = r;
			if ((c4 == '-' || c4 == '+') && *after && digit_kind(next_cp(&after)))
				continue;
			r = at;
			break;
		}
		snprintf(out, cap, "%.*s", (int)(r - start), (const char *)start);
		return out;
	}
	return NULL;
}

