/* The top-up flow's step function: card entry, payment, closing and the done step, over the
 * ledger (tx.h) and the cash-in unit (cash.h). Diagram, transitions, invariants: topup.h. */
#define LOG_MODULE "flow-topup"
#include "topup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/flows/payin.h"

struct topup {
	struct topup_config cfg;
	struct ledger *ledger;
	struct cash_unit *unit;
	const struct core_clock *clock;
	struct session s;
	enum topup_step step;
	enum topup_exit exit;
	/* CLOSING: where a settle with nothing paid goes (CARD, or END with this exit). */
	enum topup_step close_to;
	enum topup_exit close_exit;
	uint64_t closing_since_ms, done_since_ms;
	bool printer_ok;
	struct payin pin;        /* the unit's hold and the note's path (invariants 1, 2, 5) */
	bool tx_open;            /* tx is this flow's open ledger transaction */
	struct ledger_tx tx;
	bool unsettled;          /* settled with a note still in the path (invariant 5) */
	bool receipt_at_done;    /* the printer could print when the top-up completed */
	bool receipt_failed;     /* DONE: the receipt did not come out (invariant 7) */
	/* The host's word (invariants 11 and 12), from the last TOPUP_IN_HOST. */
	bool balance_known;
	int64_t balance_fils;
	bool host_answered;      /* PAY came through CHECKING: the host or the app gave a word */
	bool limited;            /* the offline limits lowered this top-up's maximum */
	uint32_t tx_ends;
	const char *notice;
	topup_checkpoint_fn checkpoint;
	void *checkpoint_user;
};

static const char *const step_names[TOPUP_STEP_COUNT] = {"card", "checking", "pay", "closing", "done", "end"};
static const char *const host_names[TOPUP_HOST_WORD_COUNT] = {"active", "blocked", "unknown", "unreachable", "none"};
static const char *const exit_names[TOPUP_EXIT_COUNT] = {"none", "home", "attract", "out-of-service"};

const char *topup_step_name(int step) { return step >= 0 && step < TOPUP_STEP_COUNT ? step_names[step] : NULL; }
const char *topup_exit_name(int exit) { return exit >= 0 && exit < TOPUP_EXIT_COUNT ? exit_names[exit] : NULL; }
const char *topup_host_word_name(int word)
{
	return word >= 0 && word < TOPUP_HOST_WORD_COUNT ? host_names[word] : NULL;
}

void topup_config_default(struct topup_config *cfg)
{
	static const int64_t aed[] = {5, 10, 20, 50, 100, 200, 500, 1000};
	memset(cfg, 0, sizeof(*cfg));
	cfg->min_fils = 10 * TOPUP_FILS_PER_AED;
	cfg->max_fils = 5000 * TOPUP_FILS_PER_AED;
	cfg->prefixes[0] = "784";
	cfg->n_prefixes = 1;
	for (size_t i = 0; i < sizeof(aed) / sizeof(aed[0]); i++)
		cfg->denoms_fils[cfg->n_denoms++] = aed[i] * TOPUP_FILS_PER_AED;
	cfg->card_idle_ms = 60000;
	cfg->pay_idle_ms = 90000;
	cfg->closing_ms = 30000;
	cfg->done_ms = 30000;
	cfg->no_receipt_ms = 60000;
}

static uint64_t now_ms(const struct topup *t) { return core_clock_now_ms(t->clock); }

/* Invariant 8: the number shown large is the customer's only proof; they get the time to copy
 * it, from the moment it became so (done_since_ms is moved to a receipt's failure). */
static bool number_large(const struct topup *t) { return !t->receipt_at_done || t->receipt_failed; }

static uint64_t done_deadline_ms(const struct topup *t)
{
	return t->done_since_ms + (number_large(t) ? t->cfg.no_receipt_ms : t->cfg.done_ms);
}

/* A named kill point (topup.h). */
static void checkpoint(struct topup *t, const char *point)
{
	if (t->checkpoint)
		t->checkpoint(t->checkpoint_user, point);
}

void topup_set_checkpoint(struct topup *t, topup_checkpoint_fn fn, void *user)
{
	t->checkpoint = fn;
	t->checkpoint_user = user;
}

