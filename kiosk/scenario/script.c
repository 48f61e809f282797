/* Scenario parsing: tokens, arguments and their checks. */
#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

/* The notes a UAE acceptor takes, in dirhams. */
static const int64_t note_values_aed[] = {5, 10, 20, 50, 100, 200, 500, 1000};

/* One day of virtual time is more than any scenario needs; larger is a typo. */
enum { MAX_WAIT_MS = 24 * 3600 * 1000 };

const char *script_op_name(enum script_op op) { return (unsigned)op < SCRIPT_OP_COUNT ? ops[op].name : "?"; }

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

static int parse_line(const char *line, int lineno, script_check_fn check, struct script *s, char *why,
		      size_t why_len)
{
	struct cursor c = {line};
	if (at_end(&c))
		return 0;
	char *verb = take_word(&c);
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
	if (check && check(&cmd, why, why_len) != 0)
		goto fail;
	add_cmd(s, &cmd);
	return 0;
fail:
	free_cmd(&cmd);
	return -1;
}

int script_parse(const char *name, const char *text, script_check_fn check, struct script **out,
		 struct kio_error *err)
{
	struct script *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(name);
	int lineno = 0, rc = 0;
	const char *p = text;
	while (*p) {
		lineno++;
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line = xstrndup(p, len);
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		char why[256] = "";
		if (memchr(p, '\0', len) || parse_line(line, lineno, check, s, why, sizeof(why)) != 0)
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

int script_load(const char *path, script_check_fn check, struct script **out, struct kio_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return kio_fail(err, errno == ENOENT ? KIO_ERR_NOT_FOUND : KIO_ERR_IO, "%s: %s", path, strerror(errno));
	/* Scenarios are small; a huge file is a mistake, not a scenario. */
	enum { MAX_SCRIPT = 1 << 20 };
	char *text = xmalloc(MAX_SCRIPT + 1);
	size_t n = fread(text, 1, MAX_SCRIPT + 1, f);
	bool read_error = ferror(f);
	fclose(f);
	int rc;
	if (read_error)
		rc = kio_fail(err, KIO_ERR_IO, "%s: read error", path);
	else if (n > MAX_SCRIPT)
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: larger than 1 MiB", path);
	else if (memchr(text, '\0', n))
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: contains a NUL byte: not a text file", path);
	else {
		text[n] = '\0';
		rc = script_parse(path, text, check, out, err);
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
