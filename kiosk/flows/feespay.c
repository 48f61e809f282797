/* The fees flow's paying step function: the basket opened in the ledger, paid in cash, settled
 * at the host, and its rest sent to a card or an e-voucher. Diagram, table, invariants: feespay.h. */
#define LOG_MODULE "flow-feespay"
#include "feespay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/flows/payin.h"

#define FILS_PER_AED 100

/* Why PAY was left: where a CLOSING with nothing paid goes. */
enum leave_why { LEAVE_REACHED, LEAVE_CANCEL, LEAVE_BACK, LEAVE_IDLE };

struct feespay {
	struct feespay_config cfg;
	struct ledger *ledger;
	struct cash_unit *unit;
	const struct core_clock *clock;
	struct session s;
	enum feespay_step step;
	enum feespay_exit exit;
	struct feespay_line lines[FEESPAY_LINES_MAX];
	size_t n_lines;
	enum leave_why why;
	uint64_t closing_since_ms, settling_since_ms, done_since_ms;
	bool printer_ok, tx_open;
	struct payin pin;           /* the unit's hold and the note's path (invariants 1, 2) */
	struct ledger_tx tx;
	int64_t due_fils;           /* invariant 3: the ledger's */
	bool pay_sent, card_sent;
	bool host_unanswered;
	bool decided[FEESPAY_LINES_MAX];
	enum ledger_line_status status[FEESPAY_LINES_MAX];
	int64_t rest_fils;
	const char *rest_why;
	struct ledger_basket_end end;
	bool receipt_at_done, receipt_failed;
	uint32_t tx_ends;
	const char *notice;
	int64_t notice_fils;
	feespay_checkpoint_fn checkpoint;
	void *checkpoint_user;
	struct vpay *vpay;          /* VOUCHER: the voucher machine (invariant 10) */
};

static const char *const step_names[FEESPAY_STEP_COUNT] = {"pay",  "closing",       "settling", "change", "card",
							    "card-checking", "voucher", "done", "end"};
static const char *const exit_names[FEESPAY_EXIT_COUNT] = {"none", "basket", "home", "attract", "out-of-service"};

const char *feespay_step_name(int step) { return step >= 0 && step < FEESPAY_STEP_COUNT ? step_names[step] : NULL; }
const char *feespay_exit_name(int exit) { return exit >= 0 && exit < FEESPAY_EXIT_COUNT ? exit_names[exit] : NULL; }

void feespay_config_default(struct feespay_config *cfg)
{
	static const int64_t aed[] = {5, 10, 20, 50, 100, 200, 500, 1000};
	memset(cfg, 0, sizeof(*cfg));
	cfg->overpay_cap_fils = 200 * FILS_PER_AED;
	cfg->voucher_days = 30;
	cfg->prefixes[0] = "784";
	cfg->n_prefixes = 1;
	for (size_t i = 0; i < sizeof(aed) / sizeof(aed[0]); i++)
		cfg->denoms_fils[cfg->n_denoms++] = aed[i] * FILS_PER_AED;
	cfg->pay_idle_ms = 90000;
	cfg->closing_ms = 30000;
	cfg->settle_ms = 60000;
	cfg->change_idle_ms = 60000;
	cfg->done_ms = 30000;
	cfg->no_receipt_ms = 60000;
}

static uint64_t now_ms(const struct feespay *p) { return core_clock_now_ms(p->clock); }
static int64_t wall_s(const struct feespay *p) { return core_clock_wall_s(p->clock); }

static void checkpoint(struct feespay *p, const char *point)
{
	if (p->checkpoint)
		p->checkpoint(p->checkpoint_user, point);
}

void feespay_set_checkpoint(struct feespay *p, feespay_checkpoint_fn fn, void *user)
{
	p->checkpoint = fn;
	p->checkpoint_user = user;
}

static void set_step(struct feespay *p, enum feespay_step step, enum feespay_exit exit)
{
	LOG_DBG("%s -> %s%s%s (tx %" PRId64 ")", step_names[p->step], step_names[step], step == FEESPAY_END ? " " : "",
		step == FEESPAY_END ? exit_names[exit] : "", p->tx.seq);
	p->step = step;
	p->exit = exit;
}

/* Invariant 9: stop taking money; the open basket is recovery's. */
static void fail_ledger(struct feespay *p, const char *what, const struct kio_error *err)
{
	LOG_ERR("%s fees transaction %" PRId64 " failed: %s; out of service", what, p->tx.seq, err->msg);
	if (p->pin.enabled)
		payin_disable(&p->pin);
	p->notice = "fees.error.ledger";
	set_step(p, FEESPAY_END, FEESPAY_EXIT_OUT_OF_SERVICE);
}

