/* The host's answer faults for the network suite and the scenarios (faults.h). */
#define LOG_MODULE "host-faults"
#include "faults.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/infile.h"
#include "kiosk/core/log.h"
#include "wire.h"

/* One short line is all a fault file holds. */
#define FAULT_FILE_MAX 4096

static const char *const names[HOST_FAULT_COUNT] = {
	"none",      "error",         "cut-after-commit", "malformed",      "truncated",
	"oversized", "hostile-acked", "hostile-negative", "unknown-fields", NULL,
};

const char *host_fault_name(int fault) { return fault >= 0 && fault < HOST_FAULT_COUNT ? names[fault] : NULL; }

enum host_fault host_fault_read(const char *path)
{
	if (!path)
		return HOST_FAULT_NONE;
	char *text = NULL;
	struct kio_error err = {0};
	int rc = core_infile_read(path, path, FAULT_FILE_MAX, &text, NULL, &err);
	if (rc == KIO_ERR_NOT_FOUND)
		return HOST_FAULT_NONE;
	if (rc) {
		LOG_ERR("%s", err.msg);
		return HOST_FAULT_UNKNOWN;
	}
	text[strcspn(text, "\r\n")] = '\0';
	enum host_fault f = HOST_FAULT_UNKNOWN;
	for (int k = 0; k < HOST_FAULT_UNKNOWN; k++)
		if (strcmp(text, names[k]) == 0)
			f = (enum host_fault)k;
	if (f == HOST_FAULT_UNKNOWN)
		LOG_ERR("%s: '%.40s' is no fault (none, error, cut-after-commit, malformed, truncated, oversized,"
			" hostile-acked, hostile-negative, unknown-fields)",
			path, text);
	else if (f != HOST_FAULT_NONE)
		LOG_WARN("test fault '%s' on this request", names[f]);
	free(text);
	return f;
}

int host_faults_check(const char *path, struct kio_error *err)
{
	struct kio_error why = {0};
	int rc = core_infile_regular(path, path, &why);
	if (rc == KIO_ERR_NOT_FOUND)
		return 0;
	return rc ? kio_fail(err, KIO_ERR_INVALID, "--faults %s", why.msg) : 0;
}

bool host_fault_before(enum host_fault f, struct host_reply *reply)
{
	if (f != HOST_FAULT_ERROR && f != HOST_FAULT_UNKNOWN)
		return false;
	reply_error(reply, 500, "internal_error", NULL, 0,
		    f == HOST_FAULT_ERROR ? "test fault: the host failed" : "test fault file names no fault");
	return true;
}

/* Sets (adds or replaces) an integer member of a JSON object answer; false when the body is
 * no object. */
static bool rewrite(struct host_reply *reply, const char *member, gint64 delta, gint64 set, bool extra)
{
	JsonParser *p = json_parser_new();
	bool ok = reply->body && json_parser_load_from_data(p, reply->body, -1, NULL) && json_parser_get_root(p) &&
		  JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p));
	if (ok) {
		JsonObject *o = json_node_get_object(json_parser_get_root(p));
		if (member)
			json_object_set_int_member(o, member,
						   delta ? json_object_get_int_member_with_default(o, member, 0) + delta : set);
		if (extra) {
			/* What a newer host might add: members of every type, nested. */
			JsonObject *x = json_object_new();
			JsonArray *a = json_array_new();
			json_array_add_int_element(a, 1);
			json_array_add_string_element(a, "two");
			json_array_add_null_element(a);
			json_object_set_array_member(x, "list", a);
			json_object_set_boolean_member(x, "flag", TRUE);
			json_object_set_object_member(o, "x_future", x);
			json_object_set_string_member(o, "x_note", "ignored by this kiosk");
			json_object_set_int_member(o, "x_count", 7);
		}
		JsonGenerator *gen = json_generator_new();
		json_generator_set_root(gen, json_parser_get_root(p));
		g_free(reply->body);
		reply->body = json_generator_to_data(gen, NULL);
		g_object_unref(gen);
	}
	g_object_unref(p);
	return ok;
}

bool host_fault_after(enum host_fault f, bool records, bool card, struct host_reply *reply)
{
	bool ok2xx = reply->status >= 200 && reply->status < 300 && reply->body;
	switch (f) {
	case HOST_FAULT_CUT_AFTER_COMMIT: return true;
	case HOST_FAULT_MALFORMED:
		if (ok2xx) {
			g_free(reply->body);
			reply->body = g_strdup("<html><body>502 Bad Gateway</body></html>");
		}
		break;
	case HOST_FAULT_TRUNCATED:
		if (ok2xx)
			reply->body[strlen(reply->body) / 2] = '\0';
		break;
	case HOST_FAULT_OVERSIZED:
		if (ok2xx) {
			/* Valid JSON, only too long: the size check alone must refuse it. */
			size_t len = strlen(reply->body), total = WIRE_BODY_MAX + 1;
			char *big = g_malloc(total + 1);
			memcpy(big, reply->body, len);
			memset(big + len, ' ', total - len);
			big[total] = '\0';
			g_free(reply->body);
			reply->body = big;
		}
		break;
	case HOST_FAULT_HOSTILE_ACKED:
		if (ok2xx && records)
			rewrite(reply, "acked", 1000, 0, false);
		break;
	case HOST_FAULT_HOSTILE_NEGATIVE:
		if (ok2xx && card)
			rewrite(reply, "balance_fils", 0, -250000, false);
		break;
	case HOST_FAULT_UNKNOWN_FIELDS:
		if (ok2xx)
			rewrite(reply, NULL, 0, 0, true);
		break;
	default: break;
	}
	return false;
}
