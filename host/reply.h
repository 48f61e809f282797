/*
 * One request's answer as the routes build it and server.c sends it: status, JSON body, ETag.
 * Errors are always {"error": {"code", "message", ...extra}} (docs/host-api.yaml, "Errors").
 */
#pragma once

#include <json-glib/json-glib.h>
#include <stdint.h>

struct host_reply {
	unsigned status;
	char *body;     /* owned, g_free; NULL: no body (304) */
	char etag[80];  /* "" for none; quoted as sent */
};

/* Sets a JSON body (takes json, a g_malloc'd string). */
void reply_json(struct host_reply *r, unsigned status, char *json);
/* An error answer; extra_key (may be NULL) adds one integer member (rec, acked, server_time). */
void reply_error(struct host_reply *r, unsigned status, const char *code, const char *extra_key, int64_t extra,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void reply_clear(struct host_reply *r);
/* b's root as JSON text (g_malloc'd, for reply_json or a stored copy); frees b. */
char *reply_json_text(JsonBuilder *b);
