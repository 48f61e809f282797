/*
 * The ESC/POS receipt driver over the simulated transport: against the byte-level TM model
 * (prints, faults before and during a job, disconnect, back-pressure, DLE EOT inside raster
 * data) and against a scripted printer (every status bit, garbage, silence, a stall that
 * clears by itself), in virtual time.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/host/escpos/escpos-receipt.h"
#include "drivers/protocol/escpos/escpos.h"
#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/core/bytebuf.h"
#define LOG_MODULE "test"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "tests/common/devloop.h"

#define MAX_EVENTS 64

struct fx {
	struct devloop loop;
	struct sim_escpos *sim; /* NULL with the scripted printer */
	struct sim_model model;
	struct transport *t;
	struct receipt_printer *prn;
	struct receipt_event ev[MAX_EVENTS];
	int n_ev;
};

static void on_event(void *user, const struct receipt_event *ev)
{
	struct fx *f = user;
	g_assert_cmpint(f->n_ev, <, MAX_EVENTS);
	f->ev[f->n_ev++] = *ev;
}

static void service(void *user)
{
	struct fx *f = user;
	f->prn->ops->service(f->prn);
}

static void start_driver(struct fx *f, const struct escpos_receipt_config *cfg)
{
	struct kio_error err;
	transport_set_wake(f->t, devloop_wake, &f->loop);
	f->loop.service = service;
	f->loop.service_user = f;
	g_assert_cmpint(escpos_receipt_new(f->t, f->loop.timers, cfg, &f->prn, &err), ==, 0);
	f->prn->on_event = on_event;
	f->prn->on_event_user = f;
}

static void setup_sim(struct fx *f, const struct sim_escpos_config *scfg,
	const struct escpos_receipt_config *cfg)
{
	struct kio_error err;
	memset(f, 0, sizeof(*f));
	devloop_init(&f->loop);
	g_assert_cmpint(sim_escpos_new(scfg, &f->sim, &err), ==, 0);
	sim_model_escpos(&f->model, f->sim);
	f->t = transport_sim_new("receipt", &f->model, f->loop.clock);
	start_driver(f, cfg);
	devloop_run_for(&f->loop, 500); /* first status round */
}

static void teardown(struct fx *f)
{
	f->prn->ops->destroy(f->prn);
	transport_free(f->t);
	sim_escpos_free(f->sim);
	devloop_fini(&f->loop);
}

struct wait_for {
	struct fx *f;
	int from;
	enum receipt_event_kind kind;
};

static bool has_event(void *user)
{
	struct wait_for *w = user;
	for (int i = w->from; i < w->f->n_ev; i++)
		if (w->f->ev[i].kind == w->kind)
			return true;
	return false;
}

/* Runs until an event of kind arrives (after the first `from` events); returns it. */
static const struct receipt_event *wait_event(struct fx *f, int from, enum receipt_event_kind kind,
	uint64_t max_ms)
{
	struct wait_for w = {f, from, kind};
	if (!devloop_run_until(&f->loop, has_event, &w, max_ms))
		return NULL;
	for (int i = from; i < f->n_ev; i++)
		if (f->ev[i].kind == kind)
			return &f->ev[i];
	return NULL;
}

static int count_events(const struct fx *f, enum receipt_event_kind kind)
{
	int n = 0;
	for (int i = 0; i < f->n_ev; i++)
		n += f->ev[i].kind == kind;
	return n;
}

/* A w x h test image: a frame, diagonals and pseudo-random speckle, 1 = ink. */
struct img {
	struct receipt_image ri;
	uint8_t *bits;
};

static void img_make(struct img *im, int w, int h, uint32_t seed)
{
	int stride = (w + 7) / 8;
	im->bits = xcalloc((size_t)h, (size_t)stride);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			seed = seed * 1103515245u + 12345u;
			bool ink = x < 2 || y < 2 || x >= w - 2 || y >= h - 2 || x == y || x == w - 1 - y ||
				((seed >> 16) & 7) == 0;
			if (ink)
				im->bits[(size_t)y * (size_t)stride + (size_t)x / 8] |= (uint8_t)(0x80u >> (x % 8));
		}
	im->ri = (struct receipt_image){.width = w, .height = h, .stride = stride, .bits = im->bits};
}

static bool img_get(const struct img *im, int x, int y)
{
	return im->bits[(size_t)y * (size_t)im->ri.stride + (size_t)x / 8] & (0x80u >> (x % 8));
}

/* The page holds the image's first `rows` rows at its top-left, and nothing else. */
static void assert_page_is(const struct sim_escpos_page *pg, const struct img *im, int rows)
{
	for (int y = 0; y < pg->height; y++)
		for (int x = 0; x < pg->width; x++) {
			bool want = y < rows && x < im->ri.width && img_get(im, x, y);
			if (sim_escpos_page_get(pg, x, y) != want)
				g_error("page dot (%d,%d) is %d, image says %d", x, y, !want, want);
		}
}

