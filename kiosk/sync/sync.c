/* The sync worker: one thread with its own ledger connection and transport, and the
 * mutex-guarded mailbox the app's loop reads (status, answers) and writes (kick, asks). */
#define LOG_MODULE "sync"
#include "sync.h"
#include "sync-priv.h"

#include <errno.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drain.h"
#include "kiosk-config.h"
#include "kiosk/core/log.h"
#include "kiosk/core/vcode.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/ledger/sync-state.h"

/*
 * Hand-off (the only shared state is the mailbox, under mu):
 *   app loop ──sync_kick / sync_*_ask / sync_set_device──► mailbox ──cond──► worker
 *   worker ──status, answers──► mailbox ──wake callback──► app loop polls
 * The worker alone touches its ledger connection, drain and transport; the app alone its own
 * ledger connection. SQLite's WAL lets the two connections read while the other writes; the
 * worker's writes (sync-state.c) are short and wait at most the busy timeout.
 *
 * Timers of the worker (monotonic): the drain runs at start, at every kick (unless a backoff
 * is under way: its delay is kept), after a backoff's delay, and every heartbeat period as a
 * safety net; the heartbeat every heartbeat_seconds; the catalogue at start, at every
 * sync_catalogue_kick and every catalogue_interval_s.
 * A FAULT stops the drain for this worker's life (drain.c invariant 4); heartbeats go on.
 */

#define SYNC_DEVICES_MAX 8

/* The fees asks' slots (sync.h): one per kind, the latest ask of the kind. */
enum ask_kind { ASK_FEE, ASK_VOUCHER, ASK_REDEEM, ASK_PAY, ASK_KIND_COUNT };

struct ask_slot {
	uint32_t id;     /* the latest ask of this kind; 0: none yet */
	bool pending;    /* the worker has still to answer it */
	bool ready;      /* its answer waits for the poll */
	int attempts;
	uint64_t due_ms; /* monotonic: the next attempt (retried kinds) */
	union {
		struct {
			char entity[33], service[33], reference[33];
		} fee;
		struct {
			char code[17];
		} voucher;
		struct {
			char code[17], redemption_id[37], tx_uuid[37];
			int64_t amount_fils;
		} redeem;
		struct {
			char tx_uuid[37];
			size_t n;
			struct sync_pay_line lines[SYNC_PAY_LINES_MAX];
		} pay;
	} req;
	union {
		struct sync_fee_result fee;
		struct sync_voucher_result voucher;
		struct sync_redeem_result redeem;
		struct sync_pay_result pay;
	} res;
};

struct device_state {
	char name[24], state[24];
};

struct sync {
	/* configuration, copied at sync_new */
	char *db_path, *url, *ca, *cert, *key;
	int timeout_ms, batch, heartbeat_s, backoff_min_ms, backoff_max_ms;
	int64_t card_max_fils, card_max_count, kiosk_max_fils, kiosk_max_count;
	int catalogue_interval_s;
	sync_wake_fn wake;
	void *wake_user;
	struct sync_transport *test_transport;

	/* the worker's own */
	pthread_t thread;
	bool started;
	struct ledger_sync *ls;
	struct sync_transport *transport;
	struct sync_drain *drain;
	char cat_etag[SYNC_ETAG_MAX]; /* the newest good catalogue's ETag: If-None-Match */

	/* the mailbox */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop, kicked;
	struct sync_status status;
	uint32_t last_ask;
	bool ask_pending;
	char ask_card[17];
	bool answer_ready;
	struct sync_card_result answer;
	struct device_state devices[SYNC_DEVICES_MAX];
	int n_devices;
	uint32_t ids;    /* every ask's id comes from here: unique across kinds */
	bool asks_new;   /* an ask was queued since the worker last looked */
	struct ask_slot asks[ASK_KIND_COUNT];
	bool cat_kicked;
	struct catalogue *cat_pending; /* a good download the app has not taken; owned */
	char cat_pending_etag[SYNC_ETAG_MAX];
};

static char *dup_or_empty(const char *s) { return xstrdup(s ? s : ""); }

struct sync *sync_new(const struct core_config *cfg, const char *db_path, sync_wake_fn wake, void *user)
{
	struct sync *s = xcalloc(1, sizeof(*s));
	s->db_path = dup_or_empty(db_path);
	s->url = dup_or_empty(cfg->host_url);
	s->ca = dup_or_empty(cfg->host_ca);
	s->cert = dup_or_empty(cfg->host_cert);
	s->key = dup_or_empty(cfg->host_key);
	s->timeout_ms = cfg->host_timeout_ms;
	s->batch = cfg->host_batch;
	s->heartbeat_s = cfg->host_heartbeat_s;
	s->backoff_min_ms = cfg->host_backoff_min_ms;
	s->backoff_max_ms = cfg->host_backoff_max_ms;
	s->card_max_fils = cfg->offline_card_max_fils;
	s->card_max_count = cfg->offline_card_max_count;
	s->kiosk_max_fils = cfg->offline_kiosk_max_fils;
	s->kiosk_max_count = cfg->offline_kiosk_max_count;
	s->catalogue_interval_s = cfg->host_catalogue_interval_s;
	s->wake = wake;
	s->wake_user = user;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->status.configured = s->url[0] != '\0';
	return s;
}

void sync_test_set_transport(struct sync *s, struct sync_transport *t) { s->test_transport = t; }

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void notify(struct sync *s)
{
	if (s->wake)
		s->wake(s->wake_user);
}

/* ---- the worker's jobs ---- */

