/* The simulated bench: names, faults through to the models, output files, saved validator state. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "drivers/protocol/essp/essp.h"
#include "drivers/sim/bench.h"

static void test_names(void)
{
	enum sim_bench_dev dev;
	int fault;
	g_assert_cmpint(sim_bench_device_parse("cash", &dev), ==, 0);
	g_assert_cmpint(dev, ==, SIM_BENCH_CASH);
	g_assert_cmpint(sim_bench_device_parse("printer", &dev), ==, KIO_ERR_INVALID);
	g_assert_cmpstr(sim_bench_fault_kinds(SIM_BENCH_CASH), ==,
			"jam stacker-full cashbox-removed fraud no-answer disconnect");
	g_assert_cmpstr(sim_bench_fault_kinds(SIM_BENCH_RECEIPT), ==,
			"paper-near-end paper-out cover-open disconnect paper-runs-out");
	g_assert_cmpstr(sim_bench_fault_kinds(SIM_BENCH_CARD), ==,
			"feeder-empty ribbon-out jam cover-open disconnect");
	g_assert_cmpint(sim_bench_fault_parse(SIM_BENCH_CARD, "ribbon-out", &fault), ==, 0);
	g_assert_cmpint(sim_bench_fault_parse(SIM_BENCH_RECEIPT, "jam", &fault), ==, KIO_ERR_INVALID);
}

static void test_faults_and_files(void)
{
	struct kio_error err;
	char *dir = g_dir_make_tmp("bench-XXXXXX", NULL);
	struct core_clock *clock = core_clock_new(true, 0);
	struct sim_bench_config cfg = {.out_dir = dir};
	struct sim_bench *b = NULL;
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, 0);

	struct transport *cash = sim_bench_transport(b, SIM_BENCH_CASH);
	g_assert_true(transport_connected(cash));
	g_assert_cmpint(sim_bench_fault(b, SIM_BENCH_CASH, 5 /* disconnect */, true), ==, 0);
	g_assert_false(transport_connected(cash));
	g_assert_cmpint(sim_bench_clear_all(b, SIM_BENCH_CASH), ==, 0);
	g_assert_cmpint(transport_reopen(cash, &err), ==, 0);

	/* The validator is disabled at power-up: the bezel refuses notes. */
	g_assert_cmpint(sim_bench_insert_note(b, 5000), ==, KIO_ERR_BUSY);
	g_assert_cmpint(sim_bench_insert_note(b, 700), ==, KIO_ERR_NOT_FOUND);

	g_assert_cmpint(sim_bench_collect_receipt(b, "TXN-1", "x\n", &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_cmpint(sim_bench_collect_receipt(b, "../etc/passwd", NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(sim_bench_collect_card(b, "1234 5678", &err), ==, KIO_ERR_INVALID);

	/* ESC @, one 8 x 8 band of ink, full cut: then the bench names it after the job. */
	static const uint8_t job[] = {0x1B, '@', 0x1D, 'v', '0', 0, 1, 0, 8, 0,
				      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1D, 'V', 0};
	struct transport *prn = sim_bench_transport(b, SIM_BENCH_RECEIPT);
	g_assert_cmpint(transport_write(prn, job, sizeof(job)), ==, 0);
	g_assert_cmpuint(sim_bench_pages_held(b), ==, 1);
	g_assert_cmpint(sim_bench_collect_receipt(b, "TXN-1", "line one\n", &err), ==, 0);
	/* Filed, so freed: a headless kiosk kept every receipt, ~120 KB a top-up (issue 14). */
	g_assert_cmpuint(sim_bench_pages_held(b), ==, 0);
	char *png = g_build_filename(dir, "receipt-TXN-1.png", NULL);
	char *txt = g_build_filename(dir, "receipt-TXN-1.txt", NULL);
	g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
	char *contents = NULL;
	g_assert_true(g_file_get_contents(txt, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "line one\n");
	/* Collected once: the same paper is not handed out twice. */
	g_assert_cmpint(sim_bench_collect_receipt(b, "TXN-2", NULL, &err), ==, KIO_ERR_NOT_FOUND);

	sim_bench_free(b);
	g_remove(png);
	g_remove(txt);
	g_rmdir(dir);
	g_free(contents);
	g_free(png);
	g_free(txt);
	g_free(dir);
	core_clock_free(clock);
}

static void test_state_survives_restart(void)
{
	struct kio_error err;
	char *dir = g_dir_make_tmp("bench-XXXXXX", NULL);
	char *state = g_build_filename(dir, "cash.state", NULL);
	struct core_clock *clock = core_clock_new(true, 0);
	struct sim_bench_config cfg = {.out_dir = dir, .cash_state_path = state};
	struct sim_bench *b = NULL;
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, 0);
	sim_bench_free(b);
	g_assert_true(g_file_test(state, G_FILE_TEST_IS_REGULAR));
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, 0);
	sim_bench_free(b);

	g_assert_true(g_file_set_contents(state, "not a validator\n", -1, NULL));
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "cash.state"));
	/* A state it could not read is left alone for a technician, not overwritten. */
	char *contents = NULL;
	g_assert_true(g_file_get_contents(state, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "not a validator\n");
	g_free(contents);

	/* A good state with a NUL and more after it: the model must not see only the first part. */
	g_remove(state);
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, 0);
	sim_bench_free(b);
	gsize good_len = 0;
	g_assert_true(g_file_get_contents(state, &contents, &good_len, NULL));
	GString *nul = g_string_new_len(contents, (gssize)good_len);
	g_string_append_len(nul, "\0faults 1 1 1 1\n", sizeof("\0faults 1 1 1 1\n") - 1);
	g_assert_true(g_file_set_contents(state, nul->str, (gssize)nul->len, NULL));
	g_string_free(nul, TRUE);
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "NUL byte"));

	g_free(contents);
	g_remove(state);
	char *spare = g_strdup_printf("%s.tmp", state);
	g_remove(spare);
	g_free(spare);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	g_free(state);
	g_free(dir);
	core_clock_free(clock);
}

