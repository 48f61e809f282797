/*
 * The usbx transport over real libusb against the three device models emulated with umockdev:
 * protocol exchanges with the real codecs, silence, NAK back-pressure, stalls, ZLPs, unplug
 * mid-transfer, replug and reopen, several devices at once. Waits are on wake-ups with
 * generous deadlines; nothing sleeps except the idle-CPU measurement.
 */
#include <glib.h>
#include <pthread.h>
#include <time.h>
#include <string.h>
#include <sys/resource.h>

#include "drivers/protocol/escpos/escpos.h"
#include "drivers/protocol/essp/essp.h"
#include "drivers/protocol/evolis/evolis.h"
#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "drivers/transport/usb-ids.h"
#include "tests/usb/usbtest.h"

/* Long enough for a loaded CI runner under ASan; a passing test never waits this long. */
#define WAIT_MS 10000

/* ---- eSSP over usbx ---- */

struct essp_link {
	struct usbtest_dev *d;
	struct essp_seq seq;
	struct essp_decoder dec;
	struct essp_packet pkt;
	struct essp_frame reply;
	uint8_t buf[2 * ESSP_WIRE_MAX];
	size_t len;
};

static void essp_link_init(struct essp_link *l, struct usbtest_dev *d)
{
	memset(l, 0, sizeof(*l));
	l->d = d;
	essp_seq_init(&l->seq, ESSP_ADDR_VALIDATOR);
	essp_decoder_init(&l->dec);
}

/* Feeds what arrived into the decoder; true once a frame is complete. */
static bool essp_frame_ready(void *arg)
{
	struct essp_link *l = arg;
	ssize_t n = transport_read(l->d->t, l->buf + l->len, sizeof(l->buf) - l->len);
	if (n > 0)
		l->len += (size_t)n;
	size_t used = 0;
	enum essp_dec_result r = essp_decoder_feed(&l->dec, l->buf, l->len, &used, &l->reply);
	memmove(l->buf, l->buf + used, l->len - used);
	l->len -= used;
	g_assert_cmpint(r, !=, ESSP_DEC_BAD_CRC);
	return r == ESSP_DEC_FRAME;
}

static bool out_drained(void *arg) { return transport_out_pending(arg) == 0; }

/* One command, one reply, with the sequence rule; KIO_ERR_TIMEOUT if nothing comes. */
static int essp_xfer_ms(struct essp_link *l, const struct essp_cmd *cmd, int timeout_ms)
{
	g_assert_cmpint(essp_seq_prepare(&l->seq, cmd, &l->pkt), ==, 0);
	int rc = transport_write(l->d->t, l->pkt.bytes, l->pkt.len);
	if (rc)
		return rc;
	if (!usbtest_wait(l->d, essp_frame_ready, l, timeout_ms))
		return KIO_ERR_TIMEOUT;
	struct kio_error err;
	g_assert_cmpint(essp_seq_on_reply(&l->seq, &l->pkt, &l->reply, &err), ==, 0);
	return 0;
}

static uint8_t essp_simple(struct essp_link *l, void (*build)(struct essp_cmd *))
{
	struct essp_cmd c;
	build(&c);
	g_assert_cmpint(essp_xfer_ms(l, &c, WAIT_MS), ==, 0);
	g_assert_cmpuint(l->reply.len, >=, 1);
	return l->reply.data[0];
}

/* SYNC, protocol 7, SETUP REQUEST, all channels, ENABLE: the validator takes notes. */
static void essp_start(struct essp_link *l, struct essp_setup *setup)
{
	struct essp_cmd c;
	struct kio_error err;
	g_assert_cmphex(essp_simple(l, essp_cmd_sync), ==, ESSP_RESP_OK);
	g_assert_cmpint(essp_cmd_host_protocol_version(&c, 7), ==, 0);
	g_assert_cmpint(essp_xfer_ms(l, &c, WAIT_MS), ==, 0);
	g_assert_cmphex(l->reply.data[0], ==, ESSP_RESP_OK);
	essp_cmd_setup_request(&c);
	g_assert_cmpint(essp_xfer_ms(l, &c, WAIT_MS), ==, 0);
	g_assert_cmpint(essp_setup_parse(l->reply.data, l->reply.len, setup, &err), ==, 0);
	essp_cmd_set_inhibits(&c, 0x00FF);
	g_assert_cmpint(essp_xfer_ms(l, &c, WAIT_MS), ==, 0);
	g_assert_cmphex(l->reply.data[0], ==, ESSP_RESP_OK);
	g_assert_cmphex(essp_simple(l, essp_cmd_enable), ==, ESSP_RESP_OK);
}

