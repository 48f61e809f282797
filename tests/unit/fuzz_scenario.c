/* Fuzz target: the scenario parser takes any bytes and either parses or reports file:line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/scenario/runner.h"
#include "kiosk/scenario/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct script *s = NULL;
	struct kio_error err;
	if (script_parse("fuzz", text, runner_check_cmd, &s, &err) == 0) {
		if (s->n == 0)
			abort(); /* a parsed script always has a command */
		script_free(s);
	} else if (strncmp(err.msg, "fuzz:", 5) != 0) {
		abort(); /* every error names the file */
	} else if (strcmp(err.msg, "fuzz: no commands") != 0) {
		/* ... and the line, one the text has: a person must find it in an editor. */
		int line = 0, used = 0;
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		if (sscanf(err.msg, "fuzz:%d:%n", &line, &used) != 1 || used == 0 || line < 1 || (size_t)line > lines)
			abort();
	}
	free(text);
	return 0;
}