static char *file_text(const char *path)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static void raise_fault(struct sim_bench *b, enum sim_bench_dev dev, const char *kind)
{
	int fault;
	g_assert_cmpint(sim_bench_fault_parse(dev, kind, &fault), ==, 0);
	g_assert_cmpint(sim_bench_fault(b, dev, fault, true), ==, 0);
}

/* A printer with no paper has none after a power cut either (issue 11's power-cut): the
 * printers' raised faults are kept in their file and raised again on the next bench. */
static void test_printer_faults_survive_restart(void)
{
	struct kio_error err;
	char *dir = g_dir_make_tmp("bench-XXXXXX", NULL);
	char *state = g_build_filename(dir, "printers.state", NULL);
	struct core_clock *clock = core_clock_new(true, 0);
	struct sim_bench_config cfg = {.out_dir = dir, .printer_state_path = state};
	struct sim_bench *b = NULL;
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, 0);
	g_assert_false(g_file_test(state, G_FILE_TEST_EXISTS)); /* no fault, nothing to keep */
	raise_fault(b, SIM_BENCH_RECEIPT, "paper-out");
	raise_fault(b, SIM_BENCH_CARD, "ribbon-out");
	raise_fault(b, SIM_BENCH_CASH, "jam"); /* the validator keeps its own memory */
	char *text = file_text(state);
	g_assert_cmpstr(text, ==, "receipt paper-out\ncard ribbon-out\n");
	g_free(text);
	sim_bench_free(b);

	/* The restart: the restored receipt printer has the fault to clear, so clearing it
	 * rewrites the file without it. A fresh printer would have nothing to clear. */
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, 0);
	text = file_text(state);
	g_assert_cmpstr(text, ==, "receipt paper-out\ncard ribbon-out\n");
	g_free(text);
	g_assert_cmpint(sim_bench_clear_all(b, SIM_BENCH_RECEIPT), ==, 0);
	text = file_text(state);
	g_assert_cmpstr(text, ==, "card ribbon-out\n");
	g_free(text);
	sim_bench_free(b);

	/* A file the bench did not write is refused, named and left alone. */
	g_assert_true(g_file_set_contents(state, "receipt on-fire\n", -1, NULL));
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "printers.state:1: not a receipt fault: 'on-fire'"));
	text = file_text(state);
	g_assert_cmpstr(text, ==, "receipt on-fire\n");
	g_free(text);
	g_assert_true(g_file_set_contents(state, "card jam\ncash jam\n", -1, NULL));
	g_assert_cmpint(sim_bench_new(clock, &cfg, &b, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "printers.state:2: not a printer: 'cash'"));

	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(state);
	g_free(dir);
	core_clock_free(clock);
}

