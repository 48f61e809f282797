/* GKeyFile loading with file:line error messages. */
#include "keyfile.h"

#include <string.h>

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Finds the first line for which match() is true; lines are 1-based. */
static int find_line(const char *text, const char *group, const char *key, const char *needle)
{
	int line = 1;
	const char *current_group = NULL;
	size_t current_len = 0;
	for (const char *p = text; *p; line++) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *s = skip_space(p);
		if (needle) {
			if (len && memmem(p, len, needle, strlen(needle)))
				return line;
		} else if (*s == '[') {
			const char *close = memchr(s, ']', len - (size_t)(s - p));
			current_group = s + 1;
			current_len = close ? (size_t)(close - current_group) : 0;
		} else if (current_group && strlen(group) == current_len &&
			   strncmp(current_group, group, current_len) == 0 && strncmp(s, key, strlen(key)) == 0) {
			const char *after = skip_space(s + strlen(key));
			if (*after == '=')
				return line;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

int core_keyfile_line(const struct core_keyfile *kfile, const char *group, const char *key)
{
	return find_line(kfile->text, group, key, NULL);
}

void core_keyfile_free(struct core_keyfile *kfile)
{
	if (!kfile)
		return;
	g_key_file_free(kfile->kf);
	g_free(kfile->name);
	g_free(kfile->text);
	g_free(kfile);
}

int core_keyfile_load_data(const char *name, const char *text, struct core_keyfile **out,
			   struct kio_error *err)
{
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	if (!g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &gerr)) {
		/* GLib quotes the offending line in its message: locate it for the user. */
		int line = 0;
		const char *open = strstr(gerr->message, "\xe2\x80\x9c"); /* “ */
		const char *close = open ? strstr(open + 3, "\xe2\x80\x9d") : NULL; /* ” */
		if (open && close && close > open + 3) {
			char *quoted = g_strndup(open + 3, (gsize)(close - open - 3));
			line = find_line(text, NULL, NULL, quoted);
			g_free(quoted);
		}
		if (line)
			kio_fail(err, KIO_ERR_INVALID, "%s:%d: %s", name, line, gerr->message);
		else
			kio_fail(err, KIO_ERR_INVALID, "%s: %s", name, gerr->message);
		g_error_free(gerr);
		g_key_file_free(kf);
		return KIO_ERR_INVALID;
	}
	struct core_keyfile *kfile = g_new0(struct core_keyfile, 1);
	kfile->kf = kf;
	kfile->name = g_strdup(name);
	kfile->text = g_strdup(text);
	*out = kfile;
	return 0;
}

int core_keyfile_load(const char *path, struct core_keyfile **out, struct kio_error *err)
{
	gchar *text = NULL;
	GError *gerr = NULL;
	if (!g_file_get_contents(path, &text, NULL, &gerr)) {
		kio_fail(err, gerr->code == G_FILE_ERROR_NOENT ? KIO_ERR_NOT_FOUND : KIO_ERR_IO, "%s",
			 gerr->message);
		g_error_free(gerr);
		return err ? err->code : KIO_ERR_IO;
	}
	int rc = core_keyfile_load_data(path, text, out, err);
	g_free(text);
	return rc;
}
