/* Evolis command encoders: ESC-framed ASCII commands, the K panel download and face geometry. */
#include "drivers/protocol/evolis/evolis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "evolis"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

enum { ESC = 0x1B, CR = 0x0D };

static void frame(struct core_bytebuf *b, const char *text)
{
	core_bytebuf_append(b, (const uint8_t[]){ESC}, 1);
	core_bytebuf_append(b, text, strlen(text));
	core_bytebuf_append(b, (const uint8_t[]){CR}, 1);
}

int evolis_encode_command(struct core_bytebuf *b, const char *text, struct kio_error *err)
{
	size_t n = text ? strlen(text) : 0;
	if (n < 1 || n > 255)
		return kio_fail(err, KIO_ERR_INVALID, "evolis: command of %zu characters (1..255)", n);
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)text[i] < 0x20 || (uint8_t)text[i] > 0x7E)
			return kio_fail(err, KIO_ERR_INVALID, "evolis: byte 0x%02x at %zu cannot be framed",
				(uint8_t)text[i], i);
	frame(b, text);
	return 0;
}

static const char *const read_texts[EVOLIS_READ_COUNT] = {
	[EVOLIS_READ_MODEL] = "Rtp",
	[EVOLIS_READ_FIRMWARE] = "Rfv",
	[EVOLIS_READ_SERIAL] = "Rsn",
	[EVOLIS_READ_CARD_POSITION] = "Rlr;p",
	[EVOLIS_READ_COVER] = "Rse;o",
	[EVOLIS_READ_FEEDER] = "Rse;f",
	[EVOLIS_READ_RIBBON_END] = "Rcr",
	[EVOLIS_READ_CARDS_INSERTED] = "Rco;c",
	[EVOLIS_READ_PANELS_PRINTED] = "Rco;p",
	[EVOLIS_READ_RIBBON_LEFT] = "Rco;l",
};

const char *evolis_read_text(enum evolis_read what)
{
	return (unsigned)what < EVOLIS_READ_COUNT ? read_texts[what] : NULL;
}

int evolis_encode_read(struct core_bytebuf *b, enum evolis_read what, struct kio_error *err)
{
	const char *t = evolis_read_text(what);
	if (!t)
		return kio_fail(err, KIO_ERR_INVALID, "evolis: read %d", (int)what);
	frame(b, t);
	return 0;
}

void evolis_encode_ribbon_k(struct core_bytebuf *b)
{
	frame(b, "Pr;k");
}

void evolis_encode_move_to_station(struct core_bytebuf *b, enum evolis_station st)
{
	frame(b, st == EVOLIS_STATION_CONTACT ? "Sis" : "Sic");
}

int evolis_encode_mag_track2(struct core_bytebuf *b, const char *digits, struct kio_error *err)
{
	size_t n = digits ? strlen(digits) : 0;
	if (n < 1 || n > EVOLIS_TRACK2_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "evolis: track 2 of %zu digits (1..%d)", n,
			EVOLIS_TRACK2_MAX);
	for (size_t i = 0; i < n; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return kio_fail(err, KIO_ERR_INVALID, "evolis: track 2 character %zu is not a digit",
				i);
	char cmd[8 + EVOLIS_TRACK2_MAX];
	snprintf(cmd, sizeof(cmd), "Dm;2;%s", digits);
	frame(b, cmd);
	frame(b, "Smw");
	return 0;
}

struct evolis_face *evolis_face_new(void)
{
	return xcalloc(1, sizeof(struct evolis_face));
}

bool evolis_face_get(const struct evolis_face *f, int x, int y)
{
	if (x < 0 || y < 0 || x >= EVOLIS_FACE_WIDTH || y >= EVOLIS_FACE_HEIGHT)
		return false;
	return f->bits[y][x / 8] & (0x80u >> (x % 8));
}

void evolis_face_set(struct evolis_face *f, int x, int y, bool ink)
{
	if (x < 0 || y < 0 || x >= EVOLIS_FACE_WIDTH || y >= EVOLIS_FACE_HEIGHT)
		return;
	uint8_t m = (uint8_t)(0x80u >> (x % 8));
	f->bits[y][x / 8] = ink ? (uint8_t)(f->bits[y][x / 8] | m) : (uint8_t)(f->bits[y][x / 8] & ~m);
}

int evolis_face_from_coverage(struct evolis_face *f, const uint8_t *cov, int width, int height,
	int stride, uint8_t threshold, struct kio_error *err)
{
	if (!cov || width < 1 || height < 1 || width > EVOLIS_FACE_WIDTH ||
		height > EVOLIS_FACE_HEIGHT || stride < width || threshold == 0)
		return kio_fail(err, KIO_ERR_INVALID, "evolis face: %dx%d stride %d threshold %u",
			width, height, stride, threshold);
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++)
			evolis_face_set(f, x, y, cov[(size_t)y * (size_t)stride + (size_t)x] >= threshold);
	return 0;
}

void evolis_face_to_panel(const struct evolis_face *f, uint8_t *out)
{
	memset(out, 0, EVOLIS_PANEL_K_BYTES);
	for (int line = 0; line < EVOLIS_PANEL_LINES; line++) {
		uint8_t *dst = out + (size_t)line * EVOLIS_PANEL_LINE_BYTES;
		for (int j = 0; j < EVOLIS_PANEL_DOTS; j++)
			if (evolis_face_get(f, line, EVOLIS_FACE_HEIGHT - 1 - j))
				dst[j / 8] |= (uint8_t)(0x80u >> (j % 8));
	}
}

void evolis_panel_to_face(const uint8_t *panel, struct evolis_face *f)
{
	memset(f, 0, sizeof(*f));
	for (int line = 0; line < EVOLIS_PANEL_LINES; line++) {
		const uint8_t *src = panel + (size_t)line * EVOLIS_PANEL_LINE_BYTES;
		for (int j = 0; j < EVOLIS_PANEL_DOTS; j++)
			if (src[j / 8] & (0x80u >> (j % 8)))
				evolis_face_set(f, line, EVOLIS_FACE_HEIGHT - 1 - j, true);
	}
}

void evolis_encode_print_front_k(struct core_bytebuf *b, const struct evolis_face *f)
{
	frame(b, "Ss");
	frame(b, "Sr");
	/* Db;panel;levels;data: fixed-size binary, then CR (dpavlin's driver and qzind/tray's
	 * EvolisEncoder both close it with CR; the guide's §21 example leaves it implicit). */
	static const char head[] = "\x1b" "Db;k;2;";
	core_bytebuf_append(b, head, sizeof(head) - 1);
	uint8_t *panel = xmalloc(EVOLIS_PANEL_K_BYTES);
	evolis_face_to_panel(f, panel);
	core_bytebuf_append(b, panel, EVOLIS_PANEL_K_BYTES);
	free(panel);
	core_bytebuf_append(b, (const uint8_t[]){CR}, 1);
	frame(b, "Se");
	LOG_DBG("front K job: %zu bytes", b->len);
}

void evolis_encode_reject(struct core_bytebuf *b)
{
	frame(b, "Ser");
}

void evolis_encode_eject(struct core_bytebuf *b)
{
	frame(b, "Se");
}