/* Writes one command with the sequence rule and drops the reply: what matters here is when the
 * device's memory reaches the disk, not what it answers. */
static void send(struct transport *t, struct essp_seq *seq, void (*build)(struct essp_cmd *))
{
	struct essp_cmd cmd;
	struct essp_packet pkt;
	build(&cmd);
	g_assert_cmpint(essp_seq_prepare(seq, &cmd, &pkt), ==, 0);
	g_assert_cmpint(transport_write(t, pkt.bytes, pkt.len), ==, 0);
}

static void drain(struct transport *t, struct essp_seq *seq)
{
	uint8_t buf[ESSP_WIRE_MAX * 4];
	g_assert_cmpint(transport_read(t, buf, sizeof(buf)), >, 0);
	seq->flag = !seq->flag; /* the reply was good: the next command toggles (GA138) */
}

static void inhibits_all(struct essp_cmd *c) { essp_cmd_set_inhibits(c, 0xFFFF); }

static char *on_disk(const char *path)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

/* A simulated validator with its state file in a folder of its own, synced, all channels
 * inhibited, enabled: where each state-file test starts. */
struct enabled_bench {
	char *dir, *state;
	struct core_clock *clock;
	struct sim_bench *b;
	struct transport *t;
	struct essp_seq seq;
};

static void enabled_bench_up(struct enabled_bench *f)
{
	struct kio_error err;
	f->dir = g_dir_make_tmp("bench-XXXXXX", NULL);
	f->state = g_build_filename(f->dir, "cash.state", NULL);
	f->clock = core_clock_new(true, 0);
	struct sim_bench_config cfg = {.out_dir = f->dir, .cash_state_path = f->state};
	f->b = NULL;
	g_assert_cmpint(sim_bench_new(f->clock, &cfg, &f->b, &err), ==, 0);
	f->t = sim_bench_transport(f->b, SIM_BENCH_CASH);
	essp_seq_init(&f->seq, ESSP_ADDR_VALIDATOR);
	send(f->t, &f->seq, essp_cmd_sync);
	drain(f->t, &f->seq);
	f->seq.flag = false; /* after SYNC the next command uses 0 (rule 1) */
	send(f->t, &f->seq, inhibits_all);
	drain(f->t, &f->seq);
	send(f->t, &f->seq, essp_cmd_enable);
	drain(f->t, &f->seq);
}

static void enabled_bench_down(struct enabled_bench *f)
{
	sim_bench_free(f->b);
	char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(f->state);
	g_free(f->dir);
	core_clock_free(f->clock);
}

/* A kiosk killed at any moment must restart against the device as it really was: the note's
 * move is on disk inside the write that made it, before the driver could read the reply. */
static void test_state_on_disk_before_the_reply(void)
{
	struct enabled_bench f;
	enabled_bench_up(&f);
	char *state = f.state;
	struct sim_bench *b = f.b;
	struct transport *t = f.t;

	char *idle = on_disk(state);
	g_assert_cmpint(sim_bench_insert_note(b, 5000), ==, 0);
	char *inserted = on_disk(state);
	g_assert_cmpstr(inserted, !=, idle); /* the note is in the path */
	send(t, &f.seq, essp_cmd_poll);      /* READ 0: the note moves on to validation */
	char *polled = on_disk(state);
	g_assert_cmpstr(polled, !=, inserted);
	drain(t, &f.seq);

	g_free(idle);
	g_free(inserted);
	g_free(polled);
	enabled_bench_down(&f);
}

