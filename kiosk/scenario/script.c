/* Scenario parsing: tokens, arguments and their checks. */
#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kiosk/core/infile.h"
#include "kiosk/core/xmalloc.h"

enum arg_kind { ARG_NONE, ARG_WORD, ARG_STRING, ARG_AED, ARG_SECONDS, ARG_NAME };

static const struct {
	const char *name;
	enum arg_kind a1, a2;
} ops[SCRIPT_OP_COUNT] = {
	[SCRIPT_TAP] = {"tap", ARG_WORD, ARG_NONE},
	[SCRIPT_TAP_TEXT] = {"tap-text", ARG_STRING, ARG_NONE},
	[SCRIPT_TYPE] = {"type", ARG_STRING, ARG_NONE},
	[SCRIPT_NOTE] = {"note", ARG_AED, ARG_NONE},
	[SCRIPT_NOTE_FAKE] = {"note-fake", ARG_NONE, ARG_NONE},
	[SCRIPT_NOTE_HOLD] = {"note-hold", ARG_AED, ARG_NONE},
	[SCRIPT_NOTE_RELEASE] = {"note-release", ARG_NONE, ARG_NONE},
	[SCRIPT_WAIT] = {"wait", ARG_SECONDS, ARG_NONE},
	[SCRIPT_EXPECT_SCREEN] = {"expect-screen", ARG_WORD, ARG_NONE},
	[SCRIPT_EXPECT_TEXT] = {"expect-text", ARG_STRING, ARG_NONE},
	[SCRIPT_EXPECT_NO_TEXT] = {"expect-no-text", ARG_STRING, ARG_NONE},
	[SCRIPT_SCREENSHOT] = {"screenshot", ARG_NAME, ARG_NONE},
	[SCRIPT_FAULT] = {"fault", ARG_WORD, ARG_WORD},
	[SCRIPT_CLEAR] = {"clear", ARG_WORD, ARG_NONE},
	[SCRIPT_GOTO] = {"goto", ARG_WORD, ARG_NONE},
	[SCRIPT_EXPECT_DEVICE] = {"expect-device", ARG_WORD, ARG_WORD},
	[SCRIPT_TEST_PRINT] = {"test-print", ARG_WORD, ARG_NONE},
	[SCRIPT_EXPECT_FILE] = {"expect-file", ARG_NAME, ARG_NONE},
	[SCRIPT_EXPECT_FILE_TEXT] = {"expect-file-text", ARG_NAME, ARG_STRING},
	[SCRIPT_EXPECT_NO_FILE] = {"expect-no-file", ARG_NAME, ARG_NONE},
	[SCRIPT_WAIT_DEVICE] = {"wait-device", ARG_WORD, ARG_WORD},
	[SCRIPT_EXPECT_LOG] = {"expect-log", ARG_WORD, ARG_STRING},
	[SCRIPT_EXPECT_LEDGER] = {"expect-ledger", ARG_STRING, ARG_STRING},
	[SCRIPT_POWER_CUT] = {"power-cut", ARG_NONE, ARG_NONE},
	[SCRIPT_TOUCH] = {"touch", ARG_WORD, ARG_NONE},
	[SCRIPT_HOST] = {"host", ARG_WORD, ARG_NONE},
	[SCRIPT_WAIT_SYNCED] = {"wait-synced", ARG_NONE, ARG_NONE},
	[SCRIPT_EXPECT_HOST] = {"expect-host", ARG_STRING, ARG_STRING},
	[SCRIPT_HOST_SQL] = {"host-sql", ARG_STRING, ARG_NONE},
};

/* The notes a UAE acceptor takes, in dirhams. */
static const int64_t note_values_aed[] = {5, 10, 20, 50, 100, 200, 500, 1000};

/* One day of virtual time is more than any scenario needs; larger is a typo. */
enum { MAX_WAIT_MS = 24 * 3600 * 1000 };

