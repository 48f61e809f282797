/*
 * libcurl loaded when the sync first needs it, not at exec: the kiosk links these forwarders
 * instead of libcurl, and the first call dlopens the library (its soname fixed at build time,
 * KIOSK_CURL_SONAME) and looks its functions up once.
 *
 * Why: libcurl's GnuTLS flavour brings 21 libraries of its own (GnuTLS, Kerberos, LDAP, SASL,
 * libssh2, RTMP, OpenSSL's libcrypto, p11-kit, ...) whose relocations and constructors (GnuTLS
 * and p11-kit initialise themselves at load) cost every exec about 4.7 ms of CPU, and whose
 * pages about 1 MiB of anonymous memory and 3 MiB of resident libraries, before the first
 * frame, in every `kiosk` command, and whether or not a host is configured (issue 14). The
 * sync starts after the first frame (kiosk/app.c invariant 8), so a configured kiosk pays the
 * load there; one without a host, and the ledger and catalogue tools, never do.
 *
 *  1. Every forwarder loads the library first (pthread_once: the sync worker and the main
 *     thread may race). A library that cannot be loaded makes curl_global_init fail with
 *     CURLE_FAILED_INIT, and curl_easy_strerror says which file and why; the others then
 *     return what libcurl returns for no resources (NULL, CURLE_FAILED_INIT).
 *  2. curl_easy_setopt's one variadic argument is read as the type its option number says
 *     (curl.h: CURLOPTTYPE_LONG, OBJECTPOINT, FUNCTIONPOINT, OFF_T, BLOB, one band of 10,000
 *     each), as libcurl's own setopt reads it, and passed on as that type.
 */
/* curl.h's type-checking macros would turn the definitions below into calls. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	curl_version_info_data *(*version_info)(CURLversion);
} fn;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

static void load(void)
{
	/* Never closed: libcurl and GnuTLS keep global state for the life of the process. */
	void *lib = dlopen(KIOSK_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load_error, sizeof(load_error), "%s could not be loaded: %s", KIOSK_CURL_SONAME, dlerror());
		return;
	}
	const struct {
		void **slot;
		const char *name;
	} syms[] = {
		{(void **)&fn.global_init, "curl_global_init"},
		{(void **)&fn.global_cleanup, "curl_global_cleanup"},
		{(void **)&fn.easy_init, "curl_easy_init"},
		{(void **)&fn.easy_setopt, "curl_easy_setopt"},
		{(void **)&fn.easy_perform, "curl_easy_perform"},
		{(void **)&fn.easy_getinfo, "curl_easy_getinfo"},
		{(void **)&fn.easy_strerror, "curl_easy_strerror"},
		{(void **)&fn.easy_cleanup, "curl_easy_cleanup"},
		{(void **)&fn.easy_reset, "curl_easy_reset"},
		{(void **)&fn.slist_append, "curl_slist_append"},
		{(void **)&fn.slist_free_all, "curl_slist_free_all"},
		{(void **)&fn.version_info, "curl_version_info"},
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(load_error, sizeof(load_error), "%s has no %s", KIOSK_CURL_SONAME, syms[i].name);
			return;
		}
	}
	loaded = true;
}

/* Invariant 1. */
static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

CURLcode curl_global_init(long flags) { return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT; }

void curl_global_cleanup(void)
{
	if (ready())
		fn.global_cleanup();
}

CURL *curl_easy_init(void) { return ready() ? fn.easy_init() : NULL; }

/* Invariant 2. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	if (!ready())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, option);
	CURLcode rc;
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.easy_setopt(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.easy_setopt(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = fn.easy_setopt(curl, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = fn.easy_setopt(curl, option, va_arg(ap, curl_off_t));
	else
		rc = fn.easy_setopt(curl, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *curl) { return ready() ? fn.easy_perform(curl) : CURLE_FAILED_INIT; }

/* Every CURLINFO takes one pointer to where the answer goes (curl.h: CURLINFO_STRING ...). */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	if (!ready())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, info);
	CURLcode rc = fn.easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

const char *curl_easy_strerror(CURLcode code) { return ready() ? fn.easy_strerror(code) : load_error; }

void curl_easy_cleanup(CURL *curl)
{
	if (ready())
		fn.easy_cleanup(curl);
}

void curl_easy_reset(CURL *curl)
{
	if (ready())
		fn.easy_reset(curl);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return ready() ? fn.slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (ready())
		fn.slist_free_all(list);
}

curl_version_info_data *curl_version_info(CURLversion age)
{
	static curl_version_info_data none; /* all NULL: no TLS, no version */
	return ready() ? fn.version_info(age) : &none;
}
