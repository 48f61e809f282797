/* Fuzz target: the ledger's parsers of outside bytes, the secret file (buf, len) and the
 * export's --since argument; each parses or refuses with a message, never crashes, and a
 * refused secret leaves the key untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[LEDGER_KEY_BYTES];
	memset(key, 0xA5, sizeof(key));
	struct kio_error err = {0};
	if (ledger_secret_parse(data, size, key, &err) != 0) {
		for (size_t k = 0; k < sizeof(key); k++)
			if (key[k] != 0xA5)
				abort();
		if (strncmp(err.msg, "ledger secret:", 14) != 0)
			abort();
	} else if (size != LEDGER_SECRET_FILE_BYTES) {
		abort();
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int64_t since = -1;
	if (ledger_export_since_parse(text, &since, &err) == 0) {
		/* Digits only (up to the first NUL, as a command line would end it). */
		if (since < 0 || text[0] == '\0' || strspn(text, "0123456789") != strlen(text))
			abort();
	} else if (strncmp(err.msg, "--since:", 8) != 0) {
		abort();
	}
	free(text);
	return 0;
}
