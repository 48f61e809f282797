/*
 * Structured logging to stderr: "LEVEL subsystem: message".
 * Each .c defines LOG_MODULE before including this header.
 * Quiet by default in tests (level warn); KIOSK_LOG=debug|info|warn|error overrides.
 */
#pragma once

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; false if unknown. */
bool log_level_parse(const char *name, enum log_level *out);

/*
 * A sink receives every line that passes its own level, after stderr (which shows only the
 * lines that pass log_set_level); tests and the scenario runner capture with it. The sink's
 * level is the stderr level until set. It may be called from any thread that logs.
 */
typedef void (*log_sink_fn)(void *user, enum log_level level, const char *module, const char *msg);
void log_set_sink(log_sink_fn sink, void *user);
void log_set_sink_level(enum log_level level);

/*
 * Under systemd (stderr is the journal stream its JOURNAL_STREAM names) lines go to the journal
 * with structured fields: KIOSK_SUBSYSTEM (the module), KIOSK_DEVICE (cash, receipt, card, host,
 * store: from the module, or the line's first word), KIOSK_TRANSACTION (the ledger's transaction
 * number the line names), PRIORITY. Otherwise, to stderr as above.
 */
bool log_to_journal(void);
struct log_fields {
	char device[16];      /* "" when the line is about no device */
	char transaction[24]; /* the digits, "" when the line names none */
};
/* The fields of one line (for the journal, and the tests). */
void log_fields_of(const char *module, const char *msg, struct log_fields *out);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends ": strerror(errno_value)". */
void log_errno(enum log_level level, const char *module, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#ifndef LOG_MODULE
#error "define LOG_MODULE before including log.h"
#endif

#define LOG_ERR(...) log_msg(LOG_ERROR, LOG_MODULE, __VA_ARGS__)
#define LOG_WARN(...) log_msg(LOG_WARN, LOG_MODULE, __VA_ARGS__)
#define LOG_INFO(...) log_msg(LOG_INFO, LOG_MODULE, __VA_ARGS__)
#define LOG_DBG(...) log_msg(LOG_DEBUG, LOG_MODULE, __VA_ARGS__)
#define LOG_ERRNO(...) log_errno(LOG_ERROR, LOG_MODULE, errno, __VA_ARGS__)