/* Invariant 3. */
static bool refresh(struct feespay *p)
{
	struct kio_error err = {0};
	int64_t due = 0, paid = 0, cash = 0, notes = 0;
	if (ledger_basket_due(p->ledger, p->tx.id, &due, &paid, &err) != 0 ||
	    ledger_tx_paid(p->ledger, p->tx.id, &cash, &notes, &err) != 0) {
		fail_ledger(p, "reading", &err);
		return false;
	}
	p->due_fils = due;
	p->s.paid_fils = paid;
	p->s.notes = notes;
	return true;
}

static int64_t moving_fils(const struct feespay *p)
{
	return p->s.path == SESSION_PATH_ACCEPTED ? p->s.path_fils : 0;
}

/* Invariant 2: the largest note the acceptor takes now, 0 for none. */
static int64_t largest_note(const struct feespay *p)
{
	int64_t remaining = p->due_fils - p->s.paid_fils - moving_fils(p), best = 0;
	if (remaining <= 0)
		return 0;
	for (size_t i = 0; i < p->cfg.n_denoms; i++)
		if (p->cfg.denoms_fils[i] - remaining <= p->cfg.overpay_cap_fils && p->cfg.denoms_fils[i] > best)
			best = p->cfg.denoms_fils[i];
	return best;
}

void feespay_open(struct feespay *p)
{
	struct kio_error err = {0};
	struct ledger_fee_line lines[FEESPAY_LINES_MAX];
	for (size_t i = 0; i < p->n_lines; i++)
		lines[i] = p->lines[i].ledger;
	/* Invariant 1: committed open before the acceptor may take a note. */
	if (ledger_basket_open(p->ledger, wall_s(p), p->s.lang, lines, p->n_lines, &p->tx, &err) != 0) {
		fail_ledger(p, "opening", &err);
		return;
	}
	p->tx_open = true;
	if (!refresh(p))
		return;
	int rc = payin_faulty(&p->pin) ? KIO_ERR_BUSY : payin_enable(&p->pin, p->cfg.denoms_fils, p->cfg.n_denoms);
	if (rc) {
		LOG_WARN("%s: cannot take cash (%s); fees transaction %" PRId64 " cancelled", p->unit->name,
			 kio_strerror(rc), p->tx.seq);
		payin_disable(&p->pin);
		if (ledger_basket_close(p->ledger, p->tx.id, wall_s(p), LEDGER_REST_NONE, NULL, p->cfg.voucher_days, &p->end,
					&err) != 0) {
			fail_ledger(p, "cancelling", &err);
			return;
		}
		p->tx_open = false;
		p->tx_ends++;
		p->notice = "pay.acceptor-unavailable";
		set_step(p, FEESPAY_END, FEESPAY_EXIT_BASKET);
		return;
	}
	session_touch(&p->s, now_ms(p));
	LOG_INFO("fees transaction %" PRId64 " open: %zu line(s), %" PRId64 " fils due", p->tx.seq, p->n_lines,
		 p->due_fils);
	set_step(p, FEESPAY_PAY, FEESPAY_EXIT_NONE);
	checkpoint(p, "fees-pay-enabled");
}

/* Ends the basket: nothing paid (cancelled), or the rest to `to` (invariant 4). */
static void close_basket(struct feespay *p, enum ledger_rest_to to, const char *card)
{
	struct kio_error err = {0};
	if (ledger_basket_close(p->ledger, p->tx.id, wall_s(p), to, card, p->cfg.voucher_days, &p->end, &err) != 0) {
		fail_ledger(p, "closing", &err);
		return;
	}
	p->tx_open = false;
	p->tx_ends++;
	if (p->end.paid_fils == 0) {
		LOG_INFO("fees transaction %" PRId64 " cancelled, nothing paid", p->tx.seq);
		set_step(p, FEESPAY_END,
			 p->why == LEAVE_BACK ? FEESPAY_EXIT_BASKET : p->why == LEAVE_IDLE ? FEESPAY_EXIT_ATTRACT
										   : FEESPAY_EXIT_HOME);
		return;
	}
	LOG_INFO("fees transaction %" PRId64 " completed: paid %" PRId64 ", lines %" PRId64 ", rest %" PRId64
		 " fils to %s", p->tx.seq, p->end.paid_fils, p->end.lines_fils, p->end.rest_fils,
		 p->end.rest_to == LEDGER_REST_CARD ? "a card" : p->end.rest_to == LEDGER_REST_VOUCHER ? "a voucher" : "none");
	p->receipt_at_done = p->printer_ok;
	p->done_since_ms = now_ms(p);
	p->notice = NULL;
	set_step(p, FEESPAY_DONE, FEESPAY_EXIT_NONE);
	checkpoint(p, "fees-done");
}

