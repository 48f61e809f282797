/*
 * The kiosk's own INI reader, for the configuration: every section and key with the line it
 * stands on, and the whole file checked byte by byte, so each fault is reported as
 * "file:line: key: reason" and nothing after a fault is silently ignored.
 *
 * The format: UTF-8 without a byte order mark; "[section]" lines; "key = value" lines (spaces
 * around both are trimmed; a value may contain '='); '#' starts a comment line; CR LF line
 * ends are accepted. In values, "\\" is a backslash and "\s" a space (to keep one at an end);
 * any other escape is an error, and so are the ones that would make a control character
 * ("\n", "\t", "\r"). Refused everywhere: NUL bytes, invalid UTF-8, control characters
 * (C0 but TAB, DEL, C1). Refused in values: the bidi embeddings and overrides
 * U+202A..U+202E, which make a reader see "AED 150.00" as "00.051 DEA" (the isolates
 * U+2066..U+2069 are allowed). A section or a key given twice is an error naming both lines.
 */
#pragma once

#include <stddef.h>

#include "err.h"

struct core_ini_section {
	const char *name;
	int line;
};

struct core_ini_entry {
	const char *section, *key, *value; /* value: escapes decoded, spaces trimmed */
	int line;
};

struct core_ini {
	const char *name; /* for messages */
	struct core_ini_section *sections;
	size_t n_sections;
	struct core_ini_entry *entries; /* in file order */
	size_t n_entries;
	char *store; /* every string above */
};

/* Parses len bytes of buf (NULs included: they are an error, not an end). name is copied.
 * On error fills err with "name:line: reason" and returns KIO_ERR_INVALID. Caller frees *out
 * with core_ini_free. */
int core_ini_parse(const char *name, const char *buf, size_t len, struct core_ini **out,
		   struct kio_error *err);
/* The same from a file; KIO_ERR_NOT_FOUND or KIO_ERR_IO when it cannot be read. */
int core_ini_load(const char *path, struct core_ini **out, struct kio_error *err);
void core_ini_free(struct core_ini *ini); /* accepts NULL */
