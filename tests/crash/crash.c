/*
 * The crash suite (issue 11): the top-up journey over the real stack without SDL (the flow,
 * the ledger, the eSSP driver over the simulated validator) is SIGKILLed at every kill point
 * it passes and at random moments; after each kill a new process starts on the same database
 * and the same device, recovers as the kiosk does at start-up, and the money invariants are
 * checked in SQL (invariants.c), with ledger_check and the chain's verification.
 *
 * Processes. The parent owns the validator model, as hardware outlives the kiosk. A child runs
 * the kiosk's side (ledger, driver, flow) in virtual time and reaches the model through a
 * remote sim_model: every write, read and tick is one request and one reply on a
 * SOCK_SEQPACKET socketpair, in lock-step and stamped with the child's clock, so a case runs
 * the same way every time and replays from its description. The child kills itself with
 * SIGKILL at the Nth hit of a named kill point (the ledger's, tx.c and notes.c; the driver's,
 * essp-cash.c; the flow's, topup.h) or at its Nth loop step, after telling the parent where;
 * or the parent kills it at its Nth exchange with the device, which then did what it was
 * asked while its answer is lost with the kiosk ("wire").
 * Between two processes the parent applies a fate to the device: sim-fates.h (as-is, power
 * cycle, left alone), a customer who feeds a note to a device still enabled, or the device's
 * cable out for 90 s, so start-up recovers before the device settles. One script makes
 * the device hang while a note stacks (OP_HANG), so the flow settles without it.
 *
 * A case:
 *   1. a fresh database; child 1 runs a script (a customer's journey) with a kill plan;
 *   2. the fate; what the device had not yet handed over went with the old cable;
 *   3. child 2 starts as the kiosk does (kiosk/recovery.c): the driver settles the journeys
 *      left open (waited for 60 s at most), then ledger_tx_recover ends the transaction left
 *      open, then ledger_check; it may be killed too (a second kill), and then 2-3 repeat;
 *   4. child 2 serves one more customer (the kiosk works again, numbers continue) and exits;
 *   5. the parent checks invariants.c in SQL against the device's cashbox, ledger_check, the
 *      chain (ledger_verify_file, with <db>.secret beside the database) and an empty path.
 *
 * Which cases: a census run of each script (no kill) lists the kill points it passes and how
 * many times; every (script, point, hit) is then a case, the fates taken in turn (all of them
 * with CRASH_FATES=all) and every third case killed a second time at start-up; then
 * CRASH_CASES random cases drawn from CRASH_SEED (a script, a loop step or a device exchange
 * to die at, a fate, one in four a second kill). A failure prints the case as CRASH_REPLAY=... to run it alone, and
 * keeps its folder.
 *
 * Environment: CRASH_CASES (random cases, default 40), CRASH_SEED (default 11), CRASH_FATES=all,
 * CRASH_MIN_POINTS (distinct (point, hit) kills the run must reach, default 200), CRASH_REPLAY,
 * CRASH_DIR (work folder; default /dev/shm when writable: the suite tests process death, which
 * the page cache survives, so fsync need not reach a disk), CRASH_KEEP=1 (keep every folder),
 * CRASH_VERBOSE=1 (each case's line and the children's logs at info).
 */
#define LOG_MODULE "crash"
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/host/essp/essp-cash.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/sim/model.h"
#include "drivers/transport/transport-sim.h"
#include "invariants.h"
#include "kiosk/core/log.h"
#include "kiosk/core/vcode.h"
#include "kiosk/flows/topup.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/recovery-rule.h"
#include "tests/common/devloop.h"
#include "tests/common/sim-fates.h"

#define AED(n) ((int64_t)(n) * 100)
#define CARD "7840123456789014"
#define MAX_FILS AED(500)
/* Wall time of the virtual clock at the first child's start (2026-01-01). */
#define EPOCH_S 1767225600
/* The kiosk restarts this long after it died (device time; the device may still be enabled). */
#define RESTART_MS 1000
#define MAX_KILLS 4 /* processes killed in one case, the first included */
/* A_NOTE_HANG: longer than the flow's closing_ms (30 s), so it settles without the note. */
#define HANG_MS 45000

/* ---- The wire between a child and the device it reaches ---- */

#define MSG_DATA 2048

enum op {
	OP_WRITE,     /* data: host -> device bytes; reply: accepted */
	OP_READ,      /* arg: cap; reply: device -> host bytes */
	OP_CONNECTED,
	OP_INSERT,    /* a customer feeds a note of arg fils; reply rc */
	OP_HANG,      /* the device's firmware hangs for arg ms once the next note is stacking */
	OP_POINT,     /* a kill point passed: data its name, arg its hit number */
	OP_KILLED,    /* about to die: data the point ("step" for a loop step), arg the hit/step */
	OP_INFO,      /* data: a line for the case's record */
	OP_FAIL,      /* data: what the child found wrong; it exits 2 next */
	OP_DONE,      /* the child ran to its end; arg: loop steps taken */
};

struct msg {
	uint32_t op, len;
	uint64_t now_ms;
	int64_t arg;
	uint8_t data[MSG_DATA];
};

struct reply {
	int32_t rc;
	uint32_t len;
	uint32_t pending; /* device -> host bytes still waiting after this exchange */
	uint64_t accepted;
	uint8_t connected;
	uint8_t data[MSG_DATA];
};

/* ---- Scripts: a customer's journey ---- */

enum act {
	A_CARD,        /* types the card number */
	A_NEXT,
	A_BACK,
	A_NOTE,        /* feeds a note; the flow takes it (credited) or, over the maximum, returns it */
	A_NOTE_CANCEL, /* feeds a note and taps cancel while it is on its way to the cashbox */
	A_NOTE_HANG,   /* feeds a note; the device hangs (45 s) while it is on its way to the cashbox */
	A_FINISH,
	A_CANCEL,
	A_IDLE,        /* walks away: the flow's inactivity timeout decides */
	A_END,         /* waits for the flow to end (the done step's own timeout) */
	A_STOP,
};

struct script {
	const char *name;
	struct {
		enum act act;
		int aed;
	} acts[40];
};

#define N(v) {A_NOTE, v}
static const struct script scripts[] = {
	{"finish", {{A_CARD, 0}, {A_NEXT, 0}, N(50), N(100), N(500), N(20), N(5), {A_FINISH, 0}, {A_END, 0}, {A_STOP, 0}}},
	{"cancel-moving",
	 {{A_CARD, 0}, {A_NEXT, 0}, N(20), N(50), {A_NOTE_CANCEL, 100}, {A_END, 0}, {A_STOP, 0}}},
	{"idle", {{A_CARD, 0}, {A_NEXT, 0}, N(10), N(1000), N(200), {A_IDLE, 0}, {A_END, 0}, {A_STOP, 0}}},
	/* The flow settles with a note still in the path (topup.h invariant 5); the device credits
	 * it once it answers again, after the transaction ended: suspense. */
	{"stuck-note", {{A_CARD, 0}, {A_NEXT, 0}, N(20), {A_NOTE_HANG, 50}, {A_FINISH, 0}, {A_END, 0}, {A_STOP, 0}}},
	{"back-then-cancel",
	 {{A_CARD, 0}, {A_NEXT, 0}, {A_BACK, 0}, {A_NEXT, 0}, N(5), {A_CANCEL, 0}, {A_END, 0}, {A_STOP, 0}}},
	{"long",
	 {{A_CARD, 0}, {A_NEXT, 0}, N(5), N(10), N(20), N(5), N(10), N(20), N(5), N(10), N(20), N(5), N(10),
	  N(500), N(20), N(5), N(10), N(20), N(5), N(10), N(20), N(5), N(10), N(20), N(50), N(10),
	  {A_FINISH, 0}, {A_END, 0}, {A_STOP, 0}}},
};
#define N_SCRIPTS (sizeof(scripts) / sizeof(scripts[0]))

