/* The fees flow's step function: browsing the catalogue, the reference, the amount and the
 * basket (nothing booked). Diagram, transitions, invariants, message ids: fees.h. */
#define LOG_MODULE "flow-fees"
#include "fees.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

#define FILS_PER_AED 100

struct fees {
	const struct catalogue *cat;
	enum fees_step step;
	bool online;
	const struct cat_entity *entity;
	const struct cat_service *service;
	char reference[CAT_REF_MAX + 1];
	const char *reference_msg;
	const char *notice;
	/* AMOUNT: what is offered, the catalogue's or the host's (invariant 5) */
	bool from_host;
	enum fees_due_kind kind;
	char payee[FEES_TEXT_MAX + 1], description[FEES_TEXT_MAX + 1];
	int64_t amount_fils, min_fils, max_fils, step_fils;
	char typed[FEES_TYPED_AED_MAX + 1]; /* OPEN: whole AED on the keypad */
	bool typing;
	struct fees_item items[FEES_ITEMS_MAX];
	bool chosen[FEES_ITEMS_MAX];
	size_t n_items;
	/* The basket: in memory only (invariant 1). */
	struct fees_line lines[FEES_BASKET_MAX];
	size_t n_lines;
};

static const char *const step_names[FEES_STEP_COUNT] = {"entity", "service",  "reference", "checking",
							 "amount", "basket",   "pay",       "end"};
static const char *const answer_names[FEES_ANSWER_RESULT_COUNT] = {"ok", "not-found", "unreachable",
								   "not-configured", "error"};

const char *fees_step_name(int step) { return step >= 0 && step < FEES_STEP_COUNT ? step_names[step] : NULL; }
const char *fees_answer_result_name(int result)
{
	return result >= 0 && result < FEES_ANSWER_RESULT_COUNT ? answer_names[result] : NULL;
}

static void set_step(struct fees *f, enum fees_step step)
{
	LOG_DBG("%s -> %s (%s/%s)", step_names[f->step], step_names[step], f->entity ? f->entity->id : "-",
		f->service ? f->service->id : "-");
	f->step = step;
}

int fees_new(const struct catalogue *cat, bool online, struct fees **out, struct kio_error *err)
{
	*out = NULL;
	if (!cat || cat->n_entities == 0)
		return kio_fail(err, KIO_ERR_INVALID, "fees: the catalogue has no entity");
	struct fees *f = xcalloc(1, sizeof(*f));
	f->cat = cat;
	f->online = online;
	f->step = FEES_ENTITY;
	*out = f;
	return 0;
}

void fees_free(struct fees *f) { free(f); }

enum fees_step fees_current(const struct fees *f) { return f->step; }

/* Invariant 4. */
bool fees_service_open(const struct fees *f, const struct cat_service *s) { return !s->needs_host || f->online; }

static int64_t lines_total(const struct fees *f)
{
	int64_t t = 0;
	for (size_t i = 0; i < f->n_lines; i++)
		t += f->lines[i].amount_fils;
	return t;
}

/* Invariant 6: this bill of this service and reference is in the basket. */
static bool bill_in_basket(const struct fees *f, const char *bill)
{
	for (size_t i = 0; i < f->n_lines; i++) {
		const struct fees_line *l = &f->lines[i];
		if (strcmp(l->entity, f->entity->id) == 0 && strcmp(l->service, f->service->id) == 0 &&
		    strcmp(l->reference, f->reference) == 0 && strcmp(l->bill, bill) == 0)
			return true;
	}
	return false;
}

/* Invariant 5: an open amount is in bounds and a whole number of steps from the minimum. */
static bool open_valid(const struct fees *f, int64_t a)
{
	return a >= f->min_fils && a <= f->max_fils && (a - f->min_fils) % f->step_fils == 0;
}

/* The largest amount on a step, at most max. */
static int64_t open_top(const struct fees *f) { return f->max_fils - (f->max_fils - f->min_fils) % f->step_fils; }