/* Polls until CREDIT; returns the credited value in fils and checks READ came first. */
static int64_t essp_poll_until_credit(struct essp_link *l, const struct essp_setup *setup)
{
	struct essp_poll poll;
	struct kio_error err;
	int64_t escrow_fils = 0;
	for (int i = 0; i < 20; i++) {
		g_assert_cmphex(essp_simple(l, essp_cmd_poll), ==, ESSP_RESP_OK);
		g_assert_cmpint(essp_poll_parse(l->reply.data, l->reply.len, 7, &poll, &err), ==, 0);
		for (size_t k = 0; k < poll.n; k++) {
			const struct essp_event *ev = &poll.ev[k];
			if (ev->code == ESSP_EV_READ && ev->data > 0)
				g_assert_cmpint(essp_setup_channel_fils(setup, ev->data, &escrow_fils, &err), ==, 0);
			if (ev->code == ESSP_EV_CREDIT) {
				int64_t fils = 0;
				g_assert_cmpint(essp_setup_channel_fils(setup, ev->data, &fils, &err), ==, 0);
				g_assert_cmpint(escrow_fils, ==, fils); /* READ ch (escrow) came first */
				return fils;
			}
		}
	}
	g_assert_not_reached();
	return 0;
}

static struct sim_essp *new_validator(struct sim_model *model)
{
	struct kio_error err;
	struct sim_essp *m = sim_essp_new(NULL, 0, &err);
	g_assert_nonnull(m);
	sim_model_essp(model, m);
	return m;
}

static void insert_note(struct usbtest_dev *d, struct sim_essp *m, int64_t fils)
{
	usbemu_lock(d->emu);
	int rc = sim_essp_insert_note(m, fils);
	usbemu_unlock(d->emu);
	g_assert_cmpint(rc, ==, 0);
}

static void test_essp_note(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_essp *m = new_validator(&model);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_CASH_DEFAULT, &model, NULL);
	/* cdc_acm had the data interface; usbx detached it to claim it. */
	g_assert_false(usbemu_kernel_driver_bound(d->emu));

	struct essp_link l;
	struct essp_setup setup;
	essp_link_init(&l, d);
	essp_start(&l, &setup);
	insert_note(d, m, 2000);
	g_assert_cmpint(essp_poll_until_credit(&l, &setup), ==, 2000);
	struct sim_essp_state st;
	sim_essp_get_state(m, &st);
	g_assert_cmpuint(st.repeats, ==, 0); /* every frame reached the device once */

	usbtest_fini(&u);
	sim_essp_free(m);
}

static bool no_frame_yet(void *arg) { return essp_frame_ready(arg); }

/* A hung validator: the bytes leave, nothing comes back, the transport stays up, and the
 * byte-identical resend (sequence rule 3) is answered once the device recovers. */
static void test_essp_no_answer(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_essp *m = new_validator(&model);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_CASH_DEFAULT, &model, NULL);
	struct essp_link l;
	essp_link_init(&l, d);
	g_assert_cmphex(essp_simple(&l, essp_cmd_sync), ==, ESSP_RESP_OK);

	usbemu_lock(d->emu);
	sim_essp_set_fault(m, SIM_ESSP_FAULT_NO_ANSWER, true);
	usbemu_unlock(d->emu);
	struct essp_cmd c;
	essp_cmd_poll(&c);
	g_assert_cmpint(essp_xfer_ms(&l, &c, 300), ==, KIO_ERR_TIMEOUT);
	g_assert_true(usbtest_wait(d, out_drained, d->t, WAIT_MS));
	g_assert_true(transport_connected(d->t));

	usbemu_lock(d->emu);
	sim_essp_set_fault(m, SIM_ESSP_FAULT_NO_ANSWER, false);
	usbemu_unlock(d->emu);
	g_assert_cmpint(transport_write(d->t, l.pkt.bytes, l.pkt.len), ==, 0);
	g_assert_true(usbtest_wait(d, no_frame_yet, &l, WAIT_MS));
	struct kio_error err;
	g_assert_cmpint(essp_seq_on_reply(&l.seq, &l.pkt, &l.reply, &err), ==, 0);
	g_assert_cmphex(l.reply.data[0], ==, ESSP_RESP_OK);

	usbtest_fini(&u);
	sim_essp_free(m);
}

/* Two validators with one VID:PID: the serial picks the device. */
static void test_essp_serial(void)
{
	struct usbtest u;
	struct sim_model ma, mb;
	struct sim_essp *a = new_validator(&ma), *b = new_validator(&mb);
	usbtest_init(&u);
	usbtest_attach(&u, "191c:4104:AAAA,if=1", &ma, NULL);
	struct usbtest_dev *d = usbtest_attach(&u, "191c:4104:BBBB,if=1", &mb, NULL);
	struct essp_link l;
	essp_link_init(&l, d);
	g_assert_cmphex(essp_simple(&l, essp_cmd_sync), ==, ESSP_RESP_OK);
	struct sim_essp_state sa, sb;
	sim_essp_get_state(a, &sa);
	sim_essp_get_state(b, &sb);
	g_assert_cmpuint(sa.executed, ==, 0);
	g_assert_cmpuint(sb.executed, ==, 1);
	usbtest_fini(&u);
	sim_essp_free(a);
	sim_essp_free(b);
}

