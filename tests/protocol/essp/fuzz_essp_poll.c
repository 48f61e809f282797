/* Fuzz target: every eSSP reply parser (and the eSSP packet opener, when built) on the same
 * arbitrary DATA field, at a protocol version taken from the first byte. Parsers must never
 * read past len. */
#include <stdint.h>
#include <stdlib.h>

#include "drivers/protocol/essp/essp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t version = (uint8_t)(ESSP_PROTOCOL_MIN + data[0] % 6); /* 4..9: one unsupported */
	data++;
	size--;

	struct kio_error err;
	struct essp_poll poll;
	int rc = essp_poll_parse(data, size, version, &poll, &err);
	if (poll.n > ESSP_POLL_EVENTS_MAX || (rc == 0 && size == 0))
		abort();
	for (size_t i = 0; i < poll.n; i++)
		if (essp_event_data_len(poll.ev[i].code, version) < 0)
			abort();

	struct essp_setup setup;
	if (essp_setup_parse(data, size, &setup, &err) == 0) {
		for (uint8_t ch = 0; ch <= ESSP_CHANNELS_MAX + 1; ch++) {
			int64_t fils = -1;
			if (essp_setup_channel_fils(&setup, ch, &fils, &err) == 0 && fils <= 0)
				abort();
		}
	}
	uint32_t serial;
	(void)essp_serial_parse(data, size, &serial, &err);
	struct essp_unit_data unit;
	(void)essp_unit_data_parse(data, size, &unit, &err);
	struct essp_channel_values cv;
	(void)essp_channel_values_parse(data, size, version, &cv, &err);
	struct essp_counters counters;
	(void)essp_counters_parse(data, size, &counters, &err);
	uint8_t code;
	(void)essp_last_reject_parse(data, size, &code, &err);
	uint64_t key;
	(void)essp_key_exchange_parse(data, size, &key, &err);
#ifdef ESSP_HAVE_CRYPTO
	struct essp_crypto crypto;
	essp_crypto_init(&crypto, ESSP_FIXED_KEY_DEFAULT, size);
	uint8_t plain[ESSP_DATA_MAX];
	size_t plain_len = 0;
	uint32_t count;
	if (essp_crypto_open(&crypto, data, size, plain, &plain_len, &count, &err) == 0 &&
	    (plain_len == 0 || plain_len + 8 > size))
		abort();
#endif
	return 0;
}
