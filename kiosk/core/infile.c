/* Opening a file the kiosk reads without waiting on whatever sits at its path (infile.h). */
#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

int core_infile_open(const char *path, const char *name, int flags, struct stat *st, struct kio_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
	if (fd < 0)
		return kio_fail(err, errno == ENOENT ? KIO_ERR_NOT_FOUND : KIO_ERR_IO, "%s: %s", name, strerror(errno));
	if (fstat(fd, st) != 0) {
		int e = errno;
		close(fd);
		return kio_fail(err, KIO_ERR_IO, "%s: cannot stat: %s", name, strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return kio_fail(err, KIO_ERR_INVALID, "%s: not a regular file", name);
	}
	return fd;
}

int core_infile_regular(const char *path, const char *name, struct kio_error *err)
{
	struct stat st;
	int fd = core_infile_open(path, name, 0, &st, err);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int core_infile_read(const char *path, const char *name, size_t max, char **out, size_t *len, struct kio_error *err)
{
	*out = NULL;
	if (len)
		*len = 0;
	struct stat st;
	int fd = core_infile_open(path, name, 0, &st, err);
	if (fd < 0)
		return fd;
	int rc = 0;
	/* The size fstat saw bounds the buffer; one byte more tells a file that grew meanwhile. */
	if ((uintmax_t)st.st_size > max) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: larger than %zu bytes", name, max);
		goto out_close;
	}
	size_t cap = (size_t)st.st_size + 1, got = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = kio_fail(err, KIO_ERR_IO, "%s: cannot read: %s", name, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			rc = kio_fail(err, KIO_ERR_INVALID, "%s: changed while it was read", name);
			break;
		}
	}
	if (rc) {
		free(buf);
		goto out_close;
	}
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
out_close:
	close(fd);
	return rc;
}