/* After start-up recovery, the next customer: the kiosk serves again. */
static const struct script next_customer = {
	"next-customer", {{A_CARD, 0}, {A_NEXT, 0}, N(10), N(20), {A_FINISH, 0}, {A_END, 0}, {A_STOP, 0}}};
#undef N

/* ---- A case ---- */

/* The fates: sim-fates.h's, and two of this suite's own. */
#define FATE_NOTE_WHILE_DOWN SIM_FATE_COUNT /* a customer feeds a note while the kiosk restarts */
#define FATE_UNPLUGGED (SIM_FATE_COUNT + 1) /* the validator's cable is out until UNPLUGGED_MS after
					     * the restart: start-up recovers without it */
#define N_FATES (SIM_FATE_COUNT + 2)
#define UNPLUGGED_MS 90000

static const char *fate_name(int fate)
{
	if (fate == FATE_NOTE_WHILE_DOWN)
		return "note-while-down";
	if (fate == FATE_UNPLUGGED)
		return "unplugged";
	return sim_fate_name(fate);
}

struct kill {
	char point[32]; /* "" for none, "step" for a loop step */
	uint64_t hit;   /* the point's hit number, or the step */
};

struct kcase {
	size_t script;
	struct kill first, second;
	int fate;
	uint64_t seed; /* random cases: the seed it was drawn from (0 for systematic ones) */
};

static void case_format(const struct kcase *k, char *out, size_t len)
{
	snprintf(out, len, "%s:%s:%" PRIu64 ":%s:%s:%" PRIu64, scripts[k->script].name, k->first.point, k->first.hit,
		 fate_name(k->fate), k->second.point[0] ? k->second.point : "-", k->second.hit);
}

static bool case_parse(const char *text, struct kcase *k)
{
	memset(k, 0, sizeof(*k));
	char **f = g_strsplit(text, ":", -1);
	bool ok = g_strv_length(f) == 6;
	if (ok) {
		ok = false;
		for (size_t i = 0; i < N_SCRIPTS; i++)
			if (strcmp(f[0], scripts[i].name) == 0) {
				k->script = i;
				ok = true;
			}
		snprintf(k->first.point, sizeof(k->first.point), "%s", f[1]);
		k->first.hit = g_ascii_strtoull(f[2], NULL, 10);
		k->fate = -1;
		for (int i = 0; i < N_FATES; i++)
			if (strcmp(f[3], fate_name(i)) == 0)
				k->fate = i;
		snprintf(k->second.point, sizeof(k->second.point), "%s", strcmp(f[4], "-") == 0 ? "" : f[4]);
		k->second.hit = g_ascii_strtoull(f[5], NULL, 10);
		ok = ok && k->fate >= 0 && (k->first.point[0] == '\0' || k->first.hit > 0);
	}
	g_strfreev(f);
	return ok;
}

/* ======================================================================================= */
/* The child: the kiosk's side                                                              */
/* ======================================================================================= */

#define MAX_POINTS 64

struct child {
	int fd;
	struct devloop loop;
	bool connected;
	uint32_t pending; /* as the last reply said */
	struct sim_model model;
	struct transport *t;
	struct ledger *ledger;
	struct ledger_notes *notes;
	struct cash_unit *unit;
	struct topup_config cfg;
	struct topup *flow;
	uint64_t tick_timer, return_timer;
	struct kill plan;
	struct {
		char name[32];
		uint64_t hits;
	} points[MAX_POINTS];
	size_t n_points;
	uint64_t steps;
	size_t credited, returned, rejected;
	const char *script;
};

static struct child *the_child; /* for the remote model's const connected() */
static bool verbose;
static bool keep_all;

static _Noreturn void child_exit(int code)
{
	/* _exit: the parent's allocations this process inherited are not ours to report. */
	_exit(code);
}

static void rpc(struct child *c, enum op op, int64_t arg, const void *data, size_t len, uint64_t now_ms,
		struct reply *r)
{
	static struct msg m;
	if (len > MSG_DATA)
		len = MSG_DATA;
	m.op = op;
	m.len = (uint32_t)len;
	m.now_ms = now_ms;
	m.arg = arg;
	if (len)
		memcpy(m.data, data, len);
	if (send(c->fd, &m, offsetof(struct msg, data) + len, MSG_NOSIGNAL) < 0)
		child_exit(4);
	ssize_t n = recv(c->fd, r, sizeof(*r), 0);
	if (n < (ssize_t)offsetof(struct reply, data))
		child_exit(4);
	c->connected = r->connected != 0;
	c->pending = r->pending;
}

static uint64_t now(struct child *c) { return core_clock_now_ms(c->loop.clock); }