static const char *open_msg(const struct fees *f)
{
	if (!f->typing)
		return NULL;
	if (!f->typed[0])
		return "fees.amount.choose";
	if (f->amount_fils < f->min_fils)
		return "fees.amount.below-min";
	if (f->amount_fils > f->max_fils)
		return "fees.amount.above-max";
	if (!open_valid(f, f->amount_fils))
		return "fees.amount.off-step";
	return NULL;
}

static size_t chosen_count(const struct fees *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_items; i++)
		n += f->chosen[i] && !bill_in_basket(f, f->items[i].id);
	return n;
}

static bool add_ok(const struct fees *f)
{
	switch (f->kind) {
	case FEES_DUE_FIXED: return f->amount_fils > 0;
	case FEES_DUE_ITEMS: return chosen_count(f) > 0;
	case FEES_DUE_OPEN: return (!f->typing || f->typed[0]) && open_valid(f, f->amount_fils);
	case FEES_DUE_KIND_COUNT: break;
	}
	return false;
}

/* The amount step from the catalogue alone (no host asked). */
static void enter_amount_catalogue(struct fees *f)
{
	const struct cat_service *s = f->service;
	f->from_host = false;
	f->payee[0] = f->description[0] = '\0';
	f->n_items = 0;
	f->typing = false;
	f->typed[0] = '\0';
	if (s->kind == CAT_FEE_OPEN) {
		f->kind = FEES_DUE_OPEN;
		f->min_fils = s->min_fils, f->max_fils = s->max_fils, f->step_fils = s->step_fils;
		f->amount_fils = s->min_fils; /* the journey: it starts at the minimum */
	} else {
		f->kind = FEES_DUE_FIXED;
		f->amount_fils = s->amount_fils;
	}
	f->notice = NULL;
	set_step(f, FEES_AMOUNT);
}

/* Invariant 4: a service that needs the host goes to CHECKING only while online. */
static void after_reference(struct fees *f)
{
	if (!f->service->needs_host) {
		enter_amount_catalogue(f);
		return;
	}
	if (!f->online) {
		f->reference_msg = "fees.reference.needs-host";
		f->notice = "fees.reference.needs-host";
		if (f->step != FEES_REFERENCE)
			set_step(f, f->service->has_reference ? FEES_REFERENCE : FEES_SERVICE);
		return;
	}
	f->notice = NULL;
	f->reference_msg = "fees.reference.checking";
	set_step(f, FEES_CHECKING);
}

static const char *verdict_msg(enum cat_ref_verdict v)
{
	switch (v) {
	case CAT_REF_OK: return "fees.reference.ok";
	case CAT_REF_EMPTY: return "fees.reference.empty";
	case CAT_REF_SHORT: return "fees.reference.short";
	case CAT_REF_LONG: return "fees.reference.long";
	case CAT_REF_CHAR: return "fees.reference.char";
	case CAT_REF_CHECK:
	case CAT_REF_VERDICT_COUNT: break;
	}
	return "fees.reference.check";
}

static int on_entity(struct fees *f, const struct fees_input *in)
{
	switch (in->kind) {
	case FEES_IN_ENTITY: {
		const struct cat_entity *e = in->id ? catalogue_entity(f->cat, in->id) : NULL;
		if (!e)
			return KIO_ERR_INVALID;
		f->entity = e;
		f->service = NULL;
		f->notice = NULL;
		set_step(f, FEES_SERVICE);
		return 0;
	}
	case FEES_IN_BACK:
		if (f->n_lines) {
			f->notice = NULL;
			set_step(f, FEES_BASKET);
			return 0;
		}
		set_step(f, FEES_END);
		return 0;
	default: return KIO_ERR_INVALID;
	}
}

