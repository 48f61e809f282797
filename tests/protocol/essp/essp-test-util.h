/* Helpers shared by the essp tests: hex strings to bytes, and whole-frame decoding. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "drivers/protocol/essp/essp.h"

/* "7F 80 01" → bytes; aborts the test on a malformed string. Returns the count. */
static inline size_t hex_bytes(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		g_assert_true(g_ascii_isxdigit(s[0]) && g_ascii_isxdigit(s[1]));
		g_assert_cmpuint(n, <, cap);
		out[n++] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]));
		s += 2;
	}
	return n;
}

/* Decodes exactly one good frame from wire bytes, consuming all of them. */
static inline void decode_one(const uint8_t *wire, size_t len, struct essp_frame *f)
{
	struct essp_decoder d;
	size_t used = 0;
	essp_decoder_init(&d);
	g_assert_cmpint(essp_decoder_feed(&d, wire, len, &used, f), ==, ESSP_DEC_FRAME);
	g_assert_cmpuint(used, ==, len);
}

/* Decodes a hex frame and returns its DATA in data/len (for parser tests). */
static inline size_t frame_data(const char *hex, uint8_t *data)
{
	uint8_t wire[ESSP_WIRE_MAX];
	struct essp_frame f;
	size_t n = hex_bytes(hex, wire, sizeof(wire));
	decode_one(wire, n, &f);
	memcpy(data, f.data, f.len);
	return f.len;
}
