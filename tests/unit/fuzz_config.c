/* Fuzz target: the configuration loader and the USB id parser take any bytes; they load or
 * refuse with a message naming the file (config) or the id, and never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/transport/usbx.h"
#include "kiosk/core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct core_config cfg, before;
	struct kio_error err;
	core_config_defaults(&cfg);
	before = cfg;
	/* The bytes as they are, NULs included: the loader must not stop at one. */
	if (core_config_load_data(&cfg, "fuzz.ini", (const char *)data, size, &err) != 0) {
		if (strncmp(err.msg, "fuzz.ini", 8) != 0)
			abort(); /* every error names the file */
		if (memcmp(&cfg, &before, sizeof(cfg)) != 0)
			abort(); /* a refused file changes nothing */
	} else {
		/* What loaded must be within the ranges the loader promises. */
		if (cfg.receipt_width_dots < 384 || cfg.receipt_width_dots > 832 || cfg.inactivity_timeout_s < 10 ||
		    cfg.inactivity_timeout_s > 600 || strlen(cfg.cash_usb) >= sizeof(cfg.cash_usb))
			abort();
		/* No string value holds a control character or a bidi override. */
		const char *strings[] = {cfg.kiosk_id, cfg.data_dir, cfg.db_path, cfg.out_dir, cfg.cash_usb};
		for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
			for (const unsigned char *p = (const unsigned char *)strings[i]; *p; p++)
				if (*p < 0x20 || *p == 0x7f || (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae))
					abort();
	}
	/* The first line as a USB id, as the kiosk checks devices.*_usb at start. */
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	struct usbx_id id;
	memset(&id, 0xAB, sizeof(id));
	if (usbx_id_parse(text, &id, &err) == 0 && (id.serial[sizeof(id.serial) - 1] != '\0'))
		abort(); /* the serial is always terminated */
	free(text);
	return 0;
}
