/* The `pay.voucher` step machine: a voucher's code typed, validated and its whole value
 * redeemed into an open fees basket, the intent committed before the host is asked (vpay.h). */
#define LOG_MODULE "vpay"
#include "vpay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/sync/sync.h"

struct vpay {
	struct ledger *l;
	int64_t tx_id, remaining;
	enum vpay_step step;
	char typed[VCODE_DIGITS + 1]; /* digits only, as typed */
	int digits;
	const char *msg;
	bool msg_is_error;
	bool value_known;
	int64_t value;
	char expires[11];
	enum vpay_ask ask;
	char code[VCODE_DIGITS + 1]; /* canonical, once it parses */
	char rid[37];
	enum vpay_outcome outcome;
	int64_t paid;
};

static const char *const step_names[] = {"code", "validating", "valid", "redeeming", "over"};
static const char *const outcome_names[] = {"going", "paid", "back", "out-of-service"};

const char *vpay_step_name(int step)
{
	return step >= 0 && step < VPAY_STEP_COUNT ? step_names[step] : NULL;
}

const char *vpay_outcome_name(int outcome)
{
	return outcome >= 0 && outcome < (int)(sizeof(outcome_names) / sizeof(outcome_names[0])) ? outcome_names[outcome]
												   : NULL;
}

static void go(struct vpay *v, enum vpay_step to)
{
	LOG_DBG("%s -> %s", step_names[v->step], step_names[to]);
	v->step = to;
}

/* The live verdict of what is typed (vcode_parse), said as the customer types: a wrong first
 * digit at once, not only at the sixteenth. */
static void verdict(struct vpay *v)
{
	v->msg_is_error = false;
	v->code[0] = '\0';
	if (v->digits == 0) {
		v->msg = "voucher.enter";
		return;
	}
	if (v->typed[0] != VCODE_PREFIX) {
		v->msg = "voucher.bad-prefix";
		v->msg_is_error = true;
		return;
	}
	switch (vcode_parse(v->typed, v->code)) {
	case VCODE_OK: v->msg = "voucher.ok"; break;
	case VCODE_ERR_CHECK:
		v->msg = "voucher.bad-check";
		v->msg_is_error = true;
		break;
	default: v->msg = "voucher.incomplete"; break;
	}
}

static void forget_value(struct vpay *v)
{
	v->value_known = false;
	v->value = 0;
	v->expires[0] = '\0';
}

/* Back to CODE with the code kept and msg said (an answer), or the verdict anew (msg NULL). */
static void to_code(struct vpay *v, const char *msg)
{
	forget_value(v);
	v->ask = VPAY_ASK_NONE;
	v->rid[0] = '\0';
	verdict(v);
	if (msg) {
		v->msg = msg;
		v->msg_is_error = true;
	}
	go(v, VPAY_CODE);
}

static void over(struct vpay *v, enum vpay_outcome how, const char *msg)
{
	v->outcome = how;
	v->ask = VPAY_ASK_NONE;
	if (msg) {
		v->msg = msg;
		v->msg_is_error = true;
	}
	go(v, VPAY_OVER);
}

static int on_code(struct vpay *v, const struct vpay_input *in)
{
	switch (in->kind) {
	case VPAY_IN_KEY:
		if (in->digit < '0' || in->digit > '9' || v->digits == VCODE_DIGITS)
			return KIO_ERR_INVALID;
		v->typed[v->digits++] = in->digit;
		v->typed[v->digits] = '\0';
		break;
	case VPAY_IN_DEL:
		if (v->digits > 0)
			v->typed[--v->digits] = '\0';
		break;
	case VPAY_IN_CLEAR:
		v->digits = 0;
		v->typed[0] = '\0';
		break;
	default: return KIO_ERR_INVALID;
	}
	to_code(v, NULL);
	return 0;
}

/* What an answer that is not the one hoped for says to the customer. */
static const char *refusal_msg(enum sync_voucher_kind kind)
{
	switch (kind) {
	case SYNC_VOUCHER_UNKNOWN: return "voucher.unknown";
	case SYNC_VOUCHER_SPENT: return "voucher.spent";
	case SYNC_VOUCHER_EXPIRED: return "voucher.expired";
	case SYNC_VOUCHER_RETRY: return "voucher.needs-host";
	default: return "voucher.host-error";
	}
}