struct reopen_arg {
	struct usbtest_dev *d;
	int rc;
};

static bool reopened(void *arg)
{
	struct reopen_arg *r = arg;
	struct kio_error err;
	r->rc = transport_reopen(r->d->t, &err);
	return r->rc == 0;
}

static bool disconnected(void *arg) { return !transport_connected(arg); }

/* The cable is pulled with the IN transfer pending, then put back. */
static void test_essp_unplug_replug(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_essp *m = new_validator(&model);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_CASH_DEFAULT, &model, NULL);
	struct essp_link l;
	struct essp_setup setup;
	essp_link_init(&l, d);
	essp_start(&l, &setup);
	unsigned addr = usbemu_address(d->emu);

	unsigned wakes = usbtest_wakes(d);
	usbemu_lock(d->emu);
	sim_essp_set_fault(m, SIM_ESSP_FAULT_DISCONNECT, true);
	usbemu_unlock(d->emu);
	g_assert_true(usbtest_wait(d, disconnected, d->t, WAIT_MS));
	g_assert_cmpuint(usbtest_wakes(d), >, wakes);
	uint8_t b = ESSP_STX;
	g_assert_cmpint(transport_write(d->t, &b, 1), ==, KIO_ERR_NO_DEVICE);
	g_assert_cmpint(transport_read(d->t, &b, 1), ==, KIO_ERR_NO_DEVICE);
	struct kio_error err;
	g_assert_cmpint(transport_reopen(d->t, &err), ==, KIO_ERR_NO_DEVICE);

	wakes = usbtest_wakes(d);
	usbemu_lock(d->emu);
	sim_essp_set_fault(m, SIM_ESSP_FAULT_DISCONNECT, false);
	usbemu_unlock(d->emu);
	g_assert_true(usbtest_wait_wakes(d, wakes, WAIT_MS)); /* hotplug: it arrived */
	struct reopen_arg r = {d, 1};
	g_assert_true(usbtest_wait(d, reopened, &r, WAIT_MS));
	g_assert_cmpuint(usbemu_address(d->emu), !=, addr);
	/* A driver resynchronises after reopen (transport.h invariant 2). */
	essp_link_init(&l, d);
	essp_start(&l, &setup);
	insert_note(d, m, 5000);
	g_assert_cmpint(essp_poll_until_credit(&l, &setup), ==, 5000);
	struct usbx_stats st;
	usbx_get_stats(d->t, &st);
	g_assert_cmpuint(st.opens, ==, 2);
	g_assert_cmpuint(st.lost, ==, 1);

	usbtest_fini(&u);
	sim_essp_free(m);
}

/* A device missing at start: the transport waits, the arrival wakes it, reopen opens it. */
static void test_absent_at_start(void)
{
	struct usbtest u;
	struct usbtest_dev *d = NULL;
	struct kio_error err;
	usbtest_init(&u);
	g_assert_cmpint(usbtest_open(&u, USB_ID_CARD_DEFAULT, &d, &err), ==, KIO_ERR_NO_DEVICE);
	g_assert_false(transport_connected(d->t));
	g_assert_cmpint(transport_reopen(d->t, &err), ==, KIO_ERR_NO_DEVICE);

	struct sim_evolis *prn = NULL;
	g_assert_cmpint(sim_evolis_new(NULL, &prn, &err), ==, 0);
	struct sim_model model;
	sim_model_evolis(&model, prn);
	struct usbemu_config cfg;
	usbtest_default_config(&model, &d->id, &cfg);
	unsigned wakes = usbtest_wakes(d);
	d->emu = usbemu_add(u.emu, &cfg, &model);
	if (usbx_context_has_hotplug(u.ctx))
		g_assert_true(usbtest_wait_wakes(d, wakes, WAIT_MS));
	g_assert_cmpint(transport_reopen(d->t, &err), ==, 0);
	g_assert_false(usbemu_kernel_driver_bound(d->emu)); /* usblp detached */
	usbtest_fini(&u);
	sim_evolis_free(prn);
}

/*
 * The wake function runs with no usbx lock held, from the hotplug callback too (the locking
 * rule in usbx.c). A kiosk whose wake function waits a moment for its main thread, while
 * that thread opens a transport (which takes the context's lock), deadlocked before: the
 * hotplug callback held that lock across the wake. Here the wake waits up to 3 s for the
 * main thread to open another transport; it must get through.
 */
struct probe {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool in_wake, opened, opened_in_time, done;
};

