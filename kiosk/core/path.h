/*
 * Checks on the paths a user gives (command line or configuration) made before anything is
 * created or written: each names what is wrong with the path in one message, so the kiosk
 * can refuse bad input with exit 2 instead of failing, or writing somewhere else, later.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/*
 * `what` names where the path came from in messages ("--out", "k.ini:4: paths.db"); `cap` is
 * the size of the buffer the path will be copied into (0: no limit). Each returns 0, or
 * KIO_ERR_INVALID with "WHAT 'PATH': reason" in err. They only look (stat, access), never
 * create.
 */

/* A folder the kiosk may create (like mkdir -p) and write into: the path may exist as a
 * writable folder, or its first missing component must lie in a writable folder, with
 * every component before it a folder. */
int core_path_check_out_dir(const char *what, const char *path, size_t cap, struct kio_error *err);

/* A file the kiosk opens for writing, creating it if missing: an existing file must be a
 * regular file; the folder it is in must exist, and be writable if check_write. (The
 * database passes false: whether the store can be written is the store's own start-up check,
 * a database fault with exit 3, whatever made it so.) */
int core_path_check_out_file(const char *what, const char *path, size_t cap, bool check_write,
			     struct kio_error *err);

/* A file the kiosk reads: it exists, is not a folder, and can be read. */
int core_path_check_in_file(const char *what, const char *path, struct kio_error *err);

/* PATH quoted for a message: whole if short, else its start and end around "...". */
void core_path_quote(const char *path, char *buf, size_t cap);