static int on_valid(struct vpay *v, const struct sync_voucher_result *r)
{
	if (!r)
		return KIO_ERR_INVALID;
	if (r->result != SYNC_ASK_ANSWERED) { /* online only: no host, no voucher */
		LOG_INFO("voucher ...%s: not validated (%s)", v->code + VCODE_DIGITS - 4, r->why);
		to_code(v, "voucher.needs-host");
		return 0;
	}
	if (r->answer.kind != SYNC_VOUCHER_VALID || r->answer.value_fils <= 0) {
		LOG_INFO("voucher ...%s: %s", v->code + VCODE_DIGITS - 4, sync_voucher_kind_name((int)r->answer.kind));
		to_code(v, r->answer.kind == SYNC_VOUCHER_VALID ? "voucher.host-error" : refusal_msg(r->answer.kind));
		return 0;
	}
	v->value_known = true;
	v->value = r->answer.value_fils;
	snprintf(v->expires, sizeof(v->expires), "%s", r->answer.expires);
	v->msg = "voucher.valid";
	v->msg_is_error = false;
	go(v, VPAY_VALID);
	return 0;
}

/* VALID → redeem: invariant 2, the intent committed first; only then the ask. */
static int on_redeem(struct vpay *v, int64_t now_s)
{
	struct kio_error err = {0};
	char rid[37];
	int rc = ledger_basket_voucher_intent(v->l, v->tx_id, v->code, v->value, now_s, rid, &err);
	if (rc == KIO_ERR_INVALID) {
		/* The basket took its most tries, or it is no longer an open fees transaction (the
		 * embedding flow's fault): either way no redemption may be asked. */
		struct ledger_voucher_intent in[LEDGER_BASKET_INTENTS_MAX];
		size_t n = 0;
		struct kio_error e2 = {0};
		if (ledger_basket_intents(v->l, v->tx_id, in, LEDGER_BASKET_INTENTS_MAX, &n, &e2) == 0 &&
		    n == LEDGER_BASKET_INTENTS_MAX) {
			LOG_WARN("voucher ...%s: %s", v->code + VCODE_DIGITS - 4, err.msg);
			to_code(v, "voucher.too-many");
			return 0;
		}
	}
	if (rc) {
		LOG_ERR("voucher ...%s: the intent cannot be recorded: %s", v->code + VCODE_DIGITS - 4, err.msg);
		over(v, VPAY_OUT_OF_SERVICE, "voucher.error.ledger");
		return 0;
	}
	memcpy(v->rid, rid, sizeof(rid));
	v->ask = VPAY_ASK_REDEEM;
	v->msg = "voucher.redeeming";
	v->msg_is_error = false;
	go(v, VPAY_REDEEMING);
	return 0;
}

static int on_redeemed(struct vpay *v, const struct sync_redeem_result *r, int64_t now_s)
{
	if (!r)
		return KIO_ERR_INVALID;
	if (r->result != SYNC_ASK_ANSWERED) {
		/* Nothing was sent (no worker): the intent is voided at the end (invariant 4). */
		to_code(v, "voucher.needs-host");
		return 0;
	}
	if (r->answer.kind != SYNC_VOUCHER_REDEEMED) {
		LOG_INFO("voucher ...%s: redemption %s: %s", v->code + VCODE_DIGITS - 4, v->rid,
			 sync_voucher_kind_name((int)r->answer.kind));
		to_code(v, r->answer.kind == SYNC_VOUCHER_RETRY ? "voucher.host-error" : refusal_msg(r->answer.kind));
		return 0;
	}
	/* Invariant 5: the host redeemed what was asked (the wire parser holds it; checked again
	 * because booking another figure would break the basket's balance with the host). */
	if (r->answer.redeemed_fils != v->value) {
		LOG_ERR("voucher ...%s: redemption %s: the host redeemed %" PRId64 " fils, %" PRId64 " asked",
			v->code + VCODE_DIGITS - 4, v->rid, r->answer.redeemed_fils, v->value);
		to_code(v, "voucher.host-error");
		return 0;
	}
	struct kio_error err = {0};
	if (ledger_basket_voucher_paid(v->l, v->tx_id, v->code, v->rid, v->value, now_s, &err) != 0) {
		/* Not booked: the intent stays and recovery voids it, so the host gives the value back. */
		LOG_ERR("voucher ...%s: redemption %s cannot be booked: %s", v->code + VCODE_DIGITS - 4, v->rid, err.msg);
		over(v, VPAY_OUT_OF_SERVICE, "voucher.error.ledger");
		return 0;
	}
	v->paid = v->value;
	v->msg = NULL;
	v->msg_is_error = false;
	over(v, VPAY_PAID, NULL);
	return 0;
}

