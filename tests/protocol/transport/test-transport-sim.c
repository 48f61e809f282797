/* The in-process transport: byte order, NAK back-pressure, disconnect and reopen, wake-ups. */
#include <glib.h>
#include <string.h>

#include "drivers/protocol/essp/essp.h"
#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/transport/transport-sim.h"

struct fixture {
	struct core_clock *clock;
	struct sim_essp *essp;
	struct sim_model model;
	struct transport *t;
	int wakes;
};

static void on_wake(void *user) { ((struct fixture *)user)->wakes++; }

static void essp_setup(struct fixture *f, gconstpointer data)
{
	struct kio_error err;
	f->clock = core_clock_new(true, 0);
	f->essp = sim_essp_new(NULL, 0, &err);
	g_assert_nonnull(f->essp);
	sim_model_essp(&f->model, f->essp);
	f->t = transport_sim_new("cash", &f->model, f->clock);
	transport_set_wake(f->t, on_wake, f);
	f->wakes = 0;
}

static void essp_teardown(struct fixture *f, gconstpointer data)
{
	transport_free(f->t);
	sim_essp_free(f->essp);
	core_clock_free(f->clock);
}

/* Sends cmd with the sequence rule and decodes the one reply frame the model gives. */
static int round_trip(struct fixture *f, struct essp_seq *seq, const struct essp_cmd *cmd,
		      struct essp_frame *reply)
{
	struct essp_packet pkt;
	g_assert_cmpint(essp_seq_prepare(seq, cmd, &pkt), ==, 0);
	int rc = transport_write(f->t, pkt.bytes, pkt.len);
	if (rc)
		return rc;
	struct essp_decoder dec;
	essp_decoder_init(&dec);
	uint8_t buf[ESSP_WIRE_MAX];
	ssize_t n = transport_read(f->t, buf, sizeof(buf));
	g_assert_cmpint(n, >, 0);
	size_t used = 0;
	g_assert_cmpint(essp_decoder_feed(&dec, buf, (size_t)n, &used, reply), ==, ESSP_DEC_FRAME);
	g_assert_cmpuint(used, ==, (size_t)n);
	struct kio_error err;
	g_assert_cmpint(essp_seq_on_reply(seq, &pkt, reply, &err), ==, 0);
	return 0;
}

static void test_round_trip(struct fixture *f, gconstpointer data)
{
	struct essp_seq seq;
	essp_seq_init(&seq, ESSP_ADDR_VALIDATOR);
	struct essp_cmd cmd;
	struct essp_frame reply;
	essp_cmd_sync(&cmd);
	g_assert_cmpint(round_trip(f, &seq, &cmd, &reply), ==, 0);
	g_assert_cmpuint(reply.len, ==, 1);
	g_assert_cmpuint(reply.data[0], ==, ESSP_RESP_OK);
	g_assert_cmpint(f->wakes, ==, 1); /* the answer is there to read */
	essp_cmd_get_serial(&cmd);
	g_assert_cmpint(round_trip(f, &seq, &cmd, &reply), ==, 0);
	g_assert_cmpuint(reply.len, ==, 5);
	uint32_t serial = 0;
	struct kio_error err;
	g_assert_cmpint(essp_serial_parse(reply.data, reply.len, &serial, &err), ==, 0);
	g_assert_cmpuint(serial, ==, 0x001C962C);
	uint8_t empty[8];
	g_assert_cmpint(transport_read(f->t, empty, sizeof(empty)), ==, 0);
}

