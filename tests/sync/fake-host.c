/* The sync tests' in-process host (fake-host.h). */
#include "fake-host.h"

#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_body(const char *s, size_t *len)
{
	*len = strlen(s);
	char *b = malloc(*len + 1);
	memcpy(b, s, *len + 1);
	return b;
}

static void answer(struct sync_response *resp, int status, const char *text)
{
	resp->status = status;
	resp->body = dup_body(text, &resp->len);
}

static void post_records(struct fake_transport *t, const struct sync_request *req, struct sync_response *resp)
{
	struct fake_host_state *h = t->host;
	h->requests++;
	JsonParser *p = json_parser_new();
	char buf[256];
	if (!json_parser_load_from_data(p, req->body, (gssize)req->len, NULL)) {
		answer(resp, 400, "{\"error\": {\"code\": \"bad_json\", \"message\": \"not JSON\"}}");
		goto out;
	}
	JsonArray *recs = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "records");
	guint n = json_array_get_length(recs);
	int64_t first = json_object_get_int_member(json_array_get_object_element(recs, 0), "rec");
	t->last_first = first;
	t->last_last = json_object_get_int_member(json_array_get_object_element(recs, n - 1), "rec");
	if (first > h->acked + 1) {
		snprintf(buf, sizeof(buf),
			 "{\"error\": {\"code\": \"sequence_gap\", \"message\": \"gap\", \"acked\": %" PRId64 "}}", h->acked);
		answer(resp, 409, buf);
		goto out;
	}
	/* Conflicts first, over the whole batch: nothing applies when one record conflicts. */
	for (guint i = 0; i < n; i++) {
		JsonObject *o = json_array_get_object_element(recs, i);
		int64_t rec = json_object_get_int_member(o, "rec");
		if (rec <= h->acked && strcmp(h->macs[rec], json_object_get_string_member(o, "mac")) != 0) {
			snprintf(buf, sizeof(buf),
				 "{\"error\": {\"code\": \"record_conflict\", \"message\": \"differs\", \"rec\": %" PRId64 "}}",
				 rec);
			answer(resp, 409, buf);
			goto out;
		}
	}
	int64_t applied = 0, dups = 0;
	for (guint i = 0; i < n; i++) {
		JsonObject *o = json_array_get_object_element(recs, i);
		int64_t rec = json_object_get_int_member(o, "rec");
		if (rec <= h->acked) {
			dups++;
		} else if (h->apply_max == 0 || applied < h->apply_max) {
			snprintf(h->macs[rec], sizeof(h->macs[rec]), "%s", json_object_get_string_member(o, "mac"));
			h->acked = rec;
			applied++;
		}
	}
	h->applied += applied;
	h->duplicates += dups;
	snprintf(buf, sizeof(buf), "{\"acked\": %" PRId64 ", \"applied\": %" PRId64 ", \"duplicates\": %" PRId64 "}",
		 h->acked, applied, dups);
	answer(resp, 200, buf);
out:
	g_object_unref(p);
}

/* A member of the request's JSON body, as text ("" when absent). */
static void body_member(const struct sync_request *req, const char *name, char *out, size_t cap)
{
	out[0] = '\0';
	JsonParser *p = json_parser_new();
	if (req->body && json_parser_load_from_data(p, req->body, (gssize)req->len, NULL)) {
		JsonObject *o = json_node_get_object(json_parser_get_root(p));
		JsonNode *n = json_object_get_member(o, name);
		if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
			snprintf(out, cap, "%s", json_node_get_string(n));
		else if (n && JSON_NODE_HOLDS_VALUE(n))
			snprintf(out, cap, "%" PRId64, json_node_get_int(n));
	}
	g_object_unref(p);
}

/* Every line of a payment paid, P-<n> (what lines the body holds is the test's business). */
static void post_payment(const struct sync_request *req, struct sync_response *resp)
{
	char uuid[64];
	body_member(req, "tx_uuid", uuid, sizeof(uuid));
	JsonParser *p = json_parser_new();
	GString *out = g_string_new(NULL);
	g_string_printf(out, "{\"tx_uuid\": \"%s\", \"lines\": [", uuid);
	if (json_parser_load_from_data(p, req->body, (gssize)req->len, NULL)) {
		JsonArray *lines = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "lines");
		for (guint k = 0; k < json_array_get_length(lines); k++)
			g_string_append_printf(out, "%s{\"n\": %u, \"status\": \"paid\", \"host_ref\": \"P-%u\"}",
					       k ? ", " : "", k + 1, k + 1);
	}
	g_string_append(out, "]}");
	answer(resp, 200, out->str);
	g_string_free(out, TRUE);
	g_object_unref(p);
}