/*
 * Caller input the driver must refuse with a clear error, starting nothing and losing
 * nothing: a job id longer than an event can carry (before: cut to 39 bytes, so the job's
 * PRINTED named another job and a caller waiting for its own waited for ever), an empty or
 * NULL id, an image wider than the paper, empty, with a short stride, or over the 64 MiB
 * raster bound. Each returns KIO_ERR_INVALID, no event follows, and the next good job prints.
 */
static void test_print_bad_input(void)
{
	struct fx f;
	setup_sim(&f, NULL, NULL);
	struct img im;
	img_make(&im, 576, 40, 3);
	char long_id[RECEIPT_JOB_ID_MAX + 2];
	memset(long_id, 'X', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	g_assert_cmpint(f.prn->ops->print(f.prn, long_id, &im.ri), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.prn->ops->print(f.prn, "", &im.ri), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.prn->ops->print(f.prn, NULL, &im.ri), ==, KIO_ERR_INVALID);
	struct receipt_image wide = im.ri, empty = im.ri, short_stride = im.ri, huge = im.ri;
	wide.width = 577;
	wide.stride = 73;
	empty.height = 0;
	short_stride.stride = 71;
	huge.height = 1 << 30; /* 72 GiB of raster: refused before anything is allocated */
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-W", &wide), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-E", &empty), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-S", &short_stride), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-H", &huge), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-1", NULL), ==, KIO_ERR_INVALID);
	devloop_run_for(&f.loop, 2000);
	g_assert_cmpint(f.n_ev, ==, 0);
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 0);

	/* The longest id is carried whole. */
	long_id[RECEIPT_JOB_ID_MAX] = '\0';
	g_assert_cmpint(f.prn->ops->print(f.prn, long_id, &im.ri), ==, 0);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_PRINTED, 10000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, long_id);
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 1);
	free(im.bits);
	teardown(&f);
}

static void test_print_one(void)
{
	struct fx f;
	setup_sim(&f, NULL, NULL);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OK);
	g_assert_cmpint(st.width_dots, ==, 576);

	struct img im;
	img_make(&im, 576, 700, 1); /* three GS v 0 bands of <= 255 rows */
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-1", &im.ri), ==, 0);
	g_assert_cmpint(f.n_ev, ==, 0); /* nothing before print() returned */
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-2", &im.ri), ==, KIO_ERR_BUSY);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_PRINTED, 10000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "TXN-1");
	g_assert_cmpint(count_events(&f, RECEIPT_EV_FAILED), ==, 0);

	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 1);
	const struct sim_escpos_page *pg = sim_escpos_receipt(f.sim, 0);
	g_assert_cmpint(pg->height, ==, 700 + 24); /* image, then GS V 66 24 fed past the cutter */
	g_assert_true(pg->partial_cut);
	assert_page_is(pg, &im, 700);
	struct sim_escpos_stats ss;
	sim_escpos_stats(f.sim, &ss);
	g_assert_cmpuint(ss.protocol_errors, ==, 0);
	g_assert_cmpuint(ss.text_bytes, ==, 0); /* invariant 6: raster only */
	g_assert_cmpuint(ss.bands, ==, (700 + 25) / 26); /* bands of 26 rows: invariant 6 */
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(f.prn, &ds);
	g_assert_cmpuint(ds.jobs_printed, ==, 1);
	g_assert_cmpuint(ds.garbage_bytes, ==, 0);

	/* A narrower image prints at the left; a second job after the first. */
	struct img small;
	img_make(&small, 203, 40, 7);
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-3", &small.ri), ==, 0);
	g_assert_nonnull(wait_event(&f, 1, RECEIPT_EV_PRINTED, 10000));
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 2);
	assert_page_is(sim_escpos_receipt(f.sim, 1), &small, 40);

	/* Wider than the printer: refused at once. */
	struct img wide;
	img_make(&wide, 584, 8, 3);
	g_assert_cmpint(f.prn->ops->print(f.prn, "TXN-4", &wide.ri), ==, KIO_ERR_INVALID);
	free(wide.bits);
	free(small.bits);
	free(im.bits);
	teardown(&f);
}

/* Idle polling notices a fault and its end without any job. */
static void test_idle_poll(void)
{
	struct fx f;
	setup_sim(&f, NULL, NULL);
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_COVER_OPEN, true);
	transport_sim_notify(f.t);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_FAULT, 6000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_COVER_OPEN);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_FAULT);
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_COVER_OPEN, false);
	transport_sim_notify(f.t);
	ev = wait_event(&f, 1, RECEIPT_EV_RECOVERED, 6000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_COVER_OPEN);
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OK);
	teardown(&f);
}

static void test_near_end_still_prints(void)
{
	struct fx f;
	setup_sim(&f, NULL, NULL);
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_PAPER_NEAR_END, true);
	transport_sim_notify(f.t);
	struct img im;
	img_make(&im, 576, 300, 2);
	g_assert_cmpint(f.prn->ops->print(f.prn, "NEAR", &im.ri), ==, 0);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_PRINTED, 10000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_PAPER_NEAR_END); /* printed, with the warning */
	g_assert_cmpint(f.ev[0].kind, ==, RECEIPT_EV_FAULT);
	g_assert_cmpint(f.ev[0].fault, ==, RECEIPT_FAULT_PAPER_NEAR_END);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_WARNING);
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 1);
	assert_page_is(sim_escpos_receipt(f.sim, 0), &im, 300);
	free(im.bits);
	teardown(&f);
}