static void say(struct child *c, enum op op, int64_t arg, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void say(struct child *c, enum op op, int64_t arg, const char *fmt, ...)
{
	char line[MSG_DATA];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	struct reply r;
	rpc(c, op, arg, line, n < 0 ? 0 : strlen(line), now(c), &r);
}

static _Noreturn void fail(struct child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void fail(struct child *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(c, OP_FAIL, 0, "%s: %s", c->script ? c->script : "start-up", line);
	child_exit(2);
}

static _Noreturn void die_here(struct child *c, const char *point, uint64_t hit)
{
	say(c, OP_KILLED, (int64_t)hit, "%s", point);
	raise(SIGKILL);
	child_exit(3); /* not reached */
}

/* Every kill point of the ledger, the driver and the flow comes here. */
static void on_point(void *user, const char *point)
{
	struct child *c = user;
	size_t i = 0;
	while (i < c->n_points && strcmp(c->points[i].name, point) != 0)
		i++;
	if (i == c->n_points) {
		if (c->n_points == MAX_POINTS)
			fail(c, "more than %d kill point names", MAX_POINTS);
		snprintf(c->points[i].name, sizeof(c->points[i].name), "%s", point);
		c->n_points++;
	}
	uint64_t hit = ++c->points[i].hits;
	say(c, OP_POINT, (int64_t)hit, "%s", point);
	if (strcmp(c->plan.point, point) == 0 && c->plan.hit == hit)
		die_here(c, point, hit);
}

/* The remote model: the device lives in the parent. */
static int rm_write(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms)
{
	struct reply r;
	rpc(dev, OP_WRITE, 0, buf, len, now_ms, &r);
	*accepted = (size_t)r.accepted;
	return r.rc;
}

/* The device answers only what it is sent, so with nothing pending after the last exchange a
 * read has nothing to fetch: no exchange (each is two context switches, the suite's cost). */
static size_t rm_read(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	if (((struct child *)dev)->pending == 0)
		return 0;
	struct reply r;
	rpc(dev, OP_READ, (int64_t)(cap < MSG_DATA ? cap : MSG_DATA), NULL, 0, now_ms, &r);
	size_t n = r.len < cap ? r.len : cap;
	memcpy(buf, r.data, n);
	return n;
}

/* Nothing the host can see moves between two exchanges (the escrow and comms timeouts change
 * the device's state, not its output), and every exchange brings the device's clock to the
 * child's first: the tick waits for the next one. */
static void rm_tick(void *dev, uint64_t now_ms)
{
	(void)dev;
	(void)now_ms;
}

/* Every reply carries the device's presence, so while it is there this needs no exchange of
 * its own; while it is away nothing else is exchanged, so it asks. */
static bool rm_connected(const void *dev)
{
	(void)dev;
	struct child *c = the_child;
	if (!c->connected) {
		struct reply r;
		rpc(c, OP_CONNECTED, 0, NULL, 0, now(c), &r);
	}
	return c->connected;
}

static const struct sim_model_ops remote_ops = {rm_write, rm_read, rm_tick, rm_connected};

/* The loop, counting steps: the random kills land on one. */
struct until {
	struct child *c;
	bool (*pred)(struct child *c);
};

static bool until_step(void *user)
{
	struct until *u = user;
	struct child *c = u->c;
	c->steps++;
	if (strcmp(c->plan.point, "step") == 0 && c->plan.hit == c->steps)
		die_here(c, "step", c->steps);
	return u->pred && u->pred(c);
}

static bool run_until(struct child *c, bool (*pred)(struct child *c), uint64_t max_ms)
{
	struct until u = {c, pred};
	return devloop_run_until(&c->loop, until_step, &u, max_ms);
}

static bool never(struct child *c)
{
	(void)c;
	return false;
}

static void run_for(struct child *c, uint64_t ms)
{
	uint64_t end = now(c) + ms;
	run_until(c, never, ms);
	core_clock_advance_to(c->loop.clock, end);
}

/* The app's routing: the flow gets the unit's events; with no flow, a note offered is given
 * back from the loop (kiosk/app.c does the same). */
static void on_return_timer(void *user)
{
	struct child *c = user;
	c->return_timer = 0;
	int rc = c->unit->ops->escrow_return(c->unit);
	if (rc && rc != KIO_ERR_BUSY)
		fail(c, "cannot return a note in escrow: %s", kio_strerror(rc));
}

static void on_cash(void *user, const struct cash_event *ev)
{
	struct child *c = user;
	if (ev->kind == CASH_EV_CREDITED)
		c->credited++;
	else if (ev->kind == CASH_EV_RETURNED)
		c->returned++;
	else if (ev->kind == CASH_EV_REJECTED)
		c->rejected++;
	if (c->flow)
		topup_cash_listener(c->flow, ev);
	else if (ev->kind == CASH_EV_ESCROW && !c->return_timer)
		c->return_timer = core_timer_add(c->loop.timers, 0, on_return_timer, c);
}

static void service(void *user)
{
	struct child *c = user;
	c->unit->ops->service(c->unit);
}

/* The app ticks the flow once a second: inactivity, closing and done timers. */
static void on_tick(void *user)
{
	struct child *c = user;
	if (c->flow) {
		struct topup_input in = {.kind = TOPUP_IN_TICK};
		int rc = topup_step(c->flow, &in);
		if (rc)
			fail(c, "tick refused: %s", kio_strerror(rc));
	}
	c->tick_timer = core_timer_add(c->loop.timers, 1000, on_tick, c);
}

static void kiosk_start(struct child *c, int fd, const char *db, uint64_t epoch_ms, const struct kill *plan)
{
	memset(c, 0, sizeof(*c));
	the_child = c;
	c->fd = fd;
	c->plan = *plan;
	c->loop.clock = core_clock_new(true, EPOCH_S + (int64_t)(epoch_ms / 1000));
	c->loop.timers = core_timers_new(c->loop.clock);
	struct reply r;
	rpc(c, OP_CONNECTED, 0, NULL, 0, 0, &r);
	struct kio_error err = {0};
	if (ledger_open(db, &c->ledger, &err) != 0)
		fail(c, "ledger_open: %s", err.msg);
	ledger_set_checkpoint(c->ledger, on_point, c);
	c->notes = ledger_notes_new(c->ledger, c->loop.clock);
	c->model = (struct sim_model){.ops = &remote_ops, .dev = c, .kind = "essp"};
	c->t = transport_sim_new("cash", &c->model, c->loop.clock);
	transport_set_wake(c->t, devloop_wake, &c->loop);
	struct essp_cash_config cfg;
	essp_cash_config_default(&cfg);
	cfg.poll_ms = 200;
	cfg.reply_timeout_ms = 1000;
	cfg.retries = 3;
	cfg.reconnect_ms = 2000;
	cfg.checkpoint = on_point;
	cfg.checkpoint_user = c;
	if (essp_cash_new(c->t, c->loop.timers, &cfg, ledger_notes_journal(c->notes), &c->unit, &err) != 0)
		fail(c, "essp_cash_new: %s", err.msg);
	cash_set_listener(c->unit, on_cash, c);
	c->loop.service = service;
	c->loop.service_user = c;
	c->tick_timer = core_timer_add(c->loop.timers, 1000, on_tick, c);
	topup_config_default(&c->cfg);
	c->cfg.max_fils = MAX_FILS;
	c->cfg.host_check = true; /* as kiosk/screens/topup.c runs the flow */
}

static void input(struct child *c, enum topup_input_kind kind, char digit)
{
	struct topup_input in = {.kind = kind, .digit = digit};
	int rc = topup_step(c->flow, &in);
	if (rc)
		fail(c, "input %d refused in %s: %s", kind, topup_step_name(topup_current(c->flow)), kio_strerror(rc));
}

static bool path_empty(struct child *c) { return topup_session(c->flow)->path == SESSION_PATH_EMPTY; }
static bool path_accepted(struct child *c) { return topup_session(c->flow)->path == SESSION_PATH_ACCEPTED; }
static bool flow_over(struct child *c) { return topup_current(c->flow) == TOPUP_END; }
static bool flow_done(struct child *c) { return topup_current(c->flow) >= TOPUP_DONE; }

static size_t settled_notes(struct child *c) { return c->credited + c->returned + c->rejected; }
static size_t settled_before;
static bool note_settled(struct child *c) { return settled_notes(c) > settled_before && path_empty(c); }

/* A customer feeds a note: the bezel takes it once the device is enabled and its path free. */
static void feed(struct child *c, int aed)
{
	for (int tries = 0;; tries++) {
		struct reply r;
		rpc(c, OP_INSERT, AED(aed), NULL, 0, now(c), &r);
		if (r.rc == 0)
			break;
		if (r.rc != KIO_ERR_BUSY || tries == 100)
			fail(c, "the device does not take an AED %d note: %s", aed, kio_strerror(r.rc));
		run_for(c, 200);
	}
	transport_sim_notify(c->t);
}

static void run_script(struct child *c, const struct script *s)
{
	struct kio_error err = {0};
	c->script = s->name;
	if (topup_new(&c->cfg, c->ledger, c->unit, c->loop.clock, "en", true, &c->flow, &err) != 0)
		fail(c, "topup_new: %s", err.msg);
	topup_set_checkpoint(c->flow, on_point, c);
	for (size_t i = 0; s->acts[i].act != A_STOP; i++) {
		int aed = s->acts[i].aed;
		switch (s->acts[i].act) {
		case A_CARD:
			for (const char *d = CARD; *d; d++)
				input(c, TOPUP_IN_KEY, *d);
			break;
		case A_NEXT:
			input(c, TOPUP_IN_NEXT, 0);
			/* As the screens run it: the host asked first (topup.h invariant 9, kill point
			 * "checking"); a standalone kiosk's answer, no offline limit. */
			if (topup_current(c->flow) == TOPUP_CHECKING) {
				struct topup_input host = {.kind = TOPUP_IN_HOST, .host = {TOPUP_HOST_NONE, 0, -1}};
				if (topup_step(c->flow, &host) != 0)
					fail(c, "the host's word was refused in %s", topup_step_name(topup_current(c->flow)));
			}
			if (topup_current(c->flow) != TOPUP_PAY)
				fail(c, "next: the flow is in %s", topup_step_name(topup_current(c->flow)));
			break;
		case A_BACK:
			input(c, TOPUP_IN_BACK, 0);
			break;
		case A_NOTE:
			settled_before = settled_notes(c);
			feed(c, aed);
			if (!run_until(c, note_settled, 60000))
				fail(c, "an AED %d note never settled", aed);
			break;
		case A_NOTE_CANCEL:
			feed(c, aed);
			if (!run_until(c, path_accepted, 30000))
				fail(c, "an AED %d note was never accepted", aed);
			input(c, TOPUP_IN_CANCEL, 0);
			break;
		case A_NOTE_HANG: {
			struct reply r;
			rpc(c, OP_HANG, HANG_MS, NULL, 0, now(c), &r);
			feed(c, aed);
			if (!run_until(c, path_accepted, 30000))
				fail(c, "an AED %d note was never accepted", aed);
			break;
		}
		case A_FINISH:
			input(c, TOPUP_IN_FINISH, 0);
			break;
		case A_CANCEL:
			input(c, TOPUP_IN_CANCEL, 0);
			break;
		case A_IDLE:
			if (!run_until(c, flow_done, c->cfg.pay_idle_ms + c->cfg.closing_ms + 10000))
				fail(c, "inactivity did not end the payment");
			break;
		case A_END:
			if (!run_until(c, flow_over, c->cfg.closing_ms + c->cfg.done_ms + 10000))
				fail(c, "the flow did not end");
			break;
		case A_STOP:
			break;
		}
	}
	struct topup_view v;
	topup_view(c->flow, &v);
	say(c, OP_INFO, 0, "%s: %s, transaction %" PRId64 " credited %" PRId64 " fils", s->name,
	    topup_exit_name(v.exit), v.tx_seq, v.credited_fils);
	if (v.exit == TOPUP_EXIT_OUT_OF_SERVICE)
		fail(c, "the flow ended out of service");
	topup_free(c->flow);
	c->flow = NULL;
	c->script = NULL;
}

static bool settled(struct child *c)
{
	struct essp_cash_info info;
	essp_cash_get_info(c->unit, &info);
	return strcmp(info.phase, "run") == 0;
}

/* Child 1: a customer's journey. */
static _Noreturn void child_journey(int fd, const char *db, const struct kill *plan, const struct script *s)
{
	static struct child c;
	kiosk_start(&c, fd, db, 0, plan);
	if (!run_until(&c, settled, 60000))
		fail(&c, "the driver never reached run");
	run_script(&c, s);
	say(&c, OP_DONE, (int64_t)c.steps, "done");
	child_exit(0);
}

/* When start-up may end the open transactions: kiosk/recovery.c invariant 1, decided by the
 * app's own rule (kiosk/recovery-rule.h) from the same inputs recovery.c gathers. */
static uint64_t settle_start_ms;
static enum recovery_verdict startup_verdict;

static bool startup_settled(struct child *c)
{
	struct kio_error err = {0};
	int64_t escrow = 0, accepted = 0;
	struct recovery_rule_in in = {
		.store_failing = ledger_failing(c->ledger),
		.journal_read = true,
		.waited_ms = now(c) - settle_start_ms,
	};
	if (!in.store_failing &&
	    (ledger_notes_count(c->notes, NULL, CASH_NOTE_ESCROW, &escrow, NULL, &err) != 0 ||
	     ledger_notes_count(c->notes, NULL, CASH_NOTE_ACCEPTED, &accepted, NULL, &err) != 0))
		fail(c, "cannot read the note journal: %s", err.msg);
	in.in_path = escrow + accepted;
	struct cash_status cs;
	c->unit->ops->get_status(c->unit, &cs);
	in.cash_state = cs.state;
	in.cash_fault = cs.fault;
	startup_verdict = recovery_rule(&in);
	return recovery_rule_now(startup_verdict);
}

/* Child 2 and later: the kiosk's start-up after a crash, then the next customer. */
static _Noreturn void child_restart(int fd, const char *db, uint64_t epoch_ms, const struct kill *plan)
{
	static struct child c;
	struct kio_error err = {0};
	kiosk_start(&c, fd, db, epoch_ms, plan);
	/* As the app (kiosk/recovery.c): the driver settles the journeys a crash left open
	 * (crediting a note that reached the cashbox to the transaction still open), then
	 * recovery ends it. A device that does not answer is not waited for beyond
	 * SETTLE_WAIT_MS: a note it credits later has no transaction open and goes to suspense
	 * (tx.c invariant 2). */
	settle_start_ms = now(&c);
	/* The rule gives up by itself at RECOVERY_SETTLE_WAIT_MS; a rule that never lets go
	 * would keep a customer's money open: twice that is a failure. */
	if (!run_until(&c, startup_settled, 2 * RECOVERY_SETTLE_WAIT_MS))
		fail(&c, "start-up recovery still waits after %d s (%s)", 2 * RECOVERY_SETTLE_WAIT_MS / 1000,
		     recovery_verdict_name(startup_verdict));
	if (startup_verdict == RECOVERY_NOW_TIMEOUT) /* counted as late by the parent */
		say(&c, OP_INFO, 0, "the driver did not settle within %d s: recovery runs without it",
		    RECOVERY_SETTLE_WAIT_MS / 1000);
	else if (recovery_rule_gave_up(startup_verdict))
		say(&c, OP_INFO, 0, "recovery ends them with journeys undecided (%s)",
		    recovery_verdict_name(startup_verdict));
	struct ledger_tx *list = NULL;
	size_t n = 0;
	if (ledger_tx_recover(c.ledger, core_clock_wall_s(c.loop.clock), &list, &n, &err) != 0)
		fail(&c, "ledger_tx_recover: %s", err.msg);
	for (size_t i = 0; i < n; i++)
		say(&c, OP_INFO, 1, "recovered transaction %" PRId64 ": %s, %" PRId64 " fils", list[i].seq,
		    ledger_tx_state_name(list[i].state), list[i].credited_fils);
	free(list);
	if (ledger_check(c.ledger, &err) != 0)
		fail(&c, "ledger_check after recovery: %s", err.msg);
	/* The next customer needs the acceptor in service. */
	if (!run_until(&c, settled, 2 * UNPLUGGED_MS))
		fail(&c, "the driver did not settle within %d s", 2 * UNPLUGGED_MS / 1000);
	run_script(&c, &next_customer);
	if (ledger_check(c.ledger, &err) != 0)
		fail(&c, "ledger_check after the next customer: %s", err.msg);
	say(&c, OP_DONE, (int64_t)c.steps, "done");
	child_exit(0);
}

/* ======================================================================================= */
/* The parent: the device, the world, the checks                                            */
/* ======================================================================================= */

struct hit {
	char point[32];
	uint64_t hit;
};

struct world {
	char *dir, *db, *log;
	struct sim_essp *sim;
	struct sim_model model;
	uint64_t base_ms, last_ms; /* device time: base of the current child's clock, latest seen */
	/* What the current child said. */
	GArray *hits;        /* struct hit, in order */
	struct kill killed;  /* where it died ("" if it did not) */
	bool done;
	uint64_t steps;
	GString *record;     /* OP_INFO lines of the whole case */
	GString *failure;    /* OP_FAIL lines and the parent's own findings */
	int status;
	int64_t notes_fed;
	bool fed_while_down;
	uint64_t replug_at; /* device time the cable goes back in (FATE_UNPLUGGED), 0: in */
	uint64_t hang_ms;   /* OP_HANG armed: hang this long once a note is stacking */
	uint64_t hang_until; /* device time the hung firmware answers again, 0: not hung */
	uint64_t exchanges;  /* the current child's exchanges with the device */
};

static void world_init(struct world *w, const char *root, size_t index)
{
	memset(w, 0, sizeof(*w));
	w->dir = g_strdup_printf("%s/case-%zu", root, index);
	if (g_mkdir_with_parents(w->dir, 0700) != 0)
		g_error("%s: %s", w->dir, g_strerror(errno));
	w->db = g_build_filename(w->dir, "k.db", NULL);
	w->log = g_build_filename(w->dir, "kiosk.log", NULL);
	struct kio_error err;
	w->sim = sim_essp_new(NULL, 0, &err);
	if (!w->sim)
		g_error("sim_essp_new: %s", err.msg);
	sim_model_essp(&w->model, w->sim);
	w->hits = g_array_new(FALSE, TRUE, sizeof(struct hit));
	w->record = g_string_new("");
	w->failure = g_string_new("");
}

static void world_fini(struct world *w, bool keep)
{
	sim_essp_free(w->sim);
	if (!keep) {
		char *cmd = g_strdup_printf("rm -rf '%s'", w->dir);
		if (system(cmd) != 0)
			g_warning("could not remove %s", w->dir);
		g_free(cmd);
	}
	g_array_free(w->hits, TRUE);
	g_string_free(w->record, TRUE);
	g_string_free(w->failure, TRUE);
	g_free(w->db);
	g_free(w->log);
	g_free(w->dir);
}

static uint64_t device_now(struct world *w, uint64_t child_ms)
{
	uint64_t t = w->base_ms + child_ms;
	if (t > w->last_ms)
		w->last_ms = t;
	return w->last_ms;
}

static void handle(struct world *w, const struct msg *m, size_t len, struct reply *r)
{
	memset(r, 0, offsetof(struct reply, data));
	uint64_t t = device_now(w, m->now_ms);
	if (w->replug_at && t >= w->replug_at) {
		sim_essp_set_fault(w->sim, SIM_ESSP_FAULT_DISCONNECT, false);
		w->replug_at = 0;
	}
	if (w->hang_until && t >= w->hang_until) {
		sim_essp_set_fault(w->sim, SIM_ESSP_FAULT_NO_ANSWER, false);
		w->hang_until = 0;
	}
	size_t n = len - offsetof(struct msg, data);
	char text[MSG_DATA + 1];
	memcpy(text, m->data, n);
	text[n] = '\0';
	switch ((enum op)m->op) {
	case OP_WRITE: {
		size_t acc = 0;
		r->rc = w->model.ops->write(w->model.dev, m->data, n, &acc, t);
		r->accepted = acc;
		break;
	}
	case OP_READ:
		r->len = (uint32_t)w->model.ops->read(w->model.dev, r->data, (size_t)m->arg, t);
		break;
	case OP_CONNECTED:
		break;
	case OP_INSERT:
		sim_essp_tick(w->sim, t);
		r->rc = sim_essp_insert_note(w->sim, m->arg);
		if (r->rc == 0)
			w->notes_fed++;
		break;
	case OP_HANG:
		w->hang_ms = (uint64_t)m->arg;
		break;
	case OP_POINT: {
		struct hit h = {.hit = (uint64_t)m->arg};
		snprintf(h.point, sizeof(h.point), "%.31s", text);
		g_array_append_val(w->hits, h);
		break;
	}
	case OP_KILLED:
		snprintf(w->killed.point, sizeof(w->killed.point), "%.31s", text);
		w->killed.hit = (uint64_t)m->arg;
		break;
	case OP_INFO:
		g_string_append_printf(w->record, "    %s\n", text);
		break;
	case OP_FAIL:
		g_string_append_printf(w->failure, "    child: %s\n", text);
		break;
	case OP_DONE:
		w->done = true;
		w->steps = (uint64_t)m->arg;
		break;
	}
	if (w->hang_ms) {
		struct sim_essp_state st;
		sim_essp_get_state(w->sim, &st);
		if (st.note == SIM_ESSP_NOTE_STACKING) {
			sim_essp_set_fault(w->sim, SIM_ESSP_FAULT_NO_ANSWER, true);
			w->hang_until = t + w->hang_ms;
			w->hang_ms = 0;
		}
	}
	r->connected = w->model.ops->connected(w->model.dev);
	r->pending = (uint32_t)sim_essp_pending(w->sim);
}

/* Runs one child to its end (exit or kill), serving the device. */
static void run_child(struct world *w, bool restart, const struct kill *plan, const struct script *s)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		g_error("socketpair: %s", g_strerror(errno));
	/* The old cable went with the old process: bytes the device had not handed over are lost. */
	uint8_t junk[512];
	while (sim_essp_read(w->sim, junk, sizeof(junk)) > 0)
		;
	g_array_set_size(w->hits, 0);
	memset(&w->killed, 0, sizeof(w->killed));
	w->done = false;
	w->exchanges = 0;
	bool wire = strcmp(plan->point, "wire") == 0;
	w->base_ms = w->last_ms;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		g_error("fork: %s", g_strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		/* The kiosk's log (and a sanitizer's report) go to the case's folder: printed when
		 * the case fails, not on every run (a restart rightly logs what it found). */
		if (!verbose) {
			int log_fd = open(w->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0)
				child_exit(5);
		}
		if (restart)
			child_restart(sv[1], w->db, w->base_ms, plan);
		child_journey(sv[1], w->db, plan, s);
	}
	close(sv[1]);
	static struct msg m;
	static struct reply r;
	for (;;) {
		struct pollfd p = {.fd = sv[0], .events = POLLIN};
		int pr = poll(&p, 1, 120000);
		if (pr == 0) {
			g_string_append(w->failure, "    child: no word for 120 s (hung)\n");
			kill(pid, SIGKILL);
			break;
		}
		ssize_t n = recv(sv[0], &m, sizeof(m), 0);
		if (n <= 0)
			break; /* it died or ended */
		if (n < (ssize_t)offsetof(struct msg, data))
			g_error("short message from the child");
		handle(w, &m, (size_t)n, &r);
		if (m.op == OP_WRITE || m.op == OP_READ || m.op == OP_CONNECTED || m.op == OP_INSERT)
			w->exchanges++;
		if (wire && w->exchanges == plan->hit && !w->killed.point[0]) {
			/* The device did what it was asked; its answer never reaches the kiosk. */
			kill(pid, SIGKILL);
			snprintf(w->killed.point, sizeof(w->killed.point), "wire");
			w->killed.hit = w->exchanges;
			continue;
		}
		if (send(sv[0], &r, offsetof(struct reply, data) + r.len, MSG_NOSIGNAL) < 0)
			break;
	}
	close(sv[0]);
	if (waitpid(pid, &w->status, 0) != pid)
		g_error("waitpid: %s", g_strerror(errno));
	bool killed = w->killed.point[0] != '\0';
	if (killed && !(WIFSIGNALED(w->status) && WTERMSIG(w->status) == SIGKILL))
		g_string_append_printf(w->failure, "    child announced a kill but ended with status 0x%x\n", w->status);
	if (!killed && !(WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0 && w->done))
		g_string_append_printf(w->failure, "    child ended with %s %d\n",
				       WIFSIGNALED(w->status) ? "signal" : "exit status",
				       WIFSIGNALED(w->status) ? WTERMSIG(w->status) : WEXITSTATUS(w->status));
}

static void apply_fate(struct world *w, int fate)
{
	uint64_t t = w->last_ms + RESTART_MS;
	if (fate == FATE_UNPLUGGED) {
		sim_essp_set_fault(w->sim, SIM_ESSP_FAULT_DISCONNECT, true);
		w->replug_at = t + UNPLUGGED_MS;
	} else if (fate == FATE_NOTE_WHILE_DOWN) {
		sim_essp_tick(w->sim, t);
		if (sim_essp_insert_note(w->sim, AED(50)) == 0) {
			w->notes_fed++;
			w->fed_while_down = true;
		}
	} else {
		t += sim_fate_apply(&w->sim, NULL, (enum sim_fate)fate, t);
		sim_model_essp(&w->model, w->sim);
	}
	w->last_ms = t;
}

/* The parent's checks once the last child ended. */
/* What the device says, for invariants.c; *by_value is the caller's to free. */
static struct crash_device device_of(struct world *w, GString **by_value)
{
	struct sim_essp_state st;
	sim_essp_get_state(w->sim, &st);
	struct sim_essp_config cfg;
	sim_essp_config_default(&cfg);
	*by_value = g_string_new("{");
	for (size_t i = 0; i < cfg.n_channels; i++)
		g_string_append_printf(*by_value, "%s\"%" PRId64 "\":%" PRIu32, i ? "," : "", cfg.channel_fils[i],
				       st.cashbox[i]);
	g_string_append(*by_value, "}");
	return (struct crash_device){.cashbox_fils = st.cashbox_fils,
				     .stacked = st.counters.stacked,
				     .by_value = (*by_value)->str,
				     .max_fils = MAX_FILS};
}

static void check_world(struct world *w)
{
	struct sim_essp_state st;
	sim_essp_get_state(w->sim, &st);
	if (st.note != SIM_ESSP_NOTE_NONE)
		g_string_append_printf(w->failure, "    a note is still in the device's path (%s)\n",
				       sim_essp_note_name(st.note));
	GString *by_value;
	struct crash_device dev = device_of(w, &by_value);
	char why[512];
	if (crash_invariants_check(w->db, &dev, why, sizeof(why)) != 0)
		g_string_append_printf(w->failure, "    %s (cashbox %s, %" PRId64 " fils)\n", why, by_value->str,
				       st.cashbox_fils);
	g_string_free(by_value, TRUE);
	struct ledger_verdict v;
	struct kio_error err = {0};
	if (ledger_verify_file(w->db, &v, &err) != 0)
		g_string_append_printf(w->failure, "    chain: %s\n", err.msg);
	else if (!v.ok)
		g_string_append_printf(w->failure, "    chain broken: %s\n", v.why);
	struct ledger *ledger = NULL;
	if (ledger_open(w->db, &ledger, &err) != 0) {
		g_string_append_printf(w->failure, "    ledger_open: %s\n", err.msg);
	} else {
		if (ledger_check(ledger, &err) != 0)
			g_string_append_printf(w->failure, "    ledger_check: %s\n", err.msg);
		ledger_close(ledger);
	}
}

/* ---- Counting ---- */

struct tally {
	GHashTable *kills_by_point;  /* point -> count (first and later kills) */
	GHashTable *max_hit;         /* point -> highest hit killed at */
	GHashTable *distinct;        /* "point#hit" of a first kill at a named point -> 1 */
	GHashTable *steps;           /* "script#step" of a first kill at a random step -> 1 */
	size_t at_kill[SIM_ESSP_NOTE_COUNT]; /* where the device's note was when the kiosk died */
	size_t at_kill_enabled;      /* ... and how often the device was still taking notes */
	size_t cases, systematic, random, kills, second_kills, missed, failures, fates[N_FATES];
	size_t fed_while_down, recovered, suspense, late;
};

static void tally_kill(struct tally *t, const struct kill *k, bool first, const char *script, struct sim_essp *sim)
{
	struct sim_essp_state st;
	sim_essp_get_state(sim, &st);
	t->at_kill[st.note]++;
	if (st.enabled && st.inhibit_mask)
		t->at_kill_enabled++;
	t->kills++;
	if (!first)
		t->second_kills++;
	bool random = strcmp(k->point, "step") == 0 || strcmp(k->point, "wire") == 0;
	gpointer old = g_hash_table_lookup(t->kills_by_point, k->point);
	g_hash_table_insert(t->kills_by_point, g_strdup(k->point), GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + 1));
	if (!random) {
		gsize mh = GPOINTER_TO_SIZE(g_hash_table_lookup(t->max_hit, k->point));
		if (k->hit > mh)
			g_hash_table_insert(t->max_hit, g_strdup(k->point), GSIZE_TO_POINTER((gsize)k->hit));
	}
	if (first && random)
		g_hash_table_add(t->steps, g_strdup_printf("%s#%s#%" PRIu64, script, k->point, k->hit));
	else if (first)
		g_hash_table_add(t->distinct, g_strdup_printf("%s#%" PRIu64, k->point, k->hit));
}


