/* Sends one log line to the systemd journal with the kiosk's structured fields (log.h). */
#include "journal-priv.h"

#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "kiosk-config.h"

#if KIOSK_HAVE_SYSTEMD
#define SD_JOURNAL_SUPPRESS_LOCATION /* the location would be this file's, not the caller's */
#include <systemd/sd-journal.h>

/* One "NAME=value" field in buf, its iovec at *n. */
static void field(struct iovec *iov, int *n, char *buf, size_t cap, const char *name, const char *value)
{
	int len = snprintf(buf, cap, "%s=%s", name, value);
	iov[(*n)++] = (struct iovec){buf, len < 0 ? 0 : (size_t)len < cap ? (size_t)len : cap - 1};
}

int log_journal_send(int priority, const char *module, const char *msg, const char *device,
		     const char *transaction)
{
	char message[1100], prio[16], subsystem[64], dev[40], tx[48], text[1060];
	struct iovec iov[5];
	int n = 0;
	snprintf(text, sizeof(text), "%s: %s", module, msg);
	field(iov, &n, message, sizeof(message), "MESSAGE", text);
	snprintf(prio, sizeof(prio), "%d", priority);
	char prio_field[24];
	field(iov, &n, prio_field, sizeof(prio_field), "PRIORITY", prio);
	field(iov, &n, subsystem, sizeof(subsystem), "KIOSK_SUBSYSTEM", module);
	/* Empty fields are left out: a search for KIOSK_DEVICE=cash finds only the acceptor's. */
	if (device[0])
		field(iov, &n, dev, sizeof(dev), "KIOSK_DEVICE", device);
	if (transaction[0])
		field(iov, &n, tx, sizeof(tx), "KIOSK_TRANSACTION", transaction);
	return sd_journal_sendv(iov, n);
}
#else
int log_journal_send(int priority, const char *module, const char *msg, const char *device,
		     const char *transaction)
{
	(void)priority, (void)module, (void)msg, (void)device, (void)transaction;
	return -38; /* -ENOSYS: never called, log_to_journal() is false without libsystemd */
}
#endif