static bool record_line(struct feespay *p, size_t i, enum ledger_line_status st, const char *host_ref)
{
	struct kio_error err = {0};
	if (ledger_basket_line_result(p->ledger, p->tx.id, (int)i + 1, st, host_ref, wall_s(p), &err) != 0) {
		fail_ledger(p, "recording a line of", &err);
		return false;
	}
	p->decided[i] = true;
	p->status[i] = st;
	return true;
}

/* Every line decided (invariant 5): CHANGE with the rest, or the end with none. */
static void after_lines(struct feespay *p, const char *why)
{
	if (!refresh(p))
		return;
	p->rest_fils = p->s.paid_fils - p->due_fils;
	if (p->rest_fils > 0) {
		p->rest_why = why;
		session_touch(&p->s, now_ms(p));
		LOG_INFO("fees transaction %" PRId64 ": %" PRId64 " fils to place (%s)", p->tx.seq, p->rest_fils, why);
		set_step(p, FEESPAY_CHANGE, FEESPAY_EXIT_NONE);
		checkpoint(p, "fees-change");
		return;
	}
	close_basket(p, LEDGER_REST_NONE, NULL);
}

/* CLOSING: once the path is empty or closing_ms passed. */
static void settle(struct feespay *p)
{
	if (p->step != FEESPAY_CLOSING)
		return;
	bool waited_out = now_ms(p) >= p->closing_since_ms + p->cfg.closing_ms;
	if (p->s.path != SESSION_PATH_EMPTY && !waited_out)
		return;
	if (!refresh(p))
		return;
	if (p->s.path != SESSION_PATH_EMPTY)
		LOG_WARN("fees transaction %" PRId64 ": a note of %" PRId64 " fils still in the path after %" PRIu64
			 " ms; going on with %" PRId64 " fils paid", p->tx.seq, p->s.path_fils, p->cfg.closing_ms,
			 p->s.paid_fils);
	if (p->s.paid_fils == 0) {
		close_basket(p, LEDGER_REST_NONE, NULL); /* invariant 4: the cancellation only */
		return;
	}
	if (p->s.paid_fils >= p->due_fils) {
		p->pay_sent = false;
		p->settling_since_ms = now_ms(p);
		set_step(p, FEESPAY_SETTLING, FEESPAY_EXIT_NONE);
		checkpoint(p, "fees-settling");
		return;
	}
	/* Invariant 4 and 5: the total was not reached; nothing is paid to the entities. */
	for (size_t i = 0; i < p->n_lines; i++)
		if (!record_line(p, i, LEDGER_LINE_UNPAID, NULL))
			return;
	after_lines(p, "change.why-unpaid");
}

static void leave_pay(struct feespay *p, enum leave_why why)
{
	payin_disable(&p->pin); /* invariant 1 */
	p->why = why;
	p->closing_since_ms = now_ms(p);
	set_step(p, FEESPAY_CLOSING, FEESPAY_EXIT_NONE);
	settle(p);
}

static const struct payin_notices notices = {
	.returned = "pay.note-returned",
	.rejected = "pay.note-rejected",
	.not_recorded = "pay.note-not-recorded",
	.fault = "pay.acceptor-fault",
	.recovered = "pay.acceptor-recovered",
};

/* Invariant 2: what the flow takes of a note payin offers it in PAY. */
static void on_escrow(struct feespay *p, const struct cash_event *ev)
{
	int64_t moving = p->pin.moving_fils;
	int64_t remaining = p->due_fils - p->s.paid_fils - moving;
	int64_t over = p->s.paid_fils + moving + ev->value_fils - p->due_fils;
	if (remaining <= 0 || over > p->cfg.overpay_cap_fils) {
		p->notice = remaining <= 0 ? "pay.note-not-needed" : "pay.note-over-cap";
		p->notice_fils = largest_note(p);
		LOG_INFO("fees transaction %" PRId64 ": note of %" PRId64 " fils returned (%" PRId64
			 " fils remaining, it would pay %" PRId64 " over, cap %" PRId64 ")",
			 p->tx.seq, ev->value_fils, remaining, over, p->cfg.overpay_cap_fils);
		payin_give_back(&p->pin, &p->s, true);
		return;
	}
	payin_take(&p->pin, &p->s, &p->notice);
}

