/* SDL window, renderer, page drawing and screenshots. */
#define LOG_MODULE "ui"
#include "display.h"

#include <SDL2/SDL.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kiosk/core/image.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/* Images widgets show (the catalogue's icons), loaded once per path; a file that cannot be read
 * is remembered too (texture NULL), so it is logged once and never read again each frame. */
#define IMAGES_MAX 32
enum { IMAGE_SIDE_MAX = 1024 };
struct image_slot {
	char *path;
	SDL_Texture *texture;
};

struct ui_display {
	struct image_slot images[IMAGES_MAX];
	size_t n_images;
	SDL_Window *window;
	SDL_Renderer *renderer;
	SDL_Texture *target; /* screenshots render here at the logical size */
	/* Headless: the page is drawn into this surface (headless_renderer), not a window's. */
	SDL_Surface *page_surface;
	void *page_map;
	size_t page_map_len;
	struct text_engine *text;
	int width, height;
	int scale_pct; /* [display] scale: 0 fits the page to the output, else output px per 100 page px */
	struct ui_fit fit; /* where the page is on the output now (ui_display_fit) */
	bool shown; /* a screen someone sees: not --headless */
	/*
	 * What the screen shows (invariant D1): one signature per widget of the last page
	 * presented, its background, and whether that frame is whole (not after an expose or a
	 * resize). The next present redraws only the union of what changed, clipped.
	 */
	uint64_t *shown_sig;
	struct ui_rect *shown_rect;
	size_t shown_n, shown_cap;
	uint32_t shown_bg;
	bool shown_valid;
	SDL_Rect clip;     /* the damage being drawn; w == 0: the whole page */
	bool check_damage; /* KIOSK_UI_CHECK_DAMAGE=1: compare each partial frame with a whole one */
	struct ui_display_stats stats;
};

enum { CORNER_RADIUS = 18 };

static SDL_Color color_of(uint32_t rgba)
{
	return (SDL_Color){(Uint8)(rgba >> 24), (Uint8)(rgba >> 16), (Uint8)(rgba >> 8), (Uint8)rgba};
}

void ui_display_window_fit(int width, int height, int usable_w, int usable_h, int *win_w, int *win_h)
{
	*win_w = width, *win_h = height;
	if (usable_w <= 0 || usable_h <= 0 || width <= 0 || height <= 0)
		return;
	int64_t room_w = (int64_t)usable_w * 9 / 10, room_h = (int64_t)usable_h * 9 / 10;
	/* The tighter of the two directions decides: width/room_w against height/room_h. */
	if ((int64_t)width * room_h > (int64_t)height * room_w) {
		if (width > room_w)
			*win_w = (int)room_w, *win_h = (int)((int64_t)height * room_w / width);
	} else if (height > room_h) {
		*win_h = (int)room_h, *win_w = (int)((int64_t)width * room_h / height);
	}
}

void ui_display_fit(int out_w, int out_h, int width, int height, int scale_pct, struct ui_fit *fit)
{
	*fit = (struct ui_fit){1.0, 0, 0, width, height};
	if (out_w <= 0 || out_h <= 0 || width <= 0 || height <= 0)
		return;
	/* The tighter direction decides (aspect kept); the rest of the output is a border. */
	double s = (double)out_w / width;
	if ((double)out_h / height < s)
		s = (double)out_h / height;
	if (scale_pct > 0 && scale_pct / 100.0 < s)
		s = scale_pct / 100.0;
	int w = (int)lround(width * s), h = (int)lround(height * s);
	if (w > out_w)
		w = out_w;
	if (h > out_h)
		h = out_h;
	*fit = (struct ui_fit){s, (out_w - w) / 2, (out_h - h) / 2, w, h};
}

/*
 * Puts the page where ui_display_fit says on the window's output, now. SDL's logical size
 * stays set (its event watch then maps mouse buttons to page coordinates through the scale
 * and viewport set here, and fingers to the viewport) but its own fit is overridden: it knows
 * no [display] scale. SDL redoes its fit when the window's size changes, so this runs again
 * then (ui_display_invalidate) and after a screenshot's render target.
 */