static int exchange(struct sync_transport *base, const struct sync_request *req, struct sync_response *resp,
		    struct kio_error *err)
{
	struct fake_transport *t = (struct fake_transport *)base;
	memset(resp, 0, sizeof(*resp));
	if (strcmp(req->path, "/v1/catalogue") == 0) {
		snprintf(t->last_if_none_match, sizeof(t->last_if_none_match), "%s",
			 req->if_none_match ? req->if_none_match : "");
		if (t->catalogue_status) {
			answer(resp, t->catalogue_status,
			       "{\"error\": {\"code\": \"internal_error\", \"message\": \"test\"}}");
		} else if (!t->catalogue_body) {
			answer(resp, 404, "{\"error\": {\"code\": \"catalogue_missing\", \"message\": \"none\"}}");
		} else if (req->if_none_match && t->catalogue_etag && strcmp(req->if_none_match, t->catalogue_etag) == 0) {
			resp->status = 304;
			snprintf(resp->etag, sizeof(resp->etag), "%s", t->catalogue_etag);
		} else {
			answer(resp, 200, t->catalogue_body);
			snprintf(resp->etag, sizeof(resp->etag), "%s", t->catalogue_etag ? t->catalogue_etag : "");
		}
		t->catalogue_asks++; /* last: once a test sees it, this answer is made */
		return 0;
	}
	t->exchanges++;
	if (strcmp(req->path, "/v1/records") == 0 && req->body) {
		t->posts++;
		/* What was sent, whatever the answer. */
		JsonParser *p = json_parser_new();
		if (json_parser_load_from_data(p, req->body, (gssize)req->len, NULL)) {
			JsonArray *recs =
				json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "records");
			guint n = json_array_get_length(recs);
			t->last_first = json_object_get_int_member(json_array_get_object_element(recs, 0), "rec");
			t->last_last = json_object_get_int_member(json_array_get_object_element(recs, n - 1), "rec");
		}
		g_object_unref(p);
	}
	if (strcmp(req->path, "/v1/vouchers/redeem") == 0) {
		t->redeems++;
		snprintf(t->last_body, sizeof(t->last_body), "%.*s", (int)req->len, req->body);
	}
	if (strcmp(req->path, "/v1/payments") == 0) {
		t->pays++;
		snprintf(t->last_body, sizeof(t->last_body), "%.*s", (int)req->len, req->body);
	}
	struct fake_step *s = NULL;
	for (int k = 0; k < t->n_by_path && !s; k++)
		if (!t->used[k] && strcmp(t->paths[k], req->path) == 0) {
			t->used[k] = true;
			s = &t->by_path[k];
		}
	if (!s && t->next < t->n_script)
		s = &t->script[t->next++];
	if (s) {
		if (s->rc)
			return kio_fail(err, s->rc, "fake host: %s", s->rc == KIO_ERR_TIMEOUT ? "no answer within 5000 ms"
												 : "connection refused");
		answer(resp, s->status, s->body);
		return 0;
	}
	if (strcmp(req->path, "/v1/records") == 0) {
		post_records(t, req, resp);
	} else if (strncmp(req->path, "/v1/cards/", 10) == 0) {
		char buf[160];
		snprintf(buf, sizeof(buf), "{\"card\": \"%s\", \"status\": \"active\", \"balance_fils\": %" PRId64 "}",
			 req->path + 10, t->host->card_balance_fils);
		answer(resp, 200, buf);
	} else if (strcmp(req->path, "/v1/fees/dewa/bill/2000123456") == 0) {
		t->fee_asks++;
		answer(resp, 200,
		       "{\"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000123456\", \"payee\": "
		       "\"M*** A*** K***\", \"description\": \"Electricity and water bill\", \"amount\": {\"kind\": "
		       "\"fixed\", \"due_fils\": 24550}, \"items\": []}");
	} else if (strncmp(req->path, "/v1/fees/", 9) == 0) {
		t->fee_asks++;
		answer(resp, 404, "{\"error\": {\"code\": \"reference_unknown\", \"message\": \"no such reference\"}}");
	} else if (strcmp(req->path, "/v1/vouchers/validate") == 0) {
		char code[32], buf[160];
		body_member(req, "code", code, sizeof(code));
		snprintf(buf, sizeof(buf),
			 "{\"code\": \"%s\", \"status\": \"valid\", \"value_fils\": 5000, \"expires\": \"2099-12-31\"}", code);
		answer(resp, 200, buf);
	} else if (strcmp(req->path, "/v1/vouchers/redeem") == 0) {
		char code[32], id[64], amount[32], buf[256];
		body_member(req, "code", code, sizeof(code));
		body_member(req, "redemption_id", id, sizeof(id));
		body_member(req, "amount_fils", amount, sizeof(amount));
		snprintf(buf, sizeof(buf),
			 "{\"code\": \"%s\", \"redemption_id\": \"%s\", \"redeemed_fils\": %s, \"remaining_fils\": 0}",
			 code, id, amount);
		answer(resp, 200, buf);
	} else if (strcmp(req->path, "/v1/payments") == 0) {
		post_payment(req, resp);
	} else if (strcmp(req->path, "/v1/heartbeat") == 0) {
		char buf[64];
		snprintf(buf, sizeof(buf), "{\"server_time_s\": %" PRId64 "}", req->date_s);
		answer(resp, 200, buf);
	} else {
		answer(resp, 404, "{\"error\": {\"code\": \"bad_request\", \"message\": \"no such path\"}}");
	}
	return 0;
}

static void transport_free(struct sync_transport *base) { free(base); }

struct fake_transport *fake_transport_new(struct fake_host_state *host)
{
	struct fake_transport *t = calloc(1, sizeof(*t));
	t->base.exchange = exchange;
	t->base.free = transport_free;
	t->host = host;
	return t;
}

void fake_script(struct fake_transport *t, int rc, int status, const char *body)
{
	if (t->n_script < (int)(sizeof(t->script) / sizeof(t->script[0])))
		t->script[t->n_script++] = (struct fake_step){rc, status, body};
}

void fake_script_path(struct fake_transport *t, const char *path, int rc, int status, const char *body)
{
	if (t->n_by_path < (int)(sizeof(t->by_path) / sizeof(t->by_path[0]))) {
		t->paths[t->n_by_path] = path;
		t->by_path[t->n_by_path++] = (struct fake_step){rc, status, body};
	}
}
