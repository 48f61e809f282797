/* Fuzz target: the scenario parser takes any bytes and either parses or reports file:line. */
#include <stdint.h>
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
	} else if (strncmp(err.msg, "fuzz", 4) != 0) {
		abort(); /* every error names the file */
	}
	free(text);
	return 0;
}