/* paper-out and cover-open known before the job: FAILED, nothing printed, then it works. */
static void test_fault_before_job(gconstpointer data)
{
	enum sim_escpos_fault kind = (enum sim_escpos_fault)GPOINTER_TO_INT(data);
	enum receipt_fault want = kind == SIM_ESCPOS_FAULT_PAPER_OUT ? RECEIPT_FAULT_PAPER_OUT
								    : RECEIPT_FAULT_COVER_OPEN;
	struct fx f;
	setup_sim(&f, NULL, NULL);
	sim_escpos_fault_set(f.sim, kind, true);
	transport_sim_notify(f.t); /* the driver has not polled yet: the precheck finds it */
	struct img im;
	img_make(&im, 576, 200, 4);
	g_assert_cmpint(f.prn->ops->print(f.prn, "BEFORE", &im.ri), ==, 0);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_FAILED, 5000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "BEFORE");
	g_assert_cmpint(ev->fault, ==, want);
	g_assert_cmpint(count_events(&f, RECEIPT_EV_FAULT), ==, 1);
	struct sim_escpos_stats ss;
	sim_escpos_stats(f.sim, &ss);
	/* Not one byte of the job went out: the printer holds only status requests (12 bytes a
	 * round, answered on arrival and parsed once it is back online). */
	g_assert_cmpuint(ss.held % 12, ==, 0);
	g_assert_cmpuint(ss.bytes_in, ==, ss.status_replies * 3);

	sim_escpos_fault_set(f.sim, kind, false);
	transport_sim_notify(f.t);
	g_assert_nonnull(wait_event(&f, 0, RECEIPT_EV_RECOVERED, 6000));
	int from = f.n_ev;
	g_assert_cmpint(f.prn->ops->print(f.prn, "AFTER", &im.ri), ==, 0);
	ev = wait_event(&f, from, RECEIPT_EV_PRINTED, 10000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "AFTER");
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 1);
	assert_page_is(sim_escpos_receipt(f.sim, 0), &im, 200);
	free(im.bits);
	teardown(&f);
}

struct bytes_in {
	struct fx *f;
	uint64_t at_least;
};

static bool model_has_bytes(void *user)
{
	struct bytes_in *b = user;
	struct sim_escpos_stats ss;
	sim_escpos_stats(b->f->sim, &ss);
	return ss.bytes_in >= b->at_least;
}

/*
 * paper-out, cover-open and disconnect in the middle of a job: FAILED (invariant 3), then,
 * once the printer is back, the stub it held is completed white and cut (invariant 4) and the
 * next job prints whole.
 */
static void test_fault_during_job(gconstpointer data)
{
	enum sim_escpos_fault kind = (enum sim_escpos_fault)GPOINTER_TO_INT(data);
	enum receipt_fault want = kind == SIM_ESCPOS_FAULT_PAPER_OUT ? RECEIPT_FAULT_PAPER_OUT
				: kind == SIM_ESCPOS_FAULT_COVER_OPEN ? RECEIPT_FAULT_COVER_OPEN
								      : RECEIPT_FAULT_DISCONNECTED;
	struct fx f;
	setup_sim(&f, NULL, NULL);
	struct img im;
	img_make(&im, 576, 1000, 5); /* 72 KB: 18 chunks */
	g_assert_cmpint(f.prn->ops->print(f.prn, "MID", &im.ri), ==, 0);
	struct bytes_in b = {&f, 20000};
	g_assert_true(devloop_run_until(&f.loop, model_has_bytes, &b, 10000));
	g_assert_cmpint(count_events(&f, RECEIPT_EV_PRINTED), ==, 0);
	sim_escpos_fault_set(f.sim, kind, true);
	transport_sim_notify(f.t);

	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_FAILED, 20000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "MID");
	g_assert_cmpint(ev->fault, ==, want);
	g_assert_cmpint(count_events(&f, RECEIPT_EV_PRINTED), ==, 0);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.fault, ==, want);
	g_assert_cmpint(st.state, ==, kind == SIM_ESCPOS_FAULT_DISCONNECT ? DEV_STATE_OFFLINE
									    : DEV_STATE_FAULT);
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 0);
	int rows_before = sim_escpos_current(f.sim)->height;
	g_assert_cmpint(rows_before, >, 0);
	g_assert_cmpint(rows_before, <, 1000);
	/* A print while disconnected is refused outright; while faulted it fails after the check. */
	if (kind == SIM_ESCPOS_FAULT_DISCONNECT)
		g_assert_cmpint(f.prn->ops->print(f.prn, "NODEV", &im.ri), ==, KIO_ERR_NO_DEVICE);

	devloop_run_for(&f.loop, 20000); /* stays failed, nothing more printed */
	g_assert_cmpint(count_events(&f, RECEIPT_EV_PRINTED), ==, 0);

	sim_escpos_fault_set(f.sim, kind, false);
	transport_sim_notify(f.t);
	g_assert_nonnull(wait_event(&f, 0, RECEIPT_EV_RECOVERED, 10000));
	/* The stub: the receipt's top as far as the printer got, white to the band's end, cut. */
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 1);
	const struct sim_escpos_page *stub = sim_escpos_receipt(f.sim, 0);
	/* What the printer held when it stopped (< 4096 bytes: 56 rows) printed after reload, then
	 * white to the end of that band. */
	int band_end = stub->height - 24;
	g_assert_cmpint(band_end, >=, rows_before);
	g_assert_cmpint(band_end, <=, rows_before + 56 + 26);
	for (int y = 0; y < stub->height; y++)
		for (int x = 0; x < 576; x++) {
			bool ink = sim_escpos_page_get(stub, x, y);
			if (y < rows_before)
				g_assert_cmpint(ink, ==, img_get(&im, x, y));
			else if (ink && !(y < band_end && img_get(&im, x, y))) /* held rows: the image's */
				g_error("stub dot (%d,%d) inked: %d rows before, band end %d, height %d", x,
					y, rows_before, band_end, stub->height);
		}
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(f.prn, &ds);
	g_assert_cmpuint(ds.resyncs, ==, 1);
	g_assert_cmpuint(ds.jobs_failed, ==, 1);

	int from = f.n_ev;
	g_assert_cmpint(f.prn->ops->print(f.prn, "AGAIN", &im.ri), ==, 0);
	ev = wait_event(&f, from, RECEIPT_EV_PRINTED, 20000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "AGAIN");
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 2);
	assert_page_is(sim_escpos_receipt(f.sim, 1), &im, 1000);
	free(im.bits);
	teardown(&f);
}

