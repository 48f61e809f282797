/*
 * Fuzz target: the scenario parser takes any bytes and either parses or reports file:line, and
 * what it accepts keeps its promises: well-formed UTF-8 throughout, ids and names in plain
 * ASCII, and no device command for a kiosk without simulated devices.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/scenario/runner.h"
#include "kiosk/scenario/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF), by a second method:
 * decoding, then checking the value against the shortest form for its length. */
static int utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	while (*u) {
		int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : (*u & 0xF8) == 0xF0 ? 4 : 0;
		if (!n)
			return 0;
		uint32_t cp = n == 1 ? *u : *u & (0x7F >> n);
		for (int i = 1; i < n; i++) {
			if ((u[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[i] & 0x3F);
		}
		static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		u += n;
	}
	return 1;
}

static int ascii_word(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7F)
			return 0;
	return 1;
}

static int is_string_arg(enum script_op op, int which)
{
	if (which == 1)
		return op == SCRIPT_TAP_TEXT || op == SCRIPT_TYPE || op == SCRIPT_EXPECT_TEXT || op == SCRIPT_EXPECT_NO_TEXT ||
		       op == SCRIPT_EXPECT_LEDGER;
	return op == SCRIPT_EXPECT_FILE_TEXT || op == SCRIPT_EXPECT_LOG || op == SCRIPT_EXPECT_LEDGER;
}

static void check(const char *text, size_t size, const struct runner_env *env)
{
	struct script *s = NULL;
	struct kio_error err;
	if (script_parse("fuzz", text, runner_check_cmd, (void *)env, &s, &err) != 0) {
		if (strncmp(err.msg, "fuzz:", 5) != 0)
			abort(); /* every error names the file */
		if (strcmp(err.msg, "fuzz: no commands") != 0) {
			/* ... and the line, one the text has: a person must find it in an editor. */
			int line = 0, used = 0;
			size_t lines = 1;
			for (size_t i = 0; i < size; i++)
				lines += text[i] == '\n';
			if (sscanf(err.msg, "fuzz:%d:%n", &line, &used) != 1 || used == 0 || line < 1 ||
			    (size_t)line > lines)
				abort();
		}
		return;
	}
	if (s->n == 0)
		abort(); /* a parsed script always has a command */
	for (size_t i = 0; i < s->n; i++) {
		const struct script_cmd *c = &s->cmds[i];
		if (!utf8_ok(c->source))
			abort();
		if (c->arg && !(is_string_arg(c->op, 1) ? utf8_ok(c->arg) : ascii_word(c->arg)))
			abort();
		if (c->arg2 && !(is_string_arg(c->op, 2) ? utf8_ok(c->arg2) : ascii_word(c->arg2)))
			abort();
		if (!env->simulate && (c->op == SCRIPT_NOTE || c->op == SCRIPT_NOTE_FAKE || c->op == SCRIPT_NOTE_HOLD ||
				       c->op == SCRIPT_NOTE_RELEASE || c->op == SCRIPT_FAULT ||
				       c->op == SCRIPT_CLEAR || c->op == SCRIPT_TEST_PRINT))
			abort(); /* refused at parse time without simulated devices */
	}
	script_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	static const struct runner_env simulated = {.simulate = true}, real = {.simulate = false};
	check(text, size, &simulated);
	check(text, size, &real);
	free(text);
	return 0;
}
