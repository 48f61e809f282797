/*
 * `kiosk layout`: the developer tool that prints what the engine did to a string as
 * hb-shape-style glyph records, one visual line per output line, and can render a PNG.
 * Bug reports quote its output, so the format is fixed by issue 4.
 */
#define LOG_MODULE "text"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiosk/core/log.h"
#include "kiosk/core/path.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/text/text-priv.h"

/*
 * Bounds on what the tool is asked to do, so a large input fails with a message instead of an
 * allocation of many gigabytes: the text (the engine needs ~60 bytes of work arrays per
 * character), and the image (one byte per pixel, then a PNG row).
 */
enum {
	TOOL_TEXT_MAX = 4 << 20,
	TOOL_PNG_SIDE_MAX = 32767,
	TOOL_PNG_PIXELS_MAX = 64 << 20,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kiosk layout [OPTION]... TEXT\n"
		"       kiosk layout [OPTION]... --file FILE   (FILE - is standard input)\n"
		"Lay out TEXT (one UTF-8 argument, or the whole of FILE, at most %d MiB) with the\n"
		"kiosk text engine and print each visual\n"
		"line as one line of glyph records, left to right, in the style of hb-shape:\n"
		"  [glyph=cluster@x_offset,y_offset+x_advance|...]\n"
		"glyph is the glyph id in its own face, cluster the UTF-8 byte offset of the first\n"
		"character it shows; @x_offset,y_offset is left out when both are 0.\n"
		"Advances and offsets are in 26.6 fixed point: 1/64 pixel (64 = one pixel).\n"
		"\n"
		"Options:\n"
		"  --size PX          pixels per em (default 32)\n"
		"  --width PX         wrap lines at PX pixels (default 0: no wrapping)\n"
		"  --dir auto|rtl|ltr base direction (default auto: the first strong character\n"
		"                     decides, else left to right)\n"
		"  --align start|end|center   alignment inside --width (default start)\n"
		"  --bold             bold faces\n"
		"  --font FILE        Arabic face (default %s;\n"
		"                     bold: %s)\n"
		"  --latin-font FILE  Latin face (default %s)\n"
		"  --names            print glyph names instead of ids\n"
		"  --faces            append the face of each glyph: glyph=cluster+adv#a or #l\n"
		"  --file FILE        read TEXT from FILE (- for standard input) instead of the argument\n"
		"  --png FILE         also render the layout, black on white, into FILE (at most\n"
		"                     %d pixels a side and %d megapixels)\n"
		"  --help             show this help and exit\n"
		"HarfBuzz default features; FreeType load flags FT_LOAD_NO_HINTING (unhinted outlines).\n",
		TOOL_TEXT_MAX >> 20, text_default_face_path(TEXT_ROLE_ARABIC),
		text_default_face_path(TEXT_ROLE_ARABIC_BOLD), text_default_face_path(TEXT_ROLE_LATIN),
		TOOL_PNG_SIDE_MAX, TOOL_PNG_PIXELS_MAX >> 20);
}

static int write_png(const char *path, const uint8_t *ink, int w, int h)
{
	volatile int rc = 1;
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "kiosk layout: %s: %s\n", path, strerror(errno));
		return 1;
	}
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	uint8_t *row = xmalloc((size_t)w);
	if (!png || !info) {
		fprintf(stderr, "kiosk layout: libpng setup failed\n");
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		fprintf(stderr, "kiosk layout: writing %s failed\n", path);
		goto out;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++)
			row[x] = (uint8_t)(255 - ink[(size_t)y * (size_t)w + (size_t)x]);
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	rc = 0;
out:
	png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
	free(row);
	if (fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "kiosk layout: %s: %s\n", path, strerror(errno));
		rc = 1;
	}
	if (rc)
		remove(path); /* no half-written image left looking like a result */
	return rc;
}

/* Reads all of path ("-": standard input), at most TOOL_TEXT_MAX bytes; 0 or exit status 2. */
static int read_text(const char *path, char **text, size_t *len)
{
	bool std_in = strcmp(path, "-") == 0;
	/* A named file is opened O_NONBLOCK and must be a regular one: a FIFO there would wait
	 * for a writer, a device be read without end. A pipe comes in as "-". */
	int fd = std_in ? -1 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	FILE *f = std_in ? stdin : fd >= 0 ? fdopen(fd, "rb") : NULL;
	struct stat st;
	if (!f || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "kiosk layout: --file %s: %s\n", path, strerror(errno));
		if (!f && fd >= 0)
			close(fd);
		return 2;
	}
	int rc = 0;
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kiosk layout: --file %s: is a folder, not a file\n", path);
		rc = 2;
		goto out;
	}
	if (!std_in && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "kiosk layout: --file %s: not a regular file (standard input is --file -)\n", path);
		rc = 2;
		goto out;
	}
	/* One byte over the bound tells a text that is too long from one that fits. */
	char *buf = xmalloc((size_t)TOOL_TEXT_MAX + 1);
	size_t n = fread(buf, 1, (size_t)TOOL_TEXT_MAX + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "kiosk layout: --file %s: %s\n", path, strerror(errno));
		rc = 2;
	} else if (n > TOOL_TEXT_MAX) {
		fprintf(stderr, "kiosk layout: --file %s: longer than %d MiB\n", path, TOOL_TEXT_MAX >> 20);
		rc = 2;
	}
	if (rc) {
		free(buf);
	} else {
		buf[n] = '\0';
		*text = buf;
		*len = n;
	}
