/* UTF-8 to code points for the layout pipeline: any bytes in, valid scalars out. */
#include "kiosk/text/text-priv.h"

/*
 * Follows the Unicode "maximal subpart" practice (Unicode 15, §3.9, U+FFFD substitution):
 * an invalid lead byte, or a sequence cut short, costs one U+FFFD for the bytes consumed
 * so far, and decoding resumes at the first byte that did not fit.
 */
size_t text_utf8_decode(const char *str, size_t len, uint32_t *cps, uint32_t *offs)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t need;
		unsigned char lo = 0x80, hi = 0xbf;

		offs[n] = (uint32_t)i;
		if (c < 0x80) {
			cps[n++] = c;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			cps[n++] = 0xfffd;
			i++;
			continue;
		}
		i++;
		size_t k;
		for (k = 0; k < need; k++, i++) {
			if (i >= len || s[i] < lo || s[i] > hi)
				break;
			cp = (cp << 6) | (s[i] & 0x3f);
			lo = 0x80;
			hi = 0xbf;
		}
		cps[n++] = k == need ? cp : 0xfffd;
	}
	offs[n] = (uint32_t)len;
	return n;
}
