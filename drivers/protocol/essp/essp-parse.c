/* SSP reply parsers: generic responses, SETUP REQUEST, serial, unit data, channel values,
 * counters, last reject code, key exchange, and the banknote validator's poll events. */
#include "essp.h"

#include <string.h>

bool essp_resp_known(uint8_t code)
{
	switch (code) {
	case ESSP_RESP_OK:
	case ESSP_RESP_UNKNOWN_COMMAND:
	case ESSP_RESP_WRONG_PARAMS:
	case ESSP_RESP_PARAM_OUT_OF_RANGE:
	case ESSP_RESP_CANNOT_PROCESS:
	case ESSP_RESP_SOFTWARE_ERROR:
	case ESSP_RESP_FAIL:
	case ESSP_RESP_KEY_NOT_SET:
		return true;
	}
	return false;
}

const char *essp_resp_name(uint8_t code)
{
	switch (code) {
	case ESSP_RESP_OK: return "OK";
	case ESSP_RESP_UNKNOWN_COMMAND: return "COMMAND NOT KNOWN";
	case ESSP_RESP_WRONG_PARAMS: return "WRONG NO PARAMETERS";
	case ESSP_RESP_PARAM_OUT_OF_RANGE: return "PARAMETER OUT OF RANGE";
	case ESSP_RESP_CANNOT_PROCESS: return "COMMAND CANNOT BE PROCESSED";
	case ESSP_RESP_SOFTWARE_ERROR: return "SOFTWARE ERROR";
	case ESSP_RESP_FAIL: return "FAIL";
	case ESSP_RESP_KEY_NOT_SET: return "KEY NOT SET";
	}
	return "UNKNOWN";
}

int essp_resp_to_err(uint8_t code)
{
	switch (code) {
	case ESSP_RESP_OK: return 0;
	case ESSP_RESP_UNKNOWN_COMMAND: return KIO_ERR_UNSUPPORTED;
	case ESSP_RESP_WRONG_PARAMS:
	case ESSP_RESP_PARAM_OUT_OF_RANGE: return KIO_ERR_INVALID;
	case ESSP_RESP_CANNOT_PROCESS: return KIO_ERR_BUSY;
	case ESSP_RESP_SOFTWARE_ERROR:
	case ESSP_RESP_FAIL: return KIO_ERR_IO;
	}
	/* KEY NOT SET: the device is in eSSP mode with no keys; nothing executes until the
	 * session is set up again (GA138 generic responses, research §5 F6). */
	return KIO_ERR_PROTOCOL;
}

int essp_reply_check(const uint8_t *buf, size_t len, struct kio_error *err)
{
	if (len == 0)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: empty reply");
	if (buf[0] != ESSP_RESP_OK)
		return kio_fail(err, essp_resp_to_err(buf[0]), "essp: device answered 0x%02x %s", buf[0],
				essp_resp_name(buf[0]));
	return 0;
}

static int need_len(size_t len, size_t want, const char *what, struct kio_error *err)
{
	if (len != want)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: %s reply is %zu bytes, want %zu", what, len, want);
	return 0;
}

static uint32_t be24(const uint8_t *p)
{
	return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void copy_ascii(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7F) ? (char)src[i] : '?';
	dst[n] = '\0';
}

