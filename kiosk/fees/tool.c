/* `kiosk catalogue check DIR`: the catalogue as the kiosk would load it, for whoever edits the
 * files (and CI): the same loader, the icons beside it, and the error naming file and entry. */
#include "catalogue.h"

#include "kiosk/core/cli.h"
#include "kiosk/core/xmalloc.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "Usage: kiosk catalogue check DIR [--icons DIR]\n"
		     "\n"
		     "check  loads the fees catalogue in DIR (one <entity>.json each, docs/catalogue.md) with\n"
		     "       every rule the kiosk applies at start, and each entity's icon from the icons\n"
		     "       folder (default: DIR/../icons); prints its version and each service.\n"
		     "\n"
		     "Exit status: 0 the catalogue is good, 1 it is not (the error names the file and the\n"
		     "entry), 2 bad arguments.\n");
}

static void print(const struct catalogue *c)
{
	printf("catalogue %s: %zu entities\n", c->version, c->n_entities);
	for (size_t i = 0; i < c->n_entities; i++) {
		const struct cat_entity *e = &c->entities[i];
		printf("%s (%s)\n", e->id, e->name.en);
		for (size_t k = 0; k < e->n_services; k++) {
			const struct cat_service *s = &e->services[k];
			printf("  %s: %s", s->id, cat_fee_kind_name(s->kind));
			if (s->kind == CAT_FEE_FIXED)
				printf(" %" PRId64 " fils", s->amount_fils);
			if (s->kind == CAT_FEE_OPEN)
				printf(" %" PRId64 "..%" PRId64 " step %" PRId64 " fils", s->min_fils, s->max_fils,
				       s->step_fils);
			if (s->has_reference)
				printf(", reference %d..%d digits, check %s", s->reference.min_len, s->reference.max_len,
				       cat_ref_check_name(s->reference.check));
			printf(", host %s/%s%s\n", s->host_entity, s->host_service, s->needs_host ? " (needs the host)" : "");
		}
	}
}

int catalogue_tool_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "kiosk catalogue: unknown command '%s' (see kiosk catalogue --help)\n", argv[1]);
		return 2;
	}
	static const struct option opts[] = {{"icons", required_argument, NULL, 'i'}, {NULL, 0, NULL, 0}};
	const char *icons = NULL;
	int ac = argc - 1;
	char **av = argv + 1;
	opterr = 0;
	optind = 1;
	int o;
	while ((o = getopt_long(ac, av, ":", opts, NULL)) != -1) {
		if (o == 'i')
			icons = optarg;
		else
			return core_cli_bad_option("catalogue", "check", av);
	}
	if (optind != ac - 1) {
		fprintf(stderr, "kiosk catalogue check: give one folder (see kiosk catalogue --help)\n");
		return 2;
	}
	const char *dir = av[optind];
	struct catalogue *c = NULL;
	struct kio_error err = {0};
	if (catalogue_load_dir(dir, &c, &err) != 0) {
		fprintf(stderr, "kiosk catalogue check: %s\n", err.msg);
		return 1;
	}
	char *icons_dir = icons ? xstrdup(icons) : xasprintf("%s/../icons", dir);
	int rc = catalogue_icons_check(c, icons_dir, &err);
	if (rc)
		fprintf(stderr, "kiosk catalogue check: %s\n", err.msg);
	else
		print(c);
	free(icons_dir);
	catalogue_free(c);
	return rc ? 1 : 0;
}