static int on_service(struct fees *f, const struct fees_input *in)
{
	switch (in->kind) {
	case FEES_IN_SERVICE: {
		const struct cat_service *s = in->id ? catalogue_service(f->entity, in->id) : NULL;
		if (!s)
			return KIO_ERR_INVALID;
		if (!fees_service_open(f, s)) {
			f->notice = "fees.service.needs-host"; /* invariant 4 */
			return KIO_ERR_INVALID;
		}
		f->service = s;
		f->reference[0] = '\0';
		f->notice = NULL;
		if (s->has_reference) {
			f->reference_msg = "fees.reference.enter";
			set_step(f, FEES_REFERENCE);
		} else {
			after_reference(f);
		}
		return 0;
	}
	case FEES_IN_BACK:
		f->notice = NULL;
		set_step(f, FEES_ENTITY);
		return 0;
	default: return KIO_ERR_INVALID;
	}
}

static int on_reference(struct fees *f, const struct fees_input *in)
{
	size_t len = strlen(f->reference);
	switch (in->kind) {
	case FEES_IN_KEY:
		if (in->digit < '0' || in->digit > '9' || len >= (size_t)f->service->reference.max_len ||
		    len >= CAT_REF_MAX)
			return KIO_ERR_INVALID;
		f->reference[len] = in->digit;
		f->reference[len + 1] = '\0';
		break;
	case FEES_IN_DEL:
		if (!len)
			return KIO_ERR_INVALID;
		f->reference[len - 1] = '\0';
		break;
	case FEES_IN_CLEAR: f->reference[0] = '\0'; break;
	case FEES_IN_NEXT: {
		/* Invariant 2: the catalogue's check before any question to the host. */
		enum cat_ref_verdict v = catalogue_reference_check(f->service, f->reference);
		f->reference_msg = verdict_msg(v);
		if (v != CAT_REF_OK) {
			LOG_INFO("%s/%s: reference refused (%s)", f->entity->id, f->service->id, cat_ref_verdict_name(v));
			return KIO_ERR_INVALID;
		}
		after_reference(f);
		return 0;
	}
	case FEES_IN_BACK:
		f->notice = NULL;
		set_step(f, FEES_SERVICE);
		return 0;
	default: return KIO_ERR_INVALID;
	}
	/* A key changes the reference: the verdict is said again, the last refusal cleared. */
	f->notice = NULL;
	enum cat_ref_verdict v = catalogue_reference_check(f->service, f->reference);
	f->reference_msg = v == CAT_REF_OK ? "fees.reference.ok" : "fees.reference.enter";
	return 0;
}

/* The host's word turned into the amount step, or back to REFERENCE with why (invariant 3). */
static int on_answer(struct fees *f, const struct fees_answer *a)
{
	const char *why = NULL;
	switch (a->result) {
	case FEES_ANSWER_OK: break;
	case FEES_ANSWER_NOT_FOUND: why = "fees.reference.unknown"; break;
	case FEES_ANSWER_UNREACHABLE:
	case FEES_ANSWER_NOT_CONFIGURED:
		f->online = false; /* invariant 4: until the app says online again */
		why = "fees.reference.needs-host";
		break;
	case FEES_ANSWER_ERROR:
	case FEES_ANSWER_RESULT_COUNT: why = "fees.reference.host-error"; break;
	}
	if (!why) {
		/* Invariant 5: only figures the basket can hold. */
		bool usable = true;
		switch (a->kind) {
		case FEES_DUE_FIXED: usable = a->due_fils >= 0; break;
		case FEES_DUE_ITEMS:
			usable = a->n_items <= FEES_ITEMS_MAX;
			for (size_t i = 0; usable && i < a->n_items; i++)
				usable = a->items[i].amount_fils > 0 && a->items[i].id[0];
			break;
		case FEES_DUE_OPEN:
			usable = a->min_fils > 0 && a->step_fils > 0 && a->max_fils >= a->min_fils;
			break;
		case FEES_DUE_KIND_COUNT: usable = false; break;
		}
		if (!usable) {
			LOG_WARN("%s/%s: the host's answer has figures the basket cannot take", f->entity->id, f->service->id);
			why = "fees.reference.host-error";
		}
	}
	if (!why) {
		f->from_host = true;
		f->kind = a->kind;
		snprintf(f->payee, sizeof(f->payee), "%s", a->payee);
		snprintf(f->description, sizeof(f->description), "%s", a->description);
		f->typing = false;
		f->typed[0] = '\0';
		f->n_items = 0;
		switch (a->kind) {
		case FEES_DUE_FIXED:
			f->amount_fils = a->due_fils;
			if (a->due_fils == 0 || bill_in_basket(f, ""))
				why = "fees.reference.nothing-due";
			break;
		case FEES_DUE_ITEMS:
			for (size_t i = 0; i < a->n_items; i++) {
				f->items[f->n_items] = a->items[i];
				f->chosen[f->n_items] = !bill_in_basket(f, a->items[i].id); /* invariant 6 */
				f->n_items++;
			}
			if (chosen_count(f) == 0)
				why = "fees.reference.nothing-due";
			break;
		case FEES_DUE_OPEN:
			f->min_fils = a->min_fils, f->max_fils = a->max_fils, f->step_fils = a->step_fils;
			f->amount_fils = a->min_fils;
			break;
		case FEES_DUE_KIND_COUNT: break;
		}
	}
	if (why) {
		LOG_INFO("%s/%s: inquiry %s", f->entity->id, f->service->id, fees_answer_result_name((int)a->result));
		f->reference_msg = why;
		f->notice = why;
		set_step(f, f->service->has_reference ? FEES_REFERENCE : FEES_SERVICE);
		return 0;
	}
	f->notice = NULL;
	set_step(f, FEES_AMOUNT);
	return 0;
}