static void set_step(struct topup *t, enum topup_step step, enum topup_exit exit)
{
	LOG_DBG("%s -> %s%s%s (tx %" PRId64 ")", step_names[t->step], step_names[step],
		step == TOPUP_END ? " " : "", step == TOPUP_END ? exit_names[exit] : "", t->tx.seq);
	t->step = step;
	t->exit = exit;
}

/* The ledger cannot record or read money: stop taking it (invariant 1) and end out of
 * service. An open transaction stays open for start-up recovery to complete (invariant 4). */
static void fail_ledger(struct topup *t, const char *what, const struct kio_error *err)
{
	if (t->tx_open)
		LOG_ERR("%s transaction %" PRId64 " failed: %s; out of service", what, t->tx.seq, err->msg);
	else
		LOG_ERR("%s a transaction failed: %s; out of service", what, err->msg);
	if (t->pin.enabled)
		payin_disable(&t->pin);
	t->notice = "topup.error.ledger";
	set_step(t, TOPUP_END, TOPUP_EXIT_OUT_OF_SERVICE);
}

/* Invariant 3: the total is the ledger's. */
static bool refresh_paid(struct topup *t)
{
	struct kio_error err = {0};
	int64_t paid = 0, notes = 0;
	int rc = ledger_tx_paid(t->ledger, t->tx.id, &paid, &notes, &err);
	if (rc) {
		fail_ledger(t, "reading the paid total of", &err);
		return false;
	}
	t->s.paid_fils = paid;
	t->s.notes = notes;
	return true;
}

/* Next's guards, shared by CARD → CHECKING and CARD → PAY. */
static int next_allowed(struct topup *t)
{
	if (session_card_problem(t->s.card, t->s.card_len, t->cfg.prefixes, t->cfg.n_prefixes))
		return KIO_ERR_INVALID;
	if (payin_faulty(&t->pin)) {
		t->notice = "topup.pay.acceptor-unavailable";
		return KIO_ERR_BUSY;
	}
	return 0;
}

/* The notices a host's refusal leaves on CARD, cleared when the customer edits the number. */
static bool host_refusal(const char *notice)
{
	return notice && (strcmp(notice, "topup.card.blocked") == 0 || strcmp(notice, "topup.card.unknown") == 0 ||
			  strcmp(notice, "topup.card.needs-host") == 0);
}

/* CARD → PAY (or CHECKING → PAY): the transaction opens before the acceptor can take a note
 * (topup.h, "When the ledger transaction opens"; invariant 1). max_fils is this top-up's
 * most (invariant 11). */
static int enter_pay(struct topup *t, int64_t max_fils)
{
	struct kio_error err = {0};
	int rc = next_allowed(t);
	if (rc)
		return rc;
	rc = ledger_tx_open(t->ledger, core_clock_wall_s(t->clock), LEDGER_TX_TOPUP, t->s.lang, t->s.card,
				&t->tx, &err);
	if (rc) {
		fail_ledger(t, "opening", &err);
		return 0;
	}
	t->tx_open = true;
	rc = payin_enable(&t->pin, t->cfg.denoms_fils, t->cfg.n_denoms);
	if (rc) {
		/* Nothing can have been paid: the acceptor never took cash. */
		LOG_WARN("%s: enable failed: %s; transaction %" PRId64 " cancelled", t->unit->name,
			 kio_strerror(rc), t->tx.seq);
		if (t->unit->ops->disable(t->unit))
			LOG_ERR("%s: disable after a failed enable failed too", t->unit->name);
		rc = ledger_tx_cancel(t->ledger, t->tx.id, core_clock_wall_s(t->clock), &err);
		if (rc) {
			fail_ledger(t, "cancelling", &err);
			return 0;
		}
		t->tx_open = false;
		t->tx_ends++;
		t->notice = "topup.pay.acceptor-unavailable";
		if (t->step == TOPUP_CHECKING)
			set_step(t, TOPUP_CARD, TOPUP_EXIT_NONE);
		return 0;
	}
	t->unsettled = false;
	payin_restart(&t->pin);
	t->s.paid_fils = 0;
	t->s.notes = 0;
	t->s.path = SESSION_PATH_EMPTY;
	t->s.max_fils = max_fils; /* invariant 11: on_escrow returns a note past it */
	t->notice = NULL;
	session_touch(&t->s, now_ms(t));
	set_step(t, TOPUP_PAY, TOPUP_EXIT_NONE);
	checkpoint(t, "pay-enabled");
	return 0;
}