out:
	if (f && !std_in)
		fclose(f);
	return rc;
}

static bool parse_px(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

static void print_records(struct text_engine *e, const struct text_layout *l, bool names,
			  bool faces)
{
	for (int k = 0; k < text_layout_line_count(l); k++) {
		int n = text_layout_line_glyphs(l, k);
		putchar('[');
		for (int i = 0; i < n; i++) {
			struct text_glyph_info gi;
			if (!text_layout_glyph(l, k, i, &gi))
				break;
			if (i)
				putchar('|');
			char name[64];
			const struct text_glyph *g = NULL;
			/* The record itself names the sized font that has the glyph's name. */
			const struct text_line *ln = &l->lines[k];
			int idx = i;
			for (uint32_t r = ln->run_start; r < ln->run_start + ln->run_count; r++) {
				if ((uint32_t)idx < l->runs[r].glyph_count) {
					g = &l->glyphs[l->runs[r].glyph_start + (uint32_t)idx];
					break;
				}
				idx -= (int)l->runs[r].glyph_count;
			}
			if (names && g &&
			    hb_font_get_glyph_name(e->fonts[g->font].hb, gi.glyph_id, name, sizeof(name)))
				fputs(name, stdout);
			else
				printf("%u", gi.glyph_id);
			printf("=%u", gi.cluster);
			if (gi.x_offset26 || gi.y_offset26)
				printf("@%d,%d", gi.x_offset26, gi.y_offset26);
			printf("+%d", gi.x_advance26);
			if (faces)
				printf("#%c", gi.arabic_face ? 'a' : 'l');
		}
		puts("]");
	}
}

int text_layout_tool_main(int argc, char **argv)
{
	enum { OPT_SIZE = 256, OPT_WIDTH, OPT_DIR, OPT_ALIGN, OPT_BOLD, OPT_FONT, OPT_LATIN,
	       OPT_NAMES, OPT_FACES, OPT_PNG, OPT_FILE, OPT_HELP };
	/* In the order of the enum: a repeated option is named by opts[c - OPT_SIZE]. */
	static const struct option opts[] = {
		{"size", required_argument, NULL, OPT_SIZE},
		{"width", required_argument, NULL, OPT_WIDTH},
		{"dir", required_argument, NULL, OPT_DIR},
		{"align", required_argument, NULL, OPT_ALIGN},
		{"bold", no_argument, NULL, OPT_BOLD},
		{"font", required_argument, NULL, OPT_FONT},
		{"latin-font", required_argument, NULL, OPT_LATIN},
		{"names", no_argument, NULL, OPT_NAMES},
		{"faces", no_argument, NULL, OPT_FACES},
		{"png", required_argument, NULL, OPT_PNG},
		{"file", required_argument, NULL, OPT_FILE},
		{"help", no_argument, NULL, OPT_HELP},
		{0},
	};
	struct text_style st = {.size_px = 32, .dir = TEXT_DIR_AUTO, .align = TEXT_ALIGN_START};
	struct text_engine_config cfg = {0};
	const char *png = NULL, *file = NULL;
	bool names = false, faces = false;
	bool seen[OPT_HELP - OPT_SIZE + 1] = {false};
	int c;

	optind = 0; /* glibc: 0 also resets its internal state, for repeated calls */
	opterr = 0; /* one line of our own, as the kiosk's options do */
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == ':') {
			fprintf(stderr, "kiosk layout: option %s needs a value (see kiosk layout --help)\n",
				argv[optind - 1]);
			return 2;
		}
		if (c < OPT_SIZE || c > OPT_HELP) {
			if (optopt > 0 && optopt < OPT_SIZE)
				fprintf(stderr, "kiosk layout: unknown option '-%c' (see kiosk layout --help)\n", optopt);
			else
				fprintf(stderr, "kiosk layout: unknown option '%s' (see kiosk layout --help)\n",
					argv[optind - 1]);
			return 2;
		}
		if (seen[c - OPT_SIZE]) {
			fprintf(stderr, "kiosk layout: option --%s given twice\n", opts[c - OPT_SIZE].name);
			return 2;
		}
		seen[c - OPT_SIZE] = true;
		switch (c) {
		case OPT_SIZE:
			if (!parse_px(optarg, TEXT_SIZE_MIN, TEXT_SIZE_MAX, &st.size_px)) {
				fprintf(stderr, "kiosk layout: --size wants %d..%d\n", TEXT_SIZE_MIN,
					TEXT_SIZE_MAX);
				return 2;
			}
			break;
		case OPT_WIDTH:
			if (!parse_px(optarg, 0, 1 << 20, &st.max_width)) {
				fprintf(stderr, "kiosk layout: --width wants a pixel count\n");
				return 2;
			}
			break;
		case OPT_DIR:
			if (!strcmp(optarg, "auto"))
				st.dir = TEXT_DIR_AUTO;
			else if (!strcmp(optarg, "rtl"))
				st.dir = TEXT_DIR_RTL;
			else if (!strcmp(optarg, "ltr"))
				st.dir = TEXT_DIR_LTR;
			else {
				fprintf(stderr, "kiosk layout: --dir wants auto, rtl or ltr\n");
				return 2;
			}
			break;
		case OPT_ALIGN:
			if (!strcmp(optarg, "start"))
				st.align = TEXT_ALIGN_START;
			else if (!strcmp(optarg, "end"))
				st.align = TEXT_ALIGN_END;
			else if (!strcmp(optarg, "center"))
				st.align = TEXT_ALIGN_CENTER;
			else {
				fprintf(stderr, "kiosk layout: --align wants start, end or center\n");
				return 2;
			}
			break;
		case OPT_BOLD:
			st.bold = true;
			break;
		case OPT_FONT:
			cfg.arabic_regular = cfg.arabic_bold = optarg;
			break;
		case OPT_LATIN:
			cfg.latin_regular = cfg.latin_bold = optarg;
			break;
		case OPT_NAMES:
			names = true;
			break;
		case OPT_FACES:
			faces = true;
			break;
		case OPT_PNG:
			png = optarg;
			break;
		case OPT_FILE:
			file = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		}
	}
	if (file ? optind != argc : optind + 1 != argc) {
		fprintf(stderr, file ? "kiosk layout: --file FILE and a TEXT argument exclude each other\n"
				     : "kiosk layout: exactly one TEXT argument expected (or --file FILE)\n");
		return 2;
	}
	/* The image's place is checked before the work: a missing folder is bad input, not a
	 * failure after laying out a megabyte. */
	struct kio_error perr;
	if (png && core_path_check_out_file("--png", png, 0, true, &perr) != 0) {
		fprintf(stderr, "kiosk layout: %s\n", perr.msg);
		return 2;
	}
	char *owned = NULL;
	const char *text;
	size_t text_len;
	if (file) {
		int rc = read_text(file, &owned, &text_len);
		if (rc)
			return rc;
		text = owned;
	} else {
		text = argv[optind];
		text_len = strlen(text);
		if (text_len > TOOL_TEXT_MAX) {
			fprintf(stderr, "kiosk layout: TEXT is longer than %d MiB\n", TOOL_TEXT_MAX >> 20);
			return 2;
		}
	}

	struct text_engine *e;
	struct kio_error err = {0};
	int rc = 0;
	if (text_engine_new(&cfg, &e, &err) != 0) {
		fprintf(stderr, "kiosk layout: %s\n", err.msg);
		free(owned);
		return err.code == KIO_ERR_INVALID || err.code == KIO_ERR_NOT_FOUND ? 2 : 1;
	}
	struct text_layout *l = text_layout_new(e, text, text_len, &st);
	if (!l) {
		/* A text beyond the engine's bounds is bad input; the engine logged why. */
		if (e->s.refused[0])
			rc = 2;
		else
			fprintf(stderr, "kiosk layout: layout failed\n"), rc = 1;
		goto out_engine;
	}
	int pad = 8;
	int64_t w = (int64_t)text_layout_width(l) + 2 * pad, h = (int64_t)text_layout_height(l) + 2 * pad;
	if (png && (w > TOOL_PNG_SIDE_MAX || h > TOOL_PNG_SIDE_MAX || w * h > TOOL_PNG_PIXELS_MAX)) {
		/* Checked before the records are printed: a refused run prints nothing. */
		fprintf(stderr,
			"kiosk layout: --png: the image would be %lld x %lld px (at most %d a side and %d Mpx): use --width, a smaller --size or less text\n",
			(long long)w, (long long)h, TOOL_PNG_SIDE_MAX, TOOL_PNG_PIXELS_MAX >> 20);
		rc = 2;
		goto out_layout;
	}
	print_records(e, l, names, faces);
	if (png) {
		uint8_t *ink = xcalloc((size_t)w * (size_t)h, 1);
		if (text_draw_gray(e, l, ink, (int)w, (int)w, (int)h, pad, pad) != 0) {
			fprintf(stderr, "kiosk layout: rendering failed\n");
			rc = 1;
		} else {
			rc = write_png(png, ink, (int)w, (int)h);
		}
		free(ink);
	}
out_layout:
	text_layout_free(l);
out_engine:
	text_engine_free(e);
	free(owned);
	return rc;
}