static void apply_fit(struct ui_display *d)
{
	int out_w = d->width, out_h = d->height;
	if (SDL_GetRendererOutputSize(d->renderer, &out_w, &out_h) != 0)
		LOG_WARN("display: output size unknown (%s): the page drawn 1:1", SDL_GetError());
	struct ui_fit f;
	ui_display_fit(out_w, out_h, d->width, d->height, d->scale_pct, &f);
	/* The viewport is given in scaled units: SDL multiplies it by the scale. */
	SDL_Rect vp = {(int)lround(f.x / f.scale), (int)lround(f.y / f.scale), d->width, d->height};
	if (SDL_RenderSetLogicalSize(d->renderer, d->width, d->height) != 0 ||
	    SDL_RenderSetScale(d->renderer, (float)f.scale, (float)f.scale) != 0 ||
	    SDL_RenderSetViewport(d->renderer, &vp) != 0)
		LOG_ERR("display: cannot place the page on the output: %s", SDL_GetError());
	if (memcmp(&f, &d->fit, sizeof(f)) != 0 && d->scale_pct > 0 && f.scale < d->scale_pct / 100.0)
		LOG_WARN("display: [display] scale %d.%02d does not fit a %dx%d page on the %dx%d output: %.3f",
			 d->scale_pct / 100, d->scale_pct % 100, d->width, d->height, out_w, out_h, f.scale);
	if (memcmp(&f, &d->fit, sizeof(f)) != 0)
		LOG_INFO("display: %dx%d page at %.3fx on a %dx%d output, at (%d, %d)", d->width, d->height, f.scale,
			 out_w, out_h, f.x, f.y);
	d->fit = f;
}

/*
 * Headless, the page is drawn by a software renderer into a surface of the kiosk's own, in
 * memory mapped here, not into SDL's offscreen window framebuffer. SDL allocates that one with
 * malloc and clears it with memset: 2,025 page faults of 4 KiB for a 1080x1920 page, then the
 * page's background drawn over the zeros (issue 14: 56.5 -> 54.1 ms of a one-shot's CPU).
 * Here the mapping is asked for as transparent huge pages (MADV_HUGEPAGE: a kernel in the
 * "madvise" mode, as the VMs measured on, gives them only when asked) and aligned to 2 MiB,
 * so the first clear takes a handful of faults, and the kernel's zeroed pages are not cleared
 * again. Where huge pages are off the advice is ignored and the page faults as before.
 * Nothing shows the window, and SDL maps no touch for a surface's renderer: the hidden window
 * is the page's size, so a finger across it is the finger across the page, as before.
 */
static int headless_renderer(struct ui_display *d, struct kio_error *err)
{
	enum { HUGE_PAGE = 2 << 20 };
	size_t pitch = (size_t)d->width * 4, len = pitch * (size_t)d->height;
	/* Whole huge pages from an aligned start: the tail too is one page, not 4 KiB ones. */
	size_t huge_len = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1), map_len = huge_len + HUGE_PAGE;
	void *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return kio_fail(err, KIO_ERR_NOMEM, "display: %dx%d page: %s", d->width, d->height, strerror(errno));
	d->page_map = map, d->page_map_len = map_len;
	uint8_t *pixels = (uint8_t *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
	if (madvise(pixels, huge_len, MADV_HUGEPAGE) != 0)
		LOG_DBG("display: no huge pages for the page (%s)", strerror(errno));
#endif
	/* RGB888 is XRGB8888, the offscreen driver's own framebuffer format. */
	d->page_surface = SDL_CreateRGBSurfaceWithFormatFrom(pixels, d->width, d->height, 32, (int)pitch,
							      SDL_PIXELFORMAT_RGB888);
	d->renderer = d->page_surface ? SDL_CreateSoftwareRenderer(d->page_surface) : NULL;
	if (!d->renderer)
		return kio_fail(err, KIO_ERR_NO_DEVICE, "display: renderer: %s", SDL_GetError());
	return 0;
}

