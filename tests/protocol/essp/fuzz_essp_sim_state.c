/* Fuzz target: the simulated validator's saved memory (`<db>.sim-cash`, sim_essp_new_from_state).
 * Any text either loads or is refused as corrupt, naming the model; a text that loads is one
 * sim_essp_save could have written, and the model it gives saves and reloads to itself. */
#define LOG_MODULE "fuzz-essp-sim-state"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/sim/essp/sim-essp.h"
#include "kiosk/core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_ERROR);
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	struct kio_error err = {0};
	struct sim_essp *m = sim_essp_new_from_state(NULL, text, 0, &err);
	if (!m) {
		if (err.code != KIO_ERR_CORRUPT || strncmp(err.msg, "sim-essp: ", 10) != 0)
			abort(); /* refused as corrupt, and the message says whose state it was */
		free(text);
		return 0;
	}
	char *saved = sim_essp_save(m);
	/* Power-up settles a note left in the path (it goes back or into the box), so only a
	 * text whose one note line says the path is empty must save back to exactly itself. */
	static const char none[] = "\nnote none 0 0 0\n";
	const char *note = strstr(text, "\nnote ");
	bool empty_path = note && strncmp(note, none, sizeof(none) - 1) == 0 && !strstr(note + 1, "\nnote ");
	if (empty_path && strcmp(saved, text) != 0)
		abort(); /* the loader accepted a text the model never writes */
	struct sim_essp *again = sim_essp_new_from_state(NULL, saved, 0, &err);
	if (!again)
		abort(); /* what the model saves, it loads */
	char *saved2 = sim_essp_save(again);
	if (strcmp(saved, saved2) != 0)
		abort();
	free(saved2);
	sim_essp_free(again);
	free(saved);
	sim_essp_free(m);
	free(text);
	return 0;
}
