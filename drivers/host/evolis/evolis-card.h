/*
 * The Evolis card issuer driver: struct card_issuer over a struct transport, speaking the
 * command subset of docs/evolis-commands.md. Never blocks: issue() converts the front and
 * returns; service() and the driver's timers send one command at a time and read its reply.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "drivers/class/cardprn.h"
#include "drivers/protocol/evolis/evolis.h"
#include "drivers/transport/transport.h"
#include "kiosk/core/err.h"
#include "kiosk/core/timers.h"

struct evolis_card_config {
	enum evolis_station station; /* where the card waits while it is encoded; default
	                              * EVOLIS_STATION_CONTACTLESS (Sic) */
	uint32_t ribbon_low;       /* Rco;l at or below this: RIBBON_LOW (a warning); 0 = 50 */
	uint8_t threshold;         /* a front pixel is resin where its luminance over white is
	                            * below this; 0 = 128 */
	uint32_t poll_ms;          /* status reads while idle; 0 = 10000 */
	uint32_t reply_timeout_ms; /* reads and settings; 0 = 5000 */
	uint32_t motion_timeout_ms; /* Sic/Sis, Smw, the print sequence, Ser; 0 = 60000 */
	uint32_t reopen_ms;        /* retry interval while disconnected; 0 = 2000 */
	uint32_t settle_ms;        /* after a flush or reopen, input is dropped this long; 0 = 100 */
};

void evolis_card_config_default(struct evolis_card_config *cfg);

/*
 * Borrows t and timers (both outlive the issuer); cfg is copied (NULL = defaults). The kiosk
 * points the transport's wake callback at its loop and calls ops->service when it fires.
 * Starts by reading the printer's state, rejecting a card an interrupted job left inside.
 * Caller frees with (*out)->ops->destroy(*out). KIO_ERR_INVALID (err filled) for a bad config.
 *
 * issue(card_number, front): card_number is 1..23 digits (track 2 and the class event's
 * field); front is RGBA, at most 1016 x 648, drawn landscape, copied before issue() returns.
 * 0, then CARDPRN_EV_ISSUED (after the eject was confirmed) or CARDPRN_EV_FAILED; or at once
 * KIO_ERR_BUSY (a card in progress), KIO_ERR_NO_DEVICE (disconnected), KIO_ERR_INVALID.
 */
int evolis_card_new(struct transport *t, struct core_timers *timers,
	const struct evolis_card_config *cfg, struct card_issuer **out, struct kio_error *err);

/*
 * RGBA (borrowed, `stride` bytes per row) to the 1-bit K panel face: composited over white,
 * luminance below threshold is resin. A threshold, not a dither: the face is text and rules,
 * and dithering frays small glyph edges, as on receipts (research §1.6). The image goes at the
 * face's top-left. KIO_ERR_INVALID if it is larger than 1016 x 648 or malformed.
 */
int evolis_card_face_from_rgba(const uint8_t *rgba, int width, int height, int stride,
	uint8_t threshold, struct evolis_face *face, struct kio_error *err);

struct evolis_card_stats {
	uint64_t issued, failed, rejected; /* rejected: cards sent to the reject box */
	uint64_t commands, timeouts, garbage_replies, reopens;
};
/* iss must come from evolis_card_new. */
void evolis_card_stats(const struct card_issuer *iss, struct evolis_card_stats *out);
