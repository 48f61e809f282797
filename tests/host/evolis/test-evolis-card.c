/*
 * The Evolis card issuer driver over the simulated transport and the card printer model, in
 * virtual time: a card issued (track 2 and face checked), each fault before and during an
 * issue, disconnect and reopen, error replies, garbage and silence (through a tap transport
 * between the driver and the model).
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/host/evolis/evolis-card.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/core/bytebuf.h"
#include "kiosk/core/xmalloc.h"
#define LOG_MODULE "test"
#include "kiosk/core/log.h"
#include "tests/common/devloop.h"

#define MAX_EVENTS 64
#define NUMBER "6001234567890123"

/* Between the driver and the model: can add bytes to what the driver reads, or swallow the
 * model's replies (a printer that went silent). */
struct tap {
	struct transport base;
	struct transport *inner;
	struct core_bytebuf inject;
	bool mute;
	bool refuse; /* every write is KIO_ERR_BUSY: a printer NAKing bulk OUT for good */
};

struct fx {
	struct devloop loop;
	struct sim_evolis *sim;
	struct sim_model model;
	struct transport *inner;
	struct tap *tap;
	struct card_issuer *iss;
	struct cardprn_event ev[MAX_EVENTS];
	int n_ev;
	uint8_t *front; /* RGBA 1016 x 648 */
	struct cardprn_image img;
};

static struct tap *tap_of(struct transport *t) { return (struct tap *)t; }

static int tap_write(struct transport *t, const uint8_t *buf, size_t len)
{
	if (tap_of(t)->refuse)
		return KIO_ERR_BUSY;
	return transport_write(tap_of(t)->inner, buf, len);
}

static ssize_t tap_read(struct transport *t, uint8_t *buf, size_t cap)
{
	struct tap *tp = tap_of(t);
	if (tp->inject.len) {
		size_t n = tp->inject.len < cap ? tp->inject.len : cap;
		memcpy(buf, tp->inject.data, n);
		core_bytebuf_consume(&tp->inject, n);
		return (ssize_t)n;
	}
	ssize_t n = transport_read(tp->inner, buf, cap);
	return tp->mute && n > 0 ? 0 : n;
}

static size_t tap_out_pending(struct transport *t)
{
	return transport_out_pending(tap_of(t)->inner);
}
static void tap_flush(struct transport *t) { transport_flush(tap_of(t)->inner); }
static bool tap_connected(struct transport *t) { return transport_connected(tap_of(t)->inner); }

static int tap_reopen(struct transport *t, struct kio_error *err)
{
	return transport_reopen(tap_of(t)->inner, err);
}

static void tap_destroy(struct transport *t)
{
	struct tap *tp = tap_of(t);
	transport_free(tp->inner);
	core_bytebuf_free(&tp->inject);
	g_free(tp);
}

static const struct transport_ops tap_ops = {
	.write = tap_write, .read = tap_read, .out_pending = tap_out_pending, .flush = tap_flush,
	.connected = tap_connected, .reopen = tap_reopen, .destroy = tap_destroy,
};

static void tap_wake(void *user)
{
	struct tap *tp = user;
	transport_wake(&tp->base);
}

static void on_event(void *user, const struct cardprn_event *ev)
{
	struct fx *f = user;
	g_assert_cmpint(f->n_ev, <, MAX_EVENTS);
	f->ev[f->n_ev++] = *ev;
}

static void service(void *user)
{
	struct fx *f = user;
	f->iss->ops->service(f->iss);
}

/* A face: a frame, a filled block, and a grey ramp that the threshold splits at 128. */
static void make_front(struct fx *f)
{
	f->front = xcalloc(1016 * 648, 4);
	for (int y = 0; y < 648; y++)
		for (int x = 0; x < 1016; x++) {
			uint8_t *p = f->front + ((size_t)y * 1016 + (size_t)x) * 4;
			uint8_t v = 255;
			if (x < 8 || y < 8 || x >= 1008 || y >= 640)
				v = 0;
			else if (x >= 100 && x < 300 && y >= 100 && y < 200)
				v = 20;
			else if (y >= 400 && y < 450)
				v = (uint8_t)(x * 255 / 1015);
			p[0] = p[1] = p[2] = v;
			p[3] = 255;
		}
	/* A transparent corner: alpha 0 is paper whatever the colour. */
	for (int y = 8; y < 40; y++)
		for (int x = 8; x < 40; x++) {
			uint8_t *p = f->front + ((size_t)y * 1016 + (size_t)x) * 4;
			p[0] = p[1] = p[2] = 0;
			p[3] = 0;
		}
	f->img = (struct cardprn_image){.width = 1016, .height = 648, .stride = 1016 * 4,
		.rgba = f->front};
}

