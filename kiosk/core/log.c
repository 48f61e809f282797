/* Log line formatting and the process-wide level (the one piece of global state: logging
 * must work before any context exists, e.g. while parsing the command line). */
#define LOG_MODULE "log"
#include "log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kiosk-config.h"

#include "journal-priv.h"

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

/* Modules that speak for one device class: their lines carry it without naming it. */
static const struct {
	const char *module, *device;
} module_devices[] = {
	{"essp", "cash"},       {"essp-cash", "cash"},         {"sim-essp", "cash"},
	{"escpos", "receipt"},  {"escpos-receipt", "receipt"}, {"sim-escpos", "receipt"},
	{"evolis", "card"},     {"evolis-card", "card"},       {"sim-evolis", "card"},
	{"sync", "host"},       {"sync-curl", "host"},         {"sync-drain", "host"},
	{"sync-wire", "host"},  {"ledger", "store"},
};

/* A line names its device first ("cash: jammed", "receipt: paper-out (...)"), as STYLE asks. */
static const char *const line_devices[] = {"cash", "receipt", "card", "host", "store"};

static void copy_digits(const char *p, char *out, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap && isdigit((unsigned char)p[n])) {
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
}

void log_fields_of(const char *module, const char *msg, struct log_fields *out)
{
	out->device[0] = out->transaction[0] = '\0';
	for (size_t i = 0; i < sizeof(module_devices) / sizeof(module_devices[0]); i++)
		if (strcmp(module, module_devices[i].module) == 0)
			snprintf(out->device, sizeof(out->device), "%s", module_devices[i].device);
	for (size_t i = 0; !out->device[0] && i < sizeof(line_devices) / sizeof(line_devices[0]); i++) {
		size_t n = strlen(line_devices[i]);
		if (strncmp(msg, line_devices[i], n) == 0 && msg[n] == ':')
			snprintf(out->device, sizeof(out->device), "%s", line_devices[i]);
	}
	/* The ledger's transaction number, as every module writes it: "transaction 12", "tx 12". */
	static const char *const tx_words[] = {"transaction ", "tx "};
	for (size_t i = 0; !out->transaction[0] && i < 2; i++) {
		for (const char *p = strstr(msg, tx_words[i]); p; p = strstr(p + 1, tx_words[i])) {
			bool word_start = p == msg || !isalnum((unsigned char)p[-1]);
			const char *d = p + strlen(tx_words[i]);
			if (word_start && isdigit((unsigned char)*d)) {
				copy_digits(d, out->transaction, sizeof(out->transaction));
				break;
			}
		}
	}
}

/*
 * Under systemd stderr is a journal stream, named by JOURNAL_STREAM ("DEV:INODE" of that
 * stream, systemd.exec(5)): then each line goes to the journal itself, with its fields, and not
 * a second time through stderr. Anything else on stderr (a terminal, a test's pipe, a file)
 * keeps the plain lines.
 */
static bool journal_on;
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;

static void journal_probe(void)
{
#if KIOSK_HAVE_SYSTEMD
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		journal_on = true;
#endif
}

bool log_to_journal(void)
{
	pthread_once(&journal_once, journal_probe);
	return journal_on;
}

#if KIOSK_HAVE_SYSTEMD
static void journal_emit(enum log_level level, const char *module, const char *msg)
{
	static const int priorities[] = {3, 4, 6, 7}; /* syslog's err, warning, info, debug */
	struct log_fields f;
	log_fields_of(module, msg, &f);
	if (log_journal_send(priorities[level], module, msg, f.device, f.transaction) < 0)
		fprintf(stderr, "%-5s %s: %s\n", level_names[level], module, msg); /* the journal refused it */
}
#endif

static void emit(enum log_level level, const char *module, const char *msg)
{
#if KIOSK_HAVE_SYSTEMD
	if (to_stderr(level) && log_to_journal())
		journal_emit(level, module, msg);
	else
#endif
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