static void settle(struct topup *t);

/* Every way out of PAY (invariant 1): the acceptor stops first, then CLOSING waits for the
 * note in the path (invariant 5). */
static void leave_pay(struct topup *t, enum topup_step close_to, enum topup_exit close_exit)
{
	payin_disable(&t->pin);
	t->close_to = close_to;
	t->close_exit = close_exit;
	t->closing_since_ms = now_ms(t);
	set_step(t, TOPUP_CLOSING, TOPUP_EXIT_NONE);
	checkpoint(t, "closing");
	settle(t);
}

/* CLOSING: ends the transaction once the path is empty or closing_ms passed. */
static void settle(struct topup *t)
{
	struct kio_error err = {0};
	if (t->step != TOPUP_CLOSING)
		return;
	bool waited_out = now_ms(t) >= t->closing_since_ms + t->cfg.closing_ms;
	if (t->s.path != SESSION_PATH_EMPTY && !waited_out)
		return; /* invariant 5 */
	if (!refresh_paid(t))
		return;
	if (t->s.path != SESSION_PATH_EMPTY) {
		/* Invariant 5: the device never said where the note went. The ledger holds what was
		 * credited; the note, if it is credited later, is booked to suspense. */
		LOG_WARN("transaction %" PRId64 ": a note of %" PRId64 " fils still in the path after %" PRIu64
			 " ms; settling with %" PRId64 " fils", t->tx.seq, t->s.path_fils, t->cfg.closing_ms,
			 t->s.paid_fils);
		t->unsettled = true;
	}
	uint64_t now = now_ms(t);
	if (t->s.paid_fils > 0) {
		/* Invariant 4: money paid is completed, whatever way PAY was left. */
		int rc = ledger_tx_complete(t->ledger, t->tx.id, core_clock_wall_s(t->clock), &t->tx, &err);
		if (rc) {
			fail_ledger(t, "completing", &err);
			return;
		}
		t->tx_open = false;
		t->tx_ends++;
		t->receipt_at_done = t->printer_ok;
		t->done_since_ms = now;
		LOG_INFO("transaction %" PRId64 " completed: %" PRId64 " fils in %" PRId64 " notes", t->tx.seq,
			 t->tx.credited_fils, t->tx.notes);
		set_step(t, TOPUP_DONE, TOPUP_EXIT_NONE);
		checkpoint(t, "done");
		return;
	}
	int rc = ledger_tx_cancel(t->ledger, t->tx.id, core_clock_wall_s(t->clock), &err);
	if (rc) {
		fail_ledger(t, "cancelling", &err);
		return;
	}
	t->tx_open = false;
	t->tx_ends++;
	LOG_INFO("transaction %" PRId64 " cancelled, nothing paid", t->tx.seq);
	if (t->close_to == TOPUP_CARD) {
		t->s.path = SESSION_PATH_EMPTY;
		session_touch(&t->s, now);
		set_step(t, TOPUP_CARD, TOPUP_EXIT_NONE);
	} else {
		set_step(t, TOPUP_END, t->close_exit);
	}
}

static const struct payin_notices notices = {
	.returned = "topup.pay.note-returned",
	.rejected = "topup.pay.note-rejected",
	.not_recorded = "topup.pay.note-not-recorded",
	.fault = "topup.pay.acceptor-fault",
	.recovered = "topup.pay.acceptor-recovered",
};

