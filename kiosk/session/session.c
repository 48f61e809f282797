/* The customer's session: card number entry and its checks, amounts, and what inactivity
 * means. No I/O: every call is a pure function of the session and its arguments. */
#include "session.h"

#include <stdio.h>
#include <string.h>

void session_start(struct session *s, const char *lang, int64_t min_fils, int64_t max_fils, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->lang, sizeof(s->lang), "%s", lang && strcmp(lang, "ar") == 0 ? "ar" : "en");
	s->min_fils = min_fils;
	s->max_fils = max_fils;
	s->path = SESSION_PATH_EMPTY;
	s->last_activity_ms = now_ms;
}

void session_touch(struct session *s, uint64_t now_ms)
{
	if (now_ms > s->last_activity_ms)
		s->last_activity_ms = now_ms;
}

bool session_card_key(struct session *s, char digit)
{
	if (digit < '0' || digit > '9' || s->card_len >= SESSION_CARD_DIGITS)
		return false;
	s->card[s->card_len++] = digit;
	s->card[s->card_len] = '\0';
	return true;
}

bool session_card_del(struct session *s)
{
	if (s->card_len == 0)
		return false;
	s->card[--s->card_len] = '\0';
	return true;
}

bool session_card_clear(struct session *s)
{
	bool had = s->card_len > 0;
	memset(s->card, 0, sizeof(s->card));
	s->card_len = 0;
	return had;
}

static void group(const char *digits, size_t n, char out[SESSION_CARD_TEXT])
{
	size_t o = 0;
	for (size_t i = 0; i < n && i < SESSION_CARD_DIGITS; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

void session_card_grouped(const struct session *s, char out[SESSION_CARD_TEXT])
{
	group(s->card, s->card_len, out);
}

void session_card_masked(const char *card, char out[SESSION_CARD_TEXT])
{
	out[0] = '\0';
	if (!card || strlen(card) != SESSION_CARD_DIGITS)
		return;
	char masked[SESSION_CARD_DIGITS];
	memset(masked, '*', sizeof(masked));
	memcpy(masked + SESSION_CARD_DIGITS - 4, card + SESSION_CARD_DIGITS - 4, 4);
	group(masked, SESSION_CARD_DIGITS, out);
}

bool session_luhn_ok(const char *digits, size_t n)
{
	if (n == 0)
		return false;
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		char c = digits[n - 1 - i];
		if (c < '0' || c > '9')
			return false;
		unsigned d = (unsigned)(c - '0');
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* Could the typed digits still begin with prefix (or do they already)? */
static bool prefix_fits(const char *card, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);
	size_t n = len < pl ? len : pl;
	return strncmp(card, prefix, n) == 0;
}

const char *session_card_problem(const char *card, size_t len, const char *const *prefixes, size_t n)
{
	if (len == 0)
		return "topup.card.enter";
	bool fits = n == 0;
	for (size_t i = 0; i < n && !fits; i++)
		fits = prefixes[i] && prefix_fits(card, len, prefixes[i]);
	if (!fits)
		return "topup.card.bad-prefix";
	if (len < SESSION_CARD_DIGITS)
		return "topup.card.incomplete";
	if (!session_luhn_ok(card, len))
		return "topup.card.bad-luhn";
	return NULL;
}

enum session_idle session_idle_action(const struct session *s)
{
	if (s->path != SESSION_PATH_EMPTY)
		return SESSION_IDLE_WAIT;
	return s->paid_fils > 0 ? SESSION_IDLE_COMPLETE : SESSION_IDLE_ATTRACT;
}

bool session_idle(const struct session *s, uint64_t now_ms, uint64_t idle_ms)
{
	return idle_ms > 0 && now_ms >= s->last_activity_ms + idle_ms;
}
