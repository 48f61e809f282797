/* Looks at user-given paths before the kiosk creates or writes anything (see path.h). */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmalloc.h"

enum { QUOTE_MAX = 96 }; /* a path in a message: kio_error holds 256 bytes in all */

void core_path_quote(const char *path, char *buf, size_t cap)
{
	size_t n = strlen(path);
	if (n + 3 <= cap && n <= QUOTE_MAX)
		snprintf(buf, cap, "'%s'", path);
	else
		snprintf(buf, cap, "'%.40s...%s' (%zu bytes)", path, path + n - 40, n);
}

static int fail(struct kio_error *err, const char *what, const char *path, const char *why)
{
	char q[160];
	core_path_quote(path, q, sizeof(q));
	return kio_fail(err, KIO_ERR_INVALID, "%s %s: %s", what, q, why);
}

/* The checks every path shares: not empty, and fits where it will be copied. */
static int check_common(const char *what, const char *path, size_t cap, struct kio_error *err)
{
	if (path[0] == '\0')
		return kio_fail(err, KIO_ERR_INVALID, "%s: the path is empty", what);
	size_t n = strlen(path);
	size_t limit = cap ? cap - 1 : PATH_MAX - 1;
	if (n > limit) {
		char why[96];
		snprintf(why, sizeof(why), "too long (%zu bytes, at most %zu)", n, limit);
		return fail(err, what, path, why);
	}
	return 0;
}

/* Whether the process may create entries in the folder dir (effective ids, as open does). */
static int check_writable_dir(const char *what, const char *path, const char *dir, struct kio_error *err)
{
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
		char why[400];
		char q[160];
		core_path_quote(dir, q, sizeof(q));
		snprintf(why, sizeof(why), "cannot write in the folder %s: %s", q, strerror(errno));
		return fail(err, what, path, why);
	}
	return 0;
}

int core_path_check_out_dir(const char *what, const char *path, size_t cap, struct kio_error *err)
{
	int rc = check_common(what, path, cap, err);
	if (rc)
		return rc;
	/* Walk the prefixes as mkdir -p will create them. */
	char *copy = xstrdup(path);
	size_t n = strlen(copy);
	for (size_t i = 1; i <= n && rc == 0; i++) {
		if (copy[i] != '/' && copy[i] != '\0')
			continue;
		char saved = copy[i];
		copy[i] = '\0';
		struct stat st;
		if (stat(copy, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				char why[200], q[160];
				core_path_quote(copy, q, sizeof(q));
				snprintf(why, sizeof(why), "%s is not a folder", strcmp(copy, path) == 0 ? "it" : q);
				rc = fail(err, what, path, why);
			} else if (saved == '\0') {
				rc = check_writable_dir(what, path, copy, err);
			}
		} else if (errno == ENOENT) {
			/* The first missing component: it is created in the folder before it. */
			char *slash = strrchr(copy, '/');
			const char *parent = ".";
			if (slash == copy)
				parent = "/";
			else if (slash)
				*slash = '\0', parent = copy;
			rc = check_writable_dir(what, path, parent, err);
			break;
		} else {
			rc = fail(err, what, path, strerror(errno));
		}
		copy[i] = saved;
	}
	free(copy);
	return rc;
}

int core_path_check_out_file(const char *what, const char *path, size_t cap, bool check_write,
			     struct kio_error *err)
{
	int rc = check_common(what, path, cap, err);
	if (rc)
		return rc;
	size_t n = strlen(path);
	if (path[n - 1] == '/')
		return fail(err, what, path, "names a folder, not a file");
	struct stat st;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return fail(err, what, path, "is a folder, not a file");
		if (!S_ISREG(st.st_mode))
			return fail(err, what, path, "is not a regular file");
	} else if (errno != ENOENT) {
		return fail(err, what, path, strerror(errno));
	}
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *parent = ".";
	if (slash == dir)
		parent = "/";
	else if (slash)
		*slash = '\0', parent = dir;
	bool found = stat(parent, &st) == 0;
	if (!found || !S_ISDIR(st.st_mode)) {
		char why[240], q[160];
		core_path_quote(parent, q, sizeof(q));
		snprintf(why, sizeof(why), "the folder %s %s", q,
			 found ? "is not a folder" : errno == ENOENT ? "does not exist" : strerror(errno));
		rc = fail(err, what, path, why);
	} else if (check_write) {
		rc = check_writable_dir(what, path, parent, err);
	}
	free(dir);
	return rc;
}

int core_path_check_in_file(const char *what, const char *path, struct kio_error *err)
{
	int rc = check_common(what, path, 0, err);
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st) != 0)
		return fail(err, what, path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return fail(err, what, path, "is a folder, not a file");
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) != 0)
		return fail(err, what, path, strerror(errno));
	return 0;
}