static void ask_card(struct sync *s, uint32_t id, const char *card)
{
	struct sync_card_result r = {.ask = id};
	char path[48];
	snprintf(path, sizeof(path), "/v1/cards/%s", card);
	struct sync_request req = {"GET", path, NULL, 0, (int64_t)time(NULL), NULL};
	struct sync_response resp = {0};
	struct kio_error err = {0};
	bool reachable = false;
	if (s->transport->exchange(s->transport, &req, &resp, &err) != 0) {
		r.result = SYNC_ASK_UNREACHABLE;
		snprintf(r.why, sizeof(r.why), "%s", err.msg);
	} else {
		reachable = true;
		if (sync_wire_card_answer(resp.status, resp.body, resp.len, card, &r.answer, &err) != 0) {
			r.result = SYNC_ASK_UNREACHABLE;
			snprintf(r.why, sizeof(r.why), "%s", err.msg);
		} else {
			r.result = SYNC_ASK_ANSWERED;
		}
	}
	sync_response_clear(&resp);
	if (r.result != SYNC_ASK_ANSWERED)
		LOG_WARN("card balance: %s", r.why);
	pthread_mutex_lock(&s->mu);
	if (id == s->last_ask) { /* a newer ask makes this answer stale */
		s->answer = r;
		s->answer_ready = true;
	}
	s->status.reachable = reachable;
	s->status.generation++;
	pthread_mutex_unlock(&s->mu);
	notify(s);
}

/* One attempt of job's fee ask. True when the host answered (any status). */
static bool fee_job(struct sync *s, struct ask_slot *job)
{
	struct sync_fee_result *r = &job->res.fee;
	memset(r, 0, sizeof(*r));
	r->ask = job->id;
	char path[160];
	snprintf(path, sizeof(path), "/v1/fees/%s/%s/%s", job->req.fee.entity, job->req.fee.service,
		 job->req.fee.reference);
	struct sync_request req = {"GET", path, NULL, 0, (int64_t)time(NULL), NULL};
	struct sync_response resp = {0};
	struct kio_error err = {0};
	struct sync_fee_answer a;
	bool reachable = s->transport->exchange(s->transport, &req, &resp, &err) == 0;
	if (!reachable) {
		r->result = SYNC_FEE_UNREACHABLE;
		snprintf(r->why, sizeof(r->why), "%s", err.msg);
	} else if (sync_wire_fee_answer(resp.status, resp.body, resp.len, job->req.fee.entity, job->req.fee.service,
					job->req.fee.reference, &a, &err) != 0) {
		r->result = SYNC_FEE_UNREACHABLE;
		snprintf(r->why, sizeof(r->why), "%s", err.msg);
	} else if (a.kind == SYNC_FEE_FOUND) {
		r->result = SYNC_FEE_OK;
		memcpy(r->payee, a.payee, sizeof(r->payee));
		memcpy(r->description, a.description, sizeof(r->description));
		r->kind = a.fee_kind;
		r->due_fils = a.due_fils;
		r->n_items = a.n_items;
		r->n_items_host = a.n_items_host;
		memcpy(r->items, a.items, sizeof(r->items));
		r->min_fils = a.min_fils;
		r->max_fils = a.max_fils;
		r->step_fils = a.step_fils;
	} else {
		r->result = a.kind == SYNC_FEE_UNKNOWN ? SYNC_FEE_NOT_FOUND
			    : a.kind == SYNC_FEE_RETRY ? SYNC_FEE_UNREACHABLE
						       : SYNC_FEE_ERROR;
		memcpy(r->code, a.error.code, sizeof(r->code));
		snprintf(r->why, sizeof(r->why), "host answered %d %s%s%s", a.error.status,
			 a.error.code[0] ? a.error.code : "without an error code", a.error.message[0] ? ": " : "",
			 a.error.message);
	}
	sync_response_clear(&resp);
	if (r->result != SYNC_FEE_OK)
		LOG_WARN("fee %s/%s: %s", job->req.fee.entity, job->req.fee.service, r->why);
	job->pending = false; /* answered: tried once */
	return reachable;
}

/* The text of b's document (b freed), *len its length; caller frees. */
static char *builder_text(JsonBuilder *b, size_t *len)
{
	JsonNode *root = json_builder_get_root(b);
	JsonGenerator *gen = json_generator_new();
	json_generator_set_root(gen, root);
	gsize n = 0;
	gchar *text = json_generator_to_data(gen, &n);
	char *out = xmalloc(n + 1);
	memcpy(out, text, n + 1);
	*len = n;
	g_free(text);
	g_object_unref(gen);
	json_node_unref(root);
	g_object_unref(b);
	return out;
}

static void add_text(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	if (v && v[0])
		json_builder_add_string_value(b, v);
	else
		json_builder_add_null_value(b);
}

static void add_int(JsonBuilder *b, const char *name, int64_t v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, v);
}

static void set_why_error(char *why, size_t cap, const struct sync_wire_error *e)
{
	snprintf(why, cap, "host answered %d %s%s%s", e->status, e->code[0] ? e->code : "without an error code",
		 e->message[0] ? ": " : "", e->message);
}

/* A retried ask's attempt failed: the next one after a delay doubling from backoff_min_ms. */
static void retry_later(struct sync *s, struct ask_slot *job)
{
	uint64_t delay = (uint64_t)s->backoff_min_ms;
	for (int k = 1; k < job->attempts && delay < SYNC_ASK_RETRY_MAX_MS; k++)
		delay *= 2;
	if (delay > SYNC_ASK_RETRY_MAX_MS)
		delay = SYNC_ASK_RETRY_MAX_MS;
	job->due_ms = mono_ms() + delay;
}

/* One attempt of a voucher validation (tried once). True when the host answered. */
static bool voucher_job(struct sync *s, struct ask_slot *job)
{
	struct sync_voucher_result *r = &job->res.voucher;
	memset(r, 0, sizeof(*r));
	r->ask = job->id;
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	add_text(b, "code", job->req.voucher.code);
	json_builder_end_object(b);
	size_t len = 0;
	char *body = builder_text(b, &len);
	struct sync_request req = {"POST", "/v1/vouchers/validate", body, len, (int64_t)time(NULL), NULL};
	struct sync_response resp = {0};
	struct kio_error err = {0};
	bool reachable = s->transport->exchange(s->transport, &req, &resp, &err) == 0;
	if (!reachable ||
	    sync_wire_voucher_answer(resp.status, resp.body, resp.len, job->req.voucher.code, &r->answer, &err) != 0) {
		r->result = SYNC_ASK_UNREACHABLE;
		snprintf(r->why, sizeof(r->why), "%s", err.msg);
	} else {
		r->result = SYNC_ASK_ANSWERED;
		if (r->answer.kind != SYNC_VOUCHER_VALID)
			set_why_error(r->why, sizeof(r->why), &r->answer.error);
	}
	sync_response_clear(&resp);
	free(body);
	if (r->result != SYNC_ASK_ANSWERED || r->answer.kind != SYNC_VOUCHER_VALID)
		LOG_INFO("voucher %.4s…: %s", job->req.voucher.code, r->why);
	job->pending = false;
	return reachable;
}

