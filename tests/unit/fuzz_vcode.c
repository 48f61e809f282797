/* Fuzz target for the e-voucher code parser (kiosk/core/vcode.h): any bytes a customer's
 * keypad, a receipt's QR or the host could hand it. A code it accepts must be canonical,
 * format to the printed form and read back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/vcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *typed = malloc(size + 1);
	if (!typed)
		return 0;
	memcpy(typed, data, size);
	typed[size] = '\0';

	char code[VCODE_DIGITS + 1], shown[VCODE_FORMATTED_LEN + 1], again[VCODE_DIGITS + 1];
	enum vcode_verdict v = vcode_parse(typed, code);
	if (!vcode_verdict_name(v))
		abort();
	if (v == VCODE_OK) {
		if (strlen(code) != VCODE_DIGITS || code[0] != VCODE_PREFIX || vcode_damm(code, VCODE_DIGITS) != '0')
			abort();
		if (!vcode_format(code, shown) || vcode_parse(shown, again) != VCODE_OK || strcmp(again, code) != 0)
			abort();
	} else if (code[0] != '\0') {
		abort();
	}
	free(typed);
	return 0;
}