static void on_cash(struct topup *t, const struct cash_event *ev)
{
	const struct payin_at at = {.paying = t->step == TOPUP_PAY, .tx_open = t->tx_open, .step = step_names[t->step],
				    .tx_seq = t->tx.seq, .now_ms = now_ms(t), .denoms_fils = t->cfg.denoms_fils,
				    .n_denoms = t->cfg.n_denoms};
	switch (payin_cash(&t->pin, &t->s, ev, &at, &t->notice)) {
	case PAYIN_DECIDE:
		if (t->s.paid_fils + t->pin.moving_fils + ev->value_fils > t->s.max_fils) {
			/* Invariant 2: the maximum is a promise to the customer and to the card issuer. */
			LOG_INFO("transaction %" PRId64 ": note of %" PRId64 " fils over the maximum: returned", t->tx.seq,
				 ev->value_fils);
			t->notice = "topup.pay.note-over-max";
			payin_give_back(&t->pin, &t->s, true);
		} else {
			payin_take(&t->pin, &t->s, &t->notice);
		}
		break;
	case PAYIN_CREDITED:
		if (!refresh_paid(t)) /* invariant 3 */
			return;
		break;
	case PAYIN_FAULT:
		if (t->step == TOPUP_CARD || t->step == TOPUP_CHECKING)
			t->notice = "topup.pay.acceptor-unavailable";
		break;
	case PAYIN_RECOVERED:
		if ((t->step == TOPUP_CARD || t->step == TOPUP_CHECKING) && !host_refusal(t->notice))
			t->notice = NULL;
		break;
	case PAYIN_NONE:
		break;
	}
	if (t->step == TOPUP_CLOSING)
		settle(t);
}

static int on_card(struct topup *t, const struct topup_input *in)
{
	session_touch(&t->s, now_ms(t));
	if ((in->kind == TOPUP_IN_KEY || in->kind == TOPUP_IN_DEL || in->kind == TOPUP_IN_CLEAR) &&
	    host_refusal(t->notice))
		t->notice = NULL; /* a new number: the host's word was on the old one */
	switch (in->kind) {
	case TOPUP_IN_KEY:
		return session_card_key(&t->s, in->digit) ? 0 : KIO_ERR_INVALID;
	case TOPUP_IN_DEL:
		session_card_del(&t->s);
		return 0;
	case TOPUP_IN_CLEAR:
		session_card_clear(&t->s);
		return 0;
	case TOPUP_IN_NEXT:
		if (!t->cfg.host_check) {
			t->host_answered = false;
			t->balance_known = false;
			t->limited = false;
			return enter_pay(t, t->cfg.max_fils);
		}
		{
			int rc = next_allowed(t);
			if (rc)
				return rc;
		}
		/* Invariant 9: nothing opens until the host's word is in. */
		t->notice = NULL;
		set_step(t, TOPUP_CHECKING, TOPUP_EXIT_NONE);
		checkpoint(t, "checking");
		return 0;
	case TOPUP_IN_BACK:
	case TOPUP_IN_CANCEL:
		set_step(t, TOPUP_END, TOPUP_EXIT_HOME);
		return 0;
	default:
		return KIO_ERR_INVALID;
	}
}

/* CHECKING: the host's word on the card and what the offline limits leave (invariants 10-12). */
static int on_host(struct topup *t, const struct topup_host *h)
{
	if ((int)h->word < 0 || (int)h->word >= TOPUP_HOST_WORD_COUNT || (h->word == TOPUP_HOST_ACTIVE && h->balance_fils < 0))
		return KIO_ERR_INVALID;
	char masked[SESSION_CARD_TEXT];
	session_card_masked(t->s.card, masked);
	LOG_INFO("card %s: host %s, allowance %" PRId64 " fils", masked, host_names[h->word], h->allowance_fils);
	if (h->word == TOPUP_HOST_BLOCKED || h->word == TOPUP_HOST_UNKNOWN) {
		/* Invariant 10. */
		t->notice = h->word == TOPUP_HOST_BLOCKED ? "topup.card.blocked" : "topup.card.unknown";
		session_touch(&t->s, now_ms(t));
		set_step(t, TOPUP_CARD, TOPUP_EXIT_NONE);
		return 0;
	}
	int64_t most = t->cfg.max_fils;
	if (h->allowance_fils >= 0 && h->allowance_fils < most)
		most = h->allowance_fils;
	if (most < t->cfg.min_fils) {
		/* Invariant 11: no transaction for a top-up that could never be finished. */
		LOG_INFO("card %s: the offline limits leave %" PRId64 " fils, under the minimum: needs the host", masked,
			 most);
		t->notice = "topup.card.needs-host";
		session_touch(&t->s, now_ms(t));
		set_step(t, TOPUP_CARD, TOPUP_EXIT_NONE);
		return 0;
	}
	t->host_answered = true;
	t->balance_known = h->word == TOPUP_HOST_ACTIVE; /* invariant 12 */
	t->balance_fils = t->balance_known ? h->balance_fils : 0;
	t->limited = most < t->cfg.max_fils;
	int rc = enter_pay(t, most);
	if (rc == KIO_ERR_BUSY || rc == KIO_ERR_INVALID) {
		/* The acceptor failed while the host was asked: CARD says why. */
		set_step(t, TOPUP_CARD, TOPUP_EXIT_NONE);
		return 0;
	}
	return rc;
}

