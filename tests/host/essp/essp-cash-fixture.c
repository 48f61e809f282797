/* The eSSP host driver fixture: driver, tap, transport-sim, model, journal, virtual time. */
#include "essp-cash-fixture.h"

#include <stdio.h>
#include <string.h>

/* ---- The tap transport ---- */

static struct tap *tap_of(struct transport *t) { return (struct tap *)t; }

static int tap_write(struct transport *t, const uint8_t *buf, size_t len)
{
	struct tap *tp = tap_of(t);
	GByteArray *w = g_byte_array_sized_new((guint)len);
	g_byte_array_append(w, buf, (guint)len);
	g_ptr_array_add(tp->writes, w);
	return transport_write(tp->inner, buf, len);
}

static ssize_t tap_read(struct transport *t, uint8_t *buf, size_t cap)
{
	struct tap *tp = tap_of(t);
	if (tp->read_cap && cap > tp->read_cap)
		cap = tp->read_cap;
	if (tp->inject->len) {
		size_t n = tp->inject->len < cap ? tp->inject->len : cap;
		memcpy(buf, tp->inject->data, n);
		g_byte_array_remove_range(tp->inject, 0, (guint)n);
		return (ssize_t)n;
	}
	return transport_read(tp->inner, buf, cap);
}

static size_t tap_out_pending(struct transport *t) { return transport_out_pending(tap_of(t)->inner); }
static void tap_flush(struct transport *t)
{
	struct tap *tp = tap_of(t);
	g_byte_array_set_size(tp->inject, 0);
	transport_flush(tp->inner);
}
static bool tap_connected(struct transport *t) { return transport_connected(tap_of(t)->inner); }
static int tap_reopen(struct transport *t, struct kio_error *err) { return transport_reopen(tap_of(t)->inner, err); }

static void tap_destroy(struct transport *t)
{
	struct tap *tp = tap_of(t);
	g_ptr_array_free(tp->writes, TRUE);
	g_byte_array_free(tp->inject, TRUE);
	g_free(tp);
}

static const struct transport_ops tap_ops = {
	.write = tap_write,
	.read = tap_read,
	.out_pending = tap_out_pending,
	.flush = tap_flush,
	.connected = tap_connected,
	.reopen = tap_reopen,
	.destroy = tap_destroy,
};

static void tap_inner_wake(void *user)
{
	struct tap *tp = user;
	transport_wake(&tp->base);
}

static void free_bytes(gpointer p) { g_byte_array_free(p, TRUE); }

static struct tap *tap_new(struct transport *inner)
{
	struct tap *tp = g_new0(struct tap, 1);
	tp->base.ops = &tap_ops;
	snprintf(tp->base.name, sizeof(tp->base.name), "%s", inner->name);
	tp->inner = inner;
	tp->writes = g_ptr_array_new_with_free_func(free_bytes);
	tp->inject = g_byte_array_new();
	transport_set_wake(inner, tap_inner_wake, tp);
	return tp;
}

/* ---- The flaky journal ---- */

static struct flaky_journal *fj_of(struct cash_journal *j) { return (struct flaky_journal *)j; }

static int fj_begin(struct cash_journal *j, struct cash_note *note, struct kio_error *err)
{
	struct flaky_journal *fj = fj_of(j);
	if (fj->fail_begin) {
		fj->fail_begin--;
		return kio_fail(err, KIO_ERR_IO, "test: disk I/O error");
	}
	return cash_journal_begin(fj->inner, note, err);
}

static int fj_advance(struct cash_journal *j, int64_t id, enum cash_note_state to, const char *why,
		      struct kio_error *err)
{
	struct flaky_journal *fj = fj_of(j);
	if (fj->fail_advance) {
		fj->fail_advance--;
		return kio_fail(err, KIO_ERR_IO, "test: advance refused");
	}
	return cash_journal_advance(fj->inner, id, to, why, err);
}