/* Paper runs out after the printer took every byte, before it printed them: the process-ID
 * answer does not come, the poll sees paper out, FAILED; the late answer after reload is not
 * a second outcome (invariant 2). */
static void test_paper_out_before_confirmation(void)
{
	struct fx f;
	struct sim_escpos_config scfg;
	sim_escpos_config_default(&scfg);
	scfg.rx_capacity = 65536;
	setup_sim(&f, &scfg, NULL);
	struct img im;
	img_make(&im, 576, 100, 6); /* 7.2 KB: two chunks */
	g_assert_cmpint(f.prn->ops->print(f.prn, "LATE", &im.ri), ==, 0);
	struct bytes_in b = {&f, 100};
	g_assert_true(devloop_run_until(&f.loop, model_has_bytes, &b, 1000));
	/* After the precheck and the first chunk; the second goes into the printer's buffer. */
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_PAPER_OUT, true);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_FAILED, 5000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_PAPER_OUT);
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_PAPER_OUT, false);
	transport_sim_notify(f.t);
	g_assert_nonnull(wait_event(&f, 0, RECEIPT_EV_RECOVERED, 10000));
	devloop_run_for(&f.loop, 1000);
	g_assert_cmpint(count_events(&f, RECEIPT_EV_PRINTED), ==, 0);
	g_assert_cmpint(count_events(&f, RECEIPT_EV_FAILED), ==, 1);
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(f.prn, &ds);
	g_assert_cmpuint(ds.late_process_ids, >=, 1); /* bands and the receipt, after the reload */
	g_assert_cmpuint(sim_escpos_receipt_count(f.sim), ==, 1); /* the printer finished it */
	free(im.bits);
	teardown(&f);
}

/* The printer pauses (cover opened and closed within stall_ms): bytes wait in the transport,
 * the job goes on where it stopped and prints whole. */
static void test_backpressure_pause(void)
{
	struct fx f;
	struct sim_escpos_config scfg;
	sim_escpos_config_default(&scfg);
	scfg.rx_capacity = 1024;
	setup_sim(&f, &scfg, NULL);
	struct img im;
	img_make(&im, 576, 600, 8);
	g_assert_cmpint(f.prn->ops->print(f.prn, "PAUSE", &im.ri), ==, 0);
	struct bytes_in b = {&f, 9000};
	g_assert_true(devloop_run_until(&f.loop, model_has_bytes, &b, 10000));
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_COVER_OPEN, true);
	transport_sim_notify(f.t);
	devloop_run_for(&f.loop, 2000);
	g_assert_cmpuint(transport_out_pending(f.t), >, 0); /* NAKed */
	g_assert_cmpint(f.n_ev, ==, 0);
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_COVER_OPEN, false);
	transport_sim_notify(f.t);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_PRINTED, 10000);
	g_assert_nonnull(ev);
	g_assert_cmpint(count_events(&f, RECEIPT_EV_FAILED), ==, 0);
	assert_page_is(sim_escpos_receipt(f.sim, 0), &im, 600);
	free(im.bits);
	teardown(&f);
}

/* Raster rows holding 10 04 01..04: the printer answers each (Epson "DLE EOT"); the driver
 * predicts those answers, so its own requests stay matched (invariant 5). */