int essp_setup_parse(const uint8_t *buf, size_t len, struct essp_setup *out, struct kio_error *err)
{
	int rc = essp_reply_check(buf, len, err);
	if (rc)
		return rc;
	/* Offsets below are GA138's, counted from the byte after the generic response. */
	const uint8_t *p = buf + 1;
	size_t n_p = len - 1;
	if (n_p < 12)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: SETUP REQUEST reply of %zu bytes is truncated", len);

	memset(out, 0, sizeof(*out));
	out->unit_type = p[0];
	if (out->unit_type != 0x00)
		return kio_fail(err, KIO_ERR_UNSUPPORTED, "essp: unit type 0x%02x is not a banknote validator",
				out->unit_type);
	copy_ascii(out->firmware, p + 1, 4);
	copy_ascii(out->country, p + 5, 3);
	out->value_multiplier = be24(p + 8);
	size_t n = p[11];
	if (n < 1 || n > ESSP_CHANNELS_MAX)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: SETUP REQUEST lists %zu channels (1..16)", n);
	out->n_channels = (uint8_t)n;
	if (n_p < 16 + 2 * n)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: SETUP REQUEST reply of %zu bytes is truncated", len);
	memcpy(out->short_value, p + 12, n);
	out->real_value_multiplier = be24(p + 12 + 2 * n);
	out->protocol_version = p[15 + 2 * n];
	out->expanded = out->protocol_version >= 6;

	size_t want = 16 + 2 * n + (out->expanded ? 7 * n : 0);
	rc = need_len(n_p, want, "SETUP REQUEST", err);
	if (rc)
		return rc;

	for (size_t i = 0; i < n; i++) {
		if (out->expanded) {
			copy_ascii(out->channel_country[i], p + 16 + 2 * n + 3 * i, 3);
			out->value[i] = le32(p + 16 + 5 * n + 4 * i);
		} else {
			memcpy(out->channel_country[i], out->country, sizeof(out->country));
			out->value[i] = (uint32_t)out->short_value[i] * out->value_multiplier;
		}
	}
	return 0;
}

int essp_setup_channel_fils(const struct essp_setup *s, uint8_t ch, int64_t *fils, struct kio_error *err)
{
	if (ch < 1 || ch > s->n_channels || s->value[ch - 1] == 0)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "essp: channel %u has no note in the dataset", ch);
	if (strcmp(s->channel_country[ch - 1], "AED") != 0)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: channel %u is %s, not AED", ch,
				s->channel_country[ch - 1]);
	if (s->real_value_multiplier != 100)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: real value multiplier %u, AED needs 100",
				s->real_value_multiplier);
	*fils = (int64_t)s->value[ch - 1] * s->real_value_multiplier;
	return 0;
}

int essp_serial_parse(const uint8_t *buf, size_t len, uint32_t *serial, struct kio_error *err)
{
	int rc = essp_reply_check(buf, len, err);
	if (!rc)
		rc = need_len(len, 5, "GET SERIAL NUMBER", err);
	if (!rc)
		*serial = ((uint32_t)buf[1] << 24) | ((uint32_t)buf[2] << 16) | ((uint32_t)buf[3] << 8) | buf[4];
	return rc;
}

int essp_unit_data_parse(const uint8_t *buf, size_t len, struct essp_unit_data *out, struct kio_error *err)
{
	int rc = essp_reply_check(buf, len, err);
	if (!rc)
		rc = need_len(len, 13, "UNIT DATA", err);
	if (rc)
		return rc;
	out->unit_type = buf[1];
	copy_ascii(out->firmware, buf + 2, 4);
	copy_ascii(out->country, buf + 6, 3);
	out->value_multiplier = be24(buf + 9);
	out->protocol_version = buf[12];
	return 0;
}

int essp_channel_values_parse(const uint8_t *buf, size_t len, uint8_t protocol_version,
			      struct essp_channel_values *out, struct kio_error *err)
{
	int rc = essp_reply_check(buf, len, err);
	if (rc)
		return rc;
	if (len < 2)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: CHANNEL VALUE reply is truncated");
	size_t n = buf[1];
	if (n < 1 || n > ESSP_CHANNELS_MAX)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: CHANNEL VALUE lists %zu channels (1..16)", n);
	bool expanded = protocol_version >= 6;
	rc = need_len(len, 2 + n + (expanded ? 7 * n : 0), "CHANNEL VALUE", err);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->n_channels = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		if (expanded) {
			copy_ascii(out->country[i], buf + 2 + n + 3 * i, 3);
			out->value[i] = le32(buf + 2 + 4 * n + 4 * i);
		} else {
			out->value[i] = buf[2 + i];
		}
	}
	return 0;
}