static int64_t count_sql(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	int64_t v = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return v;
}

/* Runs one case; true when every check held. */
static bool run_case(const char *root, size_t index, const struct kcase *k, struct tally *t, GArray *census_hits,
		     uint64_t census_steps[2])
{
	struct world w;
	world_init(&w, root, index);
	char desc[160];
	case_format(k, desc, sizeof(desc));
	run_child(&w, false, &k->first, &scripts[k->script]);
	if (census_hits) {
		g_array_append_vals(census_hits, w.hits->data, w.hits->len);
		census_steps[0] = w.steps;
		census_steps[1] = w.exchanges;
	}
	bool killed = w.killed.point[0] != '\0';
	if (k->first.point[0] && !killed) {
		t->missed++;
		g_string_append(w.failure, "    the first kill point was never reached (the script is not deterministic)\n");
	}
	if (killed)
		tally_kill(t, &w.killed, true, scripts[k->script].name, w.sim);
	/* Restarts until one runs to its end; the first may be killed again (the second kill). */
	for (int n = 0; killed && n < MAX_KILLS && w.failure->len == 0; n++) {
		/* After a second kill, the next fate in turn: the device moves on between those too. */
		apply_fate(&w, (k->fate + n) % N_FATES);
		struct kill none = {0};
		run_child(&w, true, n == 0 ? &k->second : &none, NULL);
		killed = w.killed.point[0] != '\0';
		if (killed)
			tally_kill(t, &w.killed, false, scripts[k->script].name, w.sim);
	}
	if (!k->first.point[0] && w.failure->len == 0) {
		/* The census ran to its end without a kill: a start-up with nothing to recover. */
		struct kill none = {0};
		run_child(&w, true, &none, NULL);
	}
	/* After a failure too: what else is wrong helps to read it. */
	check_world(&w);
	bool ok = w.failure->len == 0;
	t->cases++;
	t->fates[k->fate]++;
	if (w.fed_while_down)
		t->fed_while_down++;
	if (strstr(w.record->str, "recovery runs without it"))
		t->late++;
	t->recovered += (size_t)count_sql(w.db, "SELECT count(*) FROM tx_end WHERE recovered = 1");
	t->suspense += (size_t)count_sql(w.db, "SELECT count(*) FROM suspense");
	if (!ok) {
		t->failures++;
		printf("crash: FAIL case %zu: CRASH_REPLAY='%s'", index, desc);
		if (k->seed)
			printf(" (random, seed %" PRIu64 ")", k->seed);
		printf("\n%s%s    folder kept: %s\n", w.failure->str, w.record->str, w.dir);
		char *log = NULL;
		if (g_file_get_contents(w.log, &log, NULL, NULL) && *log) {
			size_t len = strlen(log);
			printf("    the kiosk's log%s:\n%s", len > 4000 ? " (its end)" : "", len > 4000 ? log + len - 4000 : log);
		}
		g_free(log);
	} else if (verbose) {
		printf("crash: ok case %zu: %s\n%s", index, desc, w.record->str);
	}
	fflush(stdout);
	world_fini(&w, !ok || keep_all);
	return ok;
}