const char *script_op_name(enum script_op op) { return (unsigned)op < SCRIPT_OP_COUNT ? ops[op].name : "?"; }

/*
 * Length of the well-formed UTF-8 sequence at s (at most avail bytes), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF (Unicode 15.0, table 3-7). *cp gets its value.
 */
static size_t utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, lo = 0x80, hi = 0xBF;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char b = s[i];
		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
			return 0;
		v = (v << 6) | (b & 0x3F);
	}
	*cp = v;
	return n;
}

/* 0, or the 1-based column of the first byte of line that is not well-formed UTF-8. */
static size_t invalid_utf8_column(const char *line, size_t len)
{
	const unsigned char *u = (const unsigned char *)line;
	uint32_t cp;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(u + i, len - i, &cp);
		if (!n)
			return i + 1;
		i += n;
	}
	return 0;
}

/*
 * Commands, ids, names and levels are plain ASCII. A non-ASCII character in one is nearly
 * always invisible on screen (a byte order mark, a zero-width or no-break space pasted with
 * the line), so the message shows the word with each such character spelled out.
 */
static bool check_ascii_word(const char *word, const char *what, char *why, size_t why_len)
{
	const unsigned char *u = (const unsigned char *)word;
	size_t len = strlen(word), bad = 0;
	while (bad < len && u[bad] > 0x20 && u[bad] < 0x7F)
		bad++;
	if (bad == len)
		return true;
	uint32_t first = 0xFFFD, cp;
	utf8_seq(u + bad, len - bad, &first); /* the line is well-formed: checked first */
	/* The word around its first such character: a long id is cut, and says so. */
	enum { BEFORE = 40 };
	char shown[120];
	size_t at = 0, i = bad > BEFORE ? bad - BEFORE : 0;
	if (i > 0)
		at += (size_t)snprintf(shown, sizeof(shown), "...");
	while (i < len && at + 12 < sizeof(shown) - 4) {
		size_t n = utf8_seq(u + i, len - i, &cp);
		if (!n) {
			n = 1;
			cp = 0xFFFD;
		}
		if (cp > 0x20 && cp < 0x7F)
			shown[at++] = (char)cp;
		else
			at += (size_t)snprintf(shown + at, sizeof(shown) - at, "<U+%04X>", (unsigned)cp);
		i += n;
	}
	shown[at] = '\0';
	if (i < len)
		snprintf(shown + at, sizeof(shown) - at, "...");
	snprintf(why, why_len, "%s '%s' contains U+%04X%s: only text in double quotes may be other than plain ASCII",
		 what, shown, (unsigned)first,
		 first == 0xFEFF ? " (a byte order mark)" : first == 0x200B ? " (a zero-width space)"
			 : first == 0xA0 ? " (a no-break space)" : "");
	return false;
}

struct cursor {
	const char *p;
};

static void skip_blank(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static bool at_end(struct cursor *c)
{
	skip_blank(c);
	return *c->p == '\0' || *c->p == '#';
}

/* A bare token up to whitespace. */
static char *take_word(struct cursor *c)
{
	skip_blank(c);
	const char *start = c->p;
	while (*c->p && *c->p != ' ' && *c->p != '\t')
		c->p++;
	return c->p > start ? xstrndup(start, (size_t)(c->p - start)) : NULL;
}

/* A double-quoted string with \" and \\ escapes; NULL and why on error. */
static char *take_string(struct cursor *c, const char **why)
{
	skip_blank(c);
	if (*c->p != '"') {
		*why = "expected a string in double quotes";
		return NULL;
	}
	c->p++;
	size_t cap = strlen(c->p) + 1, n = 0;
	char *out = xmalloc(cap);
	while (*c->p && *c->p != '"') {
		if (*c->p == '\\') {
			c->p++;
			if (*c->p != '"' && *c->p != '\\') {
				free(out);
				*why = "unknown escape (only \\\" and \\\\ are allowed)";
				return NULL;
			}
		}
		out[n++] = *c->p++;
	}
	if (*c->p != '"') {
		free(out);
		*why = "unterminated string";
		return NULL;
	}
	c->p++;
	out[n] = '\0';
	return out;
}

/* "12", "0.5", "1.250": seconds to milliseconds without floating point. */
static int parse_seconds(const char *s, int64_t *ms)
{
	int64_t whole = 0, frac = 0;
	int frac_digits = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (*p++ - '0');
		if (whole > MAX_WAIT_MS / 1000)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			if (++frac_digits > 3)
				return -1;
			frac = frac * 10 + (*p++ - '0');
		}
	}
	if (*p)
		return -1;
	while (frac_digits++ < 3)
		frac *= 10;
	*ms = whole * 1000 + frac;
	return *ms <= MAX_WAIT_MS ? 0 : -1;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 100)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return s[0] != '.';
}