static void on_cash(struct feespay *p, const struct cash_event *ev)
{
	const struct payin_at at = {.paying = p->step == FEESPAY_PAY, .tx_open = p->tx_open, .step = step_names[p->step],
				    .tx_seq = p->tx.seq, .now_ms = now_ms(p), .denoms_fils = p->cfg.denoms_fils,
				    .n_denoms = p->cfg.n_denoms};
	switch (payin_cash(&p->pin, &p->s, ev, &at, &p->notice)) {
	case PAYIN_DECIDE: on_escrow(p, ev); break;
	case PAYIN_CREDITED:
		if (!refresh(p)) /* invariant 3 */
			return;
		if (p->step == FEESPAY_PAY && p->s.paid_fils >= p->due_fils) {
			LOG_INFO("fees transaction %" PRId64 ": %" PRId64 " of %" PRId64 " fils paid: settling", p->tx.seq,
				 p->s.paid_fils, p->due_fils);
			leave_pay(p, LEAVE_REACHED);
			return;
		}
		break;
	case PAYIN_NONE:
	case PAYIN_FAULT:
	case PAYIN_RECOVERED: break;
	}
	if (p->step == FEESPAY_CLOSING)
		settle(p);
}

/* PAY → VOUCHER (invariant 10): the acceptor stops first, the machine gets what remains. */
static int enter_voucher(struct feespay *p)
{
	int64_t remaining = p->due_fils - p->s.paid_fils;
	if (remaining <= 0 || p->s.path != SESSION_PATH_EMPTY)
		return KIO_ERR_INVALID;
	struct kio_error err = {0};
	payin_disable(&p->pin);
	if (vpay_new(p->ledger, p->tx.id, remaining, &p->vpay, &err) != 0) {
		fail_ledger(p, "starting a voucher for", &err);
		return 0;
	}
	p->notice = NULL;
	session_touch(&p->s, now_ms(p));
	set_step(p, FEESPAY_VOUCHER, FEESPAY_EXIT_NONE);
	return 0;
}

/* Back to PAY from VOUCHER: the acceptor takes notes again (invariant 1). */
static void resume_pay(struct feespay *p)
{
	int rc = payin_faulty(&p->pin) ? KIO_ERR_BUSY : payin_enable(&p->pin, p->cfg.denoms_fils, p->cfg.n_denoms);
	if (rc) {
		LOG_WARN("%s: cannot take cash again (%s)", p->unit->name, kio_strerror(rc));
		p->notice = "pay.acceptor-unavailable";
	}
	session_touch(&p->s, now_ms(p));
	set_step(p, FEESPAY_PAY, FEESPAY_EXIT_NONE);
}

static void end_voucher(struct feespay *p)
{
	vpay_free(p->vpay);
	p->vpay = NULL;
}

static int on_voucher(struct feespay *p, const struct feespay_input *in)
{
	struct vpay_view vv;
	vpay_view(p->vpay, &vv);
	bool redeeming = vv.step == VPAY_REDEEMING;
	switch (in->kind) {
	case FEESPAY_IN_VPAY: {
		if (!in->vpay)
			return KIO_ERR_INVALID;
		session_touch(&p->s, now_ms(p));
		int rc = vpay_step(p->vpay, in->vpay, wall_s(p));
		if (rc)
			return rc;
		vpay_view(p->vpay, &vv);
		switch (vv.outcome) {
		case VPAY_GOING: return 0;
		case VPAY_OUT_OF_SERVICE: {
			struct kio_error err = {.code = KIO_ERR_IO};
			snprintf(err.msg, sizeof(err.msg), "the voucher machine could not write");
			end_voucher(p);
			fail_ledger(p, "paying a voucher into", &err);
			return 0;
		}
		case VPAY_BACK: end_voucher(p); resume_pay(p); return 0;
		case VPAY_PAID:
			end_voucher(p);
			if (!refresh(p))
				return 0;
			LOG_INFO("fees transaction %" PRId64 ": a voucher paid %" PRId64 " fils, %" PRId64 " of %" PRId64,
				 p->tx.seq, vv.paid_fils, p->s.paid_fils, p->due_fils);
			if (p->s.paid_fils >= p->due_fils) {
				/* The acceptor is already disabled: CLOSING goes straight on. */
				p->why = LEAVE_REACHED;
				p->closing_since_ms = now_ms(p);
				set_step(p, FEESPAY_CLOSING, FEESPAY_EXIT_NONE);
				settle(p);
			} else {
				resume_pay(p);
			}
			return 0;
		}
		return 0;
	}
	case FEESPAY_IN_CANCEL:
	case FEESPAY_IN_TICK: {
		if (in->kind == FEESPAY_IN_TICK && !session_idle(&p->s, now_ms(p), p->cfg.pay_idle_ms))
			return 0;
		if (redeeming) /* invariant 10: the answer or the give-up first */
			return in->kind == FEESPAY_IN_TICK ? 0 : KIO_ERR_BUSY;
		LOG_INFO("fees transaction %" PRId64 ": %s at the voucher, %" PRId64 " fils paid", p->tx.seq,
			 in->kind == FEESPAY_IN_TICK ? "customer inactive" : "cancelled", p->s.paid_fils);
		end_voucher(p);
		p->why = in->kind == FEESPAY_IN_TICK ? LEAVE_IDLE : LEAVE_CANCEL;
		p->closing_since_ms = now_ms(p);
		set_step(p, FEESPAY_CLOSING, FEESPAY_EXIT_NONE);
		settle(p);
		return 0;
	}
	default: return KIO_ERR_INVALID;
	}
}