static int on_checking(struct topup *t, const struct topup_input *in)
{
	switch (in->kind) {
	case TOPUP_IN_HOST:
		return on_host(t, &in->host);
	case TOPUP_IN_BACK:
		/* Invariant 9: nothing to undo; a late answer finds CARD and moves nothing. */
		session_touch(&t->s, now_ms(t));
		set_step(t, TOPUP_CARD, TOPUP_EXIT_NONE);
		return 0;
	case TOPUP_IN_CANCEL:
		set_step(t, TOPUP_END, TOPUP_EXIT_HOME);
		return 0;
	case TOPUP_IN_TICK:
		if (session_idle(&t->s, now_ms(t), t->cfg.card_idle_ms))
			set_step(t, TOPUP_END, TOPUP_EXIT_ATTRACT);
		return 0;
	default:
		return KIO_ERR_INVALID;
	}
}

static int on_pay(struct topup *t, const struct topup_input *in)
{
	switch (in->kind) {
	case TOPUP_IN_FINISH:
		if (t->s.paid_fils < t->s.min_fils)
			return KIO_ERR_INVALID;
		session_touch(&t->s, now_ms(t));
		leave_pay(t, TOPUP_END, TOPUP_EXIT_HOME);
		return 0;
	case TOPUP_IN_CANCEL:
		/* Nothing paid: home, the transaction cancelled. Money paid: "finish with what I
		 * paid" (invariant 4). A note in escrow is returned by CLOSING (invariant 2). */
		session_touch(&t->s, now_ms(t));
		leave_pay(t, TOPUP_END, TOPUP_EXIT_HOME);
		return 0;
	case TOPUP_IN_BACK:
		if (t->s.paid_fils > 0 || t->s.path != SESSION_PATH_EMPTY)
			return KIO_ERR_INVALID;
		leave_pay(t, TOPUP_CARD, TOPUP_EXIT_NONE);
		return 0;
	case TOPUP_IN_TICK:
		if (!session_idle(&t->s, now_ms(t), t->cfg.pay_idle_ms))
			return 0;
		/* Invariant 6. Every note event is a sign of life, so a note still in the path after
		 * pay_idle_ms is stuck (a jam): PAY stops taking cash and CLOSING waits for it. */
		LOG_INFO("transaction %" PRId64 ": customer inactive, %" PRId64 " fils paid%s", t->tx.seq,
			 t->s.paid_fils, session_idle_action(&t->s) == SESSION_IDLE_WAIT ? ", a note in the path" : "");
		leave_pay(t, TOPUP_END, TOPUP_EXIT_ATTRACT);
		return 0;
	default:
		return KIO_ERR_INVALID;
	}
}