static int take_arg(struct cursor *c, enum arg_kind kind, struct script_cmd *cmd, char **slot,
		    char *why, size_t why_len)
{
	const char *problem = NULL;
	char *word = NULL;
	switch (kind) {
	case ARG_NONE: return 0;
	case ARG_STRING:
		*slot = take_string(c, &problem);
		if (!*slot) {
			snprintf(why, why_len, "%s", problem);
			return -1;
		}
		return 0;
	case ARG_WORD:
	case ARG_NAME:
		if (at_end(c) || !(word = take_word(c))) {
			snprintf(why, why_len, "missing argument");
			return -1;
		}
		if (!check_ascii_word(word, "argument", why, why_len)) {
			free(word);
			return -1;
		}
		if (kind == ARG_NAME && !valid_name(word)) {
			snprintf(why, why_len, "'%s' is not a valid name (letters, digits, '-', '_', '.')", word);
			free(word);
			return -1;
		}
		*slot = word;
		return 0;
	case ARG_AED:
	case ARG_SECONDS:
		if (at_end(c) || !(word = take_word(c))) {
			snprintf(why, why_len, "missing argument");
			return -1;
		}
		if (!check_ascii_word(word, "argument", why, why_len)) {
			free(word);
			return -1;
		}
		if (kind == ARG_SECONDS) {
			if (parse_seconds(word, &cmd->number) != 0) {
				snprintf(why, why_len, "'%s' is not a number of seconds (0 to 86400, up to 3 decimals)", word);
				free(word);
				return -1;
			}
		} else {
			char *end;
			errno = 0;
			long long aed = strtoll(word, &end, 10);
			bool ok = !errno && *end == '\0' && end != word;
			bool known = false;
			for (size_t i = 0; ok && i < sizeof(note_values_aed) / sizeof(note_values_aed[0]); i++)
				known |= note_values_aed[i] == aed;
			if (!known) {
				snprintf(why, why_len, "'%s' is not a UAE banknote (5, 10, 20, 50, 100, 200, 500, 1000)", word);
				free(word);
				return -1;
			}
			cmd->number = aed * 100;
		}
		free(word);
		return 0;
	}
	return -1;
}

static void add_cmd(struct script *s, const struct script_cmd *cmd)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->cmds = xrealloc(s->cmds, s->cap * sizeof(*s->cmds));
	}
	s->cmds[s->n++] = *cmd;
}

static void free_cmd(struct script_cmd *cmd)
{
	free(cmd->source);
	free(cmd->arg);
	free(cmd->arg2);
}

