/*
 * Round trips per second through usbx against an emulated NV9USB (eSSP SYNC: 6 bytes out, 6
 * back), next to a plain synchronous libusb loop on a twin device in the same run, and the CPU
 * an idle usbx costs while its IN transfer waits. Command (README, "USB devices and udev"):
 *     build/bench/usb/bench-usb [ROUND_TRIPS]            (default 3000)
 *     taskset -c 0 build/bench/usb/bench-usb             (one CPU: no cross-core wake-ups)
 */
#include <glib.h>
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "drivers/protocol/essp/essp.h"
#include "drivers/sim/essp/sim-essp.h"
#include "tests/usb/usbtest.h"

static double cpu_s(void)
{
	struct rusage r;
	if (getrusage(RUSAGE_SELF, &r) != 0)
		return 0;
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

struct frame_wait {
	struct usbtest_dev *d;
	struct essp_decoder dec;
	struct essp_frame f;
};

static bool got_frame(void *arg)
{
	struct frame_wait *w = arg;
	uint8_t buf[ESSP_WIRE_MAX];
	ssize_t n = transport_read(w->d->t, buf, sizeof(buf));
	size_t used = 0;
	return n > 0 && essp_decoder_feed(&w->dec, buf, (size_t)n, &used, &w->f) == ESSP_DEC_FRAME;
}

/* The same exchange with blocking libusb calls, as a driver without usbx would do it. */
static double raw_loop(const char *serial, int n, const struct essp_packet *pkt)
{
	libusb_context *ctx = NULL;
	libusb_device_handle *h = NULL;
	if (libusb_init(&ctx) < 0)
		exit(1);
	libusb_device **list = NULL;
	ssize_t k = libusb_get_device_list(ctx, &list);
	for (ssize_t i = 0; i < k && !h; i++) {
		struct libusb_device_descriptor dd;
		unsigned char s[64];
		if (libusb_get_device_descriptor(list[i], &dd) < 0 || dd.idVendor != 0x191c ||
		    libusb_open(list[i], &h) < 0)
			continue;
		if (libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, s, sizeof(s)) < 0 ||
		    strcmp((char *)s, serial) != 0) {
			libusb_close(h);
			h = NULL;
		}
	}
	libusb_free_device_list(list, 1);
	if (!h || libusb_set_auto_detach_kernel_driver(h, 1) < 0 || libusb_claim_interface(h, 1) < 0)
		exit(1);
	gint64 t0 = g_get_monotonic_time();
	for (int i = 0; i < n; i++) {
		int done = 0;
		uint8_t in[64];
		if (libusb_bulk_transfer(h, 0x02, (unsigned char *)pkt->bytes, (int)pkt->len, &done, 1000) < 0 ||
		    libusb_bulk_transfer(h, 0x81, in, sizeof(in), &done, 1000) < 0 || done < 6)
			exit(1);
	}
	double s = (double)(g_get_monotonic_time() - t0) / 1e6;
	libusb_release_interface(h, 1);
	libusb_close(h);
	libusb_exit(ctx);
	return s;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3000;
	struct kio_error err;
	usbtest_main_init();
	struct sim_essp *ma = sim_essp_new(NULL, 0, &err), *mb = sim_essp_new(NULL, 0, &err);
	struct sim_model a, b;
	sim_model_essp(&a, ma);
	sim_model_essp(&b, mb);
	struct usbtest u;
	usbtest_init(&u);
	struct usbtest_dev *d = usbtest_attach(&u, "191c:4104:USBX,if=1", &a, NULL);
	struct usbx_id raw_id;
	struct usbemu_config raw_cfg;
	usbx_id_parse("191c:4104:RAW,if=1", &raw_id, &err);
	usbtest_default_config(&b, &raw_id, &raw_cfg);
	usbemu_add(u.emu, &raw_cfg, &b);

	/* SYNC: always answered OK, never a repeat, so every round trip does the same work. */
	struct essp_seq seq;
	struct essp_cmd cmd;
	struct essp_packet pkt;
	essp_seq_init(&seq, ESSP_ADDR_VALIDATOR);
	essp_cmd_sync(&cmd);
	essp_seq_prepare(&seq, &cmd, &pkt);

	double raw = raw_loop("RAW", n, &pkt);

	struct frame_wait w = {.d = d};
	double c0 = cpu_s();
	gint64 t0 = g_get_monotonic_time();
	for (int i = 0; i < n; i++) {
		essp_decoder_init(&w.dec);
		if (transport_write(d->t, pkt.bytes, pkt.len) != 0 || !usbtest_wait(d, got_frame, &w, 5000)) {
			fprintf(stderr, "usbx round trip %d failed\n", i);
			return 1;
		}
	}
	double s = (double)(g_get_monotonic_time() - t0) / 1e6;
	double cpu = cpu_s() - c0;

	double i0 = cpu_s();
	g_usleep(2 * G_USEC_PER_SEC);
	double idle = cpu_s() - i0;

	printf("usb bench: %d eSSP SYNC round trips (6 B out, 6 B in) per loop\n", n);
	printf("  raw libusb, synchronous:  %7.0f round trips/s  (%.1f us each)\n", n / raw,
	       raw * 1e6 / n);
	printf("  usbx, async + wake:       %7.0f round trips/s  (%.1f us each, %.0f%% of raw; "
	       "process CPU %.2f s)\n",
	       n / s, s * 1e6 / n, 100.0 * raw / s, cpu);
	printf("  idle, IN transfer pending: %.4f s CPU in 2.0 s (%.2f%%)\n", idle, 50.0 * idle);
	usbtest_fini(&u);
	sim_essp_free(ma);
	sim_essp_free(mb);
	return 0;
}