static int on_checking(struct fees *f, const struct fees_input *in)
{
	switch (in->kind) {
	case FEES_IN_ANSWER: {
		const struct fees_answer *a = in->answer;
		/* Invariant 3: the answer to this question, not to an abandoned one. */
		if (!a || strcmp(a->entity, f->entity->id) != 0 || strcmp(a->service, f->service->id) != 0 ||
		    strcmp(a->reference, f->reference) != 0)
			return KIO_ERR_INVALID;
		return on_answer(f, a);
	}
	case FEES_IN_BACK:
		f->reference_msg = "fees.reference.ok";
		set_step(f, f->service->has_reference ? FEES_REFERENCE : FEES_SERVICE);
		return 0;
	default: return KIO_ERR_INVALID;
	}
}

/* Invariant 5: the line(s) the amount step offers, appended. */
static int add_lines(struct fees *f)
{
	size_t want = f->kind == FEES_DUE_ITEMS ? chosen_count(f) : 1;
	if (!add_ok(f))
		return KIO_ERR_INVALID;
	if (f->n_lines + want > FEES_BASKET_MAX) {
		f->notice = "basket.full";
		return KIO_ERR_INVALID;
	}
	struct fees_line base = {0};
	snprintf(base.entity, sizeof(base.entity), "%s", f->entity->id);
	snprintf(base.service, sizeof(base.service), "%s", f->service->id);
	snprintf(base.reference, sizeof(base.reference), "%s", f->reference);
	base.needs_host = f->service->needs_host;
	if (f->kind == FEES_DUE_ITEMS) {
		for (size_t i = 0; i < f->n_items; i++) {
			if (!f->chosen[i] || bill_in_basket(f, f->items[i].id))
				continue;
			struct fees_line *l = &f->lines[f->n_lines++];
			*l = base;
			snprintf(l->bill, sizeof(l->bill), "%s", f->items[i].id);
			snprintf(l->description, sizeof(l->description), "%s", f->items[i].description);
			l->amount_fils = f->items[i].amount_fils;
		}
	} else {
		struct fees_line *l = &f->lines[f->n_lines++];
		*l = base;
		snprintf(l->description, sizeof(l->description), "%s", f->description);
		l->amount_fils = f->amount_fils;
	}
	LOG_INFO("basket: %zu line(s), %" PRId64 " fils after adding %s/%s", f->n_lines, lines_total(f), f->entity->id,
		 f->service->id);
	f->notice = NULL;
	set_step(f, FEES_BASKET);
	return 0;
}

