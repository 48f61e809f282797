/* Evolis reply framing and parsing: OK, values, "ERR ..." and ACK/NACK, mapped to faults. */
#include "drivers/protocol/evolis/evolis.h"

#include <string.h>

enum { ACK = 0x06, NAK = 0x15, CR = 0x0D, LF = 0x0A, NUL = 0x00 };

static const char *const fault_names[EVOLIS_FAULT_COUNT] = {
	[EVOLIS_FAULT_NONE] = "none",
	[EVOLIS_FAULT_FEEDER_EMPTY] = "feeder empty",
	[EVOLIS_FAULT_RIBBON_LOW] = "ribbon low",
	[EVOLIS_FAULT_RIBBON_OUT] = "ribbon out",
	[EVOLIS_FAULT_JAM] = "jam",
	[EVOLIS_FAULT_COVER_OPEN] = "cover open",
	[EVOLIS_FAULT_BUSY] = "busy",
	[EVOLIS_FAULT_ENCODE] = "encoding error",
	[EVOLIS_FAULT_COMMAND] = "command refused",
	[EVOLIS_FAULT_UNKNOWN] = "unknown",
};

const char *evolis_fault_name(enum evolis_fault f)
{
	return (unsigned)f < EVOLIS_FAULT_COUNT ? fault_names[f] : "invalid";
}

int evolis_reply_frame(const uint8_t *buf, size_t len, size_t *frame_len, struct kio_error *err)
{
	*frame_len = 0;
	if (len == 0)
		return 0;
	if (buf[0] == ACK) {
		*frame_len = 1;
		return 0;
	}
	if (buf[0] == NAK) {
		if (len >= 2)
			*frame_len = 2;
		return 0;
	}
	size_t limit = len < EVOLIS_REPLY_MAX + 1 ? len : EVOLIS_REPLY_MAX + 1;
	for (size_t i = 0; i < limit; i++)
		if (buf[i] == CR || buf[i] == LF || buf[i] == NUL) {
			*frame_len = i + 1;
			return 0;
		}
	if (len > EVOLIS_REPLY_MAX)
		return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: no reply terminator in %d bytes",
			EVOLIS_REPLY_MAX + 1);
	return 0;
}

static enum evolis_fault fault_from_nack(uint8_t code)
{
	switch (code) {
	case 'F': return EVOLIS_FAULT_FEEDER_EMPTY;
	case 'R': return EVOLIS_FAULT_RIBBON_OUT;
	case 'T': return EVOLIS_FAULT_JAM;
	case 'C': return EVOLIS_FAULT_COVER_OPEN;
	case 'K': case 'D': case 'W': return EVOLIS_FAULT_ENCODE;
	case '1': case '2': return EVOLIS_FAULT_COMMAND;
	}
	return EVOLIS_FAULT_UNKNOWN;
}

/* Keyword match on the words after "ERR": firmware wording varies between generations. */
static enum evolis_fault fault_from_text(const char *words)
{
	static const struct {
		const char *word;
		enum evolis_fault fault;
	} map[] = {
		{"FEEDER", EVOLIS_FAULT_FEEDER_EMPTY},
		{"RIBBON", EVOLIS_FAULT_RIBBON_OUT},
		{"MECHANICAL", EVOLIS_FAULT_JAM},
		{"JAM", EVOLIS_FAULT_JAM},
		{"COVER", EVOLIS_FAULT_COVER_OPEN},
		{"BUSY", EVOLIS_FAULT_BUSY},
		{"MAGNETIC", EVOLIS_FAULT_ENCODE},
		{"COMMAND", EVOLIS_FAULT_COMMAND},
		{"PARAMETER", EVOLIS_FAULT_COMMAND},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(words, map[i].word))
			return map[i].fault;
	return EVOLIS_FAULT_UNKNOWN;
}