static int parse_line(const char *line, int lineno, script_check_fn check, void *check_user, struct script *s,
		      char *why, size_t why_len)
{
	struct cursor c = {line};
	if (at_end(&c))
		return 0;
	char *verb = take_word(&c);
	if (!check_ascii_word(verb, "command", why, why_len)) {
		free(verb);
		return -1;
	}
	int op = -1;
	for (int i = 0; i < SCRIPT_OP_COUNT; i++)
		if (strcmp(verb, ops[i].name) == 0)
			op = i;
	if (op < 0) {
		snprintf(why, why_len, "unknown command '%s'", verb);
		free(verb);
		return -1;
	}
	free(verb);
	struct script_cmd cmd = {.op = (enum script_op)op, .line = lineno, .source = xstrdup(line)};
	/* Trim the source for messages. */
	char *src = cmd.source;
	size_t len = strlen(src);
	while (len && (src[len - 1] == ' ' || src[len - 1] == '\t' || src[len - 1] == '\r'))
		src[--len] = '\0';
	if (take_arg(&c, ops[op].a1, &cmd, &cmd.arg, why, why_len) != 0 ||
	    take_arg(&c, ops[op].a2, &cmd, &cmd.arg2, why, why_len) != 0)
		goto fail;
	if (!at_end(&c)) {
		snprintf(why, why_len, "unexpected '%s' after the arguments of %s", c.p, ops[op].name);
		goto fail;
	}
	if (check && check(&cmd, check_user, why, why_len) != 0)
		goto fail;
	add_cmd(s, &cmd);
	return 0;
fail:
	free_cmd(&cmd);
	return -1;
}

/* UTF-8's encoding of U+FEFF, which some editors put at the start of a text file. */
static const char utf8_bom[] = "\xEF\xBB\xBF";

int script_parse(const char *name, const char *text, script_check_fn check, void *check_user,
		 struct script **out, struct kio_error *err)
{
	struct script *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(name);
	int lineno = 0, rc = 0;
	const char *p = text;
	/* A byte order mark says "UTF-8", which a scenario is anyway: skipped, not a character. */
	if (strncmp(p, utf8_bom, 3) == 0)
		p += 3;
	while (*p) {
		lineno++;
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line = xstrndup(p, len);
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		char why[256] = "";
		size_t bad_col = invalid_utf8_column(p, len);
		if (bad_col)
			snprintf(why, sizeof(why), "invalid UTF-8 (byte 0x%02X at column %zu): save the scenario as UTF-8",
				 (unsigned)(unsigned char)p[bad_col - 1], bad_col);
		if (bad_col || parse_line(line, lineno, check, check_user, s, why, sizeof(why)) != 0)
			rc = kio_fail(err, KIO_ERR_INVALID, "%s:%d: %s", name, lineno, why[0] ? why : "invalid line");
		free(line);
		if (rc)
			break;
		if (!end)
			break;
		p = end + 1;
	}
	if (rc == 0 && s->n == 0)
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: no commands", name);
	if (rc) {
		script_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int script_load(const char *path, script_check_fn check, void *check_user, struct script **out,
		struct kio_error *err)
{
	/* Through core_infile_open, not fopen: a FIFO named as the scenario would block the run
	 * at its open instead of failing it. */
	struct stat st;
	int fd = core_infile_open(path, path, 0, &st, err);
	if (fd < 0)
		return fd;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
	}
	char *text = xmalloc(SCRIPT_MAX_BYTES + 1);
	size_t n = fread(text, 1, SCRIPT_MAX_BYTES + 1, f);
	bool read_error = ferror(f);
	fclose(f);
	int rc;
	if (read_error)
		rc = kio_fail(err, KIO_ERR_IO, "%s: read error", path);
	else if (n > SCRIPT_MAX_BYTES)
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: larger than 1 MiB (%d bytes), the most a scenario may be",
			      path, SCRIPT_MAX_BYTES);
	else if (memchr(text, '\0', n))
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: contains a NUL byte: not a text file", path);
	else {
		text[n] = '\0';
		rc = script_parse(path, text, check, check_user, out, err);
	}
	free(text);
	return rc;
}

void script_free(struct script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free_cmd(&s->cmds[i]);
	free(s->cmds);
	free(s->path);
	free(s);
}
