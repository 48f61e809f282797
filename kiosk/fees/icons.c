/* The entities' icons (assets/icons/): each a PNG the screens can draw, checked by name against
 * the catalogue, so a missing or broken icon is found by `kiosk catalogue check`, not on screen. */
#include "catalogue.h"

#include "kiosk/core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int decode(const struct cat_entity *e, const char *path, FILE *f, struct kio_error *err)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_stdio(&img, f))
		return kio_fail(err, KIO_ERR_INVALID, "%s.json: entity %s: icon %s: not a PNG (%s)", e->id, e->id, path,
				img.message);
	int rc = 0;
	/* The size before the pixels: memory is bounded by CAT_ICON_SIDE_MAX, whatever the header says. */
	if (img.width != img.height || img.width < CAT_ICON_SIDE_MIN || img.width > CAT_ICON_SIDE_MAX) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s.json: entity %s: icon %s is %ux%u, not square %d..%d px", e->id,
			      e->id, path, img.width, img.height, CAT_ICON_SIDE_MIN, CAT_ICON_SIDE_MAX);
		png_image_free(&img);
		return rc;
	}
	/* The whole image, so a truncated or corrupt body fails here too, not on screen. */
	img.format = PNG_FORMAT_RGBA;
	void *px = xmalloc(PNG_IMAGE_SIZE(img));
	if (!png_image_finish_read(&img, NULL, px, 0, NULL))
		rc = kio_fail(err, KIO_ERR_INVALID, "%s.json: entity %s: icon %s: cannot be read (%s)", e->id, e->id, path,
			      img.message);
	free(px);
	png_image_free(&img);
	return rc;
}

static int icon_ok(const struct cat_entity *e, const char *path, struct kio_error *err)
{
	/* O_NONBLOCK and fstat: a FIFO is refused, not waited on for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return kio_fail(err, errno == ENOENT ? KIO_ERR_NOT_FOUND : KIO_ERR_IO, "%s.json: entity %s: icon %s: %s",
				e->id, e->id, path, errno == ENOENT ? "no such file" : strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kio_fail(err, KIO_ERR_INVALID, "%s.json: entity %s: icon %s: not a regular file", e->id, e->id, path);
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		int rc = kio_fail(err, KIO_ERR_IO, "%s.json: entity %s: icon %s: %s", e->id, e->id, path, strerror(errno));
		close(fd);
		return rc;
	}
	int rc = decode(e, path, f, err);
	fclose(f);
	return rc;
}

int catalogue_icons_check(const struct catalogue *c, const char *icons_dir, struct kio_error *err)
{
	for (size_t i = 0; i < c->n_entities; i++) {
		char *path = xasprintf("%s/%s", icons_dir, c->entities[i].icon);
		int rc = icon_ok(&c->entities[i], path, err);
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}