int ui_display_open(enum ui_display_mode mode, int width, int height, struct text_engine *text,
		    struct ui_display **out, struct kio_error *err)
{
	if (mode == UI_MODE_HEADLESS)
		SDL_SetHint(SDL_HINT_VIDEODRIVER, "offscreen");
	/*
	 * The kiosk draws with SDL's software renderer into the window's own framebuffer (X11
	 * shared memory, a Wayland shm buffer; headless, a surface of its own), never through
	 * OpenGL, in every mode. SDL backs that
	 * framebuffer with a GL texture unless told not to, and to decide it first creates a
	 * hidden GL context: under Xvfb or on a board without a GPU that is Mesa's llvmpipe,
	 * about half the time to the first frame and 100 MiB of the process (issue 14; offscreen
	 * it also leaked ~7 KB in 258 blocks at exit under LeakSanitizer). The accelerated
	 * renderer loaded the same. A kiosk's screens change a few times a minute; memory and
	 * start-up are what its budget counts. SDL_RENDER_DRIVER and SDL_FRAMEBUFFER_ACCELERATION
	 * in the environment still override both, for a developer who wants to compare.
	 */
	SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
	if (mode == UI_MODE_FULLSCREEN) {
		/* Lock-down: the customer's window never goes away. A close request (a compositor's
		 * or window manager's key) is refused; SIGTERM (systemctl stop) still quits. */
		SDL_SetHint("SDL_QUIT_ON_LAST_WINDOW_CLOSE", "0"); /* SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, 2.0.22 */
		SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
	}
	/* A kiosk must never blank its screen on its own; the OS policy decides. */
	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
	/* Taps come as finger events; synthetic mouse events would double them. */
	SDL_SetHint(SDL_HINT_TOUCH_MOUSE_EVENTS, "0");
	/*
	 * SDL 2.26 connects to the D-Bus session bus in SDL_InitSubSystem whatever the driver,
	 * for an input method (IBus) and the screen saver, neither of which the kiosk uses (its
	 * keypads are on screen; the OS decides on blanking, above). With no bus named, libdbus
	 * autolaunches one: on a display it forks the kiosk to exec dbus-launch, before the first
	 * frame (issue 14: windowed on Xvfb, median 121 -> 100 ms to the first frame in one run
	 * of 9 alternating pairs). "disabled:" is an address libdbus refuses at once. A bus named
	 * in the environment is left alone.
	 */
	if (setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", 0) != 0)
		LOG_WARN("display: cannot keep SDL off D-Bus: %s", strerror(errno));
	/*
	 * SDL's x11 driver (so under cage too, through Xwayland) opens an X input method in
	 * SDL_VideoInit, and libX11's local one parses the locale's whole Compose table (some
	 * 6,000 lines for en_US.UTF-8, a keysym lookup each) into 0.5 MB of heap: about 9 ms of
	 * the 58 to the first frame on Xvfb (issue 14, one run of 8 alternating pairs), for dead
	 * keys on a keyboard the kiosk has not got (its keypads are on screen; it reads no key
	 * events). XCOMPOSEFILE names the table libX11 reads instead: an empty one. A table named
	 * in the environment is left alone.
	 */
	if (setenv("XCOMPOSEFILE", "/dev/null", 0) != 0)
		LOG_WARN("display: cannot spare SDL the X Compose table: %s", strerror(errno));
	if (SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0)
		return kio_fail(err, KIO_ERR_NO_DEVICE, "display: SDL video: %s", SDL_GetError());
	/*
	 * With no display SDL 2.26 falls back to its offscreen driver (and a user may name it,
	 * or "dummy", in SDL_VIDEODRIVER): a kiosk that runs invisibly takes no customer and
	 * shows no fault. Only --headless may draw where nobody sees.
	 */
	const char *driver = SDL_GetCurrentVideoDriver();
	if (mode != UI_MODE_HEADLESS && driver &&
	    (strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0)) {
		SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
		return kio_fail(err, KIO_ERR_NO_DEVICE,
				"display: no screen to show the kiosk on (SDL found only its '%s' driver; is DISPLAY or WAYLAND_DISPLAY set?); --headless runs without one",
				driver);
	}

	struct ui_display *d = xcalloc(1, sizeof(*d));
	d->text = text;
	d->width = width;
	d->height = height;
	d->shown = mode != UI_MODE_HEADLESS;
	/* Read once here: the tests' check that a partial frame equals a whole one (run-no-gl.sh). */
	const char *check = getenv("KIOSK_UI_CHECK_DAMAGE");
	d->check_damage = check && strcmp(check, "1") == 0;
	int win_w = width, win_h = height;
	Uint32 flags = SDL_WINDOW_ALLOW_HIGHDPI;
	if (mode == UI_MODE_FULLSCREEN) {
		/*
		 * The window is the output's size from the start, whatever the page's: SDL sized
		 * it to the page and left "full screen" to a window manager. With none (an X server
		 * alone), a 1920x1080 page on a 1280x1024 output stayed a 1920x1080 window, cut at
		 * the output's edge. apply_fit puts the page in it.
		 */
		SDL_DisplayMode desk;
		if (SDL_GetDesktopDisplayMode(0, &desk) == 0 && desk.w > 0 && desk.h > 0)
			win_w = desk.w, win_h = desk.h;
		else /* Xwayland may not know its output yet: cage sizes the window when it maps it */
			LOG_INFO("display: the output's size is not known yet: a %dx%d window until it is", width, height);
		flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
	} else if (mode == UI_MODE_WINDOWED) {
		/* Fit the kiosk screen, portrait or landscape, on a developer's monitor. */
		SDL_Rect usable;
		if (SDL_GetDisplayUsableBounds(0, &usable) == 0)
			ui_display_window_fit(width, height, usable.w, usable.h, &win_w, &win_h);
		flags |= SDL_WINDOW_RESIZABLE;
	} else {
		flags |= SDL_WINDOW_HIDDEN;
	}
	int rc = 0;
	int pos = mode == UI_MODE_FULLSCREEN ? 0 : (int)SDL_WINDOWPOS_CENTERED;
	d->window = SDL_CreateWindow("e-Dirham kiosk", pos, pos, win_w, win_h, flags);
	if (!d->window) {
		rc = kio_fail(err, KIO_ERR_NO_DEVICE, "display: window: %s", SDL_GetError());
		goto out_close;
	}
	if (mode == UI_MODE_HEADLESS) {
		rc = headless_renderer(d, err);
		if (rc)
			goto out_close;
	} else {
		d->renderer = SDL_CreateRenderer(d->window, -1, SDL_RENDERER_SOFTWARE | SDL_RENDERER_TARGETTEXTURE);
	}
	if (!d->renderer) {
		rc = kio_fail(err, KIO_ERR_NO_DEVICE, "display: renderer: %s", SDL_GetError());
		goto out_close;
	}
	apply_fit(d);
	SDL_SetRenderDrawBlendMode(d->renderer, SDL_BLENDMODE_BLEND);
	SDL_RendererInfo info;
	if (SDL_GetRendererInfo(d->renderer, &info) == 0)
		LOG_INFO("display: %s driver, %s renderer, %dx%d logical", SDL_GetCurrentVideoDriver(), info.name,
			 width, height);
	if (mode == UI_MODE_FULLSCREEN)
		SDL_ShowCursor(SDL_DISABLE);
	*out = d;
	return 0;

out_close:
	ui_display_close(d);
	return rc;
}

void ui_display_close(struct ui_display *d)
{
	if (!d)
		return;
	/* The engine's glyph atlases belong to this renderer: release them first. */
	text_engine_release_renderer(d->text);
	for (size_t i = 0; i < d->n_images; i++) {
		if (d->images[i].texture)
			SDL_DestroyTexture(d->images[i].texture);
		free(d->images[i].path);
	}
	if (d->target)
		SDL_DestroyTexture(d->target);
	if (d->renderer)
		SDL_DestroyRenderer(d->renderer);
	SDL_FreeSurface(d->page_surface);
	if (d->page_map && munmap(d->page_map, d->page_map_len) != 0)
		LOG_WARN("display: unmap the page: %s", strerror(errno));
	if (d->window)
		SDL_DestroyWindow(d->window);
	free(d->shown_sig);
	free(d->shown_rect);
	free(d);
	SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
}

/*
 * Fills rects in one colour. An opaque colour is written, not blended: SDL's software
 * renderer blends every pixel of a BLEND fill even at alpha 255, several times the cost of
 * the plain fill it uses for BLENDMODE_NONE, with the same pixels (issue 14, frame cost).
 */
static void fill_rects(SDL_Renderer *r, const SDL_Rect *rects, int n, uint32_t rgba)
{
	SDL_Color c = color_of(rgba);
	SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
	if (c.a == 0xFF)
		SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
	float sx = 1, sy = 1;
	SDL_RenderGetScale(r, &sx, &sy);
	if (sx == 1 && sy == 1) {
		SDL_RenderFillRects(r, rects, n);
	} else {
		/*
		 * A scaled page (ui_display_fit): SDL's software renderer truncates each rectangle's
		 * scaled position and size apart, so rectangles that touch on the page (a rounded
		 * button's spans) left a row of the background between them on the output, a pale
		 * line across every button at 2/3. Each edge goes to the output pixel it rounds to
		 * instead, given as a float a quarter pixel inside it so truncation lands on it.
		 */
		enum { BATCH = 2 * CORNER_RADIUS + 1 };
		SDL_FRect f[BATCH];
		for (int i = 0; i < n;) {
			int k = 0;
			for (; k < BATCH && i < n; k++, i++) {
				long x0 = lround(rects[i].x * (double)sx), x1 = lround((rects[i].x + rects[i].w) * (double)sx);
				long y0 = lround(rects[i].y * (double)sy), y1 = lround((rects[i].y + rects[i].h) * (double)sy);
				f[k] = (SDL_FRect){(float)((x0 + 0.25) / sx), (float)((y0 + 0.25) / sy),
						   (float)((x1 - x0 + 0.25) / sx), (float)((y1 - y0 + 0.25) / sy)};
			}
			SDL_RenderFillRectsF(r, f, k);
		}
	}
	if (c.a == 0xFF)
		SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
}

/*
 * A filled rectangle with rounded corners, as horizontal spans: the body, then each pixel row
 * of the corners inset to the circle at that row's centre, rows of equal inset merged. It
 * used to be a triangle fan through SDL_RenderGeometry, which the software renderer
 * rasterises and blends pixel by pixel: three quarters of a frame's CPU (issue 14).
 */
static void fill_rounded(SDL_Renderer *r, const struct ui_rect *rect, int radius, uint32_t rgba)
{
	if (rect->w <= 0 || rect->h <= 0)
		return;
	if (radius * 2 > rect->w)
		radius = rect->w / 2;
	if (radius * 2 > rect->h)
		radius = rect->h / 2;
	if (radius < 0)
		radius = 0;
	SDL_Rect spans[2 * CORNER_RADIUS + 1];
	int n = 0;
	for (int i = 0; i < radius && i < CORNER_RADIUS;) {
		double dy = radius - i - 0.5;
		int inset = radius - (int)lround(sqrt((double)radius * radius - dy * dy));
		int rows = 1;
		/* The rows below with the same inset join this span. */
		while (i + rows < radius) {
			double dy2 = radius - (i + rows) - 0.5;
			if (radius - (int)lround(sqrt((double)radius * radius - dy2 * dy2)) != inset)
				break;
			rows++;
		}
		spans[n++] = (SDL_Rect){rect->x + inset, rect->y + i, rect->w - 2 * inset, rows};
		spans[n++] = (SDL_Rect){rect->x + inset, rect->y + rect->h - i - rows, rect->w - 2 * inset, rows};
		i += rows;
	}
	spans[n++] = (SDL_Rect){rect->x, rect->y + radius, rect->w, rect->h - 2 * radius};
	fill_rects(r, spans, n, rgba);
}

static void draw_text(struct ui_display *d, const char *text, int px, bool bold, enum text_align align,
		      enum text_dir dir, const struct ui_rect *box, int y, uint32_t rgba)
{
	struct text_style style = {
		.size_px = px, .bold = bold, .dir = dir, .align = align, .max_width = box->w - 2 * UI_TEXT_PAD};
	if (style.max_width < 1)
		style.max_width = 1;
	const struct text_layout *layout = text_layout(d->text, text, &style);
	if (layout)
		text_draw_sdl(d->text, d->renderer, layout, box->x + UI_TEXT_PAD, y, rgba);
}

/* The texture of the PNG at path, loaded on first use; NULL if it cannot be (logged once). */
static SDL_Texture *image_texture(struct ui_display *d, const char *path)
{
	for (size_t i = 0; i < d->n_images; i++)
		if (strcmp(d->images[i].path, path) == 0)
			return d->images[i].texture;
	SDL_Texture *tex = NULL;
	uint8_t *rgba = NULL;
	int w = 0, h = 0;
	struct kio_error err = {0};
	if (core_png_read_rgba(path, IMAGE_SIDE_MAX, &rgba, &w, &h, &err) != 0) {
		LOG_WARN("image %s not shown: %s", path, err.msg);
	} else {
		SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom(rgba, w, h, 32, w * 4, SDL_PIXELFORMAT_RGBA32);
		tex = s ? SDL_CreateTextureFromSurface(d->renderer, s) : NULL;
		if (!tex)
			LOG_WARN("image %s not shown: %s", path, SDL_GetError());
		else
			SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
		SDL_FreeSurface(s);
		free(rgba);
	}
	if (d->n_images < IMAGES_MAX) {
		d->images[d->n_images++] = (struct image_slot){xstrdup(path), tex};
	} else if (tex) {
		/* No room to keep it: shown this once. A kiosk's catalogue has far fewer icons. */
		LOG_WARN("image %s: more than %d images, not kept", path, IMAGES_MAX);
		SDL_DestroyTexture(tex);
		tex = NULL;
	}
	return tex;
}

static void draw_widget(struct ui_display *d, const struct ui_widget *w)
{
	uint32_t fg = w->fg, bg = w->bg;
	if (!w->enabled) {
		/* Disabled: keep the layout, wash out the colours. */
		fg = (fg & 0xFFFFFF00u) | 0x70;
		bg = (bg & 0xFFFFFF00u) | ((bg & 0xFF) / 3);
	}
	if (bg & 0xFF) {
		if (w->kind == UI_PANEL || w->kind == UI_LABEL) {
			SDL_Rect r = {w->rect.x, w->rect.y, w->rect.w, w->rect.h};
			fill_rects(d->renderer, &r, 1, bg);
		} else {
			if (w->border & 0xFF) {
				fill_rounded(d->renderer, &w->rect, CORNER_RADIUS, w->border);
				struct ui_rect inner = {w->rect.x + 3, w->rect.y + 3, w->rect.w - 6, w->rect.h - 6};
				fill_rounded(d->renderer, &inner, CORNER_RADIUS - 3, bg);
			} else {
				fill_rounded(d->renderer, &w->rect, CORNER_RADIUS, bg);
			}
		}
	}
	if (!w->text)
		return;
	struct ui_text_extent title, all;
	struct ui_widget title_only = *w;
	title_only.subtext = NULL;
	title_only.image = NULL;
	if (ui_widget_measure(d->text, &title_only, &title) != 0 || ui_widget_measure(d->text, w, &all) != 0)
		return;
	int y = w->rect.y + (w->rect.h - all.height) / 2;
	/* Text that does not fit is a layout error (the page check fails the scenario); on a
	 * customer's screen it stays inside its own box rather than run over its neighbours. */
	SDL_Rect clip = {w->rect.x, w->rect.y, w->rect.w, w->rect.h};
	if (d->clip.w > 0 && !SDL_IntersectRect(&clip, &d->clip, &clip))
		return;
	SDL_RenderSetClipRect(d->renderer, &clip);
	if (w->image && w->image_px > 0) {
		SDL_Texture *tex = image_texture(d, w->image);
		if (tex) {
			SDL_SetTextureAlphaMod(tex, w->enabled ? 0xFF : 0x70);
			SDL_Rect dst = {w->rect.x + (w->rect.w - w->image_px) / 2, y, w->image_px, w->image_px};
			SDL_RenderCopy(d->renderer, tex, NULL, &dst);
		}
		y += w->image_px + UI_IMAGE_GAP(w->text_px);
	}
	draw_text(d, w->text, w->text_px, w->bold, w->align, w->dir, &w->rect, y, fg);
	if (w->subtext)
		draw_text(d, w->subtext, UI_SUBTEXT_PX(w->text_px), false, w->align, w->dir, &w->rect,
			  y + title.height + UI_SUBTEXT_GAP(w->text_px), (fg & 0xFFFFFF00u) | ((fg & 0xFF) * 3 / 4));
	SDL_RenderSetClipRect(d->renderer, d->clip.w > 0 ? &d->clip : NULL);
}

static void draw_page(struct ui_display *d, const struct ui_page *page)
{
	if (d->clip.w > 0) {
		/* RenderClear ignores the clip rectangle: the damage gets the background as a fill. */
		SDL_RenderSetClipRect(d->renderer, &d->clip);
		fill_rects(d->renderer, &d->clip, 1, page->background | 0xFF);
	} else {
		SDL_Color bg = color_of(page->background);
		SDL_SetRenderDrawColor(d->renderer, bg.r, bg.g, bg.b, 0xFF);
		SDL_RenderClear(d->renderer);
	}
	for (size_t i = 0; i < page->n; i++) {
		const struct ui_widget *w = &page->widgets[i];
		SDL_Rect r = {w->rect.x, w->rect.y, w->rect.w, w->rect.h};
		if (w->visible && (d->clip.w == 0 || SDL_HasIntersection(&r, &d->clip)))
			draw_widget(d, w);
	}
	if (d->clip.w > 0)
		SDL_RenderSetClipRect(d->renderer, NULL);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

/* Everything about a widget that reaches its pixels, hashed (FNV-1a). */
static uint64_t widget_sig(const struct ui_widget *w)
{
	uint64_t h = 0xcbf29ce484222325ull;
	int ints[] = {w->kind, w->rect.x, w->rect.y, w->rect.w, w->rect.h, w->text_px, w->bold, w->align,
		      w->dir, w->visible, w->enabled, (int)w->fg, (int)w->bg, (int)w->border};
	h = fnv(h, ints, sizeof(ints));
	if (w->text)
		h = fnv(h, w->text, strlen(w->text) + 1);
	h = fnv(h, "|", 1);
	if (w->subtext)
		h = fnv(h, w->subtext, strlen(w->subtext) + 1);
	return h;
}

static void add_damage(SDL_Rect *damage, const struct ui_rect *r)
{
	SDL_Rect x = {r->x, r->y, r->w, r->h};
	if (x.w <= 0 || x.h <= 0)
		return;
	if (damage->w <= 0)
		*damage = x;
	else
		SDL_UnionRect(damage, &x, damage);
}

/*
 * The part of the screen page changes against what is shown (invariant D1): the old and the
 * new rectangle of every widget whose signature differs, as one rectangle, grown by a margin
 * so a scaled window's rounding leaves no seam. Whole page (w == 0 and *whole) when nothing
 * valid is shown, the background or the number of widgets changed, or the damage would cover
 * most of the screen anyway; *nothing when no pixel changes.
 */
static SDL_Rect page_damage(struct ui_display *d, const struct ui_page *page, bool *whole, bool *nothing)
{
	SDL_Rect damage = {0, 0, 0, 0};
	*whole = !d->shown_valid || d->shown_n != page->n || d->shown_bg != page->background;
	*nothing = false;
	if (*whole)
		return damage;
	for (size_t i = 0; i < page->n; i++) {
		const struct ui_widget *w = &page->widgets[i];
		if (widget_sig(w) == d->shown_sig[i])
			continue;
		add_damage(&damage, &d->shown_rect[i]);
		add_damage(&damage, &w->rect);
	}
	if (damage.w <= 0) {
		*nothing = true;
		return damage;
	}
	enum { MARGIN = 4 };
	SDL_Rect screen = {0, 0, d->width, d->height};
	damage.x -= MARGIN, damage.y -= MARGIN, damage.w += 2 * MARGIN, damage.h += 2 * MARGIN;
	if (!SDL_IntersectRect(&damage, &screen, &damage) ||
	    (int64_t)damage.w * damage.h * 4 > (int64_t)d->width * d->height * 3)
		*whole = true;
	return damage;
}

static void remember(struct ui_display *d, const struct ui_page *page)
{
	if (page->n > d->shown_cap) {
		d->shown_cap = page->n;
		d->shown_sig = xrealloc(d->shown_sig, d->shown_cap * sizeof(*d->shown_sig));
		d->shown_rect = xrealloc(d->shown_rect, d->shown_cap * sizeof(*d->shown_rect));
	}
	for (size_t i = 0; i < page->n; i++) {
		d->shown_sig[i] = widget_sig(&page->widgets[i]);
		d->shown_rect[i] = page->widgets[i].rect;
	}
	d->shown_n = page->n;
	d->shown_bg = page->background;
	d->shown_valid = true;
}

/* KIOSK_UI_CHECK_DAMAGE: the screen after a partial frame must equal the page drawn whole. */
static void check_partial(struct ui_display *d, const struct ui_page *page)
{
	int w, h;
	if (SDL_GetRendererOutputSize(d->renderer, &w, &h) != 0 || w != d->width || h != d->height)
		return; /* a scaled window: its pixels are not the page's */
	size_t stride = (size_t)w * 4;
	uint8_t *shown = xmalloc(stride * (size_t)h), *whole = xmalloc(stride * (size_t)h);
	SDL_Rect all = {0, 0, w, h};
	if (SDL_RenderReadPixels(d->renderer, &all, SDL_PIXELFORMAT_RGBA32, shown, (int)stride) == 0) {
		SDL_Rect keep = d->clip;
		d->clip = (SDL_Rect){0, 0, 0, 0};
		draw_page(d, page);
		d->clip = keep;
		if (SDL_RenderReadPixels(d->renderer, &all, SDL_PIXELFORMAT_RGBA32, whole, (int)stride) == 0 &&
		    memcmp(shown, whole, stride * (size_t)h) != 0) {
			size_t at = 0;
			while (shown[at] == whole[at])
				at++;
			d->stats.damage_errors++;
			LOG_ERR("display: a partial frame differs from the whole page at (%zu, %zu)", (at / 4) % (size_t)w,
				at / stride);
		}
	}
	free(shown);
	free(whole);
}

void ui_display_invalidate(struct ui_display *d)
{
	d->shown_valid = false;
	apply_fit(d); /* the window may have a new size: SDL has redone its own fit */
}

void ui_display_set_scale(struct ui_display *d, int scale_pct)
{
	d->scale_pct = scale_pct;
	d->fit = (struct ui_fit){0}; /* say where the page goes with it, even where it is unchanged */
	ui_display_invalidate(d);
}

const struct ui_display_stats *ui_display_stats(const struct ui_display *d) { return &d->stats; }

bool ui_display_shown(const struct ui_display *d) { return d->shown; }

int ui_display_present(struct ui_display *d, const struct ui_page *page, struct kio_error *err)
{
	bool whole, nothing;
	SDL_Rect damage = page_damage(d, page, &whole, &nothing);
	if (nothing)
		return 0;
	d->clip = whole ? (SDL_Rect){0, 0, 0, 0} : damage;
	draw_page(d, page);
	if (whole) {
		d->stats.whole++;
		d->stats.px += (uint64_t)d->width * (uint64_t)d->height;
	} else {
		d->stats.partial++;
		d->stats.px += (uint64_t)damage.w * (uint64_t)damage.h;
		if (d->check_damage)
			check_partial(d, page);
	}
	d->clip = (SDL_Rect){0, 0, 0, 0};
	SDL_RenderPresent(d->renderer);
	remember(d, page);
	return 0;
}

/*
 * Headless, the page is drawn 1:1 into the kiosk's own surface (headless_renderer) and nothing
 * else is ever drawn there, so it is written from that surface as it lies. The general path
 * below costs, for one 1080x1920 screenshot, an 8 MB target texture, an 8 MB copy converted to
 * RGBA and a quarter more bytes through deflate: a third of a one-shot screenshot's CPU
 * (issue 14). Returns 1 when it does not apply (a scaled or
 * big-endian framebuffer, another format), for the general path to take over.
 */
static int screenshot_framebuffer(struct ui_display *d, const struct ui_page *page, const char *path,
				  struct kio_error *err)
{
	if (d->shown || SDL_BYTEORDER != SDL_LIL_ENDIAN)
		return 1;
	SDL_Surface *fb = d->page_surface;
	int ow, oh;
	if (!fb || SDL_MUSTLOCK(fb) || fb->w != d->width || fb->h != d->height ||
	    SDL_GetRendererOutputSize(d->renderer, &ow, &oh) != 0 || ow != d->width || oh != d->height ||
	    (fb->format->format != SDL_PIXELFORMAT_RGB888 && fb->format->format != SDL_PIXELFORMAT_ARGB8888))
		return 1;
	draw_page(d, page);
	/* The software renderer queues its commands until a present or a read: run them now. */
	if (SDL_RenderFlush(d->renderer) != 0)
		return kio_fail(err, KIO_ERR_IO, "screenshot: %s", SDL_GetError());
	return core_png_write_bgrx(path, fb->w, fb->h, fb->pitch, fb->pixels, err);
}

int ui_display_screenshot(struct ui_display *d, const struct ui_page *page, const char *path,
			  struct kio_error *err)
{
	int fast = screenshot_framebuffer(d, page, path, err);
	if (fast <= 0)
		return fast;
	if (!d->target) {
		d->target = SDL_CreateTexture(d->renderer, SDL_PIXELFORMAT_RGBA32, SDL_TEXTUREACCESS_TARGET, d->width,
					      d->height);
		if (!d->target)
			return kio_fail(err, KIO_ERR_IO, "screenshot: %s", SDL_GetError());
	}
	/* Logical scaling is per target: draw 1:1 into the texture, then restore. */
	SDL_SetRenderTarget(d->renderer, d->target);
	SDL_RenderSetLogicalSize(d->renderer, d->width, d->height);
	draw_page(d, page);
	size_t stride = (size_t)d->width * 4;
	uint8_t *pixels = xmalloc(stride * (size_t)d->height);
	int rc = 0;
	if (SDL_RenderReadPixels(d->renderer, NULL, SDL_PIXELFORMAT_RGBA32, pixels, (int)stride) != 0)
		rc = kio_fail(err, KIO_ERR_IO, "screenshot: %s", SDL_GetError());
	SDL_SetRenderTarget(d->renderer, NULL);
	apply_fit(d);
	if (rc == 0)
		rc = core_png_write_rgba(path, d->width, d->height, (int)stride, pixels, err);
	free(pixels);
	return rc;
}

/*
 * SDL's renderer has already mapped a finger to its viewport (its event watch, run as the
 * event is queued: 0..1 across the page, a touch on the border clamped to the page's edge),
 * so the page's size is all that is left. Mapping it through the window again, as this did,
 * put every tap on a letterboxed page off by the border's width.
 */
void ui_display_finger_to_logical(struct ui_display *d, float fx, float fy, int *x, int *y)
{
	int lx = (int)(fx * (float)d->width), ly = (int)(fy * (float)d->height);
	*x = lx < 0 ? 0 : lx >= d->width ? d->width - 1 : lx;
	*y = ly < 0 ? 0 : ly >= d->height ? d->height - 1 : ly;
}

/* The inverse of SDL's watch: a finger as the touch screen reports it, across the window. */
void ui_display_logical_to_finger(struct ui_display *d, int x, int y, float *fx, float *fy)
{
	if (d->page_surface) {
		/* Headless: the page is the hidden window, 1:1, and no renderer watches its fingers
		 * (headless_renderer); SDL's logical-to-window mapping knows no window there. */
		*fx = ((float)x + 0.5f) / (float)d->width;
		*fy = ((float)y + 0.5f) / (float)d->height;
		return;
	}
	int ww, wh, wx, wy;
	SDL_GetWindowSize(d->window, &ww, &wh);
	SDL_RenderLogicalToWindow(d->renderer, (float)x + 0.5f, (float)y + 0.5f, &wx, &wy);
	*fx = ww ? ((float)wx + 0.5f) / (float)ww : 0;
	*fy = wh ? ((float)wy + 0.5f) / (float)wh : 0;
}