static int step_one(struct topup *t, const struct topup_input *in)
{
	if (in->kind == TOPUP_IN_PRINTER) {
		t->printer_ok = in->printer_ok;
		return 0;
	}
	if (in->kind == TOPUP_IN_CASH) {
		on_cash(t, &in->cash);
		return 0;
	}
	if (in->kind == TOPUP_IN_ACTIVITY) {
		/* Invariant 6: only the steps that wait for the customer have an idle time. */
		if (t->step == TOPUP_CARD || t->step == TOPUP_CHECKING || t->step == TOPUP_PAY)
			session_touch(&t->s, now_ms(t));
		return 0;
	}
	if (in->kind == TOPUP_IN_RECEIPT) {
		if (t->step != TOPUP_DONE)
			return KIO_ERR_INVALID;
		if (!in->receipt_printed && !t->receipt_failed)
			LOG_WARN("transaction %" PRId64 ": no receipt came out: the done screen shows the number large",
				 t->tx.seq);
		if (!in->receipt_printed && !t->receipt_failed)
			t->done_since_ms = now_ms(t); /* invariant 8: time to copy the number, anew */
		t->receipt_failed = t->receipt_failed || !in->receipt_printed; /* invariant 7 */
		return 0;
	}
	switch (t->step) {
	case TOPUP_CARD:
		if (in->kind == TOPUP_IN_TICK) {
			if (session_idle(&t->s, now_ms(t), t->cfg.card_idle_ms))
				set_step(t, TOPUP_END, TOPUP_EXIT_ATTRACT);
			return 0;
		}
		return on_card(t, in);
	case TOPUP_CHECKING:
		return on_checking(t, in);
	case TOPUP_PAY:
		return on_pay(t, in);
	case TOPUP_CLOSING:
		if (in->kind != TOPUP_IN_TICK)
			return KIO_ERR_INVALID;
		settle(t);
		return 0;
	case TOPUP_DONE:
		if (in->kind == TOPUP_IN_TICK) {
			if (now_ms(t) >= done_deadline_ms(t))
				set_step(t, TOPUP_END, TOPUP_EXIT_ATTRACT);
			return 0;
		}
		if (in->kind == TOPUP_IN_FINISH || in->kind == TOPUP_IN_NEXT || in->kind == TOPUP_IN_CANCEL) {
			set_step(t, TOPUP_END, TOPUP_EXIT_ATTRACT);
			return 0;
		}
		return KIO_ERR_INVALID;
	case TOPUP_END:
	case TOPUP_STEP_COUNT:
		break;
	}
	return in->kind == TOPUP_IN_TICK ? 0 : KIO_ERR_INVALID;
}

static void on_deferred_cash(void *flow, const struct cash_event *ev) { on_cash(flow, ev); }

int topup_step(struct topup *t, const struct topup_input *in)
{
	if (payin_busy(&t->pin)) /* a unit reporting from inside a command of ours: after this step */
		return in->kind == TOPUP_IN_CASH ? payin_defer(&t->pin, &in->cash) : KIO_ERR_BUSY;
	payin_enter(&t->pin);
	int rc = step_one(t, in);
	payin_leave(&t->pin, on_deferred_cash, t);
	return rc;
}

void topup_cash_listener(void *user, const struct cash_event *ev)
{
	struct topup_input in = {.kind = TOPUP_IN_CASH, .cash = *ev};
	topup_step(user, &in);
}

int topup_new(const struct topup_config *cfg, struct ledger *ledger, struct cash_unit *unit,
	      const struct core_clock *clock, const char *lang, bool printer_ok, struct topup **out,
	      struct kio_error *err)
{
	*out = NULL;
	if (cfg->min_fils <= 0 || cfg->max_fils < cfg->min_fils)
		return kio_fail(err, KIO_ERR_INVALID, "top-up: minimum %" PRId64 " and maximum %" PRId64 " fils",
				cfg->min_fils, cfg->max_fils);
	int rc = payin_config_check("top-up", cfg->denoms_fils, cfg->n_denoms, cfg->prefixes, cfg->n_prefixes, err);
	if (rc)
		return rc;
	struct topup *t = xcalloc(1, sizeof(*t));
	t->cfg = *cfg;
	t->ledger = ledger;
	t->unit = unit;
	payin_init(&t->pin, unit, "transaction", &notices);
	t->clock = clock;
	t->printer_ok = printer_ok;
	session_start(&t->s, lang, cfg->min_fils, cfg->max_fils, core_clock_now_ms(clock));
	t->step = TOPUP_CARD;
	/* Invariant 1: whatever the unit did before, it takes nothing in CARD. */
	rc = unit->ops->disable(unit);
	if (rc)
		LOG_WARN("%s: disable failed: %s", unit->name, kio_strerror(rc));
	*out = t;
	return 0;
}

void topup_free(struct topup *t)
{
	if (!t)
		return;
	if (t->pin.enabled)
		payin_disable(&t->pin); /* invariant 1 */
	if (t->tx_open)
		LOG_WARN("transaction %" PRId64 " left open: recovery ends it", t->tx.seq);
	free(t);
}