static void probe_wake(void *user)
{
	struct probe *p = user;
	pthread_mutex_lock(&p->lock);
	if (p->in_wake) { /* only the first wake waits */
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->in_wake = true;
	pthread_cond_broadcast(&p->cond);
	gint64 until = g_get_monotonic_time() + 3 * G_TIME_SPAN_SECOND;
	while (!p->opened && g_get_monotonic_time() < until) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 0};
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	p->opened_in_time = p->opened;
	p->done = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void test_hotplug_wake_unlocked(void)
{
	struct usbtest u;
	struct usbtest_dev *d = NULL;
	struct kio_error err;
	usbtest_init(&u);
	if (!usbx_context_has_hotplug(u.ctx)) {
		usbtest_fini(&u);
		g_test_skip("libusb has no hotplug here");
		return;
	}
	struct probe p = {.in_wake = false};
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	u.on_any_wake = probe_wake;
	u.on_any_wake_user = &p;
	g_assert_cmpint(usbtest_open(&u, USB_ID_CARD_DEFAULT, &d, &err), ==, KIO_ERR_NO_DEVICE);

	struct sim_evolis *prn = NULL;
	g_assert_cmpint(sim_evolis_new(NULL, &prn, &err), ==, 0);
	struct sim_model model;
	sim_model_evolis(&model, prn);
	struct usbemu_config cfg;
	usbtest_default_config(&model, &d->id, &cfg);
	d->emu = usbemu_add(u.emu, &cfg, &model); /* the arrival: hotplug wakes d */

	pthread_mutex_lock(&p.lock);
	gint64 until = g_get_monotonic_time() + WAIT_MS * G_TIME_SPAN_MILLISECOND;
	while (!p.in_wake && g_get_monotonic_time() < until) {
		pthread_mutex_unlock(&p.lock);
		g_usleep(1000);
		pthread_mutex_lock(&p.lock);
	}
	g_assert_true(p.in_wake);
	pthread_mutex_unlock(&p.lock);
	/* The main thread opens a transport while the wake is running. */
	struct usbtest_dev *other = NULL;
	g_assert_cmpint(usbtest_open(&u, USB_ID_RECEIPT_DEFAULT, &other, &err), ==, KIO_ERR_NO_DEVICE);
	pthread_mutex_lock(&p.lock);
	p.opened = true;
	pthread_cond_broadcast(&p.cond);
	while (!p.done)
		pthread_cond_wait(&p.cond, &p.lock);
	pthread_mutex_unlock(&p.lock);
	g_assert_true(p.opened_in_time);
	g_assert_cmpint(transport_reopen(d->t, &err), ==, 0);

	usbtest_fini(&u);
	sim_evolis_free(prn);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
}

/* ---- ESC/POS over usbx ---- */

static struct sim_escpos *new_printer(struct sim_model *model, size_t rx_capacity)
{
	struct kio_error err;
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	if (rx_capacity)
		cfg.rx_capacity = rx_capacity;
	struct sim_escpos *p = NULL;
	g_assert_cmpint(sim_escpos_new(&cfg, &p, &err), ==, 0);
	sim_model_escpos(model, p);
	return p;
}

/* ESC @, a 576-dot band of `rows` rows of `pattern`, then a second band of `pattern2`, cut. */
static void receipt_job(struct core_bytebuf *b, int rows, uint8_t pattern, uint8_t pattern2)
{
	struct kio_error err;
	escpos_encode_init(b);
	for (int band = 0; band < 2; band++) {
		struct escpos_bitmap *bm = NULL;
		g_assert_cmpint(escpos_bitmap_new(ESCPOS_WIDTH_80MM_203DPI, rows, &bm, &err), ==, 0);
		memset(bm->bits, band ? pattern2 : pattern, (size_t)bm->stride * (size_t)rows);
		g_assert_cmpint(escpos_encode_raster(b, bm, 0, &err), ==, 0);
		escpos_bitmap_free(bm);
	}
	escpos_encode_cut(b, ESCPOS_CUT_FULL, 0);
}

/* DLE EOT 1..4, each answered by one status byte. */
static void check_status(struct usbtest_dev *d, bool want_cover_open)
{
	struct core_bytebuf b = {0};
	struct kio_error err;
	for (int k = 1; k <= 4; k++)
		g_assert_cmpint(escpos_encode_status_request(&b, k, &err), ==, 0);
	g_assert_cmpint(transport_write(d->t, b.data, b.len), ==, 0);
	core_bytebuf_free(&b);
	uint8_t reply[4];
	g_assert_true(usbtest_read_n(d, reply, sizeof(reply), WAIT_MS));
	struct escpos_status st;
	escpos_status_init(&st);
	for (int k = 1; k <= 4; k++)
		g_assert_cmpint(escpos_status_parse(&st, k, reply[k - 1], &err), ==, 0);
	g_assert_cmpint(st.cover_open, ==, want_cover_open);
	g_assert_cmpint(escpos_status_ready(&st), ==, !want_cover_open);
	uint8_t extra;
	g_assert_cmpint(transport_read(d->t, &extra, 1), ==, 0);
}

static void check_page(const struct sim_escpos_page *page, int rows, uint8_t p1, uint8_t p2)
{
	g_assert_cmpint(page->height, >=, 2 * rows);
	for (int y = 0; y < 2 * rows; y++) {
		uint8_t want = y < rows ? p1 : p2;
		for (int x = 0; x < 8; x++)
			g_assert_cmpint(sim_escpos_page_get(page, x, y), ==, (want >> (7 - x)) & 1);
	}
	size_t ink = (size_t)rows * 576 * (size_t)(__builtin_popcount(p1) + __builtin_popcount(p2)) / 8;
	g_assert_cmpuint(sim_escpos_page_ink(page), ==, ink);
}

static void test_escpos_receipt(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_escpos *prn = new_printer(&model, 0);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_RECEIPT_DEFAULT, &model, NULL);
	g_assert_false(usbemu_kernel_driver_bound(d->emu));

	check_status(d, false);
	struct core_bytebuf job = {0};
	receipt_job(&job, 4, 0xAA, 0x0F);
	g_assert_cmpint(transport_write(d->t, job.data, job.len), ==, 0);
	core_bytebuf_free(&job);
	g_assert_true(usbtest_wait(d, out_drained, d->t, WAIT_MS));
	check_status(d, false); /* answered after the job: the job has been processed */
	g_assert_cmpuint(sim_escpos_receipt_count(prn), ==, 1);
	check_page(sim_escpos_receipt(prn, 0), 4, 0xAA, 0x0F);

	usbtest_fini(&u);
	sim_escpos_free(prn);
}

