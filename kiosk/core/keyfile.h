/*
 * INI files through GLib's GKeyFile, plus what GKeyFile lacks for good error messages:
 * the line a group/key stands on. (Debian's inih is built with a 200-byte line limit and
 * truncates longer lines, which Arabic catalogue strings exceed.)
 */
#pragma once

#include <glib.h>

#include "err.h"

struct core_keyfile {
	GKeyFile *kf;
	char *name; /* the path, for messages */
	char *text; /* what was parsed: GKeyFile keeps no line numbers */
};

/* Loads path (UTF-8 checked by GLib). On failure fills err as "path:line: reason" when the
 * line is known. Caller frees with core_keyfile_free. */
int core_keyfile_load(const char *path, struct core_keyfile **out, struct kio_error *err);
int core_keyfile_load_data(const char *name, const char *text, struct core_keyfile **out,
			   struct kio_error *err);
void core_keyfile_free(struct core_keyfile *kfile); /* accepts NULL */

/* The 1-based line of key in group, or 0 if not found. */
int core_keyfile_line(const struct core_keyfile *kfile, const char *group, const char *key);