static int on_pay(struct feespay *p, const struct feespay_input *in)
{
	switch (in->kind) {
	case FEESPAY_IN_VOUCHER: return enter_voucher(p);
	case FEESPAY_IN_CANCEL:
		session_touch(&p->s, now_ms(p));
		leave_pay(p, LEAVE_CANCEL);
		return 0;
	case FEESPAY_IN_BACK:
		if (p->s.paid_fils > 0 || p->s.path != SESSION_PATH_EMPTY)
			return KIO_ERR_INVALID;
		leave_pay(p, LEAVE_BACK);
		return 0;
	case FEESPAY_IN_TICK:
		if (!session_idle(&p->s, now_ms(p), p->cfg.pay_idle_ms))
			return 0;
		LOG_INFO("fees transaction %" PRId64 ": customer inactive, %" PRId64 " fils paid", p->tx.seq,
			 p->s.paid_fils);
		leave_pay(p, LEAVE_IDLE);
		return 0;
	default: return KIO_ERR_INVALID;
	}
}

/* Invariant 6. */
static int on_settling(struct feespay *p, const struct feespay_input *in)
{
	const struct feespay_answer none = {.answered = false};
	const struct feespay_answer *a = NULL;
	if (in->kind == FEESPAY_IN_PAY_ANSWER)
		a = in->answer ? in->answer : &none;
	else if (in->kind == FEESPAY_IN_TICK && now_ms(p) >= p->settling_since_ms + p->cfg.settle_ms)
		a = &none;
	else
		return in->kind == FEESPAY_IN_TICK ? 0 : KIO_ERR_INVALID;
	if (a->answered && a->n != p->n_lines) {
		LOG_WARN("fees transaction %" PRId64 ": the host answered %zu of %zu lines: taken as no answer", p->tx.seq,
			 a->n, p->n_lines);
		a = &none;
	}
	bool refused = false;
	p->host_unanswered = !a->answered;
	for (size_t i = 0; i < p->n_lines; i++) {
		if (p->decided[i])
			continue;
		enum ledger_line_status st;
		const char *ref = NULL;
		if (!a->answered) {
			st = p->lines[i].needs_host ? LEDGER_LINE_UNCONFIRMED : LEDGER_LINE_OFFLINE;
		} else if (a->word[i] == FEESPAY_LINE_PAID) {
			st = LEDGER_LINE_PAID;
			ref = a->host_ref[i];
		} else {
			st = LEDGER_LINE_REFUSED;
			refused = true;
		}
		if (!record_line(p, i, st, ref))
			return 0;
	}
	LOG_INFO("fees transaction %" PRId64 ": %s", p->tx.seq,
		 a->answered ? (refused ? "the host paid some lines and refused others" : "the host paid every line")
			     : "no answer from the host: the lines are settled from the records");
	after_lines(p, refused ? "change.why-refused" : "change.why-over");
	return 0;
}

static int on_change(struct feespay *p, const struct feespay_input *in)
{
	switch (in->kind) {
	case FEESPAY_IN_TO_VOUCHER:
	case FEESPAY_IN_CANCEL:
		close_basket(p, LEDGER_REST_VOUCHER, NULL);
		return 0;
	case FEESPAY_IN_TO_CARD:
		session_card_clear(&p->s);
		p->notice = NULL;
		session_touch(&p->s, now_ms(p));
		set_step(p, FEESPAY_CARD, FEESPAY_EXIT_NONE);
		return 0;
	default: return KIO_ERR_INVALID;
	}
}

static bool card_refusal(const char *notice) { return notice && strncmp(notice, "change.card.", 12) == 0; }