/* Invariant 4: this basket already asked to redeem this code and got no answer it could
 * book (given up, cut). The host may hold that redemption, so validating would say "spent":
 * the same redemption is asked again instead, its intent already committed (invariant 2).
 * 0: resumed (REDEEMING); 1: none pending, validate as usual. */
static int resume_pending(struct vpay *v)
{
	struct ledger_voucher_intent in[LEDGER_BASKET_INTENTS_MAX];
	size_t n = 0;
	struct kio_error err = {0};
	if (ledger_basket_intents(v->l, v->tx_id, in, LEDGER_BASKET_INTENTS_MAX, &n, &err) != 0) {
		LOG_ERR("the basket's redemption intents cannot be read: %s", err.msg);
		over(v, VPAY_OUT_OF_SERVICE, "voucher.error.ledger");
		return 0;
	}
	for (size_t k = n; k-- > 0;) {
		if (in[k].state != LEDGER_INTENT_PENDING || strcmp(in[k].code, v->code) != 0)
			continue;
		LOG_INFO("voucher ...%s: redemption %s asked again", v->code + VCODE_DIGITS - 4, in[k].redemption_id);
		v->value_known = true;
		v->value = in[k].value_fils;
		v->expires[0] = '\0';
		memcpy(v->rid, in[k].redemption_id, sizeof(v->rid));
		v->ask = VPAY_ASK_REDEEM;
		v->msg = "voucher.redeeming";
		v->msg_is_error = false;
		go(v, VPAY_REDEEMING);
		return 0;
	}
	return 1;
}

int vpay_new(struct ledger *l, int64_t tx_id, int64_t remaining_fils, struct vpay **out, struct kio_error *err)
{
	*out = NULL;
	if (!l || remaining_fils <= 0)
		return kio_fail(err, KIO_ERR_INVALID, "vpay: nothing remains to pay (%" PRId64 " fils)", remaining_fils);
	struct ledger_tx tx;
	int rc = ledger_tx_get(l, tx_id, &tx, err);
	if (rc)
		return rc;
	if (tx.kind != LEDGER_TX_FEES || tx.state != LEDGER_TX_OPEN)
		return kio_fail(err, KIO_ERR_INVALID, "vpay: transaction %" PRId64 " is not an open fees one", tx.seq);
	struct vpay *v = xcalloc(1, sizeof(*v));
	v->l = l;
	v->tx_id = tx_id;
	v->remaining = remaining_fils;
	v->step = VPAY_CODE;
	verdict(v);
	*out = v;
	return 0;
}

void vpay_free(struct vpay *v)
{
	free(v);
}