struct emu_naks {
	struct usbemu_dev *emu;
	unsigned long at_least;
};

static bool emu_naked(void *arg)
{
	struct emu_naks *n = arg;
	struct usbemu_stats st;
	usbemu_get_stats(n->emu, &st);
	return st.naks >= n->at_least;
}

static void set_cover(struct usbtest_dev *d, struct sim_escpos *prn, bool open)
{
	usbemu_lock(d->emu);
	sim_escpos_fault_set(prn, SIM_ESCPOS_FAULT_COVER_OPEN, open);
	usbemu_unlock(d->emu);
}

/* Cover open: the printer's 64-byte buffer fills and it NAKs; the rest waits, in order. */
static void test_escpos_nak(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_escpos *prn = new_printer(&model, 64);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_RECEIPT_DEFAULT, &model, NULL);

	set_cover(d, prn, true);
	struct core_bytebuf job = {0};
	receipt_job(&job, 16, 0xAA, 0x0F);
	g_assert_cmpint(transport_write(d->t, job.data, job.len), ==, 0);
	struct emu_naks n = {d->emu, 1};
	g_assert_true(usbtest_poll(emu_naked, &n, WAIT_MS));
	g_assert_cmpuint(transport_out_pending(d->t), >, 0);
	g_assert_cmpuint(transport_out_pending(d->t), <=, job.len);
	g_assert_cmpuint(sim_escpos_receipt_count(prn), ==, 0);
	core_bytebuf_free(&job);

	set_cover(d, prn, false);
	g_assert_true(usbtest_wait(d, out_drained, d->t, WAIT_MS));
	check_status(d, false);
	g_assert_cmpuint(sim_escpos_receipt_count(prn), ==, 1);
	check_page(sim_escpos_receipt(prn, 0), 16, 0xAA, 0x0F);

	usbtest_fini(&u);
	sim_escpos_free(prn);
}

