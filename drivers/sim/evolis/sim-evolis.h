/*
 * The simulated Evolis card printer: a byte-level model that parses the ESC...CR command
 * stream (chunked, with the length-defined Db panel download), answers like the device, keeps
 * counters, feeder and ribbon levels, moves one card through its stations, records what was
 * encoded on it and the face printed, with injectable faults. Owned by drivers/sim/evolis;
 * the simulated transport and the tests drive it. Written from docs/evolis-commands.md, not
 * from drivers/protocol/evolis, so the two check each other.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

struct sim_evolis;

struct sim_evolis_config {
	int feeder_cards; /* blank cards loaded */
	int ribbon_cards; /* prints left on the K ribbon (Rco;l) */
	const char *serial; /* Rsn; copied */
};
void sim_evolis_config_default(struct sim_evolis_config *cfg);

/* cfg copied (NULL = defaults); caller frees with sim_evolis_free. KIO_ERR_INVALID on a bad
 * config. */
int sim_evolis_new(const struct sim_evolis_config *cfg, struct sim_evolis **out,
	struct kio_error *err);
void sim_evolis_free(struct sim_evolis *s); /* accepts NULL */

/*
 * Host -> printer; all bytes are consumed. Each complete command queues exactly one reply
 * (OK, a value, or "ERR <words>", CR-terminated). Returns 0, or KIO_ERR_PROTOCOL (err filled)
 * when this chunk held a framing error: bytes outside ESC...CR, an over-long command, a Db
 * header with an unknown panel or level, a missing CR after Db data. The parser resyncs at the
 * next ESC. While disconnected every byte is swallowed and nothing is answered.
 */
int sim_evolis_write(struct sim_evolis *s, const uint8_t *buf, size_t len, struct kio_error *err);
size_t sim_evolis_read(struct sim_evolis *s, uint8_t *buf, size_t cap);
size_t sim_evolis_readable(const struct sim_evolis *s);

/* Fault kinds of the scenario `fault card KIND` command (cover-open for the technician). */
enum sim_evolis_fault {
	SIM_EVOLIS_FAULT_FEEDER_EMPTY,
	SIM_EVOLIS_FAULT_RIBBON_OUT,
	SIM_EVOLIS_FAULT_JAM,
	SIM_EVOLIS_FAULT_COVER_OPEN,
	SIM_EVOLIS_FAULT_DISCONNECT,
	SIM_EVOLIS_FAULT_COUNT,
};
/* Clearing a jam models the technician pulling the stuck card out: it is gone, not issued. */
void sim_evolis_fault_set(struct sim_evolis *s, enum sim_evolis_fault f, bool on);
bool sim_evolis_fault_get(const struct sim_evolis *s, enum sim_evolis_fault f);
/* "feeder-empty", "ribbon-out", "jam", "cover-open", "disconnect"; KIO_ERR_NOT_FOUND else. */
int sim_evolis_fault_parse(const char *name, enum sim_evolis_fault *out);
const char *sim_evolis_fault_name(enum sim_evolis_fault f);
bool sim_evolis_connected(const struct sim_evolis *s);

void sim_evolis_load_feeder(struct sim_evolis *s, int cards);
void sim_evolis_load_ribbon(struct sim_evolis *s, int prints);
int sim_evolis_feeder_level(const struct sim_evolis *s);
int sim_evolis_ribbon_level(const struct sim_evolis *s);

enum sim_evolis_position {
	SIM_EVOLIS_POS_NONE,
	SIM_EVOLIS_POS_PRINT,
	SIM_EVOLIS_POS_CONTACT,
	SIM_EVOLIS_POS_CONTACTLESS,
};
enum sim_evolis_position sim_evolis_position(const struct sim_evolis *s);

/* A card that left the printer: ejected to the customer or into the reject box. */
struct sim_evolis_card {
	bool rejected;
	bool encoded;               /* Smw wrote track 2 */
	char track2[38];            /* what was written, NUL-terminated */
	bool printed;
	uint8_t face[648][127];     /* landscape 1016 x 648, MSB leftmost, 1 = ink; blank if !printed */
};
size_t sim_evolis_card_count(const struct sim_evolis *s);
const struct sim_evolis_card *sim_evolis_card(const struct sim_evolis *s, size_t index); /* borrowed */
/* Frees card index once its owner has filed it (82 KB of face each): the count stays,
 * sim_evolis_card(index) is NULL from then on. */
void sim_evolis_card_release(struct sim_evolis *s, size_t index);
bool sim_evolis_card_get(const struct sim_evolis_card *c, int x, int y);
/* The card face as a 1016 x 648 1-bit PNG, black resin on white. KIO_ERR_IO with the path. */
int sim_evolis_card_write_png(const struct sim_evolis_card *c, const char *path,
	struct kio_error *err);

struct sim_evolis_stats {
	uint64_t cards_inserted; /* Rco;c */
	uint64_t panels_printed; /* Rco;p */
	uint64_t commands;
	uint64_t protocol_errors;
	uint64_t cards_lost;     /* removed by hand when a jam was cleared */
};
void sim_evolis_stats(const struct sim_evolis *s, struct sim_evolis_stats *out);
const struct kio_error *sim_evolis_last_error(const struct sim_evolis *s);
