/* The INI reader with line numbers (see ini.h). */
#include "ini.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infile.h"
#include "xmalloc.h"

/* Files larger than this are no configuration: refused rather than read into memory. */
enum { INI_MAX_BYTES = 1 << 20 };

struct parser {
	struct core_ini *ini;
	const char *name;
	size_t store_used, store_cap;
	size_t sections_cap, entries_cap;
	struct kio_error *err;
};

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length, or 0 if invalid
 * (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (len == 0 || len > n || s[0] > 0xf4)
		return 0;
	uint32_t v = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static bool is_bidi_override(uint32_t cp)
{
	return cp >= 0x202a && cp <= 0x202e;
}

/* Copies n bytes into the string store; the store only grows, so offsets are kept and turned
 * into pointers at the end. */
static size_t store(struct parser *ps, const char *s, size_t n)
{
	if (ps->store_used + n + 1 > ps->store_cap) {
		size_t cap = ps->store_cap ? ps->store_cap : 256;
		while (ps->store_used + n + 1 > cap)
			cap *= 2;
		ps->ini->store = xrealloc(ps->ini->store, cap);
		ps->store_cap = cap;
	}
	size_t at = ps->store_used;
	memcpy(ps->ini->store + at, s, n);
	ps->ini->store[at + n] = '\0';
	ps->store_used += n + 1;
	return at;
}

static const char *str_at(const struct parser *ps, const char *offset)
{
	return ps->ini->store + (uintptr_t)offset;
}

/* Checks a whole line: no NUL, valid UTF-8, no control character but TAB. */
static int check_line(struct parser *ps, int line, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (k == 0)
			return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: not UTF-8 (byte 0x%02x at column %zu)",
					ps->name, line, (unsigned char)s[i], i + 1);
		if (cp == 0)
			return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: NUL byte at column %zu", ps->name, line,
					i + 1);
		if (is_control(cp) && cp != '\t')
			return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: control character U+%04X at column %zu",
					ps->name, line, (unsigned)cp, i + 1);
		i += k;
	}
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static bool is_name(const char *s, size_t n, const char *extra)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      strchr(extra, c)))
			return false;
	}
	return true;
}

static int parse_section(struct parser *ps, int line, const char *s, size_t n)
{
	if (s[n - 1] != ']')
		return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: a section header is [name], alone on its line",
				ps->name, line);
	const char *name = s + 1;
	size_t len = n - 2;
	if (!is_name(name, len, "-."))
		return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: '%.*s' is not a section name (letters, digits, _ - .)",
				ps->name, line, (int)(len > 64 ? 64 : len), name);
	struct core_ini *ini = ps->ini;
	for (size_t i = 0; i < ini->n_sections; i++) {
		const char *other = str_at(ps, ini->sections[i].name);
		if (strlen(other) == len && memcmp(other, name, len) == 0)
			return kio_fail(ps->err, KIO_ERR_INVALID,
					"%s:%d: [%s]: section repeated (first at line %d): keep one", ps->name, line,
					other, ini->sections[i].line);
	}
	if (ini->n_sections == ps->sections_cap) {
		ps->sections_cap = ps->sections_cap ? ps->sections_cap * 2 : 8;
		ini->sections = xrealloc(ini->sections, ps->sections_cap * sizeof(*ini->sections));
	}
	ini->sections[ini->n_sections++] =
		(struct core_ini_section){(const char *)(uintptr_t)store(ps, name, len), line};
	return 0;
}

/* Decodes the escapes of a value into out (at most n bytes) and checks the result. */
static int decode_value(struct parser *ps, int line, const char *section, const char *key, const char *s,
			size_t n, char *out, size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		char e = i + 1 < n ? s[i + 1] : '\0';
		char c = e == '\\' ? '\\' : e == 's' ? ' ' : e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : 0;
		if (!c)
			return kio_fail(ps->err, KIO_ERR_INVALID,
					e ? "%s:%d: %s.%s: invalid escape '\\%c' (only \\\\ and \\s)"
					  : "%s:%d: %s.%s: a lone '\\' ends the value (write \\\\)",
					ps->name, line, section, key, e);
		if (c != '\\' && c != ' ')
			return kio_fail(ps->err, KIO_ERR_INVALID,
					"%s:%d: %s.%s: '\\%c' would put a control character in the value", ps->name,
					line, section, key, e);
		out[o++] = c;
		i++;
	}
	for (size_t i = 0; i < o;) {
		uint32_t cp = 0;
		size_t k = utf8_next((const unsigned char *)out + i, o - i, &cp);
		if (is_control(cp))
			return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: %s.%s: control character U+%04X in the value",
					ps->name, line, section, key, (unsigned)cp);
		if (is_bidi_override(cp))
			return kio_fail(ps->err, KIO_ERR_INVALID,
					"%s:%d: %s.%s: bidi override U+%04X would reorder what is shown (use the isolates U+2066..U+2069)",
					ps->name, line, section, key, (unsigned)cp);
		i += k ? k : 1;
	}
	*out_len = o;
	return 0;
}