void topup_view(const struct topup *t, struct topup_view *v)
{
	memset(v, 0, sizeof(*v));
	v->step = t->step;
	v->exit = t->exit;
	session_card_grouped(&t->s, v->card_grouped);
	session_card_masked(t->s.card_len == SESSION_CARD_DIGITS ? t->s.card : NULL, v->card_masked);
	const char *problem = session_card_problem(t->s.card, t->s.card_len, t->cfg.prefixes, t->cfg.n_prefixes);
	v->card_msg = problem ? problem : "topup.card.ok";
	if (t->step == TOPUP_CHECKING) {
		v->card_msg = "topup.card.checking";
		v->checking = true;
		memcpy(v->card, t->s.card, sizeof(v->card));
	}
	v->next_enabled = t->step == TOPUP_CARD && !problem && !payin_faulty(&t->pin);
	v->back_enabled = t->step == TOPUP_CARD || t->step == TOPUP_CHECKING ||
			  (t->step == TOPUP_PAY && t->s.paid_fils == 0 && t->s.path == SESSION_PATH_EMPTY);
	v->finish_enabled = t->step == TOPUP_PAY && t->s.paid_fils >= t->s.min_fils;
	v->cancel_finishes = t->s.paid_fils > 0;
	v->accepting = t->step == TOPUP_PAY && t->pin.enabled && !payin_faulty(&t->pin);
	v->total_fils = t->s.paid_fils;
	v->notes = t->s.notes;
	v->min_fils = t->s.min_fils;
	v->max_fils = t->s.max_fils;
	v->denoms_fils = t->cfg.denoms_fils;
	v->n_denoms = t->cfg.n_denoms;
	memcpy(v->notes_by_denom, t->pin.by_denom, sizeof(v->notes_by_denom));
	v->no_change_msg = "topup.pay.no-change";
	v->printer_msg = t->printer_ok ? NULL : "topup.receipt.unavailable";
	v->notice = t->notice;
	v->tx_ends = t->tx_ends;
	if (t->step == TOPUP_PAY || t->step == TOPUP_CLOSING || t->step == TOPUP_DONE) {
		/* Invariant 12. */
		v->balance_known = t->host_answered && t->balance_known;
		v->balance_fils = v->balance_known ? t->balance_fils : 0;
		v->balance_msg = !t->host_answered ? NULL : t->balance_known ? "topup.pay.balance" : "topup.pay.balance-needs-host";
		v->limit_msg = t->host_answered && t->limited ? "topup.pay.offline-max" : NULL;
	}
	if (t->step == TOPUP_DONE || (t->step == TOPUP_END && t->tx.state == LEDGER_TX_COMPLETED)) {
		v->tx_seq = t->tx.seq;
		memcpy(v->tx_uuid, t->tx.uuid, sizeof(v->tx_uuid));
		v->credited_fils = t->tx.credited_fils;
		v->tx_number_large = number_large(t);
		v->receipt_msg = t->receipt_failed     ? "topup.done.receipt-failed"
				 : !t->receipt_at_done ? "topup.receipt.unavailable"
						       : "topup.done.take-receipt";
		v->print_receipt = t->receipt_at_done;
		v->done_msg = "topup.done.queued-for-sync";
		if (v->balance_known) {
			v->new_balance_msg = "topup.done.new-balance";
			v->new_balance_fils = t->balance_fils + t->tx.credited_fils;
		}
		if (t->unsettled)
			v->notice = "topup.done.note-unsettled";
	} else if (t->tx_open) {
		v->tx_seq = t->tx.seq;
		memcpy(v->tx_uuid, t->tx.uuid, sizeof(v->tx_uuid));
	}
}

enum topup_step topup_current(const struct topup *t) { return t->step; }
const struct session *topup_session(const struct topup *t) { return &t->s; }
int64_t topup_tx_id(const struct topup *t) { return t->tx_open || t->tx.id ? t->tx.id : 0; }

/* Each time is from step_one's guard for that step: keep them the same. */
uint64_t topup_deadline_ms(const struct topup *t)
{
	switch (t->step) {
	case TOPUP_CARD:
	case TOPUP_CHECKING: return t->cfg.card_idle_ms ? t->s.last_activity_ms + t->cfg.card_idle_ms : 0;
	case TOPUP_PAY: return t->cfg.pay_idle_ms ? t->s.last_activity_ms + t->cfg.pay_idle_ms : 0;
	case TOPUP_CLOSING: return t->closing_since_ms + t->cfg.closing_ms;
	case TOPUP_DONE: return done_deadline_ms(t);
	case TOPUP_END:
	case TOPUP_STEP_COUNT: break;
	}
	return 0;
}
