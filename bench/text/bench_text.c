/*
 * Text engine benchmark (issue 4, "Speed"): uncached single-line layout of the kiosk corpus
 * against libraqm 0.7 in the same run (time and heap allocations per string), and the CPU
 * cost of drawing a full home screen of cached text with SDL's software renderer.
 * Usage: bench-text CORPUS [ROUNDS]. Prints figures; exits non-zero only on errors.
 */
#include <SDL.h>
#include <raqm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corpus.h"
#include "kiosk/text/text-priv.h" /* the cache's hit and miss counters */
#include "kiosk/text/text.h"

/* Counting allocator: glibc lets the executable interpose malloc for the whole process. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static unsigned long n_allocs;

void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	n_allocs++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}

static double now_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static FT_Library ft;
static FT_Face faces[2]; /* [arabic], regular */

struct face_run {
	size_t start, len;
	int arabic;
};

/* The faces the engine chose, as byte runs, so raqm gets the same fonts. */
static size_t face_runs(struct text_engine *e, const char *s, const struct text_style *st,
			struct face_run *runs, size_t max)
{
	size_t len = strlen(s), n = 0;
	struct text_layout *l = text_layout_new(e, s, len, st);
	signed char *at = calloc(len + 1, 1);
	struct text_glyph_info g;
	for (int i = 0; text_layout_glyph(l, 0, i, &g); i++)
		at[g.cluster] = g.arabic_face ? 2 : 1;
	int cur = 1;
	for (size_t i = 0; i < len; i++) {
		if (at[i])
			cur = at[i];
		if ((s[i] & 0xc0) == 0x80)
			continue; /* a continuation byte stays in its character's run */
		if (n && runs[n - 1].arabic == (cur == 2)) {
			runs[n - 1].len = i + 1 - runs[n - 1].start;
		} else if (n < max) {
			runs[n++] = (struct face_run){i, 1, cur == 2};
		}
	}
	if (n)
		runs[n - 1].len = len - runs[n - 1].start;
	free(at);
	text_layout_free(l);
	return n;
}

static int raqm_once(const char *s, size_t len, const struct face_run *runs, size_t nr)
{
	raqm_t *rq = raqm_create();
	int ok = rq && raqm_set_text_utf8(rq, s, len) &&
		 raqm_set_par_direction(rq, RAQM_DIRECTION_DEFAULT);
	for (size_t k = 0; ok && k < nr; k++)
		ok = raqm_set_freetype_face_range(rq, faces[runs[k].arabic], runs[k].start, runs[k].len);
	ok = ok && raqm_set_freetype_load_flags(rq, FT_LOAD_DEFAULT) && raqm_layout(rq);
	size_t n = 0;
	ok = ok && raqm_get_glyphs(rq, &n) != NULL;
	raqm_destroy(rq);
	return ok ? 0 : -1;
}

static int bench_uncached(struct text_engine *e, const struct corpus *c, int rounds)
{
	struct text_style st = {.size_px = 32, .dir = TEXT_DIR_AUTO};
	struct face_run *runs = calloc(c->count * 64, sizeof(*runs));
	size_t *nr = calloc(c->count, sizeof(*nr));
	if (FT_Set_Pixel_Sizes(faces[0], 0, 32) || FT_Set_Pixel_Sizes(faces[1], 0, 32))
		return -1;
	for (size_t i = 0; i < c->count; i++)
		nr[i] = face_runs(e, c->lines[i], &st, runs + i * 64, 64);

	/* Warm-up: scratch buffers grow, fonts load, HarfBuzz plans get cached. */
	for (size_t i = 0; i < c->count; i++) {
		text_layout_free(text_layout_new(e, c->lines[i], strlen(c->lines[i]), &st));
		if (raqm_once(c->lines[i], strlen(c->lines[i]), runs + i * 64, nr[i]) != 0)
			return -1;
	}
	double t_eng = 0, t_raqm = 0;
	unsigned long a_eng = 0, a_raqm = 0;
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < c->count; i++) {
			size_t len = strlen(c->lines[i]);
			unsigned long a0 = n_allocs;
			double t0 = now_cpu();
			struct text_layout *l = text_layout_new(e, c->lines[i], len, &st);
			text_layout_free(l);
			double t1 = now_cpu();
			unsigned long a1 = n_allocs;
			if (raqm_once(c->lines[i], len, runs + i * 64, nr[i]) != 0)
				return -1;
			double t2 = now_cpu();
			t_eng += t1 - t0;
			t_raqm += t2 - t1;
			a_eng += a1 - a0;
			a_raqm += n_allocs - a1;
		}
	}
	double per = (double)rounds * (double)c->count;
	printf("uncached layout, %zu corpus strings x %d rounds, 32 px, one line:\n", c->count, rounds);
	printf("  engine  %8.2f us/string  %6.2f heap allocations/string\n", t_eng / per * 1e6,
	       (double)a_eng / per);
	printf("  libraqm %8.2f us/string  %6.2f heap allocations/string\n", t_raqm / per * 1e6,
	       (double)a_raqm / per);
	printf("  ratio engine/raqm: %.2f\n", t_eng / t_raqm);
	free(runs);
	free(nr);
	return 0;
}

/*
 * text_layout() in its steady state when every call misses: the cache is full and each
 * new layout evicts the least recently used one. Corpus strings at four wrap widths make
 * 4 x 260 keys against 512 entries, cycled in order, so LRU never hits.
 */