/* Under AddressSanitizer (ignored otherwise): a quarantine of 8 MB for freed memory instead of
 * 256. Every case forks two or three processes, and each fork and exit copies or frees the page
 * tables of all the quarantined memory: measured, that was half the suite's CPU time (31 s of
 * system time, 14 s with this). Freed memory is still poisoned; a use after free is caught
 * while the block is among the last 8 MB freed. ASAN_OPTIONS in the environment still wins. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=8"; }

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? g_ascii_strtoull(v, NULL, 10) : def;
}

static char *work_root(void)
{
	const char *dir = getenv("CRASH_DIR");
	if (!dir || !*dir)
		dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir();
	char *tmpl = g_build_filename(dir, "kiosk-crash-XXXXXX", NULL);
	if (!g_mkdtemp(tmpl))
		g_error("%s: %s", tmpl, g_strerror(errno));
	return tmpl;
}

static uint64_t seed;

static void print_counts(struct tally *t, double seconds)
{
	printf("crash: %zu cases (%zu at every kill point of %zu scripts, %zu at random steps or exchanges), %zu kills (%zu of them "
	       "second kills, in the restarted kiosk), %u distinct kill points (named point x hit) + %u distinct random "
	       "steps and exchanges, %zu failures, %.1f s\n",
	       t->cases, t->systematic, N_SCRIPTS, t->random, t->kills, t->second_kills,
	       g_hash_table_size(t->distinct), g_hash_table_size(t->steps), t->failures, seconds);
	printf("crash: CRASH_SEED=%" PRIu64 "; the device when the kiosk died: note", seed);
	for (int n = 0; n < SIM_ESSP_NOTE_COUNT; n++)
		if (t->at_kill[n])
			printf(" %s %zu", sim_essp_note_name((enum sim_essp_note)n), t->at_kill[n]);
	printf("; still taking notes %zu\n", t->at_kill_enabled);
	printf("crash: fates:");
	for (int f = 0; f < N_FATES; f++)
		printf(" %s %zu%s", fate_name(f), t->fates[f], f + 1 < N_FATES ? "," : "");
	printf(" (a note fed while the kiosk was down in %zu; recovery without a settled device in %zu)\n",
	       t->fed_while_down, t->late);
	printf("crash: after each case: %zu SQL invariants (tests/crash/invariants.c), ledger_check, the chain; "
	       "%zu transactions ended by recovery, %zu notes in suspense\n",
	       crash_invariants_count(), t->recovered, t->suspense);
	printf("crash: kills per point (highest hit):\n");
	GList *names = g_list_sort(g_hash_table_get_keys(t->kills_by_point), (GCompareFunc)strcmp);
	for (GList *l = names; l; l = l->next) {
		const char *p = l->data;
		printf("crash:   %-24s %5zu", p, GPOINTER_TO_SIZE(g_hash_table_lookup(t->kills_by_point, p)));
		if (strcmp(p, "step") != 0 && strcmp(p, "wire") != 0)
			printf("  (%zu)", GPOINTER_TO_SIZE(g_hash_table_lookup(t->max_hit, p)));
		printf("\n");
	}
	g_list_free(names);
}

/* ---- The invariants' own test: each query catches what it promises to ---- */