/* One attempt of a redemption; retried until the host gives an answer it means. */
static bool redeem_job(struct sync *s, struct ask_slot *job)
{
	struct sync_redeem_result *r = &job->res.redeem;
	memset(r, 0, sizeof(*r));
	r->ask = job->id;
	r->attempts = job->attempts;
	r->result = SYNC_ASK_UNREACHABLE; /* until the host answers (SYNC_ASK_ANSWERED is 0) */
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	add_text(b, "code", job->req.redeem.code);
	add_text(b, "redemption_id", job->req.redeem.redemption_id);
	add_text(b, "tx_uuid", job->req.redeem.tx_uuid);
	add_int(b, "amount_fils", job->req.redeem.amount_fils);
	json_builder_end_object(b);
	size_t len = 0;
	char *body = builder_text(b, &len);
	struct sync_request req = {"POST", "/v1/vouchers/redeem", body, len, (int64_t)time(NULL), NULL};
	struct sync_response resp = {0};
	struct kio_error err = {0};
	bool reachable = s->transport->exchange(s->transport, &req, &resp, &err) == 0;
	if (!reachable || sync_wire_redeem_answer(resp.status, resp.body, resp.len, job->req.redeem.code,
						  job->req.redeem.redemption_id, job->req.redeem.amount_fils,
						  &r->answer, &err) != 0) {
		snprintf(r->why, sizeof(r->why), "%s", err.msg);
	} else if (r->answer.kind == SYNC_VOUCHER_RETRY) {
		set_why_error(r->why, sizeof(r->why), &r->answer.error);
	} else {
		r->result = SYNC_ASK_ANSWERED;
		if (r->answer.kind != SYNC_VOUCHER_REDEEMED)
			set_why_error(r->why, sizeof(r->why), &r->answer.error);
	}
	sync_response_clear(&resp);
	free(body);
	if (r->result == SYNC_ASK_ANSWERED) {
		job->pending = false;
		LOG_INFO("redemption %s: %s", job->req.redeem.redemption_id, sync_voucher_kind_name(r->answer.kind));
	} else {
		LOG_WARN("redemption %s, attempt %d: %s; retried", job->req.redeem.redemption_id, job->attempts, r->why);
		retry_later(s, job);
	}
	return reachable;
}

static char *pay_body(const struct ask_slot *job, size_t *len)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	add_text(b, "tx_uuid", job->req.pay.tx_uuid);
	json_builder_set_member_name(b, "lines");
	json_builder_begin_array(b);
	for (size_t k = 0; k < job->req.pay.n; k++) {
		const struct sync_pay_line *l = &job->req.pay.lines[k];
		json_builder_begin_object(b);
		add_int(b, "n", (int64_t)k + 1);
		add_text(b, "entity", l->entity);
		add_text(b, "service", l->service);
		add_text(b, "reference", l->reference);
		add_text(b, "bill", l->bill);
		add_int(b, "amount_fils", l->amount_fils);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	return builder_text(b, len);
}

/* One attempt of a basket's payment; retried like a redemption. */
static bool pay_job(struct sync *s, struct ask_slot *job)
{
	struct sync_pay_result *r = &job->res.pay;
	memset(r, 0, sizeof(*r));
	r->ask = job->id;
	r->attempts = job->attempts;
	r->result = SYNC_ASK_UNREACHABLE; /* until the host answers (SYNC_ASK_ANSWERED is 0) */
	size_t len = 0;
	char *body = pay_body(job, &len);
	struct sync_request req = {"POST", "/v1/payments", body, len, (int64_t)time(NULL), NULL};
	struct sync_response resp = {0};
	struct kio_error err = {0};
	bool reachable = s->transport->exchange(s->transport, &req, &resp, &err) == 0;
	if (!reachable || sync_wire_pay_answer(resp.status, resp.body, resp.len, job->req.pay.tx_uuid, job->req.pay.n,
					       &r->answer, &err) != 0) {
		snprintf(r->why, sizeof(r->why), "%s", err.msg);
	} else if (r->answer.kind == SYNC_PAY_RETRY) {
		set_why_error(r->why, sizeof(r->why), &r->answer.error);
	} else {
		r->result = SYNC_ASK_ANSWERED;
		if (r->answer.kind != SYNC_PAY_ANSWERED)
			set_why_error(r->why, sizeof(r->why), &r->answer.error);
	}
	sync_response_clear(&resp);
	free(body);
	if (r->result == SYNC_ASK_ANSWERED) {
		job->pending = false;
		LOG_INFO("payment of tx %s: %s", job->req.pay.tx_uuid, sync_pay_kind_name(r->answer.kind));
	} else {
		LOG_WARN("payment of tx %s, attempt %d: %s; retried", job->req.pay.tx_uuid, job->attempts, r->why);
		retry_later(s, job);
	}
	return reachable;
}

/* Runs every ask whose attempt is due, one exchange each, outside the lock (the slot is
 * copied in and its result copied back only if the ask is still the latest of its kind and
 * not given up). Returns the earliest due time of asks left pending (UINT64_MAX: none). */