int essp_counters_parse(const uint8_t *buf, size_t len, struct essp_counters *out, struct kio_error *err)
{
	int rc = essp_reply_check(buf, len, err);
	if (rc)
		return rc;
	if (len < 2)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: GET COUNTERS reply is truncated");
	size_t n = buf[1];
	if (n < 5)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: GET COUNTERS has %zu counters, want 5", n);
	rc = need_len(len, 2 + 4 * n, "GET COUNTERS", err);
	if (rc)
		return rc;
	out->stacked = le32(buf + 2);
	out->stored = le32(buf + 6);
	out->dispensed = le32(buf + 10);
	out->transferred = le32(buf + 14);
	out->rejected = le32(buf + 18);
	return 0;
}

int essp_last_reject_parse(const uint8_t *buf, size_t len, uint8_t *code, struct kio_error *err)
{
	int rc = essp_reply_check(buf, len, err);
	if (!rc)
		rc = need_len(len, 2, "LAST REJECT CODE", err);
	if (!rc)
		*code = buf[1];
	return rc;
}

const char *essp_reject_name(uint8_t code)
{
	static const char *const names[] = {
		"NOTE ACCEPTED", "LENGTH FAIL", "AVERAGE FAIL", "COASTLINE FAIL", "GRAPH FAIL",
		"BURIED FAIL", "CHANNEL INHIBIT", "SECOND NOTE DETECTED", "REJECT BY HOST",
		"CROSS CHANNEL DETECTED", "REAR SENSOR ERROR", "NOTE TOO LONG", "DISABLED BY HOST",
		"SLOW MECH", "STRIM ATTEMPT", "FRAUD CHANNEL", "NO NOTES DETECTED", "PEAK DETECT FAIL",
		"TWISTED NOTE REJECT", "ESCROW TIME-OUT", "BAR CODE SCAN FAIL", "NO CAM ACTIVATE",
		"SLOT FAIL 1", "SLOT FAIL 2", "LENS OVERSAMPLE", "WIDTH DETECTION FAIL",
		"SHORT NOTE DETECT", "PAYOUT NOTE", "DOUBLE NOTE DETECTED", "UNABLE TO STACK",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == ESSP_REJ_MAX + 1, "reject name table");
	return code <= ESSP_REJ_MAX ? names[code] : "UNKNOWN";
}

int essp_key_exchange_parse(const uint8_t *buf, size_t len, uint64_t *slave_intermediate,
			    struct kio_error *err)
{
	int rc = essp_reply_check(buf, len, err);
	if (!rc)
		rc = need_len(len, 9, "REQUEST KEY EXCHANGE", err);
	if (rc)
		return rc;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)buf[1 + i] << (8 * i);
	*slave_intermediate = v;
	return 0;
}

/*
 * The banknote validator's events. Data sizes and minimum protocol versions are GA138's
 * event descriptions. Safe jam is only in GA973's flows; it is taken as a v4 status.
 * NOTE CLEARED FROM FRONT gives no minimum version in GA138; its data byte is as for
 * CLEARED INTO CASHBOX, and it is taken as v4.
 */
struct event_info {
	uint8_t code;
	uint8_t data_len;
	uint8_t min_version;
	bool ack; /* repeats until EVENT ACK under POLL WITH ACK */
	const char *name;
};

