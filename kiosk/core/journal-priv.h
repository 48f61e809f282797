/*
 * The journal's side of core/log (log.c only). Apart because <systemd/sd-journal.h> brings
 * <syslog.h>, whose LOG_ERR, LOG_INFO and LOG_DEBUG macros would replace log.h's names.
 */
#pragma once

/* One line with its fields; device and transaction "" are left out. 0, or a negative errno. */
int log_journal_send(int priority, const char *module, const char *msg, const char *device,
		     const char *transaction);