static int on_amount(struct fees *f, const struct fees_input *in)
{
	bool open = f->kind == FEES_DUE_OPEN;
	size_t len = strlen(f->typed);
	switch (in->kind) {
	case FEES_IN_UP:
	case FEES_IN_DOWN: {
		if (!open)
			return KIO_ERR_INVALID;
		int64_t a = f->amount_fils, next;
		/* From a typed figure off the steps: the nearest step that way. */
		int64_t off = a >= f->min_fils ? (a - f->min_fils) % f->step_fils : 0;
		if (in->kind == FEES_IN_UP)
			next = a < f->min_fils ? f->min_fils : a - off + f->step_fils;
		else
			next = a > open_top(f) ? open_top(f) : off ? a - off : a - f->step_fils;
		if (next < f->min_fils || next > f->max_fils || (next == a && !f->typing))
			return KIO_ERR_INVALID;
		f->amount_fils = next;
		f->typing = false;
		f->typed[0] = '\0';
		f->notice = NULL;
		return 0;
	}
	case FEES_IN_KEY:
		if (!open || in->digit < '0' || in->digit > '9' || (len == 0 && in->digit == '0') ||
		    len >= FEES_TYPED_AED_MAX)
			return KIO_ERR_INVALID;
		if (!f->typing)
			len = 0; /* the first key starts a new figure */
		f->typed[len] = in->digit;
		f->typed[len + 1] = '\0';
		f->typing = true;
		break;
	case FEES_IN_DEL:
		if (!open || !f->typing || !len)
			return KIO_ERR_INVALID;
		f->typed[len - 1] = '\0';
		break;
	case FEES_IN_CLEAR:
		if (!open)
			return KIO_ERR_INVALID;
		f->typing = true;
		f->typed[0] = '\0';
		break;
	case FEES_IN_BILL:
		if (f->kind != FEES_DUE_ITEMS || in->n < 1 || (size_t)in->n > f->n_items ||
		    bill_in_basket(f, f->items[in->n - 1].id))
			return KIO_ERR_INVALID;
		f->chosen[in->n - 1] = !f->chosen[in->n - 1];
		f->notice = NULL;
		return 0;
	case FEES_IN_ADD: return add_lines(f);
	case FEES_IN_BACK:
		f->notice = NULL;
		f->reference_msg = "fees.reference.ok";
		set_step(f, f->service->has_reference ? FEES_REFERENCE : FEES_SERVICE);
		return 0;
	default: return KIO_ERR_INVALID;
	}
	/* A key of an open amount: the figure typed, in whole AED. */
	f->amount_fils = f->typed[0] ? strtoll(f->typed, NULL, 10) * FILS_PER_AED : 0;
	f->notice = NULL;
	return 0;
}

static int on_basket(struct fees *f, const struct fees_input *in)
{
	switch (in->kind) {
	case FEES_IN_REMOVE:
		if (in->n < 1 || (size_t)in->n > f->n_lines)
			return KIO_ERR_INVALID;
		LOG_INFO("basket: line %d (%s/%s) removed", in->n, f->lines[in->n - 1].entity, f->lines[in->n - 1].service);
		memmove(&f->lines[in->n - 1], &f->lines[in->n], (f->n_lines - (size_t)in->n) * sizeof(f->lines[0]));
		f->n_lines--;
		f->notice = NULL;
		return 0;
	case FEES_IN_MORE:
	case FEES_IN_BACK:
		if (f->n_lines >= FEES_BASKET_MAX) {
			f->notice = "basket.full";
			return KIO_ERR_INVALID;
		}
		f->notice = NULL;
		set_step(f, FEES_ENTITY);
		return 0;
	case FEES_IN_PAY:
		if (!f->n_lines)
			return KIO_ERR_INVALID;
		/* Invariant 8. */
		for (size_t i = 0; !f->online && i < f->n_lines; i++)
			if (f->lines[i].needs_host) {
				f->notice = "basket.needs-host";
				return KIO_ERR_INVALID;
			}
		/* Online too: the link may be down and not yet seen so, and then the lines settle
		 * offline; the app's allowance is then 0 when the money it has not acknowledged is
		 * already past a limit (invariant 8, as the top-up's invariant 11). */
		if (in->allowance_fils >= 0 && lines_total(f) > in->allowance_fils) {
			LOG_INFO("basket: %" PRId64 " fils%s, the offline limits leave %" PRId64, lines_total(f),
				 f->online ? "" : " offline", in->allowance_fils);
			f->notice = "basket.offline-limit";
			return KIO_ERR_INVALID;
		}
		/* Invariant 1: the paying flow books it (feespay.h). */
		LOG_INFO("basket: pay %zu line(s), %" PRId64 " fils%s", f->n_lines, lines_total(f),
			 f->online ? "" : " offline");
		f->notice = NULL;
		set_step(f, FEES_PAY);
		return 0;
	default: return KIO_ERR_INVALID;
	}
}

