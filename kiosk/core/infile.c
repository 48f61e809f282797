/* Opening a file the kiosk reads without waiting on whatever sits at its path (infile.h). */
#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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