/* Unplugged while an OUT transfer is held by a NAK and the IN transfer is pending. */
static void test_escpos_unplug_mid_transfer(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_escpos *prn = new_printer(&model, 64);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_RECEIPT_DEFAULT, &model, NULL);

	set_cover(d, prn, true);
	struct core_bytebuf job = {0};
	receipt_job(&job, 16, 0xFF, 0xFF);
	g_assert_cmpint(transport_write(d->t, job.data, job.len), ==, 0);
	core_bytebuf_free(&job);
	struct emu_naks n = {d->emu, 1};
	g_assert_true(usbtest_poll(emu_naked, &n, WAIT_MS));

	unsigned wakes = usbtest_wakes(d);
	usbemu_lock(d->emu);
	sim_escpos_fault_set(prn, SIM_ESCPOS_FAULT_DISCONNECT, true);
	usbemu_unlock(d->emu);
	g_assert_true(usbtest_wait(d, disconnected, d->t, WAIT_MS));
	g_assert_cmpuint(usbtest_wakes(d), >, wakes);
	g_assert_cmpuint(transport_out_pending(d->t), ==, 0); /* dropped, never delivered later */
	uint8_t b = 0x10;
	g_assert_cmpint(transport_write(d->t, &b, 1), ==, KIO_ERR_NO_DEVICE);
	g_assert_cmpint(transport_read(d->t, &b, 1), ==, KIO_ERR_NO_DEVICE);

	usbemu_lock(d->emu);
	sim_escpos_fault_set(prn, SIM_ESCPOS_FAULT_DISCONNECT, false);
	sim_escpos_fault_set(prn, SIM_ESCPOS_FAULT_COVER_OPEN, false);
	sim_escpos_power_cycle(prn); /* a replugged printer starts empty */
	usbemu_unlock(d->emu);
	struct reopen_arg r = {d, 1};
	g_assert_true(usbtest_wait(d, reopened, &r, WAIT_MS));
	check_status(d, false);
	g_assert_cmpuint(sim_escpos_receipt_count(prn), ==, 0); /* the half job never printed */
	struct core_bytebuf job2 = {0};
	receipt_job(&job2, 2, 0xF0, 0x3C);
	g_assert_cmpint(transport_write(d->t, job2.data, job2.len), ==, 0);
	core_bytebuf_free(&job2);
	g_assert_true(usbtest_wait(d, out_drained, d->t, WAIT_MS));
	check_status(d, false);
	g_assert_cmpuint(sim_escpos_receipt_count(prn), ==, 1);
	check_page(sim_escpos_receipt(prn, 0), 2, 0xF0, 0x3C);

	usbtest_fini(&u);
	sim_escpos_free(prn);
}

static bool saw_zlp(void *arg)
{
	struct usbx_stats st;
	usbx_get_stats(arg, &st);
	return st.zero_length >= 1;
}

/* 4096 status bytes fill the 4096-byte IN transfer exactly: the device ends them with a
 * zero-length packet, which arrives as an empty completion and delivers nothing. */
static void test_escpos_zlp(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_escpos *prn = new_printer(&model, 0);
	usbtest_init(&u);
	struct usbx_id id;
	struct kio_error err;
	g_assert_cmpint(usbx_id_parse(USB_ID_RECEIPT_DEFAULT, &id, &err), ==, 0);
	struct usbemu_config cfg;
	usbtest_default_config(&model, &id, &cfg);
	cfg.zlp = true;
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_RECEIPT_DEFAULT, &model, &cfg);

	enum { N = 4096 };
	struct core_bytebuf b = {0};
	for (int i = 0; i < N; i++)
		g_assert_cmpint(escpos_encode_status_request(&b, 1, &err), ==, 0);
	g_assert_cmpint(transport_write(d->t, b.data, b.len), ==, 0);
	core_bytebuf_free(&b);
	static uint8_t reply[N];
	g_assert_true(usbtest_read_n(d, reply, N, WAIT_MS));
	for (int i = 0; i < N; i++)
		g_assert_cmphex(reply[i], ==, reply[0]);
	/* The ZLP wakes nobody (it carries no bytes): watch the counter. */
	g_assert_true(usbtest_poll(saw_zlp, d->t, WAIT_MS));
	check_status(d, false); /* the stream goes on after the ZLP */

	usbtest_fini(&u);
	sim_escpos_free(prn);
}

/* A stalled bulk OUT: usbx clears the halt on its event thread and resends. */
static void test_escpos_stall(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_escpos *prn = new_printer(&model, 0);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_RECEIPT_DEFAULT, &model, NULL);
	usbemu_stall_next(d->emu, 0x01);
	check_status(d, false);
	struct usbx_stats st;
	usbx_get_stats(d->t, &st);
	g_assert_cmpuint(st.stalls, ==, 1);
	usbtest_fini(&u);
	sim_escpos_free(prn);
}

static void test_queue_bound(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_escpos *prn = new_printer(&model, 0);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_RECEIPT_DEFAULT, &model, NULL);
	size_t big = (4u << 20) + 1;
	uint8_t *junk = g_malloc0(big);
	g_assert_cmpint(transport_write(d->t, junk, big), ==, KIO_ERR_BUSY);
	g_assert_cmpuint(transport_out_pending(d->t), ==, 0); /* nothing queued */
	g_free(junk);
	check_status(d, false);
	usbtest_fini(&u);
	sim_escpos_free(prn);
}

/* ---- Evolis over usbx ---- */

struct evolis_link {
	struct usbtest_dev *d;
	uint8_t buf[EVOLIS_REPLY_MAX * 2];
	size_t len;
	struct evolis_reply reply;
};

static bool evolis_reply_ready(void *arg)
{
	struct evolis_link *l = arg;
	ssize_t n = transport_read(l->d->t, l->buf + l->len, sizeof(l->buf) - l->len);
	if (n > 0)
		l->len += (size_t)n;
	size_t frame = 0;
	struct kio_error err;
	g_assert_cmpint(evolis_reply_frame(l->buf, l->len, &frame, &err), ==, 0);
	if (frame == 0)
		return false;
	g_assert_cmpint(evolis_reply_parse(l->buf, frame, &l->reply, &err), ==, 0);
	memmove(l->buf, l->buf + frame, l->len - frame);
	l->len -= frame;
	return true;
}

