/* Error code names and the error record helpers. */
#include "err.h"

#include <stdio.h>
#include <string.h>

const char *kio_strerror(int code)
{
	switch (code) {
	case KIO_OK: return "success";
	case KIO_ERR_IO: return "input/output error";
	case KIO_ERR_TIMEOUT: return "timed out";
	case KIO_ERR_NO_DEVICE: return "no device";
	case KIO_ERR_PROTOCOL: return "protocol error";
	case KIO_ERR_BUSY: return "busy";
	case KIO_ERR_CORRUPT: return "corrupt data";
	case KIO_ERR_INVALID: return "invalid input";
	case KIO_ERR_NOMEM: return "out of memory";
	case KIO_ERR_NOT_FOUND: return "not found";
	case KIO_ERR_UNSUPPORTED: return "not supported";
	}
	return "unknown error";
}

int kio_vfail(struct kio_error *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		/* A message cut to fit says so, rather than ending as if complete. */
		if (n >= (int)sizeof(err->msg))
			memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	}
	return code;
}

int kio_fail(struct kio_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kio_vfail(err, code, fmt, ap);
	va_end(ap);
	return code;
}