static int on_card(struct feespay *p, const struct feespay_input *in)
{
	session_touch(&p->s, now_ms(p));
	if ((in->kind == FEESPAY_IN_KEY || in->kind == FEESPAY_IN_DEL || in->kind == FEESPAY_IN_CLEAR) &&
	    card_refusal(p->notice))
		p->notice = NULL;
	switch (in->kind) {
	case FEESPAY_IN_KEY: return session_card_key(&p->s, in->digit) ? 0 : KIO_ERR_INVALID;
	case FEESPAY_IN_DEL: session_card_del(&p->s); return 0;
	case FEESPAY_IN_CLEAR: session_card_clear(&p->s); return 0;
	case FEESPAY_IN_NEXT:
		if (session_card_problem(p->s.card, p->s.card_len, p->cfg.prefixes, p->cfg.n_prefixes))
			return KIO_ERR_INVALID;
		p->card_sent = false;
		p->notice = NULL;
		set_step(p, FEESPAY_CARD_CHECKING, FEESPAY_EXIT_NONE);
		return 0;
	case FEESPAY_IN_BACK:
		p->notice = NULL;
		set_step(p, FEESPAY_CHANGE, FEESPAY_EXIT_NONE);
		return 0;
	case FEESPAY_IN_CANCEL: close_basket(p, LEDGER_REST_VOUCHER, NULL); return 0;
	default: return KIO_ERR_INVALID;
	}
}

/* Invariant 7. */
static int on_card_checking(struct feespay *p, const struct feespay_input *in)
{
	switch (in->kind) {
	case FEESPAY_IN_CARD_WORD: {
		const struct feespay_card *c = &in->card;
		if ((int)c->word < 0 || c->word >= FEESPAY_CARD_WORD_COUNT)
			return KIO_ERR_INVALID;
		session_touch(&p->s, now_ms(p));
		if (c->word == FEESPAY_CARD_BLOCKED || c->word == FEESPAY_CARD_UNKNOWN || !c->allowance_ok) {
			p->notice = c->word == FEESPAY_CARD_BLOCKED   ? "change.card.blocked"
				    : c->word == FEESPAY_CARD_UNKNOWN ? "change.card.unknown"
								      : "change.card.needs-host";
			set_step(p, FEESPAY_CARD, FEESPAY_EXIT_NONE);
			return 0;
		}
		close_basket(p, LEDGER_REST_CARD, p->s.card);
		return 0;
	}
	case FEESPAY_IN_BACK:
		session_touch(&p->s, now_ms(p));
		set_step(p, FEESPAY_CARD, FEESPAY_EXIT_NONE);
		return 0;
	case FEESPAY_IN_CANCEL: close_basket(p, LEDGER_REST_VOUCHER, NULL); return 0;
	default: return KIO_ERR_INVALID;
	}
}

static bool number_large(const struct feespay *p) { return !p->receipt_at_done || p->receipt_failed; }
static uint64_t done_deadline_ms(const struct feespay *p)
{
	return p->done_since_ms + (number_large(p) ? p->cfg.no_receipt_ms : p->cfg.done_ms);
}

static int step_one(struct feespay *p, const struct feespay_input *in)
{
	switch (in->kind) {
	case FEESPAY_IN_PRINTER: p->printer_ok = in->printer_ok; return 0;
	case FEESPAY_IN_CASH: on_cash(p, &in->cash); return 0;
	case FEESPAY_IN_ACTIVITY:
		if (p->step == FEESPAY_PAY || p->step == FEESPAY_CHANGE || p->step == FEESPAY_CARD ||
		    p->step == FEESPAY_CARD_CHECKING || p->step == FEESPAY_VOUCHER)
			session_touch(&p->s, now_ms(p));
		return 0;
	case FEESPAY_IN_RECEIPT:
		if (p->step != FEESPAY_DONE)
			return KIO_ERR_INVALID;
		if (!in->receipt_printed && !p->receipt_failed) {
			LOG_WARN("fees transaction %" PRId64 ": no receipt came out: the number is shown large", p->tx.seq);
			p->done_since_ms = now_ms(p); /* invariant 8 */
			p->receipt_failed = true;
		}
		return 0;
	default: break;
	}
	bool idle = in->kind == FEESPAY_IN_TICK && session_idle(&p->s, now_ms(p), p->cfg.change_idle_ms);
	switch (p->step) {
	case FEESPAY_PAY: return on_pay(p, in);
	case FEESPAY_CLOSING:
		if (in->kind != FEESPAY_IN_TICK)
			return KIO_ERR_INVALID;
		settle(p);
		return 0;
	case FEESPAY_SETTLING: return on_settling(p, in);
	case FEESPAY_VOUCHER: return on_voucher(p, in);
	case FEESPAY_CHANGE:
	case FEESPAY_CARD:
	case FEESPAY_CARD_CHECKING:
		if (in->kind == FEESPAY_IN_TICK) {
			if (idle) {
				/* Invariant 4: never abandoned. */
				LOG_INFO("fees transaction %" PRId64 ": customer inactive at %s: the rest to a voucher",
					 p->tx.seq, step_names[p->step]);
				close_basket(p, LEDGER_REST_VOUCHER, NULL);
			}
			return 0;
		}
		return p->step == FEESPAY_CHANGE ? on_change(p, in)
		       : p->step == FEESPAY_CARD ? on_card(p, in)
						 : on_card_checking(p, in);
	case FEESPAY_DONE:
		if (in->kind == FEESPAY_IN_TICK) {
			if (now_ms(p) >= done_deadline_ms(p))
				set_step(p, FEESPAY_END, FEESPAY_EXIT_ATTRACT);
			return 0;
		}
		if (in->kind == FEESPAY_IN_FINISH || in->kind == FEESPAY_IN_CANCEL) {
			set_step(p, FEESPAY_END, FEESPAY_EXIT_ATTRACT);
			return 0;
		}
		return KIO_ERR_INVALID;
	case FEESPAY_END:
	case FEESPAY_STEP_COUNT: break;
	}
	return in->kind == FEESPAY_IN_TICK ? 0 : KIO_ERR_INVALID;
}

