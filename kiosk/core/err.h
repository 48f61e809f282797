/* Error codes shared by every module, and the error record passed across module lines. */
#pragma once

#include <stdarg.h>

enum kio_err {
	KIO_OK = 0,
	KIO_ERR_IO = -1,        /* read/write/system call failed */
	KIO_ERR_TIMEOUT = -2,   /* a peer did not answer in time */
	KIO_ERR_NO_DEVICE = -3, /* device absent or unplugged */
	KIO_ERR_PROTOCOL = -4,  /* peer sent something the protocol forbids */
	KIO_ERR_BUSY = -5,      /* valid request, cannot be done now */
	KIO_ERR_CORRUPT = -6,   /* stored data failed a check */
	KIO_ERR_INVALID = -7,   /* bad input from a user, file or caller */
	KIO_ERR_NOMEM = -8,
	KIO_ERR_NOT_FOUND = -9,
	KIO_ERR_UNSUPPORTED = -10,
};

/* Keep in sync with enum kio_err. Never returns NULL. */
const char *kio_strerror(int code);

/*
 * Filled once where a fault is seen, logged once where it is handled.
 * `where` names the operation and the object (file:line, device, record).
 */
struct kio_error {
	int code;
	char msg[256];
};

/* Sets err (if not NULL) and returns code, so callers can `return kio_fail(...)`. */
int kio_fail(struct kio_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int kio_vfail(struct kio_error *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