static int parse_entry(struct parser *ps, int line, const char *s, size_t n)
{
	struct core_ini *ini = ps->ini;
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: not a 'key = value' line, a [section] or a # comment",
				ps->name, line);
	const char *key = s;
	size_t key_len = (size_t)(eq - s);
	trim(&key, &key_len);
	if (!is_name(key, key_len, "-"))
		return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: '%.*s' is not a key name (letters, digits, _ -)",
				ps->name, line, (int)(key_len > 64 ? 64 : key_len), key);
	if (ini->n_sections == 0)
		return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: %.*s: key before any [section]", ps->name, line,
				(int)key_len, key);
	const struct core_ini_section *sec = &ini->sections[ini->n_sections - 1];
	const char *section = str_at(ps, sec->name);
	for (size_t i = ini->n_entries; i-- > 0;) {
		const struct core_ini_entry *e = &ini->entries[i];
		if (e->section != sec->name)
			break; /* sections are never repeated, so its entries are the last ones */
		const char *other = str_at(ps, e->key);
		if (strlen(other) == key_len && memcmp(other, key, key_len) == 0)
			return kio_fail(ps->err, KIO_ERR_INVALID, "%s:%d: %s.%s: key repeated (first at line %d): keep one",
					ps->name, line, section, other, e->line);
	}
	const char *value = eq + 1;
	size_t value_len = n - (size_t)(value - s);
	trim(&value, &value_len);
	char *tmp = xmalloc(value_len + 1);
	char *key_z = xmalloc(key_len + 1);
	memcpy(key_z, key, key_len);
	key_z[key_len] = '\0';
	size_t out_len = 0;
	int rc = decode_value(ps, line, section, key_z, value, value_len, tmp, &out_len);
	if (rc == 0) {
		if (ini->n_entries == ps->entries_cap) {
			ps->entries_cap = ps->entries_cap ? ps->entries_cap * 2 : 16;
			ini->entries = xrealloc(ini->entries, ps->entries_cap * sizeof(*ini->entries));
		}
		size_t k = store(ps, key, key_len);
		size_t v = store(ps, tmp, out_len);
		ini->entries[ini->n_entries++] = (struct core_ini_entry){
			sec->name, (const char *)(uintptr_t)k, (const char *)(uintptr_t)v, line};
	}
	free(key_z);
	free(tmp);
	return rc;
}

/* Strings were stored as offsets while the store could move; make them pointers. */
static void resolve(struct core_ini *ini)
{
	for (size_t i = 0; i < ini->n_sections; i++)
		ini->sections[i].name = ini->store + (uintptr_t)ini->sections[i].name;
	for (size_t i = 0; i < ini->n_entries; i++) {
		struct core_ini_entry *e = &ini->entries[i];
		e->section = ini->store + (uintptr_t)e->section;
		e->key = ini->store + (uintptr_t)e->key;
		e->value = ini->store + (uintptr_t)e->value;
	}
}

int core_ini_parse(const char *name, const char *buf, size_t len, struct core_ini **out, struct kio_error *err)
{
	struct core_ini *ini = xcalloc(1, sizeof(*ini));
	struct parser ps = {.ini = ini, .err = err};
	/* The name is the first string in the store, so offset 0 is always a valid string. */
	store(&ps, name, strlen(name));
	ps.name = name;
	int rc = 0;
	if (len > INI_MAX_BYTES)
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: %zu bytes: larger than the %d a configuration may have",
			      name, len, INI_MAX_BYTES);
	else if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		rc = kio_fail(err, KIO_ERR_INVALID,
			      "%s:1: the file starts with a byte order mark (U+FEFF): save it as UTF-8 without one",
			      name);
	size_t pos = 0;
	for (int line = 1; rc == 0 && pos < len; line++) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n && s[n - 1] == '\r')
			n--;
		rc = check_line(&ps, line, s, n);
		if (rc)
			break;
		trim(&s, &n);
		if (n == 0 || s[0] == '#')
			continue;
		rc = s[0] == '[' ? parse_section(&ps, line, s, n) : parse_entry(&ps, line, s, n);
	}
	resolve(ini);
	ini->name = ini->store;
	if (rc) {
		core_ini_free(ini);
		return rc;
	}
	*out = ini;
	return 0;
}

int core_ini_load(const char *path, struct core_ini **out, struct kio_error *err)
{
	/* Through core_infile_open, not fopen: a FIFO named as the configuration would block the
	 * open until a writer came, and the kiosk's start with it. */
	struct stat st;
	int fd = core_infile_open(path, path, 0, &st, err);
	if (fd < 0)
		return fd;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
	}
	/* One byte over the cap is enough to know the file is too large. */
	size_t cap = INI_MAX_BYTES + 1;
	char *buf = xmalloc(cap);
	size_t len = fread(buf, 1, cap, f);
	int rc = 0;
	if (ferror(f))
		rc = kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
	fclose(f);
	if (rc == 0)
		rc = core_ini_parse(path, buf, len, out, err);
	free(buf);
	return rc;
}

void core_ini_free(struct core_ini *ini)
{
	if (!ini)
		return;
	free(ini->sections);
	free(ini->entries);
	free(ini->store);
	free(ini);
}