static const struct event_info events[] = {
	{ESSP_EV_SLAVE_RESET, 0, 4, false, "SLAVE RESET"},
	{ESSP_EV_READ, 1, 4, false, "READ"},
	{ESSP_EV_CREDIT, 1, 4, true, "NOTE CREDIT"},
	{ESSP_EV_REJECTING, 0, 4, false, "REJECTING"},
	{ESSP_EV_REJECTED, 0, 4, false, "REJECTED"},
	{ESSP_EV_STACKING, 0, 4, false, "STACKING"},
	{ESSP_EV_STACKED, 0, 4, false, "STACKED"},
	{ESSP_EV_SAFE_JAM, 0, 4, false, "SAFE JAM"},
	{ESSP_EV_UNSAFE_JAM, 0, 4, false, "UNSAFE JAM"},
	{ESSP_EV_DISABLED, 0, 4, false, "DISABLED"},
	{ESSP_EV_STACKER_FULL, 0, 4, false, "STACKER FULL"},
	{ESSP_EV_FRAUD_ATTEMPT, 1, 4, true, "FRAUD ATTEMPT"},
	{ESSP_EV_BARCODE_VALIDATED, 0, 4, false, "BARCODE TICKET VALIDATED"},
	{ESSP_EV_CASHBOX_REPLACED, 0, 5, false, "CASHBOX REPLACED"},
	{ESSP_EV_CASHBOX_REMOVED, 0, 5, false, "CASHBOX REMOVED"},
	{ESSP_EV_CLEARED_INTO_CASHBOX, 1, 5, true, "NOTE CLEARED INTO CASHBOX"},
	{ESSP_EV_CLEARED_FROM_FRONT, 1, 4, false, "NOTE CLEARED FROM FRONT"},
	{ESSP_EV_NOTE_PATH_OPEN, 0, 6, false, "NOTE PATH OPEN"},
	{ESSP_EV_BARCODE_ACK, 0, 4, true, "BARCODE TICKET ACK"},
	{ESSP_EV_INITIALISING, 0, 7, true, "INITIALISING"},
	{ESSP_EV_CHANNEL_DISABLE, 0, 7, false, "CHANNEL DISABLE"},
	{ESSP_EV_TICKET_PRINTED_TO_CASHBOX, 0, 6, false, "PRINTED TO CASHBOX"},
	{ESSP_EV_TICKET_PRINT_HALTED, 0, 6, false, "PRINT HALTED"},
	{ESSP_EV_TICKET_IN_BEZEL, 0, 6, false, "TICKET IN BEZEL"},
	{ESSP_EV_TICKET_PRINT_ERROR, 1, 6, false, "TICKET PRINTING ERROR"},
	{ESSP_EV_TICKET_IN_BEZEL_AT_STARTUP, 0, 6, false, "TICKET IN BEZEL AT STARTUP"},
	{ESSP_EV_TICKET_PRINTED, 0, 6, false, "TICKET PRINTED"},
	{ESSP_EV_TICKET_PRINTING, 0, 6, false, "TICKET PRINTING"},
};

static const struct event_info *event_lookup(uint8_t code)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i].code == code)
			return &events[i];
	return NULL;
}

int essp_event_data_len(uint8_t code, uint8_t protocol_version)
{
	const struct event_info *e = event_lookup(code);
	if (!e || protocol_version < e->min_version || protocol_version > ESSP_PROTOCOL_MAX)
		return -1;
	return e->data_len;
}

bool essp_event_needs_ack(uint8_t code)
{
	const struct event_info *e = event_lookup(code);
	return e && e->ack;
}

const char *essp_event_name(uint8_t code)
{
	const struct event_info *e = event_lookup(code);
	return e ? e->name : "UNKNOWN";
}

int essp_poll_parse(const uint8_t *buf, size_t len, uint8_t protocol_version, struct essp_poll *out,
		    struct kio_error *err)
{
	out->n = 0;
	if (protocol_version < ESSP_PROTOCOL_MIN || protocol_version > ESSP_PROTOCOL_MAX)
		return kio_fail(err, KIO_ERR_UNSUPPORTED, "essp: poll events of protocol v%u are not parsed",
				protocol_version);
	if (len > ESSP_DATA_MAX)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: poll reply of %zu bytes exceeds a frame", len);
	int rc = essp_reply_check(buf, len, err);
	if (rc)
		return rc;

	size_t i = 1;
	while (i < len) {
		uint8_t code = buf[i];
		const struct event_info *e = event_lookup(code);
		if (!e)
			return kio_fail(err, KIO_ERR_PROTOCOL, "essp: unknown poll event 0x%02x at byte %zu", code, i);
		if (protocol_version < e->min_version)
			return kio_fail(err, KIO_ERR_PROTOCOL, "essp: event 0x%02x %s at byte %zu needs v%u, set v%u",
					code, e->name, i, e->min_version, protocol_version);
		if (len - i - 1 < e->data_len)
			return kio_fail(err, KIO_ERR_PROTOCOL, "essp: event 0x%02x %s at byte %zu is truncated", code,
					e->name, i);
		/* Cannot overflow: each event takes at least one of at most 254 bytes. */
		struct essp_event *ev = &out->ev[out->n++];
		ev->code = code;
		ev->data = e->data_len ? buf[i + 1] : 0;
		i += 1 + e->data_len;
	}
	return 0;
}