static void setup(struct fx *f, const struct sim_evolis_config *scfg)
{
	struct kio_error err;
	memset(f, 0, sizeof(*f));
	devloop_init(&f->loop);
	g_assert_cmpint(sim_evolis_new(scfg, &f->sim, &err), ==, 0);
	sim_model_evolis(&f->model, f->sim);
	f->inner = transport_sim_new("card", &f->model, f->loop.clock);
	f->tap = g_new0(struct tap, 1);
	f->tap->base.ops = &tap_ops;
	snprintf(f->tap->base.name, sizeof(f->tap->base.name), "card");
	f->tap->inner = f->inner;
	transport_set_wake(f->inner, tap_wake, f->tap);
	transport_set_wake(&f->tap->base, devloop_wake, &f->loop);
	f->loop.service = service;
	f->loop.service_user = f;
	g_assert_cmpint(evolis_card_new(&f->tap->base, f->loop.timers, NULL, &f->iss, &err), ==, 0);
	f->iss->on_event = on_event;
	f->iss->on_event_user = f;
	make_front(f);
	devloop_run_for(&f->loop, 1000); /* first status chain */
}

static void teardown(struct fx *f)
{
	f->iss->ops->destroy(f->iss);
	transport_free(&f->tap->base);
	sim_evolis_free(f->sim);
	devloop_fini(&f->loop);
	free(f->front);
}

/* Tells the transport the device side changed (the test raised or cleared a fault). */
static void notify(struct fx *f)
{
	transport_sim_notify(f->inner);
}

struct wait_for {
	struct fx *f;
	int from;
	enum cardprn_event_kind kind;
};

static bool has_event(void *user)
{
	struct wait_for *w = user;
	for (int i = w->from; i < w->f->n_ev; i++)
		if (w->f->ev[i].kind == w->kind)
			return true;
	return false;
}

static const struct cardprn_event *wait_event(struct fx *f, int from,
	enum cardprn_event_kind kind, uint64_t max_ms)
{
	struct wait_for w = {f, from, kind};
	if (!devloop_run_until(&f->loop, has_event, &w, max_ms))
		return NULL;
	for (int i = from; i < f->n_ev; i++)
		if (f->ev[i].kind == kind)
			return &f->ev[i];
	return NULL;
}

static int count_events(const struct fx *f, enum cardprn_event_kind kind)
{
	int n = 0;
	for (int i = 0; i < f->n_ev; i++)
		n += f->ev[i].kind == kind;
	return n;
}

static bool at_station(void *user)
{
	struct fx *f = user;
	return sim_evolis_position(f->sim) != SIM_EVOLIS_POS_NONE;
}

static void assert_face_is_front(const struct fx *f, const struct sim_evolis_card *c)
{
	for (int y = 0; y < 648; y++)
		for (int x = 0; x < 1016; x++) {
			const uint8_t *p = f->front + ((size_t)y * 1016 + (size_t)x) * 4;
			bool want = p[3] == 255 && p[0] < 128;
			if (sim_evolis_card_get(c, x, y) != want)
				g_error("card dot (%d,%d) is %d, front says %d", x, y, !want, want);
		}
}

/*
 * Caller input the driver must refuse with a clear error before any card moves: card numbers
 * that are empty, NULL, not digits or longer than the job and track 2 carry; no front, a
 * front larger than the card, a short stride, no pixels. Each returns KIO_ERR_INVALID with
 * nothing started and no event; the printer is idle and the next good card is issued with
 * the longest number it takes. (The encoder's own check decides, at issue(): the step
 * function that used to abort on an encode failure never sees caller input.)
 */