int evolis_reply_parse(const uint8_t *buf, size_t len, struct evolis_reply *out,
	struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	if (len >= 1 && buf[0] == ACK) {
		if (len > 1)
			return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: %zu bytes after ACK", len - 1);
		out->kind = EVOLIS_REPLY_OK;
		strcpy(out->text, "OK");
		return 0;
	}
	if (len >= 1 && buf[0] == NAK) {
		if (len != 2 || buf[1] < 0x20 || buf[1] > 0x7E)
			return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: NACK without a code");
		out->kind = EVOLIS_REPLY_ERROR;
		out->fault = fault_from_nack(buf[1]);
		memcpy(out->text, "NACK ", 5);
		out->text[5] = (char)buf[1];
		return 0;
	}
	size_t n = len;
	if (n > 0 && (buf[n - 1] == CR || buf[n - 1] == LF || buf[n - 1] == NUL))
		n--;
	if (n == 0)
		return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: empty reply");
	if (n > EVOLIS_REPLY_MAX)
		return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: reply of %zu bytes (max %d)", n,
			EVOLIS_REPLY_MAX);
	for (size_t i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7E)
			return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: reply byte 0x%02x at %zu", buf[i], i);
	memcpy(out->text, buf, n);
	out->text[n] = '\0';
	if (strcmp(out->text, "OK") == 0) {
		out->kind = EVOLIS_REPLY_OK;
	} else if (strncmp(out->text, "ERR", 3) == 0 && (n == 3 || out->text[3] == ' ')) {
		out->kind = EVOLIS_REPLY_ERROR;
		out->fault = fault_from_text(out->text + 3);
	} else {
		out->kind = EVOLIS_REPLY_VALUE;
	}
	return 0;
}

int evolis_reply_expect_ok(const struct evolis_reply *r, struct kio_error *err)
{
	switch (r->kind) {
	case EVOLIS_REPLY_OK:
		return 0;
	case EVOLIS_REPLY_ERROR:
		return kio_fail(err, r->fault == EVOLIS_FAULT_COMMAND ? KIO_ERR_PROTOCOL : KIO_ERR_BUSY,
			"evolis: %s (\"%s\")", evolis_fault_name(r->fault), r->text);
	case EVOLIS_REPLY_VALUE:
		break;
	}
	return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: \"%s\" where OK was due", r->text);
}

int evolis_reply_counter(const struct evolis_reply *r, uint32_t *out, struct kio_error *err)
{
	size_t n = strlen(r->text);
	if (r->kind != EVOLIS_REPLY_VALUE || n < 1 || n > 9)
		return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: counter \"%s\"", r->text);
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (r->text[i] < '0' || r->text[i] > '9')
			return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: counter \"%s\"", r->text);
		v = v * 10 + (uint32_t)(r->text[i] - '0');
	}
	*out = v;
	return 0;
}

int evolis_reply_volts(const struct evolis_reply *r, int *millivolts, struct kio_error *err)
{
	/* "d,dd Volts" (guide "Rse"; field code compares "0,00 Volts" and "5,00 Volts"). */
	const char *t = r->text;
	if (r->kind == EVOLIS_REPLY_VALUE && strlen(t) == 10 && t[0] >= '0' && t[0] <= '9' &&
		(t[1] == ',' || t[1] == '.') && t[2] >= '0' && t[2] <= '9' && t[3] >= '0' &&
		t[3] <= '9' && strcmp(t + 4, " Volts") == 0) {
		*millivolts = (t[0] - '0') * 1000 + (t[2] - '0') * 100 + (t[3] - '0') * 10;
		return 0;
	}
	return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: sensor reply \"%s\"", t);
}

bool evolis_sensor_high(int millivolts)
{
	return millivolts > 2500;
}

int evolis_reply_card_position(const struct evolis_reply *r, enum evolis_card_position *out,
	struct kio_error *err)
{
	static const struct {
		const char *text;
		enum evolis_card_position pos;
	} map[] = {
		{"OK", EVOLIS_CARD_NONE},
		{"NO CARD", EVOLIS_CARD_NONE},
		{"CARD", EVOLIS_CARD_PRINT},
		{"ERR CARD", EVOLIS_CARD_PRINT},
		{"SMART CARD", EVOLIS_CARD_CONTACT},
		{"CONTACTLESS CARD", EVOLIS_CARD_CONTACTLESS},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(r->text, map[i].text) == 0) {
			*out = map[i].pos;
			return 0;
		}
	return kio_fail(err, KIO_ERR_PROTOCOL, "evolis: card position \"%s\"", r->text);
}

enum evolis_fault evolis_ribbon_state(bool end_mark, uint32_t cards_left, uint32_t low_threshold)
{
	if (end_mark || cards_left == 0)
		return EVOLIS_FAULT_RIBBON_OUT;
	if (cards_left <= low_threshold)
		return EVOLIS_FAULT_RIBBON_LOW;
	return EVOLIS_FAULT_NONE;
}
