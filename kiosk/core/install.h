/*
 * Where the kiosk finds the files it ships with: the source and build trees while it runs
 * uninstalled (a developer's build/, the tests), the install prefix once `meson install` or
 * the Debian package put it there. One rule for the assets and the compiled catalogues.
 */
#pragma once

#include <stdbool.h>

/* True when this process's executable lies inside the build tree it was compiled in: an
 * installed copy of an older build must not shadow a fresh edit, nor the other way round. */
bool core_install_uninstalled(void);

/* The folder holding assets/ (the fees catalogue, the icons): the source tree uninstalled,
 * datadir/kiosk (KIOSK_DATA_DIR) installed. A static string. */
const char *core_install_data_dir(void);