static void test_issue_bad_input(void)
{
	struct fx f;
	setup(&f, NULL);
	static const char *const bad_numbers[] = {"", "60012345678901X3", "6001 2345", "-1", "123456789012345678901234",
						  "1234567890123456789012345678901234567890"};
	for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++)
		g_assert_cmpint(f.iss->ops->issue(f.iss, bad_numbers[i], &f.img), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NULL, &f.img), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, NULL), ==, KIO_ERR_INVALID);
	struct cardprn_image wide = f.img, tall = f.img, short_stride = f.img, none = f.img;
	wide.width = 1017;
	wide.stride = 1017 * 4;
	tall.height = 649;
	short_stride.stride = 1016 * 4 - 1;
	none.rgba = NULL;
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &wide), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &tall), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &short_stride), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &none), ==, KIO_ERR_INVALID);
	devloop_run_for(&f.loop, 5000);
	g_assert_cmpint(f.n_ev, ==, 0);
	g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 0);
	g_assert_cmpint(sim_evolis_feeder_level(f.sim), ==, 100);

	static const char longest[] = "12345678901234567890123"; /* 23 digits */
	g_assert_cmpint(f.iss->ops->issue(f.iss, longest, &f.img), ==, 0);
	const struct cardprn_event *ev = wait_event(&f, 0, CARDPRN_EV_ISSUED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->card_number, ==, longest);
	g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 1);
	g_assert_cmpstr(sim_evolis_card(f.sim, 0)->track2, ==, longest);
	teardown(&f);
}

static void test_issue_one(void)
{
	struct fx f;
	setup(&f, NULL);
	struct cardprn_status st;
	f.iss->ops->get_status(f.iss, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OK);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	g_assert_cmpint(f.n_ev, ==, 0);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, KIO_ERR_BUSY);
	const struct cardprn_event *ev = wait_event(&f, 0, CARDPRN_EV_ISSUED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->card_number, ==, NUMBER);
	g_assert_cmpint(count_events(&f, CARDPRN_EV_FAILED), ==, 0);

	g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 1);
	const struct sim_evolis_card *c = sim_evolis_card(f.sim, 0);
	g_assert_false(c->rejected);
	g_assert_true(c->encoded);
	g_assert_cmpstr(c->track2, ==, NUMBER);
	g_assert_true(c->printed);
	assert_face_is_front(&f, c);
	g_assert_cmpint(sim_evolis_feeder_level(f.sim), ==, 99);
	g_assert_cmpint(sim_evolis_ribbon_level(f.sim), ==, 999);
	g_assert_cmpint(sim_evolis_position(f.sim), ==, SIM_EVOLIS_POS_NONE);
	f.iss->ops->get_status(f.iss, &st);
	g_assert_cmpuint(st.cards_issued, ==, 1);
	struct sim_evolis_stats ss;
	sim_evolis_stats(f.sim, &ss);
	g_assert_cmpuint(ss.protocol_errors, ==, 0);

	/* Bad numbers and fronts are refused at once. */
	g_assert_cmpint(f.iss->ops->issue(f.iss, "", &f.img), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.iss->ops->issue(f.iss, "6001-2345", &f.img), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.iss->ops->issue(f.iss, "123456789012345678901234", &f.img), ==,
		KIO_ERR_INVALID);
	struct cardprn_image big = f.img;
	big.width = 1017;
	big.stride = 1017 * 4;
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &big), ==, KIO_ERR_INVALID);
	teardown(&f);
}

/* Faults present before the issue: the status chain sees them (or the first motion does),
 * FAILED with the class fault, and no card is lost. */
static void test_fault_before(gconstpointer data)
{
	enum sim_evolis_fault kind = (enum sim_evolis_fault)GPOINTER_TO_INT(data);
	enum cardprn_fault want = kind == SIM_EVOLIS_FAULT_FEEDER_EMPTY ? CARDPRN_FAULT_FEEDER_EMPTY
				: kind == SIM_EVOLIS_FAULT_RIBBON_OUT ? CARDPRN_FAULT_RIBBON_OUT
				: kind == SIM_EVOLIS_FAULT_COVER_OPEN ? CARDPRN_FAULT_COVER_OPEN
								      : CARDPRN_FAULT_JAM;
	struct fx f;
	setup(&f, NULL);
	sim_evolis_fault_set(f.sim, kind, true);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	const struct cardprn_event *ev = wait_event(&f, 0, CARDPRN_EV_FAILED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->card_number, ==, NUMBER);
	g_assert_cmpint(ev->fault, ==, want);
	g_assert_cmpint(count_events(&f, CARDPRN_EV_ISSUED), ==, 0);
	struct sim_evolis_stats ss;
	sim_evolis_stats(f.sim, &ss);
	g_assert_cmpuint(ss.cards_inserted, ==, 0); /* invariant 3: nothing left the feeder */
	g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 0);

	sim_evolis_fault_set(f.sim, kind, false);
	int from = f.n_ev;
	devloop_run_for(&f.loop, 11000); /* a poll */
	struct cardprn_status st;
	f.iss->ops->get_status(f.iss, &st);
	if (kind == SIM_EVOLIS_FAULT_JAM) {
		/* No card was inside and no status reads a jam: it stays latched until the
		 * technician's visit shows, the cover opened and closed. */
		g_assert_cmpint(st.fault, ==, CARDPRN_FAULT_JAM);
		sim_evolis_fault_set(f.sim, SIM_EVOLIS_FAULT_COVER_OPEN, true);
		devloop_run_for(&f.loop, 11000);
		f.iss->ops->get_status(f.iss, &st);
		g_assert_cmpint(st.fault, ==, CARDPRN_FAULT_JAM); /* the jam still ranks first */
		sim_evolis_fault_set(f.sim, SIM_EVOLIS_FAULT_COVER_OPEN, false);
		devloop_run_for(&f.loop, 11000);
		f.iss->ops->get_status(f.iss, &st);
	}
	g_assert_cmpint(st.state, ==, DEV_STATE_OK);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	g_assert_nonnull(wait_event(&f, from, CARDPRN_EV_ISSUED, 120000));
	teardown(&f);
}

