/* The lexical JSON guard both sides of the host link run before json-glib (jsonguard.h):
 * one pass over the bytes, a stack of open objects with the names each already holds. */
#include "jsonguard.h"

#include <glib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The longest name shown in a refusal; longer ones end with "...". */
#define NAME_SHOWN 40

struct guard {
	const char *buf;
	size_t len;
	const struct core_json_limits *lim;
	struct core_json_refusal *why;
	GHashTable **names; /* per open level: the object's member names, NULL for an array */
	bool *is_object;
	int depth;
	GString *name; /* the string being read, unescaped */
};

static bool refuse(struct guard *g, enum core_json_fault fault, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool refuse(struct guard *g, enum core_json_fault fault, size_t at, const char *fmt, ...)
{
	if (g->why) {
		g->why->fault = fault;
		g->why->offset = at;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(g->why->msg, sizeof(g->why->msg), fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof(g->why->msg))
			snprintf(g->why->msg + n, sizeof(g->why->msg) - (size_t)n, " at offset %zu", at);
	}
	return false;
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 when it is not one: RFC 3629's
 * table, so overlong forms, surrogates and code points past U+10FFFF are all refused. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < need; k++)
		if (s[k] < 0x80 || s[k] > 0xBF)
			return 0;
	return need;
}

