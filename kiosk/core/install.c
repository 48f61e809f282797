/* Tells an uninstalled kiosk from an installed one, and where each finds its files (install.h). */
#include "install.h"

#include <string.h>
#include <unistd.h>

#include "kiosk-config.h"

bool core_install_uninstalled(void)
{
	static char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t root = strlen(KIOSK_BUILD_ROOT);
	return n > 0 && (size_t)n > root && strncmp(exe, KIOSK_BUILD_ROOT, root) == 0 && exe[root] == '/';
}

const char *core_install_data_dir(void)
{
	return core_install_uninstalled() ? KIOSK_SOURCE_DIR : KIOSK_DATA_DIR;
}