static void test_dle_eot_inside_raster(void)
{
	struct fx f;
	setup_sim(&f, NULL, NULL);
	sim_escpos_fault_set(f.sim, SIM_ESCPOS_FAULT_PAPER_NEAR_END, true);
	transport_sim_notify(f.t);
	devloop_run_for(&f.loop, 6000);
	struct img im;
	img_make(&im, 576, 64, 9);
	for (int y = 0; y < 64; y += 3) { /* 10 04 n at varying places, kinds 1..4 */
		uint8_t *row = im.bits + (size_t)y * 72;
		row[(y * 5) % 69] = 0x10, row[(y * 5) % 69 + 1] = 0x04,
			row[(y * 5) % 69 + 2] = (uint8_t)(1 + y % 4);
	}
	int from = f.n_ev;
	g_assert_cmpint(f.prn->ops->print(f.prn, "DLE", &im.ri), ==, 0);
	g_assert_nonnull(wait_event(&f, from, RECEIPT_EV_PRINTED, 10000));
	struct sim_escpos_stats ss;
	sim_escpos_stats(f.sim, &ss);
	g_assert_cmpuint(ss.status_replies, >=, 22 + 8); /* 22 spurious + our rounds */
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(f.prn, &ds);
	g_assert_cmpuint(ds.garbage_bytes, ==, 0);
	g_assert_cmpuint(ds.status_timeouts, ==, 0);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.fault, ==, RECEIPT_FAULT_PAPER_NEAR_END); /* not misread */
	assert_page_is(sim_escpos_receipt(f.sim, 0), &im, 64);
	free(im.bits);
	teardown(&f);
}

/* ---- a scripted printer: answers DLE EOT from a table, or not at all ---- */

struct script {
	struct transport base;
	bool connected;
	bool silent;              /* answer nothing */
	size_t take_limit;        /* stop taking once `taken` holds this many bytes (0 = never) */
	uint8_t status[5];        /* reply to DLE EOT n */
	struct core_bytebuf pending; /* written, not taken */
	struct core_bytebuf in;   /* to be read by the driver */
	struct core_bytebuf taken; /* everything the printer took, in order */
	uint8_t hist[11];
};

static struct script *sc_of(struct transport *t) { return (struct script *)t; }

/* Takes what is pending (up to take_limit); answers the DLE EOT requests and GS ( H fn48
 * process IDs found in it, as a printer that prints instantly would. */
static void sc_take(struct script *s)
{
	if (!s->connected)
		return;
	size_t i = 0;
	for (; i < s->pending.len && (!s->take_limit || s->taken.len < s->take_limit); i++) {
		uint8_t b = s->pending.data[i];
		core_bytebuf_append_byte(&s->taken, b);
		uint8_t *h = s->hist;
		if (h[9] == 0x10 && h[10] == 0x04 && b >= 1 && b <= 4 && !s->silent)
			core_bytebuf_append_byte(&s->in, s->status[b]);
		memmove(h, h + 1, 10);
		h[10] = b;
		if (h[0] == 0x1D && h[1] == '(' && h[2] == 'H' && h[3] == 6 && h[4] == 0 &&
			h[5] == 0x30 && h[6] == 0x30 && !s->silent) {
			const uint8_t r[7] = {0x37, 0x22, h[7], h[8], h[9], h[10], 0};
			core_bytebuf_append(&s->in, r, 7);
		}
	}
	core_bytebuf_consume(&s->pending, i);
}

static int sc_write(struct transport *t, const uint8_t *buf, size_t len)
{
	struct script *s = sc_of(t);
	if (!s->connected)
		return KIO_ERR_NO_DEVICE;
	core_bytebuf_append(&s->pending, buf, len);
	sc_take(s);
	if (s->in.len)
		transport_wake(t);
	return 0;
}

static ssize_t sc_read(struct transport *t, uint8_t *buf, size_t cap)
{
	struct script *s = sc_of(t);
	if (!s->connected)
		return KIO_ERR_NO_DEVICE;
	size_t n = s->in.len < cap ? s->in.len : cap;
	if (n) {
		memcpy(buf, s->in.data, n);
		core_bytebuf_consume(&s->in, n);
	}
	return (ssize_t)n;
}

static size_t sc_out_pending(struct transport *t) { return sc_of(t)->pending.len; }

static void sc_flush(struct transport *t)
{
	core_bytebuf_clear(&sc_of(t)->pending);
	core_bytebuf_clear(&sc_of(t)->in);
}

static bool sc_connected(struct transport *t) { return sc_of(t)->connected; }

static int sc_reopen(struct transport *t, struct kio_error *err)
{
	return sc_of(t)->connected ? 0 : KIO_ERR_NO_DEVICE;
}

static void sc_destroy(struct transport *t)
{
	struct script *s = sc_of(t);
	core_bytebuf_free(&s->pending);
	core_bytebuf_free(&s->in);
	core_bytebuf_free(&s->taken);
	g_free(s);
}

static const struct transport_ops sc_ops = {
	.write = sc_write, .read = sc_read, .out_pending = sc_out_pending, .flush = sc_flush,
	.connected = sc_connected, .reopen = sc_reopen, .destroy = sc_destroy,
};

static struct script *setup_script(struct fx *f, const struct escpos_receipt_config *cfg)
{
	memset(f, 0, sizeof(*f));
	devloop_init(&f->loop);
	struct script *s = g_new0(struct script, 1);
	s->base.ops = &sc_ops;
	snprintf(s->base.name, sizeof(s->base.name), "receipt");
	s->connected = true;
	for (int n = 1; n <= 4; n++)
		s->status[n] = 0x12;
	f->t = &s->base;
	start_driver(f, cfg);
	devloop_run_for(&f->loop, 500);
	return s;
}

