/*
 * Byte-level model of an ITL NV9USB/NV200-like banknote validator speaking SSP: it takes
 * the bytes a host writes (any chunking) and produces the bytes a real device would
 * answer. Tests and the in-process transport drive it; it has no I/O and no clock of its
 * own: every call that can move time takes the caller's `now_ms` (virtual in tests).
 *
 * Behaviour follows GA138/GA973 (see drivers/protocol/essp/essp.h), including the
 * sequence-bit rule, escrow with hold/reject/auto-return, power-up clearing of a note
 * left in the path, persistent counters, and the faults of issue 5.
 *
 * Ownership: sim_essp_new* return a model the caller frees with sim_essp_free (NULL ok).
 * sim_essp_save returns a malloc'd NUL-terminated text the caller frees with free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/protocol/essp/essp.h"
#include "kiosk/core/err.h"

struct sim_essp_config {
	uint8_t addr;
	uint32_t serial;
	char firmware[5];  /* 4 ASCII digits, "0334" = 3.34 */
	/* The dataset: channel k (1-based) holds channel_fils[k-1]; 0 = unused channel.
	 * Values must be whole AED; the order is the caller's (UAE datasets vary). */
	size_t n_channels;
	int64_t channel_fils[ESSP_CHANNELS_MAX];
	uint8_t max_protocol;        /* highest HOST PROTOCOL VERSION answered OK */
	uint8_t power_up_protocol;   /* version in force until the host sets one */
	uint64_t escrow_timeout_ms;  /* GA138: 10 s; GA973: 5 s */
	uint64_t comms_timeout_ms;   /* no command this long: disable (GA973 §7.4); 0 = never */
	uint32_t cashbox_capacity;   /* notes; 0 = unlimited */
	/*
	 * Answer POLL WITH ACK / EVENT ACK without encryption. A real device needs eSSP for
	 * them (GA138); this lets host tests exercise the ack path before eSSP exists.
	 * When false they get COMMAND NOT KNOWN, GA138's answer for "not supported".
	 */
	bool poll_with_ack;
	/*
	 * eSSP mode (GA138 Encryption Layer): until the host negotiates a key (SET GENERATOR,
	 * SET MODULUS, REQUEST KEY EXCHANGE) every other command but SYNC gets KEY NOT SET;
	 * afterwards commands must come sealed with the expected eCOUNT and replies go sealed.
	 * Needs a build with ESSP_HAVE_CRYPTO (else sim_essp_new refuses it).
	 */
	bool encryption;
	uint64_t fixed_key; /* lower 64 key bits; sim_essp_config_default: GA973's default */
};

/* AED 5, 10, 20, 50, 100, 200, 500, 1000 in channels 1..8, serial 0x001C962C,
 * protocol up to 7, escrow timeout 10 s, comms timeout 10 s, no capacity limit. */
void sim_essp_config_default(struct sim_essp_config *cfg);

enum sim_essp_fault {
	SIM_ESSP_FAULT_JAM,             /* unsafe jam: the note in the path, or the next one, sticks */
	SIM_ESSP_FAULT_STACKER_FULL,    /* cashbox full: latched until reset/power cycle with it off */
	SIM_ESSP_FAULT_CASHBOX_REMOVED, /* off again = replaced */
	SIM_ESSP_FAULT_FRAUD,           /* each note read is a fraud attempt (string/tether) */
	SIM_ESSP_FAULT_NO_ANSWER,       /* firmware hung: frames are ignored, nothing executes */
	SIM_ESSP_FAULT_DISCONNECT,      /* unplugged: writes fail with KIO_ERR_NO_DEVICE */
	SIM_ESSP_FAULT_COUNT
};

/* Where the note in the path is; a power cycle keeps it (see sim_essp_save). */
enum sim_essp_note {
	SIM_ESSP_NOTE_NONE,
	SIM_ESSP_NOTE_READING,      /* inserted; the next poll says READ 0 */
	SIM_ESSP_NOTE_VALIDATING,   /* READ 0 reported; the next poll decides */
	SIM_ESSP_NOTE_ESCROW,       /* READ ch reported: the host's next command decides */
	SIM_ESSP_NOTE_STACKING,     /* accepted by a poll; not yet past the credit point */
	SIM_ESSP_NOTE_CREDITED,     /* CREDIT reported: in the stacker path, not retrievable */
	SIM_ESSP_NOTE_REJECTING,    /* on its way back: REJECTING then REJECTED */
	SIM_ESSP_NOTE_RETURNED,     /* REJECTING reported; REJECTED next */
	SIM_ESSP_NOTE_JAMMED,       /* unsafe jam */
	SIM_ESSP_NOTE_COUNT
};

/* What tests and the scenario runner may look at. */
struct sim_essp_state {
	bool enabled;
	uint16_t inhibit_mask;        /* 1 = channel accepts */
	uint8_t protocol;
	enum sim_essp_note note;
	uint8_t note_channel;         /* 0 while unknown or for a fake */
	struct essp_counters counters;
	uint32_t cashbox[ESSP_CHANNELS_MAX]; /* notes per channel */
	int64_t cashbox_fils;
	uint8_t last_reject;
	uint64_t executed;            /* commands executed */
	uint64_t repeats;             /* frames answered with the previous reply, not executed */
	uint64_t resets;              /* RESET commands: the USB device re-enumerates after each */
	uint64_t power_ups;
};