int fees_step(struct fees *f, const struct fees_input *in)
{
	if (f->step == FEES_END)
		return KIO_ERR_INVALID;
	if (in->kind == FEES_IN_LINK) {
		if (f->online != in->online)
			LOG_INFO("the host link is %s", in->online ? "online" : "offline");
		f->online = in->online;
		return 0;
	}
	if (in->kind == FEES_IN_CANCEL) {
		LOG_INFO("cancelled at %s with %zu basket line(s): nothing was booked", step_names[f->step], f->n_lines);
		set_step(f, FEES_END);
		return 0;
	}
	switch (f->step) {
	case FEES_ENTITY: return on_entity(f, in);
	case FEES_SERVICE: return on_service(f, in);
	case FEES_REFERENCE: return on_reference(f, in);
	case FEES_CHECKING: return on_checking(f, in);
	case FEES_AMOUNT: return on_amount(f, in);
	case FEES_BASKET: return on_basket(f, in);
	case FEES_PAY:
		if (in->kind != FEES_IN_BACK)
			return KIO_ERR_INVALID;
		set_step(f, FEES_BASKET);
		return 0;
	case FEES_END:
	case FEES_STEP_COUNT: break;
	}
	return KIO_ERR_INVALID;
}

void fees_view(const struct fees *f, struct fees_view *v)
{
	memset(v, 0, sizeof(*v));
	v->step = f->step;
	v->online = f->online;
	v->entity = f->entity;
	v->service = f->service;
	snprintf(v->reference, sizeof(v->reference), "%s", f->reference);
	v->reference_msg = f->reference_msg;
	v->next_enabled = f->step == FEES_REFERENCE && f->reference[0];
	v->checking = f->step == FEES_CHECKING;
	v->notice = f->notice;
	v->kind = f->kind;
	v->from_host = f->from_host;
	snprintf(v->payee, sizeof(v->payee), "%s", f->payee);
	snprintf(v->description, sizeof(v->description), "%s", f->description);
	v->amount_fils = f->amount_fils;
	v->min_fils = f->min_fils, v->max_fils = f->max_fils, v->step_fils = f->step_fils;
	if (f->step == FEES_AMOUNT) {
		v->typing = f->typing;
		if (f->kind == FEES_DUE_OPEN) {
			v->amount_msg = open_msg(f);
			v->up_enabled = f->typing ? f->amount_fils < open_top(f) : f->amount_fils + f->step_fils <= f->max_fils;
			v->down_enabled = f->amount_fils > f->min_fils;
		}
		if (f->kind == FEES_DUE_ITEMS && chosen_count(f) == 0)
			v->amount_msg = "fees.amount.none-chosen";
		v->add_enabled = add_ok(f);
	}
	for (size_t i = 0; i < f->n_items; i++) {
		v->items[i] = f->items[i];
		v->in_basket[i] = f->step == FEES_AMOUNT && f->entity && f->service && bill_in_basket(f, f->items[i].id);
		v->chosen[i] = f->chosen[i] && !v->in_basket[i];
	}
	v->n_items = f->n_items;
	memcpy(v->lines, f->lines, sizeof(f->lines));
	v->n_lines = f->n_lines;
	v->total_fils = lines_total(f);
	v->more_enabled = f->n_lines < FEES_BASKET_MAX;
	v->pay_enabled = f->n_lines > 0;
}