/* Tells the driver the printer changed (as transport_sim_notify does for the models). */
static void sc_poke(struct fx *f, struct script *s)
{
	sc_take(s);
	transport_wake(&s->base);
}

/* Every status bit the driver reads, and what the class is told (Epson "DLE EOT" n = 1..4). */
static void test_status_bits(void)
{
	static const struct {
		int n;
		uint8_t byte;
		enum receipt_fault fault;
		enum dev_state state;
	} cases[] = {
		{1, 0x12, RECEIPT_FAULT_NONE, DEV_STATE_OK},
		{1, 0x16, RECEIPT_FAULT_NONE, DEV_STATE_OK},         /* drawer pin 3 high */
		{1, 0x1A, RECEIPT_FAULT_ERROR, DEV_STATE_FAULT}, /* offline, no cause given */
		{1, 0x32, RECEIPT_FAULT_NONE, DEV_STATE_OK},         /* waiting for online recovery */
		{1, 0x52, RECEIPT_FAULT_NONE, DEV_STATE_OK},         /* FEED button pressed */
		{2, 0x16, RECEIPT_FAULT_COVER_OPEN, DEV_STATE_FAULT},
		{2, 0x1A, RECEIPT_FAULT_NONE, DEV_STATE_OK},         /* paper fed by the button */
		{2, 0x32, RECEIPT_FAULT_PAPER_OUT, DEV_STATE_FAULT}, /* stopped by paper end */
		{2, 0x52, RECEIPT_FAULT_ERROR, DEV_STATE_FAULT}, /* error occurred */
		{3, 0x16, RECEIPT_FAULT_ERROR, DEV_STATE_FAULT}, /* mechanical error */
		{3, 0x1A, RECEIPT_FAULT_ERROR, DEV_STATE_FAULT}, /* autocutter error */
		{3, 0x32, RECEIPT_FAULT_ERROR, DEV_STATE_FAULT}, /* unrecoverable */
		{3, 0x52, RECEIPT_FAULT_ERROR, DEV_STATE_FAULT}, /* auto-recoverable */
		{4, 0x1E, RECEIPT_FAULT_PAPER_NEAR_END, DEV_STATE_WARNING},
		{4, 0x16, RECEIPT_FAULT_PAPER_NEAR_END, DEV_STATE_WARNING}, /* one bit of the pair */
		{4, 0x72, RECEIPT_FAULT_PAPER_OUT, DEV_STATE_FAULT},
		{4, 0x7E, RECEIPT_FAULT_PAPER_OUT, DEV_STATE_FAULT},
		{4, 0x32, RECEIPT_FAULT_PAPER_OUT, DEV_STATE_FAULT},
	};
	struct fx f;
	struct script *s = setup_script(&f, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		for (int n = 1; n <= 4; n++)
			s->status[n] = 0x12;
		s->status[cases[i].n] = cases[i].byte;
		devloop_run_for(&f.loop, 5100); /* one idle poll */
		struct receipt_status st;
		f.prn->ops->get_status(f.prn, &st);
		if (st.fault != cases[i].fault || st.state != cases[i].state)
			g_error("DLE EOT %d = 0x%02x: got %s/%s, want %s/%s", cases[i].n, cases[i].byte,
				receipt_fault_name(st.fault), dev_state_name(st.state),
				receipt_fault_name(cases[i].fault), dev_state_name(cases[i].state));
	}
	teardown(&f);
}

/* Bytes that fit no reply, before and between the answers, change nothing. */
static void test_garbage_replies(void)
{
	struct fx f;
	struct script *s = setup_script(&f, NULL);
	static const uint8_t junk[] = {0xFF, 0x00, 0x37, 0x41, 0x11, 0x13, 0x80, 0x37, 0x22, 0x41};
	core_bytebuf_append(&s->in, junk, sizeof(junk));
	s->status[4] = 0x1E;
	sc_poke(&f, s);
	devloop_run_for(&f.loop, 5100);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.fault, ==, RECEIPT_FAULT_PAPER_NEAR_END);
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(f.prn, &ds);
	g_assert_cmpuint(ds.garbage_bytes, >=, 5);
	/* An unsolicited status-shaped byte is dropped, not taken as the next answer. */
	core_bytebuf_append_byte(&s->in, 0x7E);
	sc_poke(&f, s);
	devloop_run_for(&f.loop, 5100);
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.fault, ==, RECEIPT_FAULT_PAPER_NEAR_END);
	/* A print still works, confirmed by its process id. */
	struct img im;
	img_make(&im, 100, 10, 1);
	g_assert_cmpint(f.prn->ops->print(f.prn, "G", &im.ri), ==, 0);
	g_assert_nonnull(wait_event(&f, 0, RECEIPT_EV_PRINTED, 5000));
	free(im.bits);
	teardown(&f);
}