struct sim_essp;

/* A device as at a first power-up: empty path, counters zero. NULL cfg = defaults.
 * KIO_ERR_INVALID (NULL returned, err set) for a bad dataset. */
struct sim_essp *sim_essp_new(const struct sim_essp_config *cfg, uint64_t now_ms, struct kio_error *err);
/* Powers up a device from a sim_essp_save text (counters, cashbox, note in the path,
 * physical faults). KIO_ERR_CORRUPT for a text it did not write. */
struct sim_essp *sim_essp_new_from_state(const struct sim_essp_config *cfg, const char *text,
					 uint64_t now_ms, struct kio_error *err);
void sim_essp_free(struct sim_essp *m);

/*
 * The persistent state as plain values: exactly what sim_essp_save writes (the text is made
 * from it), with padding zeroed, so two snapshots compare with memcmp. A caller that keeps
 * the device's memory on disk compares snapshots after each exchange and formats and writes
 * the text only when they differ: formatting it on every poll made each second of virtual
 * time cost milliseconds of real time.
 */
struct sim_essp_memory {
	uint32_t serial;
	uint32_t n_channels;
	struct essp_counters counters;
	uint32_t cashbox[ESSP_CHANNELS_MAX];
	uint32_t note; /* enum sim_essp_note */
	uint8_t note_ch, note_fake, note_reject, last_reject;
	uint8_t fault[4]; /* jam, stacker full, cashbox removed, fraud */
};
void sim_essp_memory_get(const struct sim_essp *m, struct sim_essp_memory *out);
/* The persistent state as text, for the caller to store across a kill. Caller frees. */
char *sim_essp_save(const struct sim_essp *m);
/* Power off and on: volatile settings are lost and the path is cleared as at power-up. */
void sim_essp_power_cycle(struct sim_essp *m, uint64_t now_ms);

/* Host → device bytes, any chunking. KIO_ERR_NO_DEVICE while disconnected. */
int sim_essp_write(struct sim_essp *m, const uint8_t *buf, size_t len, uint64_t now_ms);
/* Device → host bytes: copies up to cap pending bytes, returns how many. */
size_t sim_essp_read(struct sim_essp *m, uint8_t *buf, size_t cap);
size_t sim_essp_pending(const struct sim_essp *m);
/* Advances timers (escrow return, comms timeout) to now_ms. */
void sim_essp_tick(struct sim_essp *m, uint64_t now_ms);
bool sim_essp_connected(const struct sim_essp *m);

/* A customer inserts a genuine note. KIO_ERR_NOT_FOUND if no channel holds the value,
 * KIO_ERR_BUSY if the bezel does not take it (disabled, path busy, fault). */
int sim_essp_insert_note(struct sim_essp *m, int64_t value_fils);
/* Like sim_essp_insert_note, but the customer keeps hold of the note: the validator reads
 * it (READ 0) and goes no further, so the host hears a note is in the path but not which,
 * until sim_essp_release_note; then it is validated as it would have been (escrow, or
 * rejected if its channel is now inhibited). KIO_ERR_INVALID from release if none is held. */
int sim_essp_hold_note(struct sim_essp *m, int64_t value_fils);
int sim_essp_release_note(struct sim_essp *m);
/* A note the validator will not recognise; it is rejected with reject_code (e.g. 0x02). */
int sim_essp_insert_fake(struct sim_essp *m, uint8_t reject_code);

void sim_essp_set_fault(struct sim_essp *m, enum sim_essp_fault fault, bool on);
/*
 * Something other than a note blocks the path (a torn note, a coin, a tool): the sensors see
 * it at once, so the device reports UNSAFE JAM on every poll, raising the jam fault, until the
 * fault is cleared and the unit powered up again. KIO_ERR_BUSY while a note is in the path
 * (raise the jam fault to jam that note instead).
 */
int sim_essp_obstruct(struct sim_essp *m);
/* Someone fishes at the bezel with a string or a strip: FRAUD ATTEMPT (channel 0) on the next
 * poll, with no note to credit. KIO_ERR_BUSY while a note is in the path. */
int sim_essp_fraud_attempt(struct sim_essp *m);
bool sim_essp_fault(const struct sim_essp *m, enum sim_essp_fault fault);

/* Link knobs for the host's retry tests; each counts down one reply or frame. */
void sim_essp_drop_replies(struct sim_essp *m, unsigned n);     /* executed, reply lost */
void sim_essp_drop_commands(struct sim_essp *m, unsigned n);    /* lost before the device */
void sim_essp_duplicate_replies(struct sim_essp *m, unsigned n); /* reply arrives twice */
void sim_essp_corrupt_replies(struct sim_essp *m, unsigned n);  /* reply CRC broken */
/* The next n executions of command `code` answer COMMAND CANNOT BE PROCESSED (0xF5) and do
 * nothing else (e.g. GET COUNTERS while the firmware cannot read its counters). One code at
 * a time: a new call replaces the last. */
void sim_essp_refuse_command(struct sim_essp *m, uint8_t code, unsigned n);

void sim_essp_get_state(const struct sim_essp *m, struct sim_essp_state *out);
const char *sim_essp_fault_name(enum sim_essp_fault fault);
const char *sim_essp_note_name(enum sim_essp_note note);