/* Reads what inotify has queued: how many files were created (inotify folds identical
 * events left unread, so the test reads after each exchange). Each must be the spare. */
static int creates_seen(int in)
{
	int creates = 0;
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(in, ev, sizeof(ev))) > 0) {
		for (char *p = ev; p < ev + n; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			g_assert_cmpstr(e->len ? e->name : "", ==, "cash.state.tmp");
			creates++;
		}
	}
	g_assert_cmpint(errno, ==, EAGAIN);
	return creates;
}

/* The note's moves are saved (each one a whole new text at the state's name, as above) by
 * swapping the state file with its spare, not by creating a file per save: a new file renamed
 * over the old, a dozen times a top-up, was a tenth of a headless top-up's CPU in ext4. */
static void test_saves_create_no_files(void)
{
	struct enabled_bench f;
	enabled_bench_up(&f);
	char *state = f.state;
	struct sim_bench *b = f.b;
	struct transport *t = f.t;

	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	g_assert_cmpint(in, >=, 0);
	g_assert_cmpint(inotify_add_watch(in, f.dir, IN_CREATE), >=, 0);
	char *before = on_disk(state);
	int saves = 0, creates = 0;
	g_assert_cmpint(sim_bench_insert_note(b, 5000), ==, 0);
	for (int i = 0; i < 8; i++) {
		creates += creates_seen(in);
		char *now = on_disk(state);
		saves += strcmp(now, before) != 0;
		g_free(before);
		before = now;
		send(t, &f.seq, essp_cmd_poll);
		drain(t, &f.seq);
		core_clock_advance_to(f.clock, (uint64_t)(i + 1) * 500);
	}
	creates += creates_seen(in);
	g_assert_cmpint(saves, >=, 3); /* reading, validating, escrow: the file followed the note */
	/* At most the spare, the first time there was an old text to keep; not one per save. */
	g_assert_cmpint(creates, <=, 1);
	close(in);

	g_free(before);
	enabled_bench_down(&f);
}

/* A save that fails is tried again at the next exchange, not forgotten: the device's memory
 * must reach the disk even when nothing changes after the failure. */
static void test_failed_save_is_retried(void)
{
	struct enabled_bench f;
	enabled_bench_up(&f);
	char *state = f.state;
	struct sim_bench *b = f.b;
	struct transport *t = f.t;
	char *tmp = g_strdup_printf("%s.tmp", state);
	char *idle = on_disk(state);

	/* A folder where the save's spare file goes: the write fails. */
	g_remove(tmp); /* the spare, once a second save has left one (the previous text) */
	g_assert_cmpint(g_mkdir(tmp, 0700), ==, 0);
	g_assert_cmpint(sim_bench_insert_note(b, 5000), ==, 0);
	char *failed = on_disk(state);
	g_assert_cmpstr(failed, ==, idle);
	g_assert_cmpint(g_rmdir(tmp), ==, 0);
	/* An exchange that moves nothing: the pending state is written now. */
	uint8_t buf[ESSP_WIRE_MAX * 4];
	(void)transport_read(t, buf, sizeof(buf));
	char *retried = on_disk(state);
	g_assert_cmpstr(retried, !=, idle);

	g_free(idle);
	g_free(failed);
	g_free(retried);
	g_free(tmp);
	enabled_bench_down(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sim-bench/names", test_names);
	g_test_add_func("/sim-bench/faults-and-files", test_faults_and_files);
	g_test_add_func("/sim-bench/state-survives-restart", test_state_survives_restart);
	g_test_add_func("/sim-bench/printer-faults-survive-restart", test_printer_faults_survive_restart);
	g_test_add_func("/sim-bench/state-on-disk-before-the-reply", test_state_on_disk_before_the_reply);
	g_test_add_func("/sim-bench/saves-create-no-files", test_saves_create_no_files);
	g_test_add_func("/sim-bench/failed-save-is-retried", test_failed_save_is_retried);
	return g_test_run();
}