static int bench_misses(struct text_engine *e, const struct corpus *c, int rounds)
{
	static const int widths[] = {0, 1200, 900, 600};
	enum { N_WIDTHS = sizeof(widths) / sizeof(widths[0]) };
	if (c->count * N_WIDTHS <= TEXT_LAYOUT_CACHE_ENTRIES) {
		fprintf(stderr, "corpus too small to keep the layout cache missing\n");
		return -1;
	}
	struct text_style st = {.size_px = 32, .dir = TEXT_DIR_AUTO};
	/* Warm-up: fonts, scratch, the entry pool and the spare blocks of every size. */
	for (int r = 0; r < 3; r++)
		for (int w = 0; w < N_WIDTHS; w++)
			for (size_t i = 0; i < c->count; i++) {
				st.max_width = widths[w];
				if (!text_layout(e, c->lines[i], &st))
					return -1;
			}
	uint64_t hits0 = e->lc.hits;
	unsigned long a0 = n_allocs;
	double t0 = now_cpu();
	for (int r = 0; r < rounds; r++)
		for (int w = 0; w < N_WIDTHS; w++)
			for (size_t i = 0; i < c->count; i++) {
				st.max_width = widths[w];
				if (!text_layout(e, c->lines[i], &st))
					return -1;
			}
	double t1 = now_cpu();
	double per = (double)rounds * N_WIDTHS * (double)c->count;
	printf("cached API, every call a miss (%zu keys, %d-entry LRU full), %d rounds:\n",
	       c->count * N_WIDTHS, TEXT_LAYOUT_CACHE_ENTRIES, rounds);
	printf("  text_layout() %8.2f us/call  %6.2f heap allocations/call  (%lu in %.0f calls, %llu hits)\n",
	       (t1 - t0) / per * 1e6, (double)(n_allocs - a0) / per, n_allocs - a0, per,
	       (unsigned long long)(e->lc.hits - hits0));
	return 0;
}

/* The home screen: a title, eight service tiles in both languages, amounts, a footer. */
static const char *const home[] = {
	"Welcome", "أهلاً وسهلاً",
	"Pay government services with e-Dirham", "ادفع رسوم الخدمات الحكومية بالدرهم الإلكتروني",
	"DEWA bill", "فاتورة هيئة كهرباء ومياه دبي", "Salik top-up", "تعبئة رصيد سالك",
	"RTA fines", "مخالفات هيئة الطرق والمواصلات", "Dubai Police fines", "مخالفات شرطة دبي",
	"Residency renewal", "تجديد الإقامة", "Emirates ID", "بطاقة الهوية الإماراتية",
	"e-Dirham card top-up", "تعبئة بطاقة الدرهم الإلكتروني", "Card balance", "رصيد البطاقة",
	"AED 1,250.00", "1,250.00 درهم", "Notes accepted: AED 5 to AED 1,000",
	"تقبل الأوراق النقدية من 5 إلى 1,000 درهم", "English | العربية",
	"Kiosk KSK-0042 · Help 800-4444", "الكشك KSK-0042 · للمساعدة 800-4444",
	"Touch a service to begin", "المس الخدمة للبدء",
};

static int bench_screen(struct text_engine *e, int frames)
{
	const int W = 1920, H = 1080;
	SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_ARGB8888);
	SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
	if (!r) {
		fprintf(stderr, "software renderer: %s\n", SDL_GetError());
		return -1;
	}
	size_t n = sizeof(home) / sizeof(home[0]);
	int glyphs = 0;
	double t_draw = 0, t_flush = 0;
	for (int f = 0; f < frames + 10; f++) {
		SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
		SDL_RenderClear(r);
		SDL_RenderFlush(r);
		double t0 = now_cpu();
		int gl = 0;
		for (size_t i = 0; i < n; i++) {
			bool ar = i % 2;
			struct text_style st = {.size_px = i < 2 ? 64 : i < 4 ? 36 : 28, .bold = i < 2,
						.dir = TEXT_DIR_AUTO, .max_width = 900,
						.align = TEXT_ALIGN_START};
			const struct text_layout *l = text_layout(e, home[i], &st);
			if (!l || text_draw_sdl(e, r, l, ar ? 980 : 20, 20 + (int)(i / 2) * 70,
						0x202020ff) != 0)
				return -1;
			for (int k = 0; k < text_layout_line_count(l); k++)
				gl += text_layout_line_glyphs(l, k);
		}
		double t1 = now_cpu();
		SDL_RenderFlush(r);
		double t2 = now_cpu();
		if (f >= 10) { /* the first frames shape and rasterise */
			t_draw += t1 - t0;
			t_flush += t2 - t1;
		}
		glyphs = gl;
	}
	printf("cached full screen (home, %zu strings, %d glyphs, %dx%d, software renderer), %d frames:\n",
	       n, glyphs, W, H, frames);
	printf("  layout lookup + draw calls %8.3f ms/frame\n", t_draw / frames * 1e3);
	printf("  + software blits (flush)   %8.3f ms/frame\n", (t_draw + t_flush) / frames * 1e3);
	text_engine_release_renderer(e);
	SDL_DestroyRenderer(r);
	SDL_FreeSurface(surf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	struct corpus c;
	struct text_engine *e;
	struct kio_error err = {0};
	if (corpus_load(argv[1], &c) != 0)
		return 1;
	if (text_engine_new(NULL, &e, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (FT_Init_FreeType(&ft) || FT_New_Face(ft, text_engine_face_path(e, false, false), 0, &faces[0]) ||
	    FT_New_Face(ft, text_engine_face_path(e, true, false), 0, &faces[1]))
		return 1;
	int rc = bench_uncached(e, &c, rounds) || bench_misses(e, &c, rounds > 4 ? rounds / 4 : 1) ||
		 bench_screen(e, 200);
	FT_Done_Face(faces[0]);
	FT_Done_Face(faces[1]);
	FT_Done_FreeType(ft);
	text_engine_free(e);
	corpus_free(&c);
	return rc ? 1 : 0;
}