/* A printer that stops answering: offline after reply_timeout, the job fails, it recovers. */
static void test_no_answer(void)
{
	struct fx f;
	struct script *s = setup_script(&f, NULL);
	s->silent = true;
	size_t before = s->taken.len;
	struct img im;
	img_make(&im, 576, 50, 1);
	g_assert_cmpint(f.prn->ops->print(f.prn, "SILENT", &im.ri), ==, 0);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_FAILED, 3000);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_DISCONNECTED);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OFFLINE);
	g_assert_cmpuint(s->taken.len - before, ==, 12); /* only the four DLE EOT requests went out */
	s->silent = false;
	g_assert_nonnull(wait_event(&f, 0, RECEIPT_EV_RECOVERED, 6000));
	teardown(&f);
	free(im.bits);
}

/* The printer takes nothing for stall_ms, yet says it is ready when asked: the driver goes on
 * from the byte it stopped at, and the printer gets each byte exactly once. */
static void test_stall_resume(void)
{
	struct fx f;
	struct script *s = setup_script(&f, NULL);
	size_t before = s->taken.len;
	struct img im;
	img_make(&im, 576, 300, 11);
	s->take_limit = before + 12 + 10000; /* the precheck, then 10000 bytes of the job */
	g_assert_cmpint(f.prn->ops->print(f.prn, "STALL", &im.ri), ==, 0);
	devloop_run_for(&f.loop, 1000);
	g_assert_cmpuint(s->taken.len, ==, s->take_limit);
	g_assert_cmpuint(s->pending.len, >, 0);
	g_assert_cmpint(f.n_ev, ==, 0);
	s->take_limit = 0; /* ready again: answers the status round the driver sends after the flush */
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_PRINTED, 10000);
	g_assert_nonnull(ev);
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(f.prn, &ds);
	g_assert_cmpuint(ds.stalls, ==, 1);
	g_assert_cmpuint(ds.resumed, ==, 1);
	g_assert_cmpuint(ds.injected, ==, 12);

	/* The printer took the job exactly once, with whole status rounds in between. The job as
	 * the driver encodes it: bands of 26 rows (two bands and their GS ( H within 4096 - 256
	 * bytes), each confirmed by its own id, then the cut and the receipt's id. */
	struct core_bytebuf job = {0};
	struct kio_error err;
	escpos_encode_init(&job);
	escpos_encode_realtime_disable(&job);
	core_bytebuf_append(&job, (const uint8_t[]){0x1B, 'c', '5', 0x01}, 4);
	static const char digits[] = "ABCDEFGHIJKLMNOabcdefghijklmno";
	char pid[5] = "AAAA";
	int seq = 0;
	size_t data_at[12], data_end[12], nb = 0;
	for (int y = 0; y < 300; y += 26) {
		data_at[nb] = job.len + 8;
		data_end[nb] = job.len + 8 + (size_t)(300 - y < 26 ? 300 - y : 26) * 72;
		nb++;
		struct escpos_bitmap view = {.width = 576, .stride = 72, .height = 300 - y < 26 ? 300 - y : 26,
			.bits = im.bits + (size_t)y * 72};
		g_assert_cmpint(escpos_encode_raster(&job, &view, view.height, &err), ==, 0);
		pid[3] = digits[seq++];
		g_assert_cmpint(escpos_encode_process_id(&job, pid, &err), ==, 0);
	}
	escpos_encode_cut(&job, ESCPOS_CUT_PARTIAL_FEED, 24);
	pid[3] = digits[seq++];
	g_assert_cmpint(escpos_encode_process_id(&job, pid, &err), ==, 0);
	static const uint8_t round[12] = {0x10, 4, 1, 0x10, 4, 2, 0x10, 4, 3, 0x10, 4, 4};
	size_t i = before, j = 0, rounds = 0;
	while (i < s->taken.len) {
		if (s->taken.len - i >= 12 && memcmp(s->taken.data + i, round, 12) == 0 &&
			(job.len - j < 12 || memcmp(job.data + j, round, 12) != 0)) {
			i += 12;
			rounds++;
			/* Sent while the printer was inside a band's rows, the round took the place of
			 * as many row bytes, and the driver skipped those (absorb_injection). */
			for (size_t k = 0; k < nb; k++)
				if (j >= data_at[k] && j < data_end[k])
					j += data_end[k] - j < 12 ? data_end[k] - j : 12;
			continue;
		}
		g_assert_cmpuint(j, <, job.len);
		if (s->taken.data[i] != job.data[j])
			g_error("taken byte %zu is 0x%02x, job byte %zu is 0x%02x", i, s->taken.data[i], j,
				job.data[j]);
		i++, j++;
	}
	g_assert_cmpuint(j, ==, job.len);
	g_assert_cmpuint(rounds, >=, 3); /* precheck, after the stall, confirmation */
	core_bytebuf_free(&job);
	free(im.bits);
	teardown(&f);
}

/*
 * A printer that stops taking bytes altogether, status requests included (a full buffer NAKs
 * every bulk OUT): the job in flight fails with a fault and its id, the class reads a fault
 * at once rather than after a hang, later polls do not pile up, and when the printer takes
 * bytes again the driver recovers and prints.
 */
