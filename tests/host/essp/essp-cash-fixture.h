/*
 * Test fixture for the eSSP host driver: the real driver over the in-process transport to
 * the NV9USB model, in virtual time (tests/common/devloop.h), with a tap between them that
 * records every write, can inject bytes towards the driver and can hand them over one byte
 * at a time, and an in-memory note journal.
 */
#pragma once

#include <glib.h>

#include "drivers/class/cash.h"
#include "drivers/host/essp/essp-cash.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/ledger/notes.h"
#include "tests/common/devloop.h"

#define FX_EVENTS_MAX 256

struct tap {
	struct transport base;
	struct transport *inner;
	GPtrArray *writes;   /* GByteArray per write, in order */
	GByteArray *inject;  /* delivered to the driver before the device's bytes */
	size_t read_cap;     /* 0: whole reads; n: at most n bytes per read */
};

/* The note journal the driver sees: the SQLite one, with failures a test switches on. */
struct flaky_journal {
	struct cash_journal base;
	struct cash_journal *inner;
	unsigned fail_list;     /* the next n list_open calls fail with KIO_ERR_IO */
	unsigned fail_advance;  /* the next n advance calls fail with KIO_ERR_IO */
	unsigned fail_begin;    /* the next n begin calls fail with KIO_ERR_IO */
	unsigned n_list;        /* list_open calls, failed ones included */
};

struct fx {
	struct devloop loop;
	struct sim_essp_config sim_cfg;
	struct sim_essp *sim;
	struct sim_model model;
	struct transport *sim_t;
	struct tap *tap;
	struct ledger *ledger;
	struct ledger_notes *notes;
	struct flaky_journal journal;
	unsigned fail_random;   /* cfg.random = fx_random: the next n calls fail */
	unsigned fail_pad;      /* ... the next n 16-byte calls (a sealing pad) fail */
	unsigned n_random;      /* fx_random calls */
	struct essp_cash_config cfg;
	struct cash_unit *unit;
	struct cash_event ev[FX_EVENTS_MAX];
	size_t n_ev;
	/* What the listener does with a note in escrow: 0 nothing, 1 accept, 2 return. */
	int on_escrow;
};

/* Sets defaults: the model's sim_essp_config_default; the driver with poll 200 ms, reply
 * timeout 1000 ms, 3 retries, reconnect 2000 ms. Change f->sim_cfg / f->cfg, then fx_start. */
void fx_init(struct fx *f);
/* Everything but the driver: loop, model, transports, journal (fx_start calls it if not
 * called); between the two a test can write journeys the driver finds at its start. */
void fx_prepare(struct fx *f);
void fx_start(struct fx *f);
/* A ledger file at path in place of fx_prepare's in-memory one (the flows' tests, the crash
 * suite's children): after fx_prepare and before fx_start, or after fx_close_ledger for a
 * kiosk that restarts; the driver's journal is its note journal. 0 or the ledger's error code
 * (a child checks it without g_assert). */
int fx_open_ledger(struct fx *f, const char *path);
/* Closes the ledger and its note journal (fx_fini then leaves them). */
void fx_close_ledger(struct fx *f);
/* The driver reached its run phase (fx_run_until's predicate). */
bool fx_in_run(struct fx *f);
/* For cfg.random (user: the fx): fails with KIO_ERR_IO while f->fail_random counts down. */
int fx_random(void *user, uint8_t *buf, size_t len);
/* Frees all; a unit already destroyed (NULL) or a ledger already closed is left. */
void fx_fini(struct fx *f);
/* The kiosk process dies and a new one starts: a new driver on the same journal, model and
 * transport (what was in flight is lost); the events seen so far are forgotten. */
void fx_restart(struct fx *f);

/* Enables every denomination and runs until the device is enabled. */
void fx_enable_all(struct fx *f);
/* Runs until pred or max_ms of virtual time; returns pred's answer. */
bool fx_run_until(struct fx *f, bool (*pred)(struct fx *f), uint64_t max_ms);
void fx_run_for(struct fx *f, uint64_t ms);
/* Device-side change (note, fault, power): tell the transport. */
void fx_notify(struct fx *f);

size_t fx_count(const struct fx *f, enum cash_event_kind kind);
size_t fx_count_fault(const struct fx *f, enum cash_event_kind kind, enum cash_fault fault);
int64_t fx_sum(const struct fx *f, enum cash_event_kind kind);
struct cash_status fx_status(struct fx *f);
struct essp_cash_info fx_info(struct fx *f);
struct sim_essp_state fx_sim(struct fx *f);

/* Command codes (plain, first DATA byte; 0x7E for sealed) of the writes since index from. */
GArray *fx_sent_cmds(struct fx *f, size_t from);
size_t fx_writes(struct fx *f);
/* Journal rows of this device in a state, and their sum. */
int64_t fx_journal(struct fx *f, enum cash_note_state state, int64_t *total);
