/*
 * Line-break opportunities (UAX #14) through libunibreak 1.1, guarded: that version
 * aborts the process on two kinds of input, both of which host text may carry.
 */
#include <linebreak.h>
#include <pthread.h>

#include <stdlib.h>

#include "kiosk/core/xmalloc.h"
#include "kiosk/text/text-priv.h"

static pthread_once_t lb_once = PTHREAD_ONCE_INIT;

static void lb_init(void)
{
	init_linebreak();
}

/*
 * What libunibreak 1.1 is given instead of a character it cannot take (0 = as is).
 * - Regional indicators U+1F1E6..1F1FF have class RI, which its pair table lacks:
 *   `assert(lbcNew <= LBP_JT)` (research notes §3). As letters (AL x AL) a flag's pair
 *   stays together, as UAX #14 LB30a wants.
 * - U+FFFF is its end-of-string sentinel in the UTF-32 reader: the walk stops early and
 *   `assert(posLast == posCur - 1 && posCur <= len)` fires (found by sweeping every code
 *   point through it). A noncharacter breaks like U+FFFD (class AI, resolved to AL).
 */
static uint32_t lb_subst(uint32_t cp)
{
	if (cp >= 0x1f1e6 && cp <= 0x1f1ff)
		return 0x41;
	if (cp == 0xffff || cp > 0x10ffff)
		return 0xfffd;
	return 0;
}

void text_linebreaks(const uint32_t *cps, size_t len, uint8_t *brk)
{
	static const uint8_t map[4] = {
		[LINEBREAK_MUSTBREAK] = TEXT_BRK_MUST,
		[LINEBREAK_ALLOWBREAK] = TEXT_BRK_ALLOW,
		[LINEBREAK_NOBREAK] = TEXT_BRK_NO,
		[LINEBREAK_INSIDEACHAR] = TEXT_BRK_NO,
	};
	if (!len)
		return;
	pthread_once(&lb_once, lb_init);

	/* cps is borrowed: the substitution works on a copy, made only when one is needed. */
	const utf32_t *in = cps;
	utf32_t *copy = NULL;
	for (size_t i = 0; i < len; i++) {
		if (lb_subst(cps[i])) {
			copy = xmalloc(len * sizeof(*copy));
			for (size_t k = 0; k < len; k++) {
				uint32_t sub = lb_subst(cps[k]);
				copy[k] = sub ? sub : cps[k];
			}
			in = copy;
			break;
		}
	}
	set_linebreaks_utf32(in, len, "en", (char *)brk);
	for (size_t i = 0; i < len; i++)
		brk[i] = brk[i] < 4 ? map[brk[i]] : TEXT_BRK_NO;
	free(copy);
}