/* Faults that come while the card waits at the station: the card goes to the reject box
 * (invariant 4), or stays stuck while jammed and is counted lost when the jam is cleared. */
static void test_fault_during(gconstpointer data)
{
	enum sim_evolis_fault kind = (enum sim_evolis_fault)GPOINTER_TO_INT(data);
	struct fx f;
	setup(&f, NULL);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	g_assert_true(devloop_run_until(&f.loop, at_station, &f, 120000));
	g_assert_cmpint(f.n_ev, ==, 0);
	sim_evolis_fault_set(f.sim, kind, true);
	notify(&f);
	const struct cardprn_event *ev = wait_event(&f, 0, CARDPRN_EV_FAILED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpint(count_events(&f, CARDPRN_EV_ISSUED), ==, 0);
	struct cardprn_status st;
	struct sim_evolis_stats ss;
	switch (kind) {
	case SIM_EVOLIS_FAULT_RIBBON_OUT: /* encoded, Se refused: rejected, never handed out */
		g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_RIBBON_OUT);
		g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 1);
		g_assert_true(sim_evolis_card(f.sim, 0)->rejected);
		g_assert_true(sim_evolis_card(f.sim, 0)->encoded);
		g_assert_false(sim_evolis_card(f.sim, 0)->printed);
		f.iss->ops->get_status(f.iss, &st);
		g_assert_cmpint(st.fault, ==, CARDPRN_FAULT_RIBBON_OUT);
		sim_evolis_fault_set(f.sim, kind, false); /* a new ribbon */
		g_assert_nonnull(wait_event(&f, 0, CARDPRN_EV_RECOVERED, 20000));
		break;
	case SIM_EVOLIS_FAULT_JAM:
	case SIM_EVOLIS_FAULT_COVER_OPEN: {
		enum cardprn_fault want = kind == SIM_EVOLIS_FAULT_JAM ? CARDPRN_FAULT_JAM : CARDPRN_FAULT_COVER_OPEN;
		g_assert_cmpint(ev->fault, ==, want);
		g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 0); /* stuck inside */
		devloop_run_for(&f.loop, 30000);
		f.iss->ops->get_status(f.iss, &st);
		g_assert_cmpint(st.fault, ==, want); /* still: the card is inside */
		sim_evolis_fault_set(f.sim, kind, false);
		g_assert_nonnull(wait_event(&f, 0, CARDPRN_EV_RECOVERED, 20000));
		sim_evolis_stats(f.sim, &ss);
		if (kind == SIM_EVOLIS_FAULT_JAM) {
			g_assert_cmpuint(ss.cards_lost, ==, 1); /* the technician pulled it out */
		} else { /* cover closed: the driver rejected the card it found inside */
			g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 1);
			g_assert_true(sim_evolis_card(f.sim, 0)->rejected);
		}
		break;
	}
	case SIM_EVOLIS_FAULT_DISCONNECT:
		g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_DISCONNECTED);
		f.iss->ops->get_status(f.iss, &st);
		g_assert_cmpint(st.state, ==, DEV_STATE_OFFLINE);
		g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, KIO_ERR_NO_DEVICE);
		sim_evolis_fault_set(f.sim, kind, false);
		notify(&f);
		g_assert_nonnull(wait_event(&f, 0, CARDPRN_EV_RECOVERED, 20000));
		/* The card the interrupted issue left at the station went to the reject box. */
		g_assert_cmpuint(sim_evolis_card_count(f.sim), ==, 1);
		g_assert_true(sim_evolis_card(f.sim, 0)->rejected);
		g_assert_cmpint(sim_evolis_position(f.sim), ==, SIM_EVOLIS_POS_NONE);
		break;
	default:
		g_assert_not_reached();
	}
	/* Then a card is issued normally. */
	int from = f.n_ev;
	g_assert_cmpint(f.iss->ops->issue(f.iss, "42", &f.img), ==, 0);
	ev = wait_event(&f, from, CARDPRN_EV_ISSUED, 120000);
	g_assert_nonnull(ev);
	size_t n = sim_evolis_card_count(f.sim);
	g_assert_cmpstr(sim_evolis_card(f.sim, n - 1)->track2, ==, "42");
	g_assert_false(sim_evolis_card(f.sim, n - 1)->rejected);
	teardown(&f);
}