static int fj_list_open(struct cash_journal *j, const char *device, struct cash_note *out, size_t cap, size_t *n,
			struct kio_error *err)
{
	struct flaky_journal *fj = fj_of(j);
	fj->n_list++;
	if (fj->fail_list) {
		fj->fail_list--;
		return kio_fail(err, KIO_ERR_IO, "test: database is locked");
	}
	return cash_journal_list_open(fj->inner, device, out, cap, n, err);
}

static const struct cash_journal_ops fj_ops = {
	.begin = fj_begin,
	.advance = fj_advance,
	.list_open = fj_list_open,
};

int fx_random(void *user, uint8_t *buf, size_t len)
{
	struct fx *f = user;
	f->n_random++;
	if (f->fail_random) {
		f->fail_random--;
		return KIO_ERR_IO;
	}
	if (len == 16 && f->fail_pad) {
		f->fail_pad--;
		return KIO_ERR_IO;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)g_random_int();
	return 0;
}

/* ---- Fixture ---- */

static void on_event(void *user, const struct cash_event *ev)
{
	struct fx *f = user;
	g_assert_cmpuint(f->n_ev, <, FX_EVENTS_MAX);
	f->ev[f->n_ev++] = *ev;
	if (ev->kind == CASH_EV_ESCROW && f->on_escrow == 1)
		g_assert_cmpint(f->unit->ops->escrow_accept(f->unit), ==, 0);
	else if (ev->kind == CASH_EV_ESCROW && f->on_escrow == 2)
		g_assert_cmpint(f->unit->ops->escrow_return(f->unit), ==, 0);
}

static void service(void *user)
{
	struct fx *f = user;
	f->unit->ops->service(f->unit);
}

void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	sim_essp_config_default(&f->sim_cfg);
	essp_cash_config_default(&f->cfg);
	f->cfg.poll_ms = 200;
	f->cfg.reply_timeout_ms = 1000;
	f->cfg.retries = 3;
	f->cfg.reconnect_ms = 2000;
}

void fx_prepare(struct fx *f)
{
	struct kio_error err;
	devloop_init(&f->loop);
	f->sim = sim_essp_new(&f->sim_cfg, 0, &err);
	g_assert_nonnull(f->sim);
	sim_model_essp(&f->model, f->sim);
	f->sim_t = transport_sim_new("cash", &f->model, f->loop.clock);
	f->tap = tap_new(f->sim_t);
	transport_set_wake(&f->tap->base, devloop_wake, &f->loop);
	g_assert_cmpint(ledger_open(":memory:", &f->ledger, &err), ==, 0);
	f->notes = ledger_notes_new(f->ledger, f->loop.clock);
	f->journal.base.ops = &fj_ops;
	f->journal.inner = ledger_notes_journal(f->notes);
}

int fx_open_ledger(struct fx *f, const char *path)
{
	struct kio_error err = {0};
	fx_close_ledger(f);
	int rc = ledger_open(path, &f->ledger, &err);
	if (rc)
		return rc;
	f->notes = ledger_notes_new(f->ledger, f->loop.clock);
	f->journal.inner = ledger_notes_journal(f->notes);
	return 0;
}

void fx_close_ledger(struct fx *f)
{
	ledger_notes_free(f->notes);
	ledger_close(f->ledger);
	f->notes = NULL;
	f->ledger = NULL;
}

bool fx_in_run(struct fx *f) { return strcmp(fx_info(f).phase, "run") == 0; }

void fx_start(struct fx *f)
{
	struct kio_error err;
	if (!f->notes)
		fx_prepare(f);
	g_assert_cmpint(essp_cash_new(&f->tap->base, f->loop.timers, &f->cfg, &f->journal.base, &f->unit, &err), ==, 0);
	cash_set_listener(f->unit, on_event, f);
	f->loop.service = service;
	f->loop.service_user = f;
}

void fx_restart(struct fx *f)
{
	struct kio_error err;
	f->unit->ops->destroy(f->unit);
	f->unit = NULL;
	transport_flush(&f->tap->base);
	f->n_ev = 0;
	g_assert_cmpint(essp_cash_new(&f->tap->base, f->loop.timers, &f->cfg, &f->journal.base, &f->unit, &err), ==, 0);
	cash_set_listener(f->unit, on_event, f);
}

