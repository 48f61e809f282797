/* Building the host's answers (reply.h). */
#include "reply.h"

#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void reply_json(struct host_reply *r, unsigned status, char *json)
{
	g_free(r->body);
	r->status = status;
	r->body = json;
}

void reply_error(struct host_reply *r, unsigned status, const char *code, const char *extra_key, int64_t extra,
		 const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "error");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "code");
	json_builder_add_string_value(b, code);
	json_builder_set_member_name(b, "message");
	json_builder_add_string_value(b, msg);
	if (extra_key) {
		json_builder_set_member_name(b, extra_key);
		json_builder_add_int_value(b, extra);
	}
	json_builder_end_object(b);
	json_builder_end_object(b);
	reply_json(r, status, reply_json_text(b));
	r->etag[0] = '\0';
}

void reply_clear(struct host_reply *r)
{
	g_free(r->body);
	memset(r, 0, sizeof(*r));
}

char *reply_json_text(JsonBuilder *b)
{
	JsonNode *root = json_builder_get_root(b);
	JsonGenerator *gen = json_generator_new();
	json_generator_set_root(gen, root);
	char *text = json_generator_to_data(gen, NULL);
	g_object_unref(gen);
	json_node_unref(root);
	g_object_unref(b);
	return text;
}