static void on_deferred_cash(void *flow, const struct cash_event *ev) { on_cash(flow, ev); }

int feespay_step(struct feespay *p, const struct feespay_input *in)
{
	if (payin_busy(&p->pin))
		return in->kind == FEESPAY_IN_CASH ? payin_defer(&p->pin, &in->cash) : KIO_ERR_BUSY;
	payin_enter(&p->pin);
	int rc = step_one(p, in);
	payin_leave(&p->pin, on_deferred_cash, p);
	return rc;
}

void feespay_cash_listener(void *user, const struct cash_event *ev)
{
	struct feespay_input in = {.kind = FEESPAY_IN_CASH, .cash = *ev};
	feespay_step(user, &in);
}

int feespay_new(const struct feespay_config *cfg, struct ledger *ledger, struct cash_unit *unit,
		const struct core_clock *clock, const char *lang, bool printer_ok, const struct feespay_line *lines,
		size_t n, struct feespay **out, struct kio_error *err)
{
	*out = NULL;
	if (n == 0 || n > FEESPAY_LINES_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "fees payment: %zu lines", n);
	if (cfg->overpay_cap_fils < 0 || cfg->voucher_days < 1 || cfg->voucher_days > 3650)
		return kio_fail(err, KIO_ERR_INVALID, "fees payment: cap %" PRId64 " fils, vouchers of %d days",
				cfg->overpay_cap_fils, cfg->voucher_days);
	int rc = payin_config_check("fees payment", cfg->denoms_fils, cfg->n_denoms, cfg->prefixes, cfg->n_prefixes,
				    err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (lines[i].ledger.amount_fils <= 0)
			return kio_fail(err, KIO_ERR_INVALID, "fees payment: line %zu costs %" PRId64 " fils", i + 1,
					lines[i].ledger.amount_fils);
	struct feespay *p = xcalloc(1, sizeof(*p));
	p->cfg = *cfg;
	p->ledger = ledger;
	p->unit = unit;
	payin_init(&p->pin, unit, "fees transaction", &notices);
	p->clock = clock;
	p->printer_ok = printer_ok;
	memcpy(p->lines, lines, n * sizeof(lines[0]));
	p->n_lines = n;
	session_start(&p->s, lang, 0, 0, core_clock_now_ms(clock));
	p->step = FEESPAY_PAY;
	p->exit = FEESPAY_EXIT_NONE;
	rc = unit->ops->disable(unit); /* invariant 1: nothing taken before feespay_open */
	if (rc)
		LOG_WARN("%s: disable failed: %s", unit->name, kio_strerror(rc));
	*out = p;
	return 0;
}

void feespay_free(struct feespay *p)
{
	if (!p)
		return;
	if (p->pin.enabled)
		payin_disable(&p->pin);
	if (p->tx_open)
		LOG_WARN("fees transaction %" PRId64 " left open: recovery ends it", p->tx.seq);
	vpay_free(p->vpay); /* an unbooked intent is the close's or recovery's to void */
	free(p);
}

void feespay_pay_sent(struct feespay *p) { p->pay_sent = true; }
void feespay_card_sent(struct feespay *p) { p->card_sent = true; }
void feespay_vpay_sent(struct feespay *p)
{
	if (p->vpay)
		vpay_ask_sent(p->vpay);
}
enum feespay_step feespay_current(const struct feespay *p) { return p->step; }
int64_t feespay_tx_id(const struct feespay *p) { return p->tx.id; }

uint64_t feespay_deadline_ms(const struct feespay *p)
{
	switch (p->step) {
	case FEESPAY_PAY: return p->cfg.pay_idle_ms ? p->s.last_activity_ms + p->cfg.pay_idle_ms : 0;
	case FEESPAY_CLOSING: return p->closing_since_ms + p->cfg.closing_ms;
	case FEESPAY_SETTLING: return p->settling_since_ms + p->cfg.settle_ms;
	case FEESPAY_CHANGE:
	case FEESPAY_CARD:
	case FEESPAY_CARD_CHECKING: return p->cfg.change_idle_ms ? p->s.last_activity_ms + p->cfg.change_idle_ms : 0;
	case FEESPAY_VOUCHER: {
		/* Invariant 10: no time runs out while the redeem is out; the app's bound does. */
		struct vpay_view vv;
		vpay_view(p->vpay, &vv);
		if (vv.step == VPAY_REDEEMING)
			return 0;
		return p->cfg.pay_idle_ms ? p->s.last_activity_ms + p->cfg.pay_idle_ms : 0;
	}
	case FEESPAY_DONE: return done_deadline_ms(p);
	case FEESPAY_END:
	case FEESPAY_STEP_COUNT: break;
	}
	return 0;
}

void feespay_view(const struct feespay *p, struct feespay_view *v)
{
	memset(v, 0, sizeof(*v));
	v->step = p->step;
	v->exit = p->exit;
	v->due_fils = p->due_fils;
	v->paid_fils = p->s.paid_fils;
	v->remaining_fils = p->due_fils > p->s.paid_fils ? p->due_fils - p->s.paid_fils : 0;
	v->largest_note_fils = p->step == FEESPAY_PAY ? largest_note(p) : 0;
	v->notes = p->s.notes;
	v->denoms_fils = p->cfg.denoms_fils;
	v->n_denoms = p->cfg.n_denoms;
	memcpy(v->notes_by_denom, p->pin.by_denom, sizeof(v->notes_by_denom));
	v->accepting = p->step == FEESPAY_PAY && p->pin.enabled && !payin_faulty(&p->pin);
	v->back_enabled = p->step == FEESPAY_PAY && p->s.paid_fils == 0 && p->s.path == SESSION_PATH_EMPTY;
	v->cancel_keeps_money = p->s.paid_fils > 0;
	v->voucher_enabled = p->step == FEESPAY_PAY && p->due_fils > p->s.paid_fils && p->s.path == SESSION_PATH_EMPTY;
	if (p->step == FEESPAY_VOUCHER && p->vpay)
		vpay_view(p->vpay, &v->vpay);
	v->no_change_msg = "pay.no-change";
	v->printer_msg = p->printer_ok ? NULL : "topup.receipt.unavailable";
	v->notice = p->notice;
	v->notice_fils = p->notice_fils;
	v->tx_ends = p->tx_ends;
	v->pay_ask = p->step == FEESPAY_SETTLING && !p->pay_sent;
	memcpy(v->tx_uuid, p->tx.uuid, sizeof(v->tx_uuid));
	v->tx_seq = p->tx.seq;
	v->tx_id = p->tx.id;
	v->n_lines = p->n_lines;
	memcpy(v->lines, p->lines, sizeof(v->lines));
	memcpy(v->decided, p->decided, sizeof(v->decided));
	memcpy(v->status, p->status, sizeof(v->status));
	v->host_unanswered = p->host_unanswered;
	v->rest_fils = p->rest_fils;
	v->rest_why = p->rest_why;
	session_card_grouped(&p->s, v->card_grouped);
	const char *problem = session_card_problem(p->s.card, p->s.card_len, p->cfg.prefixes, p->cfg.n_prefixes);
	v->card_msg = p->step == FEESPAY_CARD_CHECKING ? "change.card.checking" : problem ? problem : "topup.card.ok";
	v->next_enabled = p->step == FEESPAY_CARD && !problem;
	v->card_ask = p->step == FEESPAY_CARD_CHECKING && !p->card_sent;
	if (p->step == FEESPAY_CARD_CHECKING)
		memcpy(v->card, p->s.card, sizeof(v->card));
	if (p->step == FEESPAY_DONE || (p->step == FEESPAY_END && p->end.paid_fils > 0)) {
		v->end = p->end;
		session_card_masked(p->end.rest_to == LEDGER_REST_CARD ? p->end.card : NULL, v->card_masked);
		v->tx_number_large = number_large(p);
		v->receipt_msg = p->receipt_failed     ? "topup.done.receipt-failed"
				 : !p->receipt_at_done ? "topup.receipt.unavailable"
						       : "topup.done.take-receipt";
		v->print_receipt = p->receipt_at_done;
	}
}
