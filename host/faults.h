/*
 * The host's test switch for faults that live inside its answer (`kiosk-host serve --faults
 * FILE`, docs/host.md "Test faults"): what a TCP proxy below TLS cannot do to an encrypted
 * link. The file's first line is read again at every request, so a test switches the fault
 * by rewriting the file (write a temporary file, rename it over). A missing file is `none`;
 * an unknown line is refused at every request with a 500 and an error log line, so a typo
 * in a test never silently means `none`. What sits at the path is read without waiting on it
 * (core_infile_read): a FIFO or a device there is refused like an unknown line, never waited
 * on by a request thread. Never used without --faults.
 */
#pragma once

#include <stdbool.h>

#include "kiosk/core/err.h"
#include "reply.h"

enum host_fault {
	HOST_FAULT_NONE,
	HOST_FAULT_ERROR,            /* 500 internal_error before the database is touched */
	HOST_FAULT_CUT_AFTER_COMMIT, /* the request runs (and commits); the connection is dropped, no answer */
	HOST_FAULT_MALFORMED,        /* a 2xx answer's body replaced by text that is not JSON */
	HOST_FAULT_TRUNCATED,        /* a 2xx answer's body cut half way */
	HOST_FAULT_OVERSIZED,        /* a 2xx answer's body padded past WIRE_BODY_MAX */
	HOST_FAULT_HOSTILE_ACKED,    /* a records answer acknowledging beyond what was sent */
	HOST_FAULT_HOSTILE_NEGATIVE, /* a card answer with a negative balance */
	HOST_FAULT_UNKNOWN_FIELDS,   /* a 2xx answer with extra members (the kiosk must accept it) */
	HOST_FAULT_UNKNOWN,          /* the file names no fault: answered as `error`, logged */
	HOST_FAULT_COUNT
};

/* "none", "error", "cut-after-commit", ... ; NULL past the list. */
const char *host_fault_name(int fault);

/* The fault the file at path names now (NULL path: none). */
enum host_fault host_fault_read(const char *path);

/* At `serve`'s start: 0 when path is absent or a regular file, else KIO_ERR_INVALID with err
 * "--faults PATH: not a regular file". */
int host_faults_check(const char *path, struct kio_error *err);

/* Before the route runs: true, with reply set to the 500, when the fault answers instead
 * (error, unknown). */
bool host_fault_before(enum host_fault f, struct host_reply *reply);

/* After the route ran (and committed): rewrites reply for the answer faults. records / card
 * say which route it was. Returns true when the connection must be dropped with no answer. */
bool host_fault_after(enum host_fault f, bool records, bool card, struct host_reply *reply);