static uint64_t run_asks(struct sync *s)
{
	uint64_t next = UINT64_MAX;
	for (int k = 0; k < ASK_KIND_COUNT; k++) {
		pthread_mutex_lock(&s->mu);
		struct ask_slot job = s->asks[k];
		bool run = job.pending && job.due_ms <= mono_ms();
		if (run)
			s->asks[k].attempts++;
		job.attempts = s->asks[k].attempts;
		pthread_mutex_unlock(&s->mu);
		if (!run) {
			if (job.pending && job.due_ms < next)
				next = job.due_ms;
			continue;
		}
		bool got = false;
		switch ((enum ask_kind)k) {
		case ASK_FEE: got = fee_job(s, &job); break;
		case ASK_VOUCHER: got = voucher_job(s, &job); break;
		case ASK_REDEEM: got = redeem_job(s, &job); break;
		case ASK_PAY: got = pay_job(s, &job); break;
		case ASK_KIND_COUNT:
		default: job.pending = false; break;
		}
		pthread_mutex_lock(&s->mu);
		struct ask_slot *slot = &s->asks[k];
		bool current = slot->id == job.id && slot->pending;
		if (current) {
			slot->pending = job.pending;
			slot->due_ms = job.due_ms;
			slot->res = job.res;
			slot->ready = !job.pending;
			if (job.pending && job.due_ms < next)
				next = job.due_ms;
		}
		s->status.reachable = got;
		s->status.generation++;
		pthread_mutex_unlock(&s->mu);
		if (current && !job.pending)
			notify(s);
	}
	return next;
}

static char *heartbeat_body(struct sync *s, const struct ledger_sync_status *st, size_t *len)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "version");
	json_builder_add_string_value(b, KIOSK_VERSION);
	json_builder_set_member_name(b, "queue_depth");
	json_builder_add_int_value(b, st->queue_depth);
	json_builder_set_member_name(b, "oldest_unsynced_s");
	if (st->queue_depth > 0)
		json_builder_add_int_value(b, st->oldest_unsynced_s);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "devices");
	json_builder_begin_object(b);
	pthread_mutex_lock(&s->mu);
	for (int k = 0; k < s->n_devices; k++) {
		json_builder_set_member_name(b, s->devices[k].name);
		json_builder_add_string_value(b, s->devices[k].state);
	}
	pthread_mutex_unlock(&s->mu);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "sent_s");
	json_builder_add_int_value(b, (int64_t)time(NULL));
	json_builder_end_object(b);
	return builder_text(b, len);
}

static void heartbeat(struct sync *s)
{
	struct ledger_sync_status st;
	struct kio_error err = {0};
	if (ledger_sync_status_read(s->ls, &st, &err) != 0) {
		LOG_WARN("heartbeat: %s", err.msg);
		return;
	}
	size_t len = 0;
	char *body = heartbeat_body(s, &st, &len);
	struct sync_request req = {"POST", "/v1/heartbeat", body, len, (int64_t)time(NULL), NULL};
	struct sync_response resp = {0};
	int64_t server = 0;
	bool reachable = s->transport->exchange(s->transport, &req, &resp, &err) == 0;
	if (reachable && sync_wire_heartbeat_answer(resp.status, resp.body, resp.len, &server, &err) == 0) {
		int64_t skew = server - req.date_s;
		if (skew > 60 || skew < -60)
			LOG_WARN("the host's clock is %+" PRId64 " s from the kiosk's", skew);
	} else {
		LOG_WARN("heartbeat: %s", err.msg);
	}
	sync_response_clear(&resp);
	free(body);
	pthread_mutex_lock(&s->mu);
	s->status.reachable = reachable;
	pthread_mutex_unlock(&s->mu);
}

/* The ETag of a stored download, for the first If-None-Match (sync.h). */
static void read_stored_etag(struct sync *s)
{
	char source[256];
	struct kio_error err = {0};
	s->cat_etag[0] = '\0';
	if (ledger_sync_catalogue_source(s->ls, source, sizeof(source), &err) != 0) {
		LOG_WARN("catalogue: %s (the first ask names no ETag)", err.msg);
		return;
	}
	size_t pre = strlen(CAT_SOURCE_HOST);
	if (strncmp(source, CAT_SOURCE_HOST, pre) == 0 && strlen(source + pre) < sizeof(s->cat_etag))
		snprintf(s->cat_etag, sizeof(s->cat_etag), "%s", source + pre);
}

/* One ask for the host's catalogue (sync.h): a good document into the mailbox for the app,
 * anything else logged and counted, nothing changed. */
static void catalogue_job(struct sync *s)
{
	struct sync_request req = {"GET", "/v1/catalogue", NULL, 0, (int64_t)time(NULL),
				   s->cat_etag[0] ? s->cat_etag : NULL};
	struct sync_response resp = {0};
	struct kio_error err = {0};
	struct catalogue *c = NULL;
	enum { CAT_GOT_NEW, CAT_GOT_SAME, CAT_GOT_BAD, CAT_GOT_NOTHING } got = CAT_GOT_NOTHING;
	char why[256] = "";
	bool reachable = s->transport->exchange(s->transport, &req, &resp, &err) == 0;
	if (!reachable) {
		LOG_WARN("catalogue: %s", err.msg);
	} else if (resp.status == 304) {
		got = CAT_GOT_SAME;
		LOG_DBG("catalogue: unchanged (%s)", s->cat_etag);
	} else if (resp.status == 404) {
		LOG_WARN("catalogue: the host serves none (404): the kiosk keeps its own");
	} else if (resp.status >= 500) {
		/* The host failing is the network's kind of fault: asked again at the next interval. */
		LOG_WARN("catalogue: GET /v1/catalogue answered HTTP %d: asked again later", resp.status);
	} else if (resp.status != 200) {
		got = CAT_GOT_BAD;
		snprintf(why, sizeof(why), "GET /v1/catalogue answered HTTP %d", resp.status);
	} else if (!resp.etag[0]) {
		got = CAT_GOT_BAD;
		snprintf(why, sizeof(why), "GET /v1/catalogue: a 200 without an ETag (or one not printable ASCII)");
	} else if (catalogue_parse(resp.body ? resp.body : "", resp.len, "host catalogue", &c, &err) != 0) {
		got = CAT_GOT_BAD;
		snprintf(why, sizeof(why), "%s", err.msg);
	} else {
		got = CAT_GOT_NEW;
		LOG_INFO("catalogue: %.12s from the host (ETag %s): %zu entities, waiting for the app", c->version,
			 resp.etag, c->n_entities);
		snprintf(s->cat_etag, sizeof(s->cat_etag), "%s", resp.etag);
	}
	if (got == CAT_GOT_BAD)
		LOG_ERR("catalogue download refused, the catalogue in use stays: %s", why);
	pthread_mutex_lock(&s->mu);
	s->status.reachable = reachable;
	switch (got) {
	case CAT_GOT_NEW:
		catalogue_free(s->cat_pending);
		s->cat_pending = c;
		snprintf(s->cat_pending_etag, sizeof(s->cat_pending_etag), "%s", resp.etag);
		snprintf(s->status.catalogue_etag, sizeof(s->status.catalogue_etag), "%s", resp.etag);
		s->status.catalogue_fetched++;
		break;
	case CAT_GOT_SAME: s->status.catalogue_unchanged++; break;
	case CAT_GOT_BAD:
		s->status.catalogue_refused++;
		snprintf(s->status.catalogue_error, sizeof(s->status.catalogue_error), "%s", why);
		break;
	case CAT_GOT_NOTHING: break;
	}
	s->status.generation++;
	pthread_mutex_unlock(&s->mu);
	sync_response_clear(&resp);
	notify(s);
}

