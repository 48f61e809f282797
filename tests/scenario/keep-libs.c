/*
 * Preloaded into the kiosk in sanitizer builds' scenario tests only: makes dlclose() a
 * no-op. Some system library the kiosk loads indirectly (through SDL) frees nothing and is
 * unloaded at exit, so LeakSanitizer reports its allocations as leaks in an "unknown
 * module" that no suppression can name. Keeping libraries mapped keeps those allocations
 * reachable, while leaks in the kiosk's own code are still reported.
 */
int dlclose(void *handle);

int dlclose(void *handle)
{
	(void)handle;
	return 0;
}