static void evolis_read(struct evolis_link *l, enum evolis_read what)
{
	struct core_bytebuf b = {0};
	struct kio_error err;
	g_assert_cmpint(evolis_encode_read(&b, what, &err), ==, 0);
	g_assert_cmpint(transport_write(l->d->t, b.data, b.len), ==, 0);
	core_bytebuf_free(&b);
	g_assert_true(usbtest_wait(l->d, evolis_reply_ready, l, WAIT_MS));
}

static void test_evolis_status(void)
{
	struct usbtest u;
	struct kio_error err;
	struct sim_evolis *prn = NULL;
	g_assert_cmpint(sim_evolis_new(NULL, &prn, &err), ==, 0);
	struct sim_model model;
	sim_model_evolis(&model, prn);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_CARD_DEFAULT, &model, NULL);
	struct evolis_link l = {.d = d};
	evolis_read(&l, EVOLIS_READ_SERIAL);
	g_assert_cmpstr(l.reply.text, ==, "SIM0000001");
	evolis_read(&l, EVOLIS_READ_RIBBON_LEFT);
	uint32_t left = 0;
	g_assert_cmpint(evolis_reply_counter(&l.reply, &left, &err), ==, 0);
	g_assert_cmpuint(left, ==, (uint32_t)sim_evolis_ribbon_level(prn));
	evolis_read(&l, EVOLIS_READ_CARDS_INSERTED);
	uint32_t cards = 99;
	g_assert_cmpint(evolis_reply_counter(&l.reply, &cards, &err), ==, 0);
	g_assert_cmpuint(cards, ==, 0);
	usbtest_fini(&u);
	sim_evolis_free(prn);
}

/* ---- all three ---- */

static void test_three_devices(void)
{
	struct usbtest u;
	struct kio_error err;
	struct sim_model mc, mr, mk;
	struct sim_essp *cash = new_validator(&mc);
	struct sim_escpos *receipt = new_printer(&mr, 0);
	struct sim_evolis *card = NULL;
	g_assert_cmpint(sim_evolis_new(NULL, &card, &err), ==, 0);
	sim_model_evolis(&mk, card);
	usbtest_init(&u);
	struct usbtest_dev *dc = usbtest_attach(&u, USB_ID_CASH_DEFAULT, &mc, NULL);
	struct usbtest_dev *dr = usbtest_attach(&u, USB_ID_RECEIPT_DEFAULT, &mr, NULL);
	struct usbtest_dev *dk = usbtest_attach(&u, USB_ID_CARD_DEFAULT, &mk, NULL);

	struct essp_link l;
	struct essp_setup setup;
	essp_link_init(&l, dc);
	essp_start(&l, &setup);
	insert_note(dc, cash, 10000);
	/* Interleaved: a receipt and a card status while the note travels. */
	struct core_bytebuf job = {0};
	receipt_job(&job, 8, 0xC3, 0x81);
	g_assert_cmpint(transport_write(dr->t, job.data, job.len), ==, 0);
	core_bytebuf_free(&job);
	struct evolis_link lk = {.d = dk};
	evolis_read(&lk, EVOLIS_READ_SERIAL);
	g_assert_cmpint(essp_poll_until_credit(&l, &setup), ==, 10000);
	g_assert_true(usbtest_wait(dr, out_drained, dr->t, WAIT_MS));
	check_status(dr, false);
	check_page(sim_escpos_receipt(receipt, 0), 8, 0xC3, 0x81);

	/* The receipt printer leaves; the other two do not notice. */
	usbemu_lock(dr->emu);
	sim_escpos_fault_set(receipt, SIM_ESCPOS_FAULT_DISCONNECT, true);
	usbemu_unlock(dr->emu);
	g_assert_true(usbtest_wait(dr, disconnected, dr->t, WAIT_MS));
	g_assert_cmphex(essp_simple(&l, essp_cmd_poll), ==, ESSP_RESP_OK);
	evolis_read(&lk, EVOLIS_READ_SERIAL);
	g_assert_cmpstr(lk.reply.text, ==, "SIM0000001");
	g_assert_true(transport_connected(dc->t));
	g_assert_true(transport_connected(dk->t));

	usbtest_fini(&u);
	sim_essp_free(cash);
	sim_escpos_free(receipt);
	sim_evolis_free(card);
}