static void test_stops_taking(void)
{
	struct fx f;
	struct script *s = setup_script(&f, NULL);
	struct img im;
	img_make(&im, 576, 300, 5);
	s->take_limit = s->taken.len + 12 + 2000; /* the precheck, then 2000 bytes of the job */
	g_assert_cmpint(f.prn->ops->print(f.prn, "NAK", &im.ri), ==, 0);
	const struct receipt_event *ev = wait_event(&f, 0, RECEIPT_EV_FAILED, 10000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "NAK");
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_DISCONNECTED);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.fault, ==, RECEIPT_FAULT_DISCONNECTED);
	g_assert_cmpint(count_events(&f, RECEIPT_EV_PRINTED), ==, 0);
	/* Ten minutes of polls at a printer that takes nothing: still one fault, nothing queued
	 * without bound (the transport holds at most what one write left). */
	devloop_run_for(&f.loop, 600000);
	g_assert_cmpuint(s->pending.len, <=, 4096);
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.fault, ==, RECEIPT_FAULT_DISCONNECTED);
	/* A job given meanwhile ends, failed with its id, instead of waiting for ever. */
	int from = f.n_ev;
	g_assert_cmpint(f.prn->ops->print(f.prn, "WHILE", &im.ri), ==, 0);
	ev = wait_event(&f, from, RECEIPT_EV_FAILED, 70000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "WHILE");
	g_assert_cmpint(count_events(&f, RECEIPT_EV_PRINTED), ==, 0);
	s->take_limit = 0;
	sc_poke(&f, s);
	g_assert_nonnull(wait_event(&f, 0, RECEIPT_EV_RECOVERED, 15000));
	from = f.n_ev;
	g_assert_cmpint(f.prn->ops->print(f.prn, "AFTER", &im.ri), ==, 0);
	ev = wait_event(&f, from, RECEIPT_EV_PRINTED, 20000);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "AFTER");
	free(im.bits);
	teardown(&f);
}

/* Disconnect while idle: offline at once, reopened when the device returns. */
static void test_disconnect_idle(void)
{
	struct fx f;
	struct script *s = setup_script(&f, NULL);
	s->connected = false;
	sc_poke(&f, s);
	devloop_run_for(&f.loop, 100);
	struct receipt_status st;
	f.prn->ops->get_status(f.prn, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OFFLINE);
	g_assert_cmpint(st.fault, ==, RECEIPT_FAULT_DISCONNECTED);
	struct img im;
	img_make(&im, 8, 8, 1);
	g_assert_cmpint(f.prn->ops->print(f.prn, "X", &im.ri), ==, KIO_ERR_NO_DEVICE);
	s->connected = true; /* no wake: the reopen timer finds it */
	g_assert_nonnull(wait_event(&f, 0, RECEIPT_EV_RECOVERED, 5000));
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(f.prn, &ds);
	g_assert_cmpuint(ds.reopens, ==, 1);
	free(im.bits);
	teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	enum log_level level;
	if (getenv("KIOSK_LOG") && log_level_parse(getenv("KIOSK_LOG"), &level))
		log_set_level(level);
	g_test_add_func("/escpos-receipt/print-one", test_print_one);
	g_test_add_func("/escpos-receipt/print-bad-input", test_print_bad_input);
	g_test_add_func("/escpos-receipt/idle-poll", test_idle_poll);
	g_test_add_func("/escpos-receipt/near-end-still-prints", test_near_end_still_prints);
	g_test_add_data_func("/escpos-receipt/before-job/paper-out",
		GINT_TO_POINTER(SIM_ESCPOS_FAULT_PAPER_OUT), test_fault_before_job);
	g_test_add_data_func("/escpos-receipt/before-job/cover-open",
		GINT_TO_POINTER(SIM_ESCPOS_FAULT_COVER_OPEN), test_fault_before_job);
	g_test_add_data_func("/escpos-receipt/during-job/paper-out",
		GINT_TO_POINTER(SIM_ESCPOS_FAULT_PAPER_OUT), test_fault_during_job);
	g_test_add_data_func("/escpos-receipt/during-job/cover-open",
		GINT_TO_POINTER(SIM_ESCPOS_FAULT_COVER_OPEN), test_fault_during_job);
	g_test_add_data_func("/escpos-receipt/during-job/disconnect",
		GINT_TO_POINTER(SIM_ESCPOS_FAULT_DISCONNECT), test_fault_during_job);
	g_test_add_func("/escpos-receipt/paper-out-before-confirmation",
		test_paper_out_before_confirmation);
	g_test_add_func("/escpos-receipt/backpressure-pause", test_backpressure_pause);
	g_test_add_func("/escpos-receipt/dle-eot-inside-raster", test_dle_eot_inside_raster);
	g_test_add_func("/escpos-receipt/status-bits", test_status_bits);
	g_test_add_func("/escpos-receipt/garbage-replies", test_garbage_replies);
	g_test_add_func("/escpos-receipt/no-answer", test_no_answer);
	g_test_add_func("/escpos-receipt/stall-resume", test_stall_resume);
	g_test_add_func("/escpos-receipt/disconnect-idle", test_disconnect_idle);
	g_test_add_func("/escpos-receipt/stops-taking", test_stops_taking);
	return g_test_run();
}