int vpay_step(struct vpay *v, const struct vpay_input *in, int64_t now_s)
{
	switch (v->step) {
	case VPAY_CODE:
		if (in->kind == VPAY_IN_BACK) {
			over(v, VPAY_BACK, NULL);
			return 0;
		}
		if (in->kind == VPAY_IN_REDEEM) {
			if (!v->code[0])
				return KIO_ERR_INVALID;
			int rc = resume_pending(v);
			if (rc <= 0)
				return rc;
			v->ask = VPAY_ASK_VALIDATE; /* invariant 1: a question, nothing written */
			v->msg = "voucher.checking";
			v->msg_is_error = false;
			go(v, VPAY_VALIDATING);
			return 0;
		}
		return on_code(v, in);
	case VPAY_VALIDATING:
		if (in->kind == VPAY_IN_BACK) {
			to_code(v, NULL); /* invariant 6: the answer, if it comes, moves nothing */
			return 0;
		}
		if (in->kind == VPAY_IN_GIVE_UP) {
			to_code(v, "voucher.needs-host");
			return 0;
		}
		if (in->kind == VPAY_IN_VALID)
			return on_valid(v, in->valid);
		return KIO_ERR_INVALID;
	case VPAY_VALID:
		if (in->kind == VPAY_IN_REDEEM)
			return on_redeem(v, now_s);
		if (in->kind == VPAY_IN_BACK) {
			to_code(v, NULL);
			return 0;
		}
		if (in->kind == VPAY_IN_KEY || in->kind == VPAY_IN_DEL || in->kind == VPAY_IN_CLEAR)
			return on_code(v, in);
		return KIO_ERR_INVALID;
	case VPAY_REDEEMING:
		/* Invariant 3: only the answer or the app's give-up leaves. */
		if (in->kind == VPAY_IN_REDEEMED)
			return on_redeemed(v, in->redeem, now_s);
		if (in->kind == VPAY_IN_GIVE_UP) {
			LOG_WARN("voucher ...%s: redemption %s given up unanswered: voided at the basket's end unless asked"
				 " again",
				 v->code + VCODE_DIGITS - 4, v->rid);
			to_code(v, "voucher.unconfirmed");
			return 0;
		}
		if (in->kind == VPAY_IN_BACK || in->kind == VPAY_IN_KEY || in->kind == VPAY_IN_DEL ||
		    in->kind == VPAY_IN_CLEAR || in->kind == VPAY_IN_REDEEM)
			return KIO_ERR_BUSY;
		return KIO_ERR_INVALID;
	case VPAY_OVER:
	default: return KIO_ERR_INVALID;
	}
}

void vpay_ask_sent(struct vpay *v)
{
	v->ask = VPAY_ASK_NONE;
}

void vpay_view(const struct vpay *v, struct vpay_view *out)
{
	memset(out, 0, sizeof(*out));
	out->step = v->step;
	/* Groups of four as typed: "9123 45". */
	size_t w = 0;
	for (int k = 0; k < v->digits; k++) {
		if (k > 0 && k % 4 == 0)
			out->code_grouped[w++] = ' ';
		out->code_grouped[w++] = v->typed[k];
	}
	out->code_grouped[w] = '\0';
	out->digits = v->digits;
	out->msg = v->msg;
	out->msg_is_error = v->msg_is_error;
	out->keys_enabled = v->step == VPAY_CODE || v->step == VPAY_VALID;
	out->redeem_enabled = (v->step == VPAY_CODE && v->code[0]) || v->step == VPAY_VALID;
	out->back_enabled = v->step == VPAY_CODE || v->step == VPAY_VALIDATING || v->step == VPAY_VALID;
	out->remaining_fils = v->remaining;
	out->value_known = v->value_known;
	if (v->value_known) {
		out->value_fils = v->value;
		snprintf(out->expires, sizeof(out->expires), "%s", v->expires);
		out->whole_msg = "voucher.whole";
		if (v->value > v->remaining) {
			out->excess_fils = v->value - v->remaining;
			out->excess_msg = "voucher.excess";
		}
	}
	out->ask = v->ask;
	if (v->ask != VPAY_ASK_NONE || v->step == VPAY_VALIDATING || v->step == VPAY_REDEEMING)
		memcpy(out->code, v->code, sizeof(out->code));
	if (v->ask == VPAY_ASK_REDEEM || v->step == VPAY_REDEEMING) {
		memcpy(out->redemption_id, v->rid, sizeof(out->redemption_id));
		out->amount_fils = v->value;
	}
	out->outcome = v->step == VPAY_OVER ? v->outcome : VPAY_GOING;
	out->paid_fils = v->outcome == VPAY_PAID ? v->paid : 0;
}
