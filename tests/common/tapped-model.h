/*
 * A device model with a tap on its wire, for driver fuzz targets: the script can put bytes
 * on the line the device never sent (they reach the driver before the model's own reply)
 * and can silence the device, while the model underneath goes on as if nothing happened.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/sim/model.h"

struct tapped_model {
	struct sim_model inner; /* the real model; fill it with sim_model_<kind>() */
	uint8_t inject[512];
	size_t inject_len;
	bool mute; /* the model's replies are swallowed */
};

/* The model the transport talks to: `tap` wrapped, named `name`. Borrows tap. */
struct sim_model tapped_model_wrap(struct tapped_model *tap, const char *name);

/* Queues bytes for the driver; what does not fit the 512-byte tap is dropped. */
void tapped_model_inject(struct tapped_model *tap, const void *buf, size_t len);