void fx_fini(struct fx *f)
{
	if (f->unit)
		f->unit->ops->destroy(f->unit);
	f->unit = NULL;
	fx_close_ledger(f);
	transport_free(&f->tap->base);
	transport_free(f->sim_t);
	sim_essp_free(f->sim);
	devloop_fini(&f->loop);
}

struct pred_ctx {
	struct fx *f;
	bool (*pred)(struct fx *f);
};

static bool pred_tramp(void *user)
{
	struct pred_ctx *c = user;
	return c->pred(c->f);
}

bool fx_run_until(struct fx *f, bool (*pred)(struct fx *f), uint64_t max_ms)
{
	struct pred_ctx c = {f, pred};
	return devloop_run_until(&f->loop, pred_tramp, &c, max_ms);
}

void fx_run_for(struct fx *f, uint64_t ms) { devloop_run_for(&f->loop, ms); }

void fx_notify(struct fx *f) { transport_sim_notify(f->sim_t); }

static bool device_enabled(struct fx *f)
{
	struct cash_status st = fx_status(f);
	return st.enabled && fx_sim(f).enabled;
}

void fx_enable_all(struct fx *f)
{
	int64_t all[CASH_MAX_DENOMS];
	size_t n = 0;
	for (size_t i = 0; i < f->sim_cfg.n_channels; i++)
		if (f->sim_cfg.channel_fils[i] > 0)
			all[n++] = f->sim_cfg.channel_fils[i];
	g_assert_cmpint(f->unit->ops->enable(f->unit, all, n), ==, 0);
	g_assert_true(fx_run_until(f, device_enabled, 20000));
}

size_t fx_count(const struct fx *f, enum cash_event_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_ev; i++)
		n += f->ev[i].kind == kind;
	return n;
}

size_t fx_count_fault(const struct fx *f, enum cash_event_kind kind, enum cash_fault fault)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_ev; i++)
		n += f->ev[i].kind == kind && f->ev[i].fault == fault;
	return n;
}

int64_t fx_sum(const struct fx *f, enum cash_event_kind kind)
{
	int64_t sum = 0;
	for (size_t i = 0; i < f->n_ev; i++)
		if (f->ev[i].kind == kind)
			sum += f->ev[i].value_fils;
	return sum;
}

struct cash_status fx_status(struct fx *f)
{
	struct cash_status st;
	f->unit->ops->get_status(f->unit, &st);
	return st;
}

struct essp_cash_info fx_info(struct fx *f)
{
	struct essp_cash_info info;
	essp_cash_get_info(f->unit, &info);
	return info;
}

struct sim_essp_state fx_sim(struct fx *f)
{
	struct sim_essp_state st;
	sim_essp_get_state(f->sim, &st);
	return st;
}

size_t fx_writes(struct fx *f) { return f->tap->writes->len; }

GArray *fx_sent_cmds(struct fx *f, size_t from)
{
	GArray *out = g_array_new(FALSE, FALSE, 1);
	for (size_t i = from; i < f->tap->writes->len; i++) {
		GByteArray *w = g_ptr_array_index(f->tap->writes, i);
		struct essp_decoder dec;
		essp_decoder_init(&dec);
		struct essp_frame fr;
		size_t used;
		g_assert_cmpint(essp_decoder_feed(&dec, w->data, w->len, &used, &fr), ==, ESSP_DEC_FRAME);
		g_assert_cmpuint(used, ==, w->len); /* one whole frame per write */
		g_array_append_val(out, fr.data[0]);
	}
	return out;
}

int64_t fx_journal(struct fx *f, enum cash_note_state state, int64_t *total)
{
	struct essp_cash_info info = fx_info(f);
	int64_t count = 0;
	struct kio_error err;
	g_assert_cmpint(ledger_notes_count(f->notes, info.device, state, &count, total, &err), ==, 0);
	return count;
}