static void test_disconnect_reopen(struct fixture *f, gconstpointer data)
{
	struct essp_seq seq;
	essp_seq_init(&seq, ESSP_ADDR_VALIDATOR);
	struct essp_cmd cmd;
	struct essp_frame reply;
	struct kio_error err;
	essp_cmd_sync(&cmd);
	g_assert_cmpint(round_trip(f, &seq, &cmd, &reply), ==, 0);

	sim_essp_set_fault(f->essp, SIM_ESSP_FAULT_DISCONNECT, true);
	int before = f->wakes;
	transport_sim_notify(f->t);
	g_assert_cmpint(f->wakes, >, before);
	g_assert_false(transport_connected(f->t));
	uint8_t b = 0x7F;
	g_assert_cmpint(transport_write(f->t, &b, 1), ==, KIO_ERR_NO_DEVICE);
	uint8_t buf[8];
	g_assert_cmpint(transport_read(f->t, buf, sizeof(buf)), ==, KIO_ERR_NO_DEVICE);
	g_assert_cmpint(transport_reopen(f->t, &err), ==, KIO_ERR_NO_DEVICE);

	sim_essp_set_fault(f->essp, SIM_ESSP_FAULT_DISCONNECT, false);
	before = f->wakes;
	transport_sim_notify(f->t);
	g_assert_cmpint(f->wakes, >, before); /* the device is back: the driver should reopen */
	g_assert_false(transport_connected(f->t)); /* not until the driver reopens it */
	g_assert_cmpint(transport_reopen(f->t, &err), ==, 0);
	g_assert_true(transport_connected(f->t));
	essp_seq_init(&seq, ESSP_ADDR_VALIDATOR);
	essp_cmd_sync(&cmd);
	g_assert_cmpint(round_trip(f, &seq, &cmd, &reply), ==, 0);
	g_assert_cmpuint(reply.data[0], ==, ESSP_RESP_OK);
}

/* A printer that is offline stops taking bytes; the transport holds them, in order, and
 * delivers them when the printer resumes. */
static void test_nak_backpressure(void)
{
	struct kio_error err;
	struct core_clock *clock = core_clock_new(true, 0);
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.rx_capacity = 64;
	struct sim_escpos *prn = NULL;
	g_assert_cmpint(sim_escpos_new(&cfg, &prn, &err), ==, 0);
	struct sim_model model;
	sim_model_escpos(&model, prn);
	struct transport *t = transport_sim_new("receipt", &model, clock);

	sim_escpos_fault_set(prn, SIM_ESCPOS_FAULT_COVER_OPEN, true);
	/* ESC @, then a 576 x 4 raster band (GS v 0), then a full cut: 300+ bytes. */
	uint8_t job[3 + 8 + 72 * 4 + 3];
	size_t n = 0;
	job[n++] = 0x1B, job[n++] = '@';
	job[n++] = 0x1D, job[n++] = 'v', job[n++] = '0', job[n++] = 0;
	job[n++] = 72, job[n++] = 0, job[n++] = 4, job[n++] = 0;
	memset(job + n, 0xAA, 72 * 4);
	n += 72 * 4;
	job[n++] = 0x1D, job[n++] = 'V', job[n++] = 0;
	g_assert_cmpint(transport_write(t, job, n), ==, 0);
	g_assert_cmpuint(transport_out_pending(t), >, 0);
	g_assert_cmpuint(sim_escpos_receipt_count(prn), ==, 0);

	sim_escpos_fault_set(prn, SIM_ESCPOS_FAULT_COVER_OPEN, false);
	transport_sim_notify(t);
	g_assert_cmpuint(transport_out_pending(t), ==, 0);
	g_assert_cmpuint(sim_escpos_receipt_count(prn), ==, 1);
	const struct sim_escpos_page *page = sim_escpos_receipt(prn, 0);
	g_assert_cmpint(page->height, >=, 4);
	g_assert_cmpuint(sim_escpos_page_ink(page), ==, 576 * 4 / 2);

	transport_free(t);
	sim_escpos_free(prn);
	core_clock_free(clock);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/transport-sim/round-trip", struct fixture, NULL, essp_setup, test_round_trip,
		   essp_teardown);
	g_test_add("/transport-sim/disconnect-reopen", struct fixture, NULL, essp_setup,
		   test_disconnect_reopen, essp_teardown);
	g_test_add_func("/transport-sim/nak-backpressure", test_nak_backpressure);
	return g_test_run();
}
