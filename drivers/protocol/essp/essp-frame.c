/* SSP transport layer: CRC-16, frame encoding with 0x7F stuffing, the stream decoder and
 * the host's sequence-bit rule (GA138 "Transport Layer"). */
#include "essp.h"

#include <string.h>

uint16_t essp_crc16(uint16_t seed, const uint8_t *buf, size_t len)
{
	uint16_t crc = seed;
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(buf[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x8005) : (uint16_t)(crc << 1);
	}
	return crc;
}

/* Appends one byte, doubling 0x7F; false if out of room. */
static bool put_stuffed(uint8_t *out, size_t cap, size_t *pos, uint8_t byte)
{
	size_t need = byte == ESSP_STX ? 2 : 1;
	if (cap - *pos < need)
		return false;
	out[(*pos)++] = byte;
	if (byte == ESSP_STX)
		out[(*pos)++] = ESSP_STX;
	return true;
}

int essp_frame_encode(uint8_t seqid, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
		      size_t *out_len)
{
	if (len == 0 || len > ESSP_DATA_MAX || !out || cap == 0)
		return KIO_ERR_INVALID;

	uint8_t hdr[2] = {seqid, (uint8_t)len};
	uint16_t crc = essp_crc16(0xFFFF, hdr, sizeof(hdr));
	crc = essp_crc16(crc, data, len);

	size_t pos = 0;
	out[pos++] = ESSP_STX;
	bool ok = put_stuffed(out, cap, &pos, hdr[0]) && put_stuffed(out, cap, &pos, hdr[1]);
	for (size_t i = 0; ok && i < len; i++)
		ok = put_stuffed(out, cap, &pos, data[i]);
	/* The CRC goes low byte first and is stuffed like any other byte (GA138). */
	ok = ok && put_stuffed(out, cap, &pos, (uint8_t)(crc & 0xFF));
	ok = ok && put_stuffed(out, cap, &pos, (uint8_t)(crc >> 8));
	if (!ok)
		return KIO_ERR_INVALID;
	*out_len = pos;
	return 0;
}

void essp_decoder_init(struct essp_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->state = ESSP_DEC_IDLE;
}

bool essp_decoder_busy(const struct essp_decoder *d)
{
	return d->state != ESSP_DEC_IDLE;
}

static void start_frame(struct essp_decoder *d)
{
	d->state = ESSP_DEC_BODY;
	d->pos = 0;
	d->need = 0;
}

/* Adds one unstuffed byte; returns true when the frame is complete. */
static bool add_byte(struct essp_decoder *d, uint8_t byte)
{
	d->buf[d->pos++] = byte;
	if (d->pos == 2)
		d->need = 2 + (size_t)d->buf[1] + 2;
	return d->need && d->pos == d->need;
}

static enum essp_dec_result finish_frame(struct essp_decoder *d, struct essp_frame *out)
{
	size_t dlen = d->buf[1];
	uint16_t crc = essp_crc16(0xFFFF, d->buf, 2 + dlen);
	uint16_t got = (uint16_t)(d->buf[2 + dlen] | (d->buf[3 + dlen] << 8));
	d->state = ESSP_DEC_IDLE;
	d->pos = 0;
	d->need = 0;
	if (crc != got) {
		d->crc_errors++;
		return ESSP_DEC_BAD_CRC;
	}
	out->seqid = d->buf[0];
	out->len = (uint8_t)dlen;
	memcpy(out->data, d->buf + 2, dlen);
	d->frames++;
	return ESSP_DEC_FRAME;
}

enum essp_dec_result essp_decoder_feed(struct essp_decoder *d, const uint8_t *buf, size_t len,
				       size_t *used, struct essp_frame *out)
{
	size_t i = 0;
	enum essp_dec_result res = ESSP_DEC_MORE;

	while (i < len && res == ESSP_DEC_MORE) {
		uint8_t byte = buf[i++];
		bool complete = false;

		switch (d->state) {
		case ESSP_DEC_IDLE:
			if (byte == ESSP_STX)
				start_frame(d);
			else
				d->skipped++;
			break;
		case ESSP_DEC_BODY:
			if (byte == ESSP_STX)
				d->state = ESSP_DEC_STUFF;
			else
				complete = add_byte(d, byte);
			break;
		case ESSP_DEC_STUFF:
			if (byte == ESSP_STX) {
				d->state = ESSP_DEC_BODY;
				complete = add_byte(d, byte);
			} else {
				/* The 0x7F was an STX: whatever came before is a lost partial frame. */
				if (d->pos)
					d->restarts++;
				start_frame(d);
				complete = add_byte(d, byte);
			}
			break;
		case ESSP_DEC_STATE_COUNT:
			break;
		}
		if (complete)
			res = finish_frame(d, out);
	}
	*used = i;
	return res;
}

void essp_seq_init(struct essp_seq *s, uint8_t addr)
{
	s->addr = addr & ESSP_ADDR_MASK;
	s->flag = true;
}

int essp_seq_prepare(struct essp_seq *s, const struct essp_cmd *cmd, struct essp_packet *pkt)
{
	if (cmd->len == 0)
		return KIO_ERR_INVALID;
	if (cmd->data[0] == ESSP_CMD_SYNC)
		s->flag = true;
	pkt->cmd = cmd->data[0];
	pkt->seqid = essp_seqid(s->addr, s->flag);
	return essp_frame_encode(pkt->seqid, cmd->data, cmd->len, pkt->bytes, sizeof(pkt->bytes), &pkt->len);
}

int essp_seq_on_reply(struct essp_seq *s, const struct essp_packet *pkt, const struct essp_frame *reply,
		      struct kio_error *err)
{
	if (reply->seqid != pkt->seqid)
		return kio_fail(err, KIO_ERR_PROTOCOL, "essp: reply to %s has SEQ/ID 0x%02x, sent 0x%02x",
				essp_cmd_name(pkt->cmd), reply->seqid, pkt->seqid);
	s->flag = !s->flag;
	return 0;
}
