/*
 * The eSSP host driver: a cash_unit (drivers/class/cash.h) over a transport to an ITL
 * NV9USB-class banknote validator, recording every note's journey in a cash_journal so a
 * note is credited exactly once across lost replies, link loss, device power cycles and a
 * killed process. Never blocks: it writes a command and returns; the reply is handled in
 * service() (call it whenever the transport wakes the kiosk) or on its own timers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/class/cash-journal.h"
#include "drivers/class/cash.h"
#include "drivers/protocol/essp/essp.h"
#include "drivers/transport/transport.h"
#include "kiosk/core/err.h"
#include "kiosk/core/timers.h"

struct essp_cash_config {
	const char *name;           /* for logs and cash_unit.name; copied. Default "cash" */
	uint8_t address;            /* SSP slave id; validators default to 0 (GA138) */
	uint32_t poll_ms;           /* GA973 §7.4: 200..1000 ms between polls. Default 200 */
	/* Between polls while the kiosk wants the acceptor disabled and no note is in its path:
	 * nothing can be inserted, only a fault can happen, and a kiosk idles on attract that
	 * way most of its life. Not below poll_ms; GA973 §7.4 allows up to 1000. Default 1000 */
	uint32_t idle_poll_ms;
	uint32_t reply_timeout_ms;  /* GA138 Transport Layer: 1000 ms. Default 1000 */
	unsigned retries;           /* identical re-sends before NO_ANSWER. Default 3 (ITL SDK) */
	uint8_t protocol_version;   /* highest tried; falls back to ESSP_PROTOCOL_MIN. Default 7 */
	bool encryption;            /* eSSP: key exchange, then every command sealed (needs nettle) */
	uint64_t fixed_key;         /* lower 64 key bits (GA973 §6.2.2). Default 0x0123456701234567 */
	uint32_t reconnect_ms;      /* resync after NO_ANSWER, reopen after unplug. Default 2000 */
	/* How long the kiosk may take to decide a note in escrow before the driver returns it
	 * itself (it keeps the device holding with HOLD meanwhile). 0 = no limit. Default 30000. */
	uint32_t escrow_decide_ms;
	/* A fraud attempt shows as CASH_FAULT_FRAUD for this long. Default 30000. */
	uint32_t fraud_clear_ms;
	/*
	 * Tests only: called at each named point of the money path (the kill points listed in
	 * essp-cash.c), so a test can SIGKILL the process exactly there. NULL in the kiosk.
	 */
	void (*checkpoint)(void *user, const char *point);
	void *checkpoint_user;
	/*
	 * Where the key exchange's secrets and the sealing pads come from: fills buf[0..len)
	 * and returns 0, or a negative KIO_ERR_* when it cannot (then nothing is sent: the
	 * session goes through NO_ANSWER and is set up again after reconnect_ms). NULL, the
	 * default: the kernel's CSPRNG, getrandom(2). Tests set it to inject a failing source.
	 */
	int (*random)(void *user, uint8_t *buf, size_t len);
	void *random_user;
};

void essp_cash_config_default(struct essp_cash_config *cfg);

/*
 * Creates the driver and starts connecting (SYNC is written before it returns if the
 * transport is up). Borrows t, timers and journal, which must outlive the unit; the caller
 * sets the transport's wake to call the unit's service op. The unit is freed with
 * unit->ops->destroy. KIO_ERR_INVALID for a bad config or a NULL journal; KIO_ERR_UNSUPPORTED
 * when encryption is asked for in a build without nettle.
 */
int essp_cash_new(struct transport *t, struct core_timers *timers, const struct essp_cash_config *cfg,
		  struct cash_journal *journal, struct cash_unit **out, struct kio_error *err);

/* What the technicians' menu and the tests see beyond cash_status. */
struct essp_cash_info {
	const char *phase;          /* "sync", "settle", "run", ...: static string */
	char device[CASH_NOTE_DEVICE_MAX]; /* "essp:001C962C" once the serial is known, else "" */
	uint32_t serial;
	uint8_t protocol;           /* negotiated HOST PROTOCOL VERSION */
	bool encrypted;
	char firmware[5];
	bool counters_known;
	struct essp_counters counters; /* last GET COUNTERS answer */
	uint8_t last_reject;        /* last LAST REJECT CODE answer (GA138 Reject Codes) */
	int64_t note_id;            /* journey of the note in the path, 0 if none */
	/* Link statistics; they only grow. */
	uint64_t commands;          /* new commands written */
	uint64_t resends;           /* identical re-sends after a reply timeout */
	uint64_t stale_frames;      /* good frames that answered nothing outstanding */
	uint64_t bad_frames;        /* CRC failures and undecryptable replies */
	uint64_t resyncs;           /* times the session was set up again */
};

/* unit must come from essp_cash_new. */
void essp_cash_get_info(struct cash_unit *unit, struct essp_cash_info *out);
