/* The entities' icons (assets/icons/): each a PNG the screens can draw, checked by name against
 * the catalogue, so a missing or broken icon is found by `kiosk catalogue check`, not on screen. */
#include "catalogue.h"

#include "kiosk/core/xmalloc.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int icon_ok(const struct cat_entity *e, const char *path, struct kio_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "%s.json: entity %s: icon %s: no such file", e->id, e->id, path);
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	/* The header and then the whole image: a truncated or corrupt body fails here too. */
	if (!png_image_begin_read_from_file(&img, path))
		return kio_fail(err, KIO_ERR_INVALID, "%s.json: entity %s: icon %s: not a PNG (%s)", e->id, e->id, path,
				img.message);
	int rc = 0;
	if (img.width != img.height || img.width < CAT_ICON_SIDE_MIN || img.width > CAT_ICON_SIDE_MAX) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s.json: entity %s: icon %s is %ux%u, not square %d..%d px", e->id,
			      e->id, path, img.width, img.height, CAT_ICON_SIDE_MIN, CAT_ICON_SIDE_MAX);
		png_image_free(&img);
		return rc;
	}
	img.format = PNG_FORMAT_RGBA;
	void *px = xmalloc(PNG_IMAGE_SIZE(img));
	if (!png_image_finish_read(&img, NULL, px, 0, NULL))
		rc = kio_fail(err, KIO_ERR_INVALID, "%s.json: entity %s: icon %s: cannot be read (%s)", e->id, e->id, path,
			      img.message);
	free(px);
	png_image_free(&img);
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
