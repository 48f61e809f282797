/* Log line formatting and the process-wide level (the one piece of global state: logging
 * must work before any context exists, e.g. while parsing the command line). */
#define LOG_MODULE "log"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level current_level = LOG_WARN;
static log_sink_fn current_sink;
static void *current_sink_user;
static int sink_level = -1; /* -1: the stderr level */

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

bool log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void log_set_sink(log_sink_fn sink, void *user)
{
	current_sink = sink;
	current_sink_user = user;
}

void log_set_sink_level(enum log_level level) { sink_level = (int)level; }

static bool to_stderr(enum log_level level) { return level <= current_level; }

static bool to_sink(enum log_level level)
{
	return current_sink && (int)level <= (sink_level < 0 ? (int)current_level : sink_level);
}

/* A line longer than the buffer says it was cut, at a character boundary, rather than end
 * mid-word as if complete. n is what vsnprintf wanted to write. */
static void mark_cut(char *buf, size_t cap, int n)
{
	static const char cut[] = " [cut]";
	if (n < 0 || (size_t)n < cap)
		return;
	size_t end = cap - sizeof(cut);
	while (end > 0 && ((unsigned char)buf[end] & 0xC0) == 0x80)
		end--;
	memcpy(buf + end, cut, sizeof(cut));
}

static void emit(enum log_level level, const char *module, const char *msg)
{
	if (to_stderr(level))
		fprintf(stderr, "%-5s %s: %s\n", level_names[level], module, msg);
	if (to_sink(level))
		current_sink(current_sink_user, level, module, msg);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	if (!to_stderr(level) && !to_sink(level))
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mark_cut(buf, sizeof(buf), n);
	emit(level, module, buf);
}

void log_errno(enum log_level level, const char *module, int errno_value, const char *fmt, ...)
{
	if (!to_stderr(level) && !to_sink(level))
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(errno_value));
	mark_cut(buf, sizeof(buf), n);
	emit(level, module, buf);
}