bool sync_catalogue_take(struct sync *s, struct catalogue **out, char *etag)
{
	pthread_mutex_lock(&s->mu);
	bool got = s->cat_pending != NULL;
	*out = s->cat_pending;
	s->cat_pending = NULL;
	if (got)
		snprintf(etag, SYNC_ETAG_MAX, "%s", s->cat_pending_etag);
	pthread_mutex_unlock(&s->mu);
	return got;
}

void sync_catalogue_kick(struct sync *s)
{
	pthread_mutex_lock(&s->mu);
	s->cat_kicked = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

/* Reads the ledger's numbers into the mailbox; wakes the app when anything changed. */
static void publish(struct sync *s, const struct sync_drain_outcome *o)
{
	struct ledger_sync_status st;
	struct kio_error err = {0};
	if (ledger_sync_status_read(s->ls, &st, &err) != 0) {
		LOG_WARN("status: %s", err.msg);
		return;
	}
	int64_t frec = 0;
	enum sync_fault f = sync_drain_fault(s->drain, &frec, NULL, 0);
	pthread_mutex_lock(&s->mu);
	struct sync_status next = s->status;
	next.running = true;
	if (o && (o->result != SYNC_DRAIN_IDLE && o->result != SYNC_DRAIN_FAULT))
		next.reachable = o->reachable;
	next.acked_rec = st.acked_rec;
	next.queue_depth = st.queue_depth;
	next.oldest_unsynced_rec = st.oldest_unsynced_rec;
	next.oldest_unsynced_s = st.oldest_unsynced_s;
	next.last_ok_s = st.last_ok_s;
	snprintf(next.last_error, sizeof(next.last_error), "%s", st.last_error);
	next.last_error_s = st.last_error_s;
	next.fault = (enum sync_fault_state)f;
	next.fault_rec = frec;
	next.generation = s->status.generation;
	bool changed = memcmp(&next, &s->status, sizeof(next)) != 0;
	if (changed) {
		next.generation++;
		s->status = next;
	}
	pthread_mutex_unlock(&s->mu);
	if (changed)
		notify(s);
}

static void *worker(void *arg)
{
	struct sync *s = arg;
	uint64_t now = mono_ms();
	uint64_t next_drain = now, next_beat = now;
	const uint64_t never = UINT64_MAX;
	uint64_t next_cat = s->catalogue_interval_s > 0 ? now : never;
	read_stored_etag(s);
	/* A kick does not cut a backoff short: a kiosk busy with customers while its host is down
	 * would otherwise retry at every transaction (drain.c invariant 5). */
	bool backing_off = false;
	publish(s, NULL);
	for (;;) {
		pthread_mutex_lock(&s->mu);
		bool stop = s->stop;
		if (s->kicked && next_drain != never && !backing_off)
			next_drain = 0;
		s->kicked = false;
		if (s->cat_kicked)
			next_cat = 0;
		s->cat_kicked = false;
		uint32_t ask = 0;
		char card[17] = "";
		if (s->ask_pending) {
			ask = s->last_ask;
			memcpy(card, s->ask_card, sizeof(card));
			s->ask_pending = false;
		}
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		if (ask)
			ask_card(s, ask, card);
		uint64_t next_ask = run_asks(s);
		now = mono_ms();
		if (now >= next_drain) {
			struct sync_drain_outcome o;
			struct kio_error err = {0};
			sync_drain_once(s->drain, &o, &err);
			backing_off = o.result == SYNC_DRAIN_BACKOFF;
			switch (o.result) {
			case SYNC_DRAIN_PROGRESS:
			case SYNC_DRAIN_RESUME: next_drain = now; break; /* more, after a look at the mailbox */
			case SYNC_DRAIN_IDLE: next_drain = now + (uint64_t)s->heartbeat_s * 1000u; break;
			case SYNC_DRAIN_BACKOFF: next_drain = now + (uint64_t)o.delay_ms; break;
			case SYNC_DRAIN_FAULT:
			default: next_drain = never; break;
			}
			publish(s, &o);
		}
		now = mono_ms();
		if (now >= next_beat) {
			heartbeat(s);
			next_beat = now + (uint64_t)s->heartbeat_s * 1000u;
			publish(s, NULL);
		}
		now = mono_ms();
		if (now >= next_cat) {
			catalogue_job(s);
			next_cat = s->catalogue_interval_s > 0 ? mono_ms() + (uint64_t)s->catalogue_interval_s * 1000u : never;
		}
		uint64_t until = next_drain < next_beat ? next_drain : next_beat;
		if (next_ask < until)
			until = next_ask;
		if (next_cat < until)
			until = next_cat;
		pthread_mutex_lock(&s->mu);
		s->asks_new = false;
		for (int k = 0; k < ASK_KIND_COUNT; k++)
			if (s->asks[k].pending && s->asks[k].due_ms < until)
				until = s->asks[k].due_ms; /* queued while the asks ran */
		while (!s->stop && !s->kicked && !s->cat_kicked && !s->ask_pending && !s->asks_new && mono_ms() < until) {
			struct timespec ts = {(time_t)(until / 1000u), (long)(until % 1000u) * 1000000L};
			if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) == ETIMEDOUT)
				break;
		}
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

int sync_start(struct sync *s, struct kio_error *err)
{
	if (s->started || (!s->status.configured && !s->test_transport))
		return 0;
	int rc = ledger_sync_open(s->db_path, true, &s->ls, err);
	if (rc)
		return rc;
	if (s->test_transport) {
		s->transport = s->test_transport;
		s->test_transport = NULL;
	} else {
		struct sync_tls tls = {s->url, s->ca, s->cert, s->key, s->timeout_ms};
		rc = sync_transport_curl_new(&tls, &s->transport, err);
		if (rc)
			goto out_close;
	}
	struct sync_drain_config dc = {s->batch, s->backoff_min_ms, s->backoff_max_ms};
	s->drain = sync_drain_new(s->ls, s->transport, &dc);
	s->stop = false;
	int prc = pthread_create(&s->thread, NULL, worker, s);
	if (prc != 0) {
		rc = kio_fail(err, KIO_ERR_IO, "sync: cannot start its thread: %s", strerror(prc));
		goto out_free_drain;
	}
	s->started = true;
	LOG_INFO("sync to %s started", s->url[0] ? s->url : "(test transport)");
	return 0;

out_free_drain:
	sync_drain_free(s->drain);
	s->drain = NULL;
	s->transport->free(s->transport);
	s->transport = NULL;
out_close:
	ledger_sync_close(s->ls);
	s->ls = NULL;
	return rc;
}

void sync_stop(struct sync *s)
{
	if (!s || !s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = false;
	sync_drain_free(s->drain);
	s->drain = NULL;
	s->transport->free(s->transport);
	s->transport = NULL;
	ledger_sync_close(s->ls);
	s->ls = NULL;
	pthread_mutex_lock(&s->mu);
	s->status.running = false;
	s->status.generation++;
	pthread_mutex_unlock(&s->mu);
}

void sync_free(struct sync *s)
{
	if (!s)
		return;
	sync_stop(s);
	if (s->test_transport)
		s->test_transport->free(s->test_transport);
	catalogue_free(s->cat_pending);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mu);
	free(s->db_path);
	free(s->url);
	free(s->ca);
	free(s->cert);
	free(s->key);
	free(s);
}

void sync_kick(struct sync *s)
{
	pthread_mutex_lock(&s->mu);
	s->kicked = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

void sync_set_device(struct sync *s, const char *device, const char *state)
{
	pthread_mutex_lock(&s->mu);
	int k = 0;
	while (k < s->n_devices && strcmp(s->devices[k].name, device) != 0)
		k++;
	if (k < SYNC_DEVICES_MAX) {
		snprintf(s->devices[k].name, sizeof(s->devices[k].name), "%s", device);
		snprintf(s->devices[k].state, sizeof(s->devices[k].state), "%s", state);
		if (k == s->n_devices)
			s->n_devices++;
	} else {
		LOG_WARN("heartbeat: more than %d devices, %s left out", SYNC_DEVICES_MAX, device);
	}
	pthread_mutex_unlock(&s->mu);
}

void sync_status_get(struct sync *s, struct sync_status *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->status;
	pthread_mutex_unlock(&s->mu);
}

/* Under mu. */
static uint32_t next_id(struct sync *s)
{
	if (++s->ids == 0)
		s->ids = 1;
	return s->ids;
}

static bool card_shaped(const char *card)
{
	return card && strlen(card) == 16 && strspn(card, "0123456789") == 16;
}

uint32_t sync_card_ask(struct sync *s, const char *card, struct kio_error *err)
{
	if (!card_shaped(card)) {
		kio_fail(err, KIO_ERR_INVALID, "card balance: a card number is 16 digits");
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	uint32_t id = next_id(s);
	s->last_ask = id;
	s->answer_ready = false;
	if (!s->started) {
		/* No worker to ask: the answer is ready at once. */
		s->answer = (struct sync_card_result){.ask = id, .result = s->status.configured ? SYNC_ASK_UNREACHABLE
												  : SYNC_ASK_NOT_CONFIGURED};
		snprintf(s->answer.why, sizeof(s->answer.why), "%s",
			 s->status.configured ? "the sync is not running" : "no host is configured (host.url)");
		s->answer_ready = true;
	} else {
		memcpy(s->ask_card, card, 17);
		s->ask_pending = true;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->mu);
	return id;
}

bool sync_card_poll(struct sync *s, struct sync_card_result *out)
{
	pthread_mutex_lock(&s->mu);
	bool ready = s->answer_ready && s->answer.ask == s->last_ask;
	if (ready) {
		*out = s->answer;
		s->answer_ready = false;
	}
	pthread_mutex_unlock(&s->mu);
	return ready;
}

/* Queues an ask in its slot (under mu; the request already copied into slot->req). With no
 * worker the answer is ready at once: fill_offline writes it. */
static uint32_t queue_ask(struct sync *s, struct ask_slot *slot, void (*fill_offline)(struct ask_slot *, bool))
{
	uint32_t id = next_id(s);
	slot->id = id;
	slot->ready = false;
	slot->attempts = 0;
	slot->due_ms = 0;
	memset(&slot->res, 0, sizeof(slot->res));
	if (!s->started) {
		slot->pending = false;
		fill_offline(slot, s->status.configured);
		slot->ready = true;
	} else {
		slot->pending = true;
		s->asks_new = true;
		pthread_cond_signal(&s->cond);
	}
	return id;
}

static bool word_ok(const char *v, const char *charset)
{
	size_t n = v ? strlen(v) : 0;
	return n >= 1 && n <= 32 && strspn(v, charset) == n;
}

static const char ids_charset[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";

const char *sync_fee_status_name(int status)
{
	static const char *const names[SYNC_FEE_STATUS_COUNT] = {"ok", "not-found", "unreachable", "not-configured",
								  "error"};
	return status >= 0 && status < SYNC_FEE_STATUS_COUNT ? names[status] : NULL;
}

static void fee_offline(struct ask_slot *slot, bool configured)
{
	slot->res.fee.ask = slot->id;
	slot->res.fee.result = configured ? SYNC_FEE_UNREACHABLE : SYNC_FEE_NOT_CONFIGURED;
	snprintf(slot->res.fee.why, sizeof(slot->res.fee.why), "%s",
		 configured ? "the sync is not running" : "no host is configured (host.url)");
}

uint32_t sync_fee_ask(struct sync *s, const char *entity, const char *service, const char *reference,
		      struct kio_error *err)
{
	if (!word_ok(entity, ids_charset) || !word_ok(service, ids_charset)) {
		kio_fail(err, KIO_ERR_INVALID, "fee inquiry: entity and service are [a-z0-9_-], 1 to 32 characters");
		return 0;
	}
	if (!word_ok(reference, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")) {
		kio_fail(err, KIO_ERR_INVALID, "fee inquiry: a reference is [A-Za-z0-9-], 1 to 32 characters");
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	struct ask_slot *slot = &s->asks[ASK_FEE];
	snprintf(slot->req.fee.entity, sizeof(slot->req.fee.entity), "%s", entity);
	snprintf(slot->req.fee.service, sizeof(slot->req.fee.service), "%s", service);
	snprintf(slot->req.fee.reference, sizeof(slot->req.fee.reference), "%s", reference);
	uint32_t id = queue_ask(s, slot, fee_offline);
	pthread_mutex_unlock(&s->mu);
	return id;
}

/* The answer of kind k when it is the latest ask's (under mu, then consumed). */
static bool poll_slot(struct sync *s, enum ask_kind k, void *out, size_t size)
{
	pthread_mutex_lock(&s->mu);
	struct ask_slot *slot = &s->asks[k];
	bool ready = slot->ready;
	if (ready) {
		memcpy(out, &slot->res, size);
		slot->ready = false;
	}
	pthread_mutex_unlock(&s->mu);
	return ready;
}

bool sync_fee_poll(struct sync *s, struct sync_fee_result *out) { return poll_slot(s, ASK_FEE, out, sizeof(*out)); }

/* A voucher code in the canonical form (kiosk/core/vcode.h): its check digit holds, so a
 * mistyped code never reaches the host. */
static bool vcode_canonical(const char *v)
{
	char canon[VCODE_DIGITS + 1];
	return v && vcode_parse(v, canon) == VCODE_OK && strcmp(canon, v) == 0;
}

static bool uuid_shaped(const char *v)
{
	if (!v || strlen(v) != 36)
		return false;
	for (int k = 0; k < 36; k++) {
		bool dash = k == 8 || k == 13 || k == 18 || k == 23;
		if (dash ? v[k] != '-' : !strchr("0123456789abcdefABCDEF", v[k]))
			return false;
	}
	return true;
}

static void voucher_offline(struct ask_slot *slot, bool configured)
{
	slot->res.voucher.ask = slot->id;
	slot->res.voucher.result = configured ? SYNC_ASK_UNREACHABLE : SYNC_ASK_NOT_CONFIGURED;
	snprintf(slot->res.voucher.why, sizeof(slot->res.voucher.why), "%s",
		 configured ? "the sync is not running" : "no host is configured (host.url)");
}

uint32_t sync_voucher_ask(struct sync *s, const char *code, struct kio_error *err)
{
	if (!vcode_canonical(code)) {
		kio_fail(err, KIO_ERR_INVALID, "voucher: a code is 16 digits with its check digit (vcode.h)");
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	struct ask_slot *slot = &s->asks[ASK_VOUCHER];
	memcpy(slot->req.voucher.code, code, 17);
	uint32_t id = queue_ask(s, slot, voucher_offline);
	pthread_mutex_unlock(&s->mu);
	return id;
}

bool sync_voucher_poll(struct sync *s, struct sync_voucher_result *out)
{
	return poll_slot(s, ASK_VOUCHER, out, sizeof(*out));
}

static void redeem_offline(struct ask_slot *slot, bool configured)
{
	slot->res.redeem.ask = slot->id;
	slot->res.redeem.result = configured ? SYNC_ASK_UNREACHABLE : SYNC_ASK_NOT_CONFIGURED;
	snprintf(slot->res.redeem.why, sizeof(slot->res.redeem.why), "%s",
		 configured ? "the sync is not running: nothing was sent" : "no host is configured (host.url)");
}

uint32_t sync_voucher_redeem(struct sync *s, const char *code, const char *redemption_id, const char *tx_uuid,
			     int64_t amount_fils, struct kio_error *err)
{
	if (!vcode_canonical(code) || !uuid_shaped(redemption_id) || !uuid_shaped(tx_uuid) || amount_fils < 1 ||
	    amount_fils > SYNC_WIRE_FILS_MAX) {
		kio_fail(err, KIO_ERR_INVALID,
			 "voucher redemption: a 16-digit code, two UUIDs and 1 to %" PRId64 " fils are needed",
			 SYNC_WIRE_FILS_MAX);
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	struct ask_slot *slot = &s->asks[ASK_REDEEM];
	uint32_t id = 0;
	if (slot->pending) {
		kio_fail(err, KIO_ERR_BUSY, "voucher redemption: redemption %s is still unanswered (give it up first)",
			 slot->req.redeem.redemption_id);
	} else {
		memcpy(slot->req.redeem.code, code, 17);
		memcpy(slot->req.redeem.redemption_id, redemption_id, 37);
		memcpy(slot->req.redeem.tx_uuid, tx_uuid, 37);
		slot->req.redeem.amount_fils = amount_fils;
		id = queue_ask(s, slot, redeem_offline);
	}
	pthread_mutex_unlock(&s->mu);
	return id;
}

bool sync_redeem_poll(struct sync *s, struct sync_redeem_result *out)
{
	return poll_slot(s, ASK_REDEEM, out, sizeof(*out));
}

static void pay_offline(struct ask_slot *slot, bool configured)
{
	slot->res.pay.ask = slot->id;
	slot->res.pay.result = configured ? SYNC_ASK_UNREACHABLE : SYNC_ASK_NOT_CONFIGURED;
	snprintf(slot->res.pay.why, sizeof(slot->res.pay.why), "%s",
		 configured ? "the sync is not running: nothing was sent" : "no host is configured (host.url)");
}

static bool text_ok(const char *v, size_t cap, size_t min, const char *charset)
{
	size_t n = strnlen(v, cap);
	if (n == cap || n < min)
		return false;
	if (charset)
		return strspn(v, charset) == n;
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)v[k] <= 0x20 || (unsigned char)v[k] >= 0x7f)
			return false;
	return true;
}

uint32_t sync_pay_ask(struct sync *s, const char *tx_uuid, const struct sync_pay_line *lines, size_t n,
		      struct kio_error *err)
{
	if (!uuid_shaped(tx_uuid) || !lines || n < 1 || n > SYNC_PAY_LINES_MAX) {
		kio_fail(err, KIO_ERR_INVALID, "payment: a tx UUID and 1 to %d lines are needed", SYNC_PAY_LINES_MAX);
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		const struct sync_pay_line *l = &lines[k];
		if (!text_ok(l->entity, sizeof(l->entity), 1, ids_charset) ||
		    !text_ok(l->service, sizeof(l->service), 1, ids_charset) ||
		    !text_ok(l->reference, sizeof(l->reference), 0,
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") ||
		    !text_ok(l->bill, sizeof(l->bill), 0, NULL) || l->amount_fils < 1 || l->amount_fils > SYNC_WIRE_FILS_MAX) {
			kio_fail(err, KIO_ERR_INVALID, "payment: line %zu is not a basket line (ids, reference, bill, amount)",
				 k + 1);
			return 0;
		}
	}
	pthread_mutex_lock(&s->mu);
	struct ask_slot *slot = &s->asks[ASK_PAY];
	uint32_t id = 0;
	if (slot->pending) {
		kio_fail(err, KIO_ERR_BUSY, "payment: the payment of tx %s is still unanswered (give it up first)",
			 slot->req.pay.tx_uuid);
	} else {
		memcpy(slot->req.pay.tx_uuid, tx_uuid, 37);
		slot->req.pay.n = n;
		memcpy(slot->req.pay.lines, lines, n * sizeof(*lines));
		id = queue_ask(s, slot, pay_offline);
	}
	pthread_mutex_unlock(&s->mu);
	return id;
}

bool sync_pay_poll(struct sync *s, struct sync_pay_result *out) { return poll_slot(s, ASK_PAY, out, sizeof(*out)); }

bool sync_ask_give_up(struct sync *s, uint32_t ask)
{
	bool was = false;
	pthread_mutex_lock(&s->mu);
	for (int k = 0; k < ASK_KIND_COUNT; k++) {
		struct ask_slot *slot = &s->asks[k];
		if (ask != 0 && slot->id == ask && slot->pending) {
			slot->pending = false;
			slot->ready = false;
			was = true;
			LOG_WARN("ask %" PRIu32 " given up after %d attempts", ask, slot->attempts);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return was;
}

const char *sync_offline_result_name(int result)
{
	static const char *const names[SYNC_OFFLINE_RESULT_COUNT] = {"ok", "card-count", "card-amount", "kiosk-count",
								      "kiosk-amount"};
	return result >= 0 && result < SYNC_OFFLINE_RESULT_COUNT ? names[result] : NULL;
}

/* The kiosk-wide limits, for a card top-up and a basket alike: one more transaction of fils. */
static enum sync_offline_result kiosk_verdict(const struct sync *s, const struct ledger_unacked *u, int64_t fils)
{
	if (u->kiosk_count + 1 > s->kiosk_max_count)
		return SYNC_OFFLINE_KIOSK_COUNT;
	if (fils > s->kiosk_max_fils - u->kiosk_fils)
		return SYNC_OFFLINE_KIOSK_FILS;
	return SYNC_OFFLINE_OK;
}

int sync_offline_check(const struct sync *s, struct ledger *ledger, const char *card, int64_t amount_fils,
		       struct sync_offline_verdict *out, struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!card_shaped(card))
		return kio_fail(err, KIO_ERR_INVALID, "offline limits: a card number is 16 digits");
	if (amount_fils < 0)
		return kio_fail(err, KIO_ERR_INVALID, "offline limits: a negative amount");
	int rc = ledger_unacked_money(ledger, card, &out->unacked, err);
	if (rc || !s->status.configured)
		return rc;
	const struct ledger_unacked *u = &out->unacked;
	/* Amounts compared by subtraction: the limits are at most 10^12 fils, far from overflow,
	 * and amount_fils could be anything a caller passes. */
	if (u->card_count + 1 > s->card_max_count)
		out->result = SYNC_OFFLINE_CARD_COUNT;
	else if (amount_fils > s->card_max_fils - u->card_fils)
		out->result = SYNC_OFFLINE_CARD_FILS;
	else
		out->result = kiosk_verdict(s, u, amount_fils);
	return 0;
}

int sync_offline_check_basket(const struct sync *s, struct ledger *ledger, int64_t fils,
			      struct sync_offline_verdict *out, struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	if (fils < 0)
		return kio_fail(err, KIO_ERR_INVALID, "offline limits: a negative basket amount");
	int rc = ledger_unacked_money(ledger, NULL, &out->unacked, err);
	if (rc || !s->status.configured)
		return rc;
	out->result = kiosk_verdict(s, &out->unacked, fils);
	return 0;
}
