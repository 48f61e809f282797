/*
 * Opening a file the kiosk reads at start-up (configuration, catalogue, ledger secret,
 * scenario) so that what sits at the path cannot hang it: a FIFO or a device there is
 * refused with a clear error instead of being waited on.
 */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

#include "err.h"

/*
 * Opens path for reading with O_NONBLOCK (opening a FIFO for reading otherwise blocks until a
 * writer comes) and O_CLOEXEC, plus `flags` (O_NOFOLLOW where a symbolic link must not be
 * followed), then fstat()s the open file (no race with a swap of the path) and refuses
 * anything that is not a regular file. Returns the descriptor (reads on a regular file ignore
 * O_NONBLOCK) with *st filled, or a negative kio_err with err "NAME: reason":
 * KIO_ERR_NOT_FOUND if the path does not exist, KIO_ERR_INVALID if it is not a regular file,
 * KIO_ERR_IO otherwise.
 */
int core_infile_open(const char *path, const char *name, int flags, struct stat *st, struct kio_error *err);

/*
 * For a file another library opens by its path (SQLite's database, libcurl's certificates):
 * 0 when path is a regular file now, else as core_infile_open (nothing left open). It cannot
 * stop a swap of the path after it answers; it stops a FIFO or a device an operator or a
 * command line names from blocking that library's own open (a FIFO opened for reading waits
 * for a writer) or being read as a file.
 */
int core_infile_regular(const char *path, const char *name, struct kio_error *err);

/*
 * Reads a whole small file (a certificate, a key, a test's fault file) through
 * core_infile_open: *out takes a malloc'd copy of its bytes plus a NUL the file does not hold
 * (the caller frees it), *len (may be NULL) their count. A file longer than max bytes is
 * refused (KIO_ERR_INVALID, "NAME: larger than MAX bytes"), as is what core_infile_open
 * refuses; a read error is KIO_ERR_IO. *out is NULL on every error.
 */
int core_infile_read(const char *path, const char *name, size_t max, char **out, size_t *len, struct kio_error *err);