static void sql_exec(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	if (sqlite3_open(db_path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s: %s", db_path, sql, msg ? msg : sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* A standalone copy of db (WAL folded in), with the ledger's append-only triggers dropped so a
 * test can break what they guard. */
static char *tampered_copy(const char *root, const char *db, int k)
{
	char *copy = g_strdup_printf("%s/copy-%d.db", root, k);
	char *sql = g_strdup_printf("VACUUM INTO '%s'", copy);
	sql_exec(db, sql);
	g_free(sql);
	sqlite3 *h = NULL;
	if (sqlite3_open(copy, &h) != SQLITE_OK)
		g_error("%s: %s", copy, sqlite3_errmsg(h));
	sqlite3_stmt *st = NULL;
	GPtrArray *drops = g_ptr_array_new_with_free_func(g_free);
	sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type = 'trigger'", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(drops, g_strdup_printf("DROP TRIGGER \"%s\"", sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	sqlite3_close(h);
	for (guint i = 0; i < drops->len; i++)
		sql_exec(copy, drops->pdata[i]);
	g_ptr_array_free(drops, TRUE);
	return copy;
}

/* A fees transaction in the good database, paid by a voucher (no cash: the device's figures
 * stay as they are), one line paid at the host, the rest to a new voucher. */
static void good_basket(const char *db_path)
{
	struct ledger *l = NULL;
	struct kio_error err = {0};
	if (ledger_open(db_path, &l, &err) != 0)
		g_error("%s: %s", db_path, err.msg);
	struct ledger_fee_line line = {.entity = "police", .service = "police-fines", .reference = "10012345",
				       .bill = "F-1", .amount_fils = AED(600)};
	struct ledger_tx tx;
	char code[VCODE_DIGITS + 1], rid[37];
	int64_t now = 1798761600;
	if (vcode_generate(code) != 0 || ledger_basket_open(l, now, "en", &line, 1, &tx, &err) != 0 ||
	    ledger_basket_voucher_intent(l, tx.id, code, AED(700), now, rid, &err) != 0 ||
	    ledger_basket_voucher_paid(l, tx.id, code, rid, AED(700), now, &err) != 0 ||
	    ledger_basket_voucher_intent(l, tx.id, code, AED(5), now, rid, &err) != 0 || /* never answered: void */
	    ledger_basket_line_result(l, tx.id, 1, LEDGER_LINE_PAID, "P-1", now, &err) != 0 ||
	    ledger_basket_close(l, tx.id, now, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err) != 0)
		g_error("the good database's basket: %s", err.msg);
	ledger_close(l);
}

static int check_invariants(void)
{
	char *root = work_root();
	struct world w;
	world_init(&w, root, 0);
	/* A good database: a cancelled transaction, a completed one, the next customer's. */
	struct kill none = {0};
	size_t script = 0;
	while (strcmp(scripts[script].name, "back-then-cancel") != 0)
		script++;
	run_child(&w, false, &none, &scripts[script]);
	run_child(&w, true, &none, NULL);
	check_world(&w);
	if (w.failure->len)
		g_error("the good database is not good:\n%s", w.failure->str);
	good_basket(w.db);
	GString *by_value;
	struct crash_device good = device_of(&w, &by_value);
	/* Each break, and the invariant (invariants.c, 1-based) that must catch it first. */
	const char *swapped = "{\"500\":3,\"1000\":0,\"2000\":1,\"5000\":0,\"10000\":0,\"20000\":0,"
			      "\"50000\":0,\"100000\":0}"; /* 500 + 1000 + 2000 as three AED 5 and one AED 20 */
	static const char *const none_sql = "";
	const struct {
		int invariant;
		const char *sql;
		int64_t cashbox_delta, stacked_delta, max_fils;
		bool swap;
	} breaks[] = {
		{1, "DELETE FROM payment WHERE rec = (SELECT min(rec) FROM payment)", 0, 0, 0, false},
		{2, "UPDATE note_journey SET state = 'returned' WHERE id = (SELECT min(note_id) FROM payment)", 0, 0, 0,
		 false},
		{3, none_sql, 500, 0, 0, false},
		{4, none_sql, 0, 1, 0, false},
		{5, none_sql, 0, 0, 0, true},
		{6, "UPDATE note_journey SET state = 'credited' WHERE id = (SELECT max(id) FROM note_journey"
		    " WHERE state = 'stacked')", 0, 0, 0, false},
		{7, "DELETE FROM tx_end WHERE state = 'cancelled'", 0, 0, 0, false},
		{8, "UPDATE tx SET seq = seq + 10 WHERE seq = (SELECT max(seq) FROM tx)", 0, 0, 0, false},
		{9, "UPDATE tx_end SET credited_fils = credited_fils + 100 WHERE rec = (SELECT min(rec) FROM tx_end"
		    " WHERE state = 'completed')", 0, 0, 0, false},
		{9, none_sql, 0, 0, AED(20), false},
		{10, "DELETE FROM outbox WHERE id = (SELECT min(id) FROM outbox)", 0, 0, 0, false},
		{9, "UPDATE voucher_payment SET value_fils = value_fils + 1", 0, 0, 0, false},
		{11, "DELETE FROM fee_result WHERE rec = (SELECT max(rec) FROM fee_result)", 0, 0, 0, false},
		{11, "UPDATE voucher_issue SET value_fils = value_fils + 1", 0, 0, 0, false},
		{11, "UPDATE fee_item SET amount_fils = amount_fils - 1", 0, 0, 0, false},
		{11, "UPDATE fee_result SET status = 'refused'", 0, 0, 0, false},
		{12, "DELETE FROM voucher_void", 0, 0, 0, false},
		{12, "INSERT INTO voucher_void (rec, tx_rec, code, redemption_id, at_s, mac) SELECT rec + 1000, tx_rec, code,"
		     " redemption_id, at_s, mac FROM voucher_payment", 0, 0, 0, false},
	};
	int failures = 0;
	char why[512];
	int rc = crash_invariants_check(w.db, &good, why, sizeof(why));
	if (rc != 0) {
		printf("crash-invariants: FAIL: the good database breaks %d: %s\n", rc, why);
		failures++;
	}
	bool caught[64] = {0};
	for (size_t k = 0; k < G_N_ELEMENTS(breaks); k++) {
		char *copy = tampered_copy(root, w.db, (int)k);
		if (breaks[k].sql[0])
			sql_exec(copy, breaks[k].sql);
		struct crash_device dev = good;
		dev.cashbox_fils += breaks[k].cashbox_delta;
		dev.stacked += breaks[k].stacked_delta;
		if (breaks[k].max_fils)
			dev.max_fils = breaks[k].max_fils;
		if (breaks[k].swap)
			dev.by_value = swapped;
		rc = crash_invariants_check(copy, &dev, why, sizeof(why));
		if (rc != breaks[k].invariant) {
			printf("crash-invariants: FAIL: break %zu (\"%s\") caught by %d, not %d: %s\n", k + 1,
			       breaks[k].sql, rc, breaks[k].invariant, rc ? why : "nothing");
			failures++;
		} else {
			caught[rc] = true;
			printf("crash-invariants: ok: break %zu caught: %s\n", k + 1, why);
		}
		remove(copy);
		g_free(copy);
	}
	for (size_t i = 1; i <= crash_invariants_count(); i++)
		if (!caught[i]) {
			printf("crash-invariants: FAIL: invariant %zu is never broken here\n", i);
			failures++;
		}
	g_string_free(by_value, TRUE);
	world_fini(&w, false);
	rmdir(root);
	g_free(root);
	printf("crash-invariants: %zu invariants, %zu breaks, %d failures\n", crash_invariants_count(),
	       G_N_ELEMENTS(breaks), failures);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	verbose = env_u64("CRASH_VERBOSE", 0) != 0;
	keep_all = env_u64("CRASH_KEEP", 0) != 0;
	log_set_level(verbose ? LOG_INFO : LOG_ERROR);
	uint64_t n_random = env_u64("CRASH_CASES", 40);
	seed = env_u64("CRASH_SEED", 11);
	uint64_t min_points = env_u64("CRASH_MIN_POINTS", 200);
	if (argc > 1 && strcmp(argv[1], "--check-invariants") == 0)
		return check_invariants();
	const char *fates_env = getenv("CRASH_FATES");
	bool all_fates = fates_env && strcmp(fates_env, "all") == 0;
	char *root = work_root();
	struct tally t = {
		.kills_by_point = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.max_hit = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.distinct = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.steps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
	};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t index = 0;

	const char *replay = getenv("CRASH_REPLAY");
	if (replay && *replay) {
		struct kcase k;
		if (!case_parse(replay, &k)) {
			fprintf(stderr, "crash: CRASH_REPLAY='%s' is not script:point:hit:fate:point2:hit2\n", replay);
			return 2;
		}
		bool ok = run_case(root, index, &k, &t, NULL, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		print_counts(&t, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (ok && !keep_all)
			rmdir(root);
		return ok ? 0 : 1;
	}

	/* Census: each script once, unkilled; then every point it passed, at every hit. */
	static const char *const second_points[] = {"settle-listed", "credit-journaled", "note-credited-written",
						    "recover-written", "recovered", "returned-journaled",
						    "settle-resolved", "tx-opened"};
	uint64_t steps[N_SCRIPTS][2]; /* the census's loop steps and device exchanges */
	size_t rotation = 0;
	for (size_t s = 0; s < N_SCRIPTS; s++) {
		GArray *hits = g_array_new(FALSE, TRUE, sizeof(struct hit));
		struct kcase census = {.script = s, .fate = SIM_FATE_AS_IS};
		if (!run_case(root, index++, &census, &t, hits, steps[s])) {
			g_array_free(hits, TRUE);
			continue;
		}
		for (guint i = 0; i < hits->len; i++) {
			const struct hit *h = &g_array_index(hits, struct hit, i);
			for (int f = 0; f < N_FATES; f++) {
				struct kcase k = {.script = s, .fate = all_fates ? f : (int)(rotation % N_FATES)};
				if (!all_fates && f > 0)
					break;
				snprintf(k.first.point, sizeof(k.first.point), "%s", h->point);
				k.first.hit = h->hit;
				if (rotation % 3 == 0) {
					const char *p2 = second_points[(rotation / 3) % G_N_ELEMENTS(second_points)];
					snprintf(k.second.point, sizeof(k.second.point), "%s", p2);
					k.second.hit = 1;
				}
				rotation++;
				run_case(root, index++, &k, &t, NULL, NULL);
				t.systematic++;
			}
		}
		g_array_free(hits, TRUE);
	}

	/* Random moments: a script, a loop step to die at, a fate, perhaps a second kill. */
	for (uint64_t i = 0; i < n_random; i++) {
		uint64_t case_seed = seed * 1000003u + i;
		GRand *r = g_rand_new_with_seed((guint32)case_seed);
		struct kcase k = {.seed = case_seed};
		k.script = (size_t)g_rand_int_range(r, 0, (gint32)N_SCRIPTS);
		/* At a loop step, or at an exchange with the device (its answer lost with the kiosk). */
		int way = g_rand_int_range(r, 0, 2);
		snprintf(k.first.point, sizeof(k.first.point), "%s", way ? "wire" : "step");
		uint64_t span = steps[k.script][way] ? steps[k.script][way] : 1;
		k.first.hit = 1 + (uint64_t)g_rand_int_range(r, 0, (gint32)span);
		k.fate = g_rand_int_range(r, 0, N_FATES);
		if (g_rand_int_range(r, 0, 4) == 0) {
			way = g_rand_int_range(r, 0, 2);
			snprintf(k.second.point, sizeof(k.second.point), "%s", way ? "wire" : "step");
			k.second.hit = 1 + (uint64_t)g_rand_int_range(r, 0, way ? 2000 : 400);
		}
		g_rand_free(r);
		run_case(root, index++, &k, &t, NULL, NULL);
		t.random++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_counts(&t, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	unsigned distinct = g_hash_table_size(t.distinct);
	int rc = 0;
	if (t.failures) {
		rc = 1;
	} else if (distinct < min_points) {
		printf("crash: FAIL: %u distinct kill points, fewer than CRASH_MIN_POINTS=%" PRIu64 "\n", distinct,
		       min_points);
		rc = 1;
	}
	if (!keep_all && rc == 0)
		rmdir(root);
	g_hash_table_destroy(t.kills_by_point);
	g_hash_table_destroy(t.max_hit);
	g_hash_table_destroy(t.distinct);
	g_hash_table_destroy(t.steps);
	g_free(root);
	return rc;
}