static int hex4(const char *s)
{
	int v = 0;
	for (int k = 0; k < 4; k++) {
		int d = g_ascii_xdigit_value(s[k]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A name for a message: at most NAME_SHOWN bytes, control bytes as '?'. */
static void shown(const GString *name, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t k = 0; k < name->len && k < NAME_SHOWN && n + 1 < cap; k++) {
		unsigned char c = (unsigned char)name->str[k];
		out[n++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
	}
	out[n] = '\0';
	if (name->len > NAME_SHOWN && n + 4 < cap)
		strcpy(out + n, "...");
}

/* The string opening at *i ('"'): checks its bytes and escapes, leaves it unescaped in
 * g->name and *i after its closing quote. An unterminated string passes: json-glib refuses it. */
static bool read_string(struct guard *g, size_t *i)
{
	const char *b = g->buf;
	size_t k = *i + 1;
	g_string_truncate(g->name, 0);
	while (k < g->len && b[k] != '"') {
		unsigned char c = (unsigned char)b[k];
		if (c == '\0')
			return refuse(g, CORE_JSON_NUL, k, "a NUL byte");
		if (c >= 0x80) {
			size_t n = utf8_len((const unsigned char *)b + k, g->len - k);
			if (n == 0)
				return refuse(g, CORE_JSON_UTF8, k, "a byte 0x%02X that is not UTF-8", c);
			g_string_append_len(g->name, b + k, (gssize)n);
			k += n;
			continue;
		}
		if (c != '\\') {
			g_string_append_c(g->name, (char)c);
			k++;
			continue;
		}
		if (k + 1 >= g->len)
			break;
		char e = b[k + 1];
		if (e != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *p = e ? strchr(from, e) : NULL;
			/* json-glib does not refuse an unknown escape: it decodes it into something. */
			if (!p)
				return refuse(g, CORE_JSON_BAD_ESCAPE, k, "an escape JSON does not have (\\%c)",
					      e >= 0x20 && e < 0x7F ? e : '?');
			g_string_append_c(g->name, to[p - from]);
			k += 2;
			continue;
		}
		int u = k + 6 <= g->len ? hex4(b + k + 2) : -1;
		if (u < 0) /* json-glib takes "\ud8;d" and decodes something: found by fuzz_json_guard */
			return refuse(g, CORE_JSON_BAD_ESCAPE, k, "a \\u escape without four hex digits");
		if (u == 0)
			return refuse(g, CORE_JSON_NUL_ESCAPE, k, "a string holds \\u0000");
		gunichar cp = (gunichar)u;
		size_t used = 6;
		if (u >= 0xDC00 && u <= 0xDFFF)
			return refuse(g, CORE_JSON_SURROGATE, k, "a low surrogate \\u%04X with no high one before it", u);
		if (u >= 0xD800 && u <= 0xDBFF) {
			int lo = k + 12 <= g->len && b[k + 6] == '\\' && b[k + 7] == 'u' ? hex4(b + k + 8) : -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return refuse(g, CORE_JSON_SURROGATE, k, "a high surrogate \\u%04X with no low one after it",
					      u);
			cp = 0x10000 + (((gunichar)u - 0xD800) << 10) + ((gunichar)lo - 0xDC00);
			used = 12;
		}
		g_string_append_unichar(g->name, cp);
		k += used;
	}
	*i = k + 1;
	return true;
}

/* A string just read is a member name when its object is open on top and a ':' follows it. */
static bool check_name(struct guard *g, size_t start, size_t after)
{
	if (g->depth == 0 || !g->is_object[g->depth - 1])
		return true;
	size_t k = after;
	while (k < g->len && (g->buf[k] == ' ' || g->buf[k] == '\t' || g->buf[k] == '\n' || g->buf[k] == '\r'))
		k++;
	if (k >= g->len || g->buf[k] != ':')
		return true;
	GHashTable **names = &g->names[g->depth - 1];
	if (!*names)
		*names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (!g_hash_table_add(*names, g_strndup(g->name->str, g->name->len))) {
		char name[NAME_SHOWN + 4];
		shown(g->name, name, sizeof(name));
		return refuse(g, CORE_JSON_DUPLICATE, start, "a member named twice ('%s')", name);
	}
	return true;
}

/* The number starting at *i ('-' or a digit); *i after it. */
static bool read_number(struct guard *g, size_t *i)
{
	const char *b = g->buf;
	size_t start = *i, k = *i;
	bool neg = b[k] == '-';
	if (neg)
		k++;
	size_t digits = k;
	while (k < g->len && b[k] >= '0' && b[k] <= '9')
		k++;
	size_t n = k - digits;
	bool fraction = k < g->len && (b[k] == '.' || b[k] == 'e' || b[k] == 'E');
	if (n > 1 && b[digits] == '0')
		return refuse(g, CORE_JSON_LEADING_ZERO, start, "a number with a leading zero");
	if (fraction && !g->lim->fractions)
		return refuse(g, CORE_JSON_FRACTION, start, "a number with a fraction or exponent");
	if (!fraction && n > 0) {
		/* 19 digits at most, compared as text with the limit: json-glib would wrap it. */
		const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
		if (n > 19 || (n == 19 && memcmp(b + digits, limit, 19) > 0))
			return refuse(g, CORE_JSON_INT_RANGE, start, "an integer beyond 64 bits");
	}
	while (k < g->len && strchr("0123456789.eE+-", b[k]) && b[k])
		k++;
	if (k < g->len && (g_ascii_isalpha(b[k]) || b[k] == '_'))
		return refuse(g, CORE_JSON_NOT_NUMBER, start, "not a JSON number (hexadecimal, or a letter after digits)");
	*i = k;
	return true;
}

static bool scan(struct guard *g)
{
	size_t i = 0;
	while (i < g->len) {
		unsigned char c = (unsigned char)g->buf[i];
		if (c == '\0')
			return refuse(g, CORE_JSON_NUL, i, "a NUL byte");
		if (c >= 0x80) {
			size_t n = utf8_len((const unsigned char *)g->buf + i, g->len - i);
			if (n == 0)
				return refuse(g, CORE_JSON_UTF8, i, "a byte 0x%02X that is not UTF-8", c);
			i += n;
		} else if (c == '"') {
			size_t start = i;
			if (!read_string(g, &i) || !check_name(g, start, i))
				return false;
		} else if (c == '{' || c == '[') {
			if (g->depth >= g->lim->depth_max)
				return refuse(g, CORE_JSON_DEPTH, i, "JSON nested deeper than %d levels", g->lim->depth_max);
			g->is_object[g->depth] = c == '{';
			g->names[g->depth] = NULL;
			g->depth++;
			i++;
		} else if (c == '}' || c == ']') {
			if (g->depth > 0) {
				g->depth--;
				if (g->names[g->depth])
					g_hash_table_destroy(g->names[g->depth]);
				g->names[g->depth] = NULL;
			}
			i++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (!read_number(g, &i))
				return false;
		} else {
			i++;
		}
	}
	return true;
}

bool core_json_guard_ok(const char *buf, size_t len, const struct core_json_limits *lim,
			struct core_json_refusal *why)
{
	int levels = lim->depth_max > 0 ? lim->depth_max : 0;
	struct guard g = {
		.buf = buf,
		.len = buf ? len : 0,
		.lim = lim,
		.why = why,
		.names = g_new0(GHashTable *, (gsize)levels + 1),
		.is_object = g_new0(bool, (gsize)levels + 1),
		.name = g_string_new(NULL),
	};
	if (why) {
		why->fault = CORE_JSON_OK;
		why->offset = 0;
		why->msg[0] = '\0';
	}
	bool ok = scan(&g);
	for (int d = 0; d < g.depth; d++)
		if (g.names[d])
			g_hash_table_destroy(g.names[d]);
	g_free(g.names);
	g_free(g.is_object);
	g_string_free(g.name, TRUE);
	return ok;
}

const char *core_json_fault_name(enum core_json_fault fault)
{
	static const char *const names[CORE_JSON_FAULT_COUNT] = {
		"ok", "nul-byte", "not-utf8", "nul-escape", "lone-surrogate", "leading-zero",
		"integer-range", "fraction", "too-deep", "duplicate-member", "not-a-number", "bad-escape",
	};
	return (unsigned)fault < CORE_JSON_FAULT_COUNT ? names[fault] : "?";
}