/* The last card: issued, then the poll reads the feeder empty. Ribbon low is a warning that
 * still issues. */
static void test_feeder_runs_out_and_ribbon_low(void)
{
	struct sim_evolis_config scfg;
	sim_evolis_config_default(&scfg);
	scfg.feeder_cards = 1;
	scfg.ribbon_cards = 30;
	struct fx f;
	setup(&f, &scfg);
	struct cardprn_status st;
	f.iss->ops->get_status(f.iss, &st);
	g_assert_cmpint(st.fault, ==, CARDPRN_FAULT_RIBBON_LOW);
	g_assert_cmpint(st.state, ==, DEV_STATE_WARNING);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	const struct cardprn_event *ev = wait_event(&f, 0, CARDPRN_EV_ISSUED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_RIBBON_LOW);
	ev = wait_event(&f, 0, CARDPRN_EV_FAULT, 20000);
	devloop_run_for(&f.loop, 1000);
	f.iss->ops->get_status(f.iss, &st);
	g_assert_cmpint(st.fault, ==, CARDPRN_FAULT_FEEDER_EMPTY);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	ev = wait_event(&f, 0, CARDPRN_EV_FAILED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_FEEDER_EMPTY);
	teardown(&f);
}

/* Garbage before and between replies is dropped; a reply nobody asked for too. */
static void test_garbage_replies(void)
{
	struct fx f;
	setup(&f, NULL);
	static const char junk[] = "\x01\x02 noise\r\xff\xfe\rOK\r";
	core_bytebuf_append(&f.tap->inject, junk, sizeof(junk) - 1);
	transport_wake(&f.tap->base);
	devloop_run_for(&f.loop, 100);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	g_assert_nonnull(wait_event(&f, 0, CARDPRN_EV_ISSUED, 120000));
	struct evolis_card_stats ds;
	evolis_card_stats(f.iss, &ds);
	g_assert_cmpuint(ds.garbage_replies, >=, 3);
	/* 129 bytes without a terminator cannot be a reply: dropped while nothing is asked. */
	devloop_run_for(&f.loop, 1000);
	uint8_t endless[200];
	memset(endless, 'A', sizeof(endless));
	core_bytebuf_append(&f.tap->inject, endless, sizeof(endless));
	transport_wake(&f.tap->base);
	devloop_run_for(&f.loop, 11000);
	struct cardprn_status st;
	f.iss->ops->get_status(f.iss, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OK);
	g_assert_cmpint(count_events(&f, CARDPRN_EV_FAULT), ==, 0);
	evolis_card_stats(f.iss, &ds);
	g_assert_cmpuint(ds.garbage_replies, >=, 4);
	g_assert_cmpuint(ds.timeouts, ==, 0);
	teardown(&f);
}

/* A printer that stops answering: the issue fails as offline; when it answers again the card
 * it may hold is rejected and it recovers. */
static void test_no_answer(void)
{
	struct fx f;
	setup(&f, NULL);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	g_assert_true(devloop_run_until(&f.loop, at_station, &f, 120000));
	f.tap->mute = true;
	const struct cardprn_event *ev = wait_event(&f, 0, CARDPRN_EV_FAILED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_DISCONNECTED);
	struct cardprn_status st;
	f.iss->ops->get_status(f.iss, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OFFLINE);
	f.tap->mute = false;
	g_assert_nonnull(wait_event(&f, 0, CARDPRN_EV_RECOVERED, 30000));
	g_assert_cmpint(sim_evolis_position(f.sim), ==, SIM_EVOLIS_POS_NONE);
	struct evolis_card_stats ds;
	evolis_card_stats(f.iss, &ds);
	g_assert_cmpuint(ds.timeouts, ==, 1);
	g_assert_cmpuint(ds.rejected, >=, 1);
	teardown(&f);
}

