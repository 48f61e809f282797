/* The fees catalogue the host serves (GET /v1/catalogue, docs/catalogue.md "The host's
 * download"): the kiosk's own files (the *.json files of assets/catalogue) merged into one document,
 * checked by the kiosk's parser before it is stored, with an ETag that changes with it. */
#pragma once

#include <libpq-fe.h>
#include <stdint.h>

#include "kiosk/core/err.h"

/* Reads every *.json of dir (kiosk/fees/catalogue.h: catalogue_load_dir's rules, one entity a
 * file), merges their entities in file-name order into {"entities":[...]}, checks the merged
 * document with catalogue_parse (what each kiosk will do), and makes it the one the host
 * serves: version + 1 and a new ETag when it differs from the stored one, nothing changed
 * when it is the same. *version and etag (may be NULL; etag of 40 bytes or more) say what is
 * served after. KIO_ERR_NOT_FOUND / KIO_ERR_INVALID naming the file and entry for a bad
 * directory (nothing stored); KIO_ERR_IO on a database error. */
int host_catalogue_load(PGconn *c, const char *dir, int64_t *version, char *etag, size_t etag_cap,
			struct kio_error *err);

/* The shipped catalogue as the host finds it: KIOSK_HOST_DATA_DIR/catalogue installed (the
 * kiosk-host package's copy), the source tree's assets/catalogue uninstalled
 * (core_install_uninstalled). Static storage. */
const char *host_catalogue_default_dir(void);
