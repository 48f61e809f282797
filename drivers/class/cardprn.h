/*
 * Card issuer class: takes a blank card from the feeder, prints its front, encodes the card
 * number and presents it. Asynchronous: issue() starts and CARDPRN_EV_ISSUED or
 * CARDPRN_EV_FAILED follows.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

enum cardprn_fault {
	CARDPRN_FAULT_NONE,
	CARDPRN_FAULT_RIBBON_LOW, /* a warning: still prints */
	CARDPRN_FAULT_FEEDER_EMPTY,
	CARDPRN_FAULT_RIBBON_OUT,
	CARDPRN_FAULT_JAM,
	CARDPRN_FAULT_COVER_OPEN,
	CARDPRN_FAULT_DISCONNECTED,
	CARDPRN_FAULT_COUNT
};

struct cardprn_status {
	enum dev_state state;
	enum cardprn_fault fault;
	uint32_t cards_issued;
};

/* RGBA front image, borrowed for the duration of issue(). */
struct cardprn_image {
	int width, height, stride;
	const uint8_t *rgba;
};

enum cardprn_event_kind { CARDPRN_EV_ISSUED, CARDPRN_EV_FAILED, CARDPRN_EV_FAULT, CARDPRN_EV_RECOVERED };

struct cardprn_event {
	enum cardprn_event_kind kind;
	char card_number[24];
	enum cardprn_fault fault;
};

typedef void (*cardprn_event_fn)(void *user, const struct cardprn_event *ev);

struct card_issuer;

struct card_issuer_ops {
	int (*issue)(struct card_issuer *iss, const char *card_number, const struct cardprn_image *front);
	void (*get_status)(struct card_issuer *iss, struct cardprn_status *out);
	/* Processes what the device sent since the last call. The kiosk calls it whenever the
	 * device's transport wakes it; drivers keep their own timers for polls and timeouts.
	 * NULL when the implementation needs no servicing. */
	void (*service)(struct card_issuer *iss);
	void (*destroy)(struct card_issuer *iss);
};

struct card_issuer {
	const struct card_issuer_ops *ops;
	const char *name;
	cardprn_event_fn on_event;
	void *on_event_user;
};

void cardprn_emit(struct card_issuer *iss, const struct cardprn_event *ev);
const char *cardprn_fault_name(enum cardprn_fault fault);