/* The event thread and the emulation cost nothing while a transfer waits for the device. */
static void test_idle_cpu(void)
{
	struct usbtest u;
	struct sim_model model;
	struct sim_essp *m = new_validator(&model);
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, USB_ID_CASH_DEFAULT, &model, NULL);
	struct essp_link l;
	essp_link_init(&l, d);
	g_assert_cmphex(essp_simple(&l, essp_cmd_sync), ==, ESSP_RESP_OK);
	struct rusage r0, r1;
	g_assert_cmpint(getrusage(RUSAGE_SELF, &r0), ==, 0);
	gint64 t0 = g_get_monotonic_time();
	g_usleep(500 * 1000); /* the measurement itself: an IN transfer is pending throughout */
	gint64 t1 = g_get_monotonic_time();
	g_assert_cmpint(getrusage(RUSAGE_SELF, &r1), ==, 0);
	double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
			      r0.ru_stime.tv_sec) +
		     (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
			      r0.ru_stime.tv_usec) / 1e6;
	double wall = (double)(t1 - t0) / 1e6;
	g_test_message("idle: %.3f s wall, %.4f s CPU (%.2f%%) with a bulk IN transfer pending",
		       wall, cpu, 100.0 * cpu / wall);
	g_assert_cmpfloat(cpu, <, 0.1 * wall);
	usbtest_fini(&u);
	sim_essp_free(m);
}

/* ---- configuration strings ---- */

static void test_id_parse(void)
{
	struct usbx_id id;
	struct kio_error err;
	char text[64];
	g_assert_cmpint(usbx_id_parse("191c:4104", &id, &err), ==, 0);
	g_assert_cmphex(id.vid, ==, 0x191c);
	g_assert_cmphex(id.pid, ==, 0x4104);
	g_assert_cmpstr(id.serial, ==, "");
	g_assert_cmpuint(id.interface, ==, 0);
	g_assert_cmpint(usbx_id_parse("04B8:202:TM-001,if=1,in=0x82,out=1", &id, &err), ==, 0);
	g_assert_cmphex(id.pid, ==, 0x0202);
	g_assert_cmpstr(id.serial, ==, "TM-001");
	g_assert_cmpuint(id.interface, ==, 1);
	g_assert_cmphex(id.ep_in, ==, 0x82);
	g_assert_cmphex(id.ep_out, ==, 0x01);
	usbx_id_format(&id, text, sizeof(text));
	g_assert_cmpstr(text, ==, "04b8:0202:TM-001,if=1,in=0x82,out=0x01");
	const char *bad[] = {"", "191c", "191c:", ":4104", "1234x:1", "191c:41045", "g91c:4104",
			     "191c:4104:", "191c:4104,if=256", "191c:4104,in=0x01", "191c:4104,out=0x81",
			     "191c:4104,speed=1", "191c:4104,if", "191c:4104:\x01", "191c:4104,if=1,if=2",
			     "191c:4104,in=0x81,out=1,in=0x82", "191c:4104,out=1,out=1", NULL};
	for (int i = 0; bad[i]; i++) {
		memset(&id, 0x5a, sizeof(id));
		err.msg[0] = '\0';
		g_assert_cmpint(usbx_id_parse(bad[i], &id, &err), ==, KIO_ERR_INVALID);
		g_assert_cmpuint(id.vid, ==, 0x5a5a); /* untouched */
		g_assert_nonnull(strstr(err.msg, "usb id"));
	}
	const char *defaults[] = {USB_ID_CASH_DEFAULT, USB_ID_RECEIPT_DEFAULT, USB_ID_CARD_DEFAULT};
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(usbx_id_parse(defaults[i], &id, &err), ==, 0);
}

int main(int argc, char **argv)
{
	usbtest_main_init();
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/usb/id-parse", test_id_parse);
	g_test_add_func("/usb/essp/note", test_essp_note);
	g_test_add_func("/usb/essp/no-answer", test_essp_no_answer);
	g_test_add_func("/usb/essp/serial", test_essp_serial);
	g_test_add_func("/usb/essp/unplug-replug", test_essp_unplug_replug);
	g_test_add_func("/usb/escpos/receipt", test_escpos_receipt);
	g_test_add_func("/usb/escpos/nak", test_escpos_nak);
	g_test_add_func("/usb/escpos/unplug-mid-transfer", test_escpos_unplug_mid_transfer);
	g_test_add_func("/usb/escpos/zlp", test_escpos_zlp);
	g_test_add_func("/usb/escpos/stall", test_escpos_stall);
	g_test_add_func("/usb/escpos/queue-bound", test_queue_bound);
	g_test_add_func("/usb/evolis/status", test_evolis_status);
	g_test_add_func("/usb/absent-at-start", test_absent_at_start);
	g_test_add_func("/usb/hotplug-wake-unlocked", test_hotplug_wake_unlocked);
	g_test_add_func("/usb/three-devices", test_three_devices);
	g_test_add_func("/usb/idle-cpu", test_idle_cpu);
	return g_test_run();
}
