/*
 * The test port: every call the scenario runner makes into the kiosk, and nothing more. The
 * app fills the table (kiosk/app.c); the runner sees the kiosk only through this header, and
 * the app sees the runner only through kiosk/scenario/runner.h. It exists only in builds with
 * the test port (meson option test_port, on by default for development and CI): an installed
 * kiosk is built without it, so no release build can skip a flow (`goto`) or be driven by a
 * script.
 */
#pragma once

#include <stdint.h>

#include "drivers/class/device.h"
#include "kiosk/core/err.h"
#include "kiosk/kdev.h"
#include "kiosk/screens/screen.h"
#include "kiosk/ui/widget.h"

struct sim_bench;

enum testport_job { TESTPORT_JOB_NONE, TESTPORT_JOB_RUNNING, TESTPORT_JOB_DONE, TESTPORT_JOB_FAILED };

/* Each call takes the kiosk the port was opened on (struct testport's kiosk). */
struct testport_ops {
	/* The page as the customer sees it now (rebuilt first if the state changed). Borrowed. */
	struct ui_page *(*current_page)(void *kiosk);
	enum scr_id (*screen)(void *kiosk);
	/* `goto`: straight to any screen, whatever the flow would allow. */
	void (*go)(void *kiosk, enum scr_id screen);
	/* Pushes a real SDL finger-down/finger-up pair at logical (x, y). */
	int (*push_tap)(void *kiosk, int x, int y, struct kio_error *err);
	/* Writes OUT/name.png of the full screen as drawn. */
	int (*screenshot)(void *kiosk, const char *name, struct kio_error *err);
	/* The simulated devices' hands; NULL unless running with --simulate. */
	struct sim_bench *(*bench)(void *kiosk);
	/* What the technician is shown for dev: its state and its fault's name ("none" when there
	 * is none; static storage). */
	void (*device_status)(void *kiosk, enum kdev dev, enum dev_state *state, const char **fault);
	/* The technician's test print on a printer (kdev_has(dev, KDEV_ROLE_TEST_PRINT)): started,
	 * or refused with err filled. */
	int (*test_print)(void *kiosk, enum kdev dev, struct kio_error *err);
	enum testport_job (*test_print_state)(void *kiosk, enum kdev dev);
	/* Where screenshots and the simulated printers' output go. Borrowed. */
	const char *(*out_dir)(void *kiosk);
	/* The kiosk's database file, for read-only checks (`expect-ledger`). Borrowed. */
	const char *(*db_path)(void *kiosk);
};

struct testport {
	const struct testport_ops *ops;
	void *kiosk;
};