/*
 * A command the transport never takes (BUSY for good: the printer NAKs every bulk OUT) was
 * re-offered every 10 ms for ever, with no reply deadline running: the job never ended and
 * a sale would wait for ISSUED or FAILED for ever. The reply deadline runs from the first
 * attempt: the job fails as no answer.
 */
static void test_write_refused(void)
{
	struct fx f;
	setup(&f, NULL);
	g_assert_cmpint(f.iss->ops->issue(f.iss, NUMBER, &f.img), ==, 0);
	g_assert_true(devloop_run_until(&f.loop, at_station, &f, 120000));
	f.tap->refuse = true;
	const struct cardprn_event *ev = wait_event(&f, 0, CARDPRN_EV_FAILED, 120000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_DISCONNECTED);
	g_assert_cmpint(count_events(&f, CARDPRN_EV_ISSUED), ==, 0);
	f.tap->refuse = false;
	g_assert_nonnull(wait_event(&f, 0, CARDPRN_EV_RECOVERED, 30000));
	teardown(&f);
}

/* RGBA to the K panel: luminance threshold over white. */
static void test_face_from_rgba(void)
{
	struct kio_error err;
	struct evolis_face *face = evolis_face_new();
	const uint8_t px[4 * 4] = {
		0, 0, 0, 255,       /* black: ink */
		255, 0, 0, 255,     /* red: luma 76, ink */
		0, 255, 0, 255,     /* green: luma 149, paper */
		0, 0, 0, 100,       /* black at 39% over white: 155, paper */
	};
	g_assert_cmpint(evolis_card_face_from_rgba(px, 4, 1, 16, 128, face, &err), ==, 0);
	g_assert_true(evolis_face_get(face, 0, 0));
	g_assert_true(evolis_face_get(face, 1, 0));
	g_assert_false(evolis_face_get(face, 2, 0));
	g_assert_false(evolis_face_get(face, 3, 0));
	g_assert_cmpint(evolis_card_face_from_rgba(px, 4, 1, 15, 128, face, &err), ==,
		KIO_ERR_INVALID);
	free(face);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	enum log_level level;
	if (getenv("KIOSK_LOG") && log_level_parse(getenv("KIOSK_LOG"), &level))
		log_set_level(level);
	g_test_add_func("/evolis-card/issue-one", test_issue_one);
	g_test_add_func("/evolis-card/issue-bad-input", test_issue_bad_input);
	g_test_add_func("/evolis-card/face-from-rgba", test_face_from_rgba);
	g_test_add_data_func("/evolis-card/before/feeder-empty",
		GINT_TO_POINTER(SIM_EVOLIS_FAULT_FEEDER_EMPTY), test_fault_before);
	g_test_add_data_func("/evolis-card/before/ribbon-out",
		GINT_TO_POINTER(SIM_EVOLIS_FAULT_RIBBON_OUT), test_fault_before);
	g_test_add_data_func("/evolis-card/before/jam", GINT_TO_POINTER(SIM_EVOLIS_FAULT_JAM),
		test_fault_before);
	g_test_add_data_func("/evolis-card/before/cover-open",
		GINT_TO_POINTER(SIM_EVOLIS_FAULT_COVER_OPEN), test_fault_before);
	g_test_add_data_func("/evolis-card/during/ribbon-out",
		GINT_TO_POINTER(SIM_EVOLIS_FAULT_RIBBON_OUT), test_fault_during);
	g_test_add_data_func("/evolis-card/during/jam", GINT_TO_POINTER(SIM_EVOLIS_FAULT_JAM),
		test_fault_during);
	g_test_add_data_func("/evolis-card/during/cover-open",
		GINT_TO_POINTER(SIM_EVOLIS_FAULT_COVER_OPEN), test_fault_during);
	g_test_add_data_func("/evolis-card/during/disconnect",
		GINT_TO_POINTER(SIM_EVOLIS_FAULT_DISCONNECT), test_fault_during);
	g_test_add_func("/evolis-card/feeder-runs-out-ribbon-low",
		test_feeder_runs_out_and_ribbon_low);
	g_test_add_func("/evolis-card/garbage-replies", test_garbage_replies);
	g_test_add_func("/evolis-card/no-answer", test_no_answer);
	g_test_add_func("/evolis-card/write-refused", test_write_refused);
	return g_test_run();
}
