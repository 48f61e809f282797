/*
 * Unit tests of pages: RTL mirroring, hit-testing (covered, hidden, disabled), text lookup, the
 * column layout, the size-derived geometry (kiosk/ui/grid.h: scale, grids, keypad, rows, bars),
 * and the page check (kiosk/ui/check.h) with the real text engine.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "kiosk/screens/layout.h"
#include "kiosk/screens/screen.h"
#include "kiosk/screens/theme.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/display.h"
#include "kiosk/ui/flow.h"
#include "kiosk/ui/frames.h"
#include "kiosk/ui/grid.h"
#include "kiosk/ui/widget.h"

static void test_rtl_mirrors_rects(void)
{
	struct ui_page page;
	ui_page_init(&page, 1000, 500, true, 0);
	struct ui_widget *w = ui_page_add(&page, "a", UI_BUTTON, (struct ui_rect){100, 10, 200, 50}, "x");
	g_assert_cmpint(w->rect.x, ==, 700);
	g_assert_cmpint(w->dir, ==, TEXT_DIR_RTL);
	ui_page_clear(&page);
	ui_page_init(&page, 1000, 500, false, 0);
	w = ui_page_add(&page, "a", UI_BUTTON, (struct ui_rect){100, 10, 200, 50}, "x");
	g_assert_cmpint(w->rect.x, ==, 100);
	ui_page_clear(&page);
}

static void test_hit_topmost_touchable(void)
{
	struct ui_page page;
	ui_page_init(&page, 1000, 1000, false, 0);
	ui_page_add(&page, "under", UI_BUTTON, (struct ui_rect){0, 0, 500, 500}, "Under");
	ui_page_add(&page, "label", UI_LABEL, (struct ui_rect){0, 0, 1000, 1000}, "Label");
	g_assert_cmpstr(ui_page_hit(&page, 10, 10)->id, ==, "under"); /* labels do not catch fingers */
	ui_page_add(&page, "over", UI_TILE, (struct ui_rect){100, 100, 100, 100}, "Over");
	g_assert_cmpstr(ui_page_hit(&page, 150, 150)->id, ==, "over");
	g_assert_cmpstr(ui_page_hit(&page, 99, 150)->id, ==, "under");
	g_assert_null(ui_page_hit(&page, 500, 500)); /* right/bottom edges are outside */
	ui_page_find(&page, "over")->visible = false;
	g_assert_cmpstr(ui_page_hit(&page, 150, 150)->id, ==, "under");
	ui_page_find(&page, "under")->enabled = false; /* disabled still catches: nothing behind fires */
	g_assert_cmpstr(ui_page_hit(&page, 10, 10)->id, ==, "under");
	ui_page_clear(&page);
}

static void test_text_lookup(void)
{
	struct ui_page page;
	ui_page_init(&page, 1000, 1000, false, 0);
	ui_page_add(&page, "title", UI_PANEL, (struct ui_rect){0, 0, 10, 10}, "Services");
	struct ui_widget *t = ui_page_add(&page, "tile", UI_TILE, (struct ui_rect){0, 0, 10, 10}, "Top up card");
	t->subtext = g_strdup("Add credit");
	g_assert_true(ui_page_shows_text(&page, "Services"));
	g_assert_true(ui_page_shows_text(&page, "Add credit"));
	g_assert_false(ui_page_shows_text(&page, "Top up"));
	g_assert_null(ui_page_find_text(&page, "Services")); /* not touchable */
	g_assert_cmpstr(ui_page_find_text(&page, "Top up card")->id, ==, "tile");
	t->visible = false;
	g_assert_false(ui_page_shows_text(&page, "Add credit"));
	ui_page_clear(&page);
}

static struct text_engine *engine(void)
{
	static struct text_engine *e;
	struct kio_error err;
	if (!e && text_engine_new(NULL, &e, &err) != 0)
		g_error("fonts: %s", err.msg);
	return e;
}

/* A page that passes: a band behind a title, a label, two buttons side by side. */
static void good_page(struct ui_page *page, bool rtl)
{
	ui_page_init(page, 1080, 1920, rtl, 0);
	ui_page_add(page, "band", UI_PANEL, (struct ui_rect){0, 0, 1080, 300}, NULL);
	struct ui_widget *t = ui_page_add(page, "title", UI_LABEL, (struct ui_rect){0, 100, 1080, 120},
					  rtl ? "خدمات الدرهم الإلكتروني" : "e-Dirham services");
	t->text_px = 64;
	ui_page_add(page, "prompt", UI_LABEL, (struct ui_rect){60, 400, 960, 100},
		    rtl ? "ماذا تريد أن تفعل؟" : "What now?");
	ui_page_add(page, "a", UI_BUTTON, (struct ui_rect){60, 600, 450, 200}, rtl ? "العربية" : "Arabic");
	ui_page_add(page, "b", UI_BUTTON, (struct ui_rect){570, 600, 450, 200}, "English");
	ui_page_add(page, "hidden", UI_LABEL, (struct ui_rect){-100, -100, 10, 10}, "not drawn")->visible = false;
}

static void expect_fail(struct ui_page *page, const char *const *needles)
{
	struct kio_error err = {0};
	g_assert_cmpint(ui_page_check(page, engine(), &err), ==, KIO_ERR_INVALID);
	for (; *needles; needles++)
		if (!strstr(err.msg, *needles))
			g_error("expected \"%s\" in: %s", *needles, err.msg);
}

static void test_check_passes_good_page(void)
{
	for (int rtl = 0; rtl < 2; rtl++) {
		struct ui_page page;
		good_page(&page, rtl);
		struct kio_error err = {0};
		if (ui_page_check(&page, engine(), &err) != 0)
			g_error("%s", err.msg);
		ui_page_clear(&page);
	}
}

static void test_check_overlap(void)
{
	struct ui_page page;
	good_page(&page, false);
	/* A notice band drawn over the bottom of a button, as the old attract screen did. */
	ui_page_add(&page, "notice", UI_PANEL, (struct ui_rect){60, 760, 960, 90}, "Receipts cannot be printed.");
	expect_fail(&page, (const char *const[]){"'notice' (60,760 960x90)", "touch target 'a' (60,600 450x200)",
						 "by 450x40 px", NULL});
	ui_page_clear(&page);

	/* A textless panel over a button hides it just the same. */
	good_page(&page, false);
	ui_page_add(&page, "veil", UI_PANEL, (struct ui_rect){500, 650, 100, 100}, NULL);
	expect_fail(&page, (const char *const[]){"'veil'", "touch target 'a'", "by 10x100 px", NULL});
	ui_page_clear(&page);

	/* Two labels whose texts would be drawn over each other. */
	good_page(&page, false);
	ui_page_add(&page, "late", UI_LABEL, (struct ui_rect){60, 450, 960, 100}, "Later");
	expect_fail(&page, (const char *const[]){"'late' (60,450 960x100) overlaps 'prompt' (60,400 960x100) by 960x50",
						 NULL});
	ui_page_clear(&page);

	/* Touching edges are not an overlap; a textless band under text is a backdrop. */
	good_page(&page, false);
	ui_page_add(&page, "below", UI_BUTTON, (struct ui_rect){60, 800, 450, 100}, "Below");
	struct kio_error err = {0};
	if (ui_page_check(&page, engine(), &err) != 0)
		g_error("%s", err.msg);
	ui_page_clear(&page);
}

static void test_check_overflow(void)
{
	struct ui_page page;
	/* One line that wraps to three at this width, in a box one line tall. */
	for (int rtl = 0; rtl < 2; rtl++) {
		good_page(&page, rtl);
		struct ui_widget *w = ui_page_add(&page, "long", UI_LABEL, (struct ui_rect){60, 1000, 600, 70},
						  rtl ? "الدفع النقدي غير متاح: جهاز قبول الأوراق النقدية مقفل لدواعٍ أمنية."
						      : "Cash payment is unavailable: the note acceptor is locked for security.");
		w->text_px = 34;
		expect_fail(&page, (const char *const[]){"the text of 'long'", "overflows its box", "in 552x70 px", NULL});
		ui_page_clear(&page);
	}
	/* A tile whose title fits but whose subtitle does not. */
	good_page(&page, false);
	struct ui_widget *t = ui_page_add(&page, "tile", UI_TILE, (struct ui_rect){60, 1000, 460, 120}, "Pay fees");
	t->text_px = 52;
	t->subtext = g_strdup("Police fines, DEWA, Salik, RTA, municipality, residency");
	expect_fail(&page, (const char *const[]){"the text of touch target 'tile'", "overflows", NULL});
	ui_page_clear(&page);
	/* A word wider than its box, even alone on its line. */
	good_page(&page, false);
	ui_page_add(&page, "narrow", UI_LABEL, (struct ui_rect){60, 1000, 60, 400}, "W");
	expect_fail(&page, (const char *const[]){"the text of 'narrow'", "in 12x400 px", NULL});
	ui_page_clear(&page);
}

/* Rule 5: a template drawn without its fill (the voucher page's "worth {amount}"), in the text
 * or a tile's subtext; braces around anything else are text. */
static void test_check_placeholder(void)
{
	struct ui_page page;
	good_page(&page, false);
	ui_page_add(&page, "raw", UI_LABEL, (struct ui_rect){60, 1000, 960, 200},
		    "This e-voucher is worth {amount} and is valid until {date}.");
	expect_fail(&page, (const char *const[]){"the text of 'raw'", "placeholder {amount} unfilled", NULL});
	ui_page_clear(&page);
	good_page(&page, true);
	struct ui_widget *t = ui_page_add(&page, "tile", UI_TILE, (struct ui_rect){60, 1000, 960, 200}, "رسوم");
	t->subtext = g_strdup("الباقي {min_fils}");
	expect_fail(&page, (const char *const[]){"touch target 'tile'", "placeholder {min_fils} unfilled", NULL});
	ui_page_clear(&page);
	good_page(&page, false);
	ui_page_add(&page, "braces", UI_LABEL, (struct ui_rect){60, 1000, 960, 200}, "{} {A} {x y} {");
	struct kio_error err = {0};
	if (ui_page_check(&page, engine(), &err) != 0)
		g_error("%s", err.msg);
	ui_page_clear(&page);
}

/* Rule 6: a date or reference joined by "-" after Arabic is drawn backwards unless isolated. */
static void test_check_reversed_number(void)
{
	struct ui_page page;
	const char *const bad[][2] = {
		{"صالحة حتى 2099-12-31.", "\"2099-12-31\" backwards"},
		{"اتصل على 800-4444", "\"800-4444\" backwards"},
		{"Valid until ٢٠٩٩-١٢-٣١", "\"٢٠٩٩-١٢-٣١\" backwards"},
		{"رقم \u2066A1\u2069 ثم 5+3", "\"5+3\" backwards"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		good_page(&page, true);
		ui_page_add(&page, "rev", UI_LABEL, (struct ui_rect){60, 1000, 960, 200}, bad[i][0]);
		expect_fail(&page, (const char *const[]){"the text of 'rev'", bad[i][1], NULL});
		ui_page_clear(&page);
	}
	const char *const good[] = {
		"صالحة حتى \u20662099-12-31\u2069.", /* isolated */
		"Valid until 2099-12-31",             /* no Arabic before it */
		"رقم Ref 2099-12-31",                  /* a Latin letter between: the number is EN */
		"التاريخ 31/12/2099 و 10:30",         /* "/" and ":" join Arabic numbers (W4) */
		"المبلغ 1,245.50 د.إ",
		"بطاقة 7841 0000 2468",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		good_page(&page, true);
		ui_page_add(&page, "ok", UI_LABEL, (struct ui_rect){60, 1000, 960, 200}, good[i]);
		struct kio_error err = {0};
		if (ui_page_check(&page, engine(), &err) != 0)
			g_error("%s: %s", good[i], err.msg);
		ui_page_clear(&page);
	}
}

static void test_check_off_screen_and_small(void)
{
	struct ui_page page;
	const struct ui_rect outside[] = {
		{1000, 1000, 100, 100}, /* past the right edge */
		{60, 1900, 100, 100},   /* past the bottom */
		{-1, 1000, 100, 100},   /* left of the screen */
		{60, 1000, 0, 100},     /* empty */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(outside); i++) {
		good_page(&page, false);
		ui_page_add(&page, "out", UI_PANEL, outside[i], NULL);
		expect_fail(&page, (const char *const[]){"'out'", "is not inside the screen", "1080x1920 ltr page", NULL});
		ui_page_clear(&page);
	}
	/* In an RTL page the rect is mirrored first: x 1000 w 100 lands at -20. */
	ui_page_init(&page, 1080, 1920, true, 0);
	ui_page_add(&page, "out", UI_BUTTON, (struct ui_rect){1000, 0, 100, 100}, NULL);
	expect_fail(&page, (const char *const[]){"touch target 'out' (-20,0 100x100) is not inside", "rtl page", NULL});
	ui_page_clear(&page);

	good_page(&page, false);
	ui_page_add(&page, "tiny", UI_BUTTON, (struct ui_rect){60, 1000, 300, 79}, NULL);
	expect_fail(&page, (const char *const[]){"touch target 'tiny' (60,1000 300x79) is smaller than 80x80 px", NULL});
	ui_page_clear(&page);
}

static void test_flow_column(void)
{
	/* Room for everything at its preferred size: the fill takes the rest. */
	struct ui_flow_item a[] = {{.min = 100, .pref = 200}, {.min = 50, .pref = 50},
				   {.min = 0, .pref = UI_FLOW_FILL}, {.min = 80, .pref = 120}};
	g_assert_cmpint(ui_flow_column(a, 4, 0, 1000, 10), ==, 0);
	g_assert_cmpint(a[0].h, ==, 200);
	g_assert_cmpint(a[1].y, ==, 210);
	g_assert_cmpint(a[2].h, ==, 1000 - 30 - 200 - 50 - 120);
	g_assert_cmpint(a[3].y + a[3].h, ==, 1000);
	/* Short of room: each grows in proportion to how far it may, the fill gets nothing. */
	struct ui_flow_item b[] = {{.min = 100, .pref = 200}, {.min = 0, .pref = UI_FLOW_FILL},
				   {.min = 80, .pref = 180}};
	g_assert_cmpint(ui_flow_column(b, 3, 0, 280, 0), ==, 0);
	g_assert_cmpint(b[0].h, ==, 150);
	g_assert_cmpint(b[1].h, ==, 0);
	g_assert_cmpint(b[2].h, ==, 130);
	/* Not even the minimums fit: placed at their minimums, and said so. */
	struct ui_flow_item c[] = {{.min = 100, .pref = 200}, {.min = 80, .pref = 180}};
	g_assert_cmpint(ui_flow_column(c, 2, 10, 150, 0), ==, KIO_ERR_INVALID);
	g_assert_cmpint(c[1].y, ==, 110);
	g_assert_cmpint(c[1].h, ==, 80);
}


static bool rects_overlap(struct ui_rect a, struct ui_rect b)
{
	return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static void test_grid_scale(void)
{
	static const struct {
		int w, h, scale, px60;
	} cases[] = {
		{1080, 1920, 1000, 60}, {1920, 1080, 1000, 60}, {1024, 768, 666, 40}, {768, 1024, 666, 40},
		{1280, 800, 740, 44},   {768, 1920, 711, 43},   {768, 768, 500, 30},  {2160, 3840, 2000, 120},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct ui_page page;
		ui_page_init(&page, cases[i].w, cases[i].h, false, 0);
		g_assert_cmpint(ui_page_scale(&page), ==, cases[i].scale);
		g_assert_cmpint(ui_px(&page, 60), ==, cases[i].px60);
		g_assert_cmpint(ui_px(&page, 1), >=, 1); /* never scaled away */
		g_assert_cmpint(ui_px(&page, 0), ==, 0);
		g_assert_true(ui_page_landscape(&page) == (cases[i].w > cases[i].h));
	}
}

static void test_grid_cells(void)
{
	/* The cells tile the area exactly, gap apart, the division's remainder in the last ones. */
	struct ui_rect area = {10, 20, 1001, 503};
	struct ui_rect c[6];
	for (int i = 0; i < 6; i++)
		c[i] = ui_grid_cell(area, 3, 2, 10, i);
	g_assert_cmpint(c[0].x, ==, 10);
	g_assert_cmpint(c[0].w, ==, 327);
	g_assert_cmpint(c[1].x, ==, 10 + 327 + 10);
	g_assert_cmpint(c[2].x + c[2].w, ==, 1011);
	g_assert_cmpint(c[3].y, ==, 20 + 246 + 10);
	g_assert_cmpint(c[5].y + c[5].h, ==, 523);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < i; j++)
			g_assert_false(rects_overlap(c[i], c[j]));
}

static void test_grid_keypad(void)
{
	/* A tall area: square keys as wide as a third of it, the pad centred vertically. */
	struct ui_rect area = {0, 100, 620, 1000};
	struct ui_rect k[UI_KEYPAD_N];
	for (int i = 0; i < UI_KEYPAD_N; i++) {
		k[i] = ui_keypad_cell(area, 10, 0, i);
		g_assert_cmpint(k[i].w, ==, 200);
		g_assert_cmpint(k[i].h, ==, 200);
		g_assert_true(k[i].x >= area.x && k[i].x + k[i].w <= area.x + area.w);
		g_assert_true(k[i].y >= area.y && k[i].y + k[i].h <= area.y + area.h);
		for (int j = 0; j < i; j++)
			g_assert_false(rects_overlap(k[i], k[j]));
	}
	g_assert_cmpint(k[0].y, ==, 100 + (1000 - ui_keypad_height(200, 10)) / 2);
	g_assert_cmpstr(UI_KEYPAD_KEYS[9], ==, "clear");
	g_assert_cmpstr(UI_KEYPAD_KEYS[10], ==, "0");
	g_assert_cmpstr(UI_KEYPAD_KEYS[11], ==, "del");
	/* A cap keeps keys from growing with a big screen; the pad stays centred. */
	struct ui_rect capped = ui_keypad_cell(area, 10, 150, 4);
	g_assert_cmpint(capped.w, ==, 150);
	g_assert_cmpint(capped.x, ==, (620 - ui_keypad_width(150, 10)) / 2 + 160);
}

static void test_grid_rows_and_bar(void)
{
	struct ui_rect label, value;
	ui_row_split((struct ui_rect){60, 300, 960, 90}, 400, 20, &label, &value);
	g_assert_cmpint(label.x, ==, 60);
	g_assert_cmpint(label.w, ==, 400);
	g_assert_cmpint(value.x, ==, 480);
	g_assert_cmpint(value.x + value.w, ==, 1020);
	g_assert_cmpint(value.h, ==, 90);
	ui_row_split((struct ui_rect){0, 0, 100, 10}, 500, 20, &label, &value); /* clamped to the row */
	g_assert_cmpint(label.w, ==, 100);

	struct ui_rect b[3];
	ui_bar((struct ui_rect){60, 1700, 960, 130}, 3, 30, 0, b);
	g_assert_cmpint(b[0].x, ==, 60);
	g_assert_cmpint(b[0].w, ==, 300);
	g_assert_cmpint(b[1].x, ==, 390);
	g_assert_cmpint(b[2].x + b[2].w, ==, 1020);
	/* Capped: the ends stay at the edges, the middle one centred. */
	ui_bar((struct ui_rect){60, 900, 1800, 100}, 3, 30, 400, b);
	g_assert_cmpint(b[0].x, ==, 60);
	g_assert_cmpint(b[0].w, ==, 400);
	g_assert_cmpint(b[1].x, ==, 60 + 700);
	g_assert_cmpint(b[2].x + b[2].w, ==, 1860);
}

/* Cells of a fixed least height, and too narrow below min_w: what ui_grid_columns weighs. */
struct fixed_cells {
	int min_h, min_w;
};

static int fixed_min_h(void *ctx, int i, int w)
{
	const struct fixed_cells *f = ctx;
	(void)i;
	return w < f->min_w ? -1 : f->min_h;
}

static void test_grid_columns(void)
{
	struct fixed_cells f = {200, 300};
	int rows[4] = {0};
	/* Portrait room: two columns of tall tiles, grown to the preferred height. */
	g_assert_cmpint(ui_grid_columns(4, (struct ui_rect){60, 400, 960, 1300}, 40, 520, 1000, fixed_min_h, &f, rows),
			==, 2);
	g_assert_cmpint(rows[0], ==, 520);
	g_assert_cmpint(rows[1], ==, 520);
	/* Landscape room: one row of four. */
	g_assert_cmpint(ui_grid_columns(4, (struct ui_rect){60, 300, 1800, 500}, 40, 520, 1000, fixed_min_h, &f, rows),
			==, 4);
	g_assert_cmpint(rows[0], ==, 500);
	/* Too narrow for four: two rows of two, not three over one, though three are squarer. */
	g_assert_cmpint(ui_grid_columns(4, (struct ui_rect){0, 0, 1200, 450}, 40, 520, 1000, fixed_min_h, &f, rows),
			==, 2);
	g_assert_cmpint(rows[0] + 40 + rows[1], <=, 450);
	/* Five cells, too narrow for four and room for two rows only: three over two. */
	g_assert_cmpint(ui_grid_columns(5, (struct ui_rect){0, 0, 1200, 450}, 40, 520, 1000, fixed_min_h, &f, rows),
			==, 3);
	/* Nothing fits: 0, rows untouched. */
	rows[0] = -7;
	g_assert_cmpint(ui_grid_columns(4, (struct ui_rect){0, 0, 1200, 150}, 40, 520, 1000, fixed_min_h, &f, rows),
			==, 0);
	g_assert_cmpint(rows[0], ==, -7);
}

/* A tile's image (an entity's icon) is part of what it measures: the check fails a tile whose
 * text fits but whose text and image together do not, and one whose image is wider than its
 * box; the image's path is the page's to free (ASan: no leak on clear or truncate). */
static void test_check_image(void)
{
	struct ui_page page;
	good_page(&page, false);
	struct ui_widget *t = ui_page_add(&page, "tile", UI_TILE, (struct ui_rect){60, 1000, 460, 200}, "Pay fees");
	t->text_px = 52;
	struct ui_text_extent bare, with;
	g_assert_cmpint(ui_widget_measure(engine(), t, &bare), ==, 0);
	t->image = g_strdup("/nonexistent/icon.png");
	t->image_px = 96;
	g_assert_cmpint(ui_widget_measure(engine(), t, &with), ==, 0);
	g_assert_cmpint(with.height, ==, bare.height + 96 + UI_IMAGE_GAP(52));
	struct kio_error err = {0};
	g_assert_cmpint(ui_page_check(&page, engine(), &err), ==, 0);
	t->image_px = 180; /* text and image taller than the tile */
	expect_fail(&page, (const char *const[]){"the text of touch target 'tile'", "overflows", NULL});
	t = ui_page_find(&page, "tile");
	t->rect.h = 900;
	t->image_px = 440; /* wider than the tile less its padding */
	expect_fail(&page, (const char *const[]){"the text of touch target 'tile'", NULL});
	ui_page_truncate(&page, 0);
	ui_page_clear(&page);
}

static void test_page_truncate(void)
{
	struct ui_page page;
	ui_page_init(&page, 1080, 1920, false, 0);
	ui_page_add(&page, "a", UI_LABEL, (struct ui_rect){0, 0, 10, 10}, "kept");
	ui_page_add(&page, "b", UI_LABEL, (struct ui_rect){0, 0, 10, 10}, "taken back");
	ui_page_add(&page, "c", UI_LABEL, (struct ui_rect){0, 0, 10, 10}, NULL);
	ui_page_truncate(&page, 1);
	g_assert_cmpuint(page.n, ==, 1);
	g_assert_null(ui_page_find(&page, "b"));
	ui_page_truncate(&page, 5); /* past the end: nothing */
	g_assert_cmpuint(page.n, ==, 1);
	ui_page_clear(&page);
}

/*
 * The helpers a flow screen lays out with (grid.h, theme.h), put together as the card-number
 * screen would: header, two label-value rows, a keypad taking the room left (beside the rows in
 * landscape), a bar of three buttons. At every corner of the supported sizes, in both directions, the page check passes,
 * and the keypad reads 1 2 3 from the left in Arabic too.
 */
static void test_flow_screen_helpers(void)
{
	static const int sizes[][2] = {{1080, 1920}, {1920, 1080}, {768, 1024}, {1024, 768}, {768, 1920},
				       {1920, 768}, {768, 768}, {3840, 2160}};
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
		for (int rtl = 0; rtl < 2; rtl++) {
			struct ui_page page;
			ui_page_init(&page, sizes[i][0], sizes[i][1], rtl, 0);
			page.text = engine();
			int m = theme_margin(&page), inner = theme_inner(&page), gap = theme_px(&page, THEME_GAP);
			const char *labels[3] = {rtl ? "رجوع" : "Back", rtl ? "إلغاء" : "Cancel", rtl ? "التالي" : "Next"};
			struct ui_rect bar[3];
			ui_bar((struct ui_rect){m, 0, inner, 0}, 3, gap, theme_px(&page, 420), bar);
			int bar_pref, bar_need = theme_bar_height(&page, labels, 3, bar[0].w, &bar_pref);
			/* Landscape: the rows in the start half, the keypad in the end half. */
			bool wide = ui_page_landscape(&page);
			int col_w = wide ? (inner - gap) / 2 : inner, label_w = col_w * 2 / 5;
			const char *card = rtl ? "رقم البطاقة" : "Card number", *number = "7841 2345 6789 0123";
			const char *total = rtl ? "المجموع" : "Total", *amount = rtl ? "1,250.00 درهم" : "AED 1,250.00";
			int row1 = theme_row_height(&page, card, number, col_w, label_w, 44);
			int row2 = theme_row_height(&page, total, amount, col_w, label_w, 44);
			int header = theme_header_height(&page, "Top up");
			int pad_min = ui_keypad_height(UI_TOUCH_MIN_PX, theme_px(&page, 16));
			struct ui_flow_item s[] = {ui_flow_slot(header, header), ui_flow_slot(row1, row1), ui_flow_slot(row2, row2),
						   ui_flow_slot(wide ? 0 : pad_min, UI_FLOW_FILL), ui_flow_slot(bar_need, bar_pref)};
			g_assert_cmpint(ui_flow_column(s, G_N_ELEMENTS(s), 0, page.height - m, gap), ==, 0);
			theme_header(&page, "topup.title", "Top up");
			theme_row(&page, "topup.card", (struct ui_rect){m, s[1].y, col_w, s[1].h}, label_w, card, number, 44);
			theme_row(&page, "pay.total", (struct ui_rect){m, s[2].y, col_w, s[2].h}, label_w, total, amount, 44);
			struct ui_rect pad = wide ? (struct ui_rect){m + col_w + gap, s[1].y, col_w, s[4].y - gap - s[1].y}
						  : (struct ui_rect){m, s[3].y, inner, s[3].h};
			/* Short labels: this page tests the keypad's geometry, not its words. The real
			 * top-up screen sizes its keys for its own "Clear" and "Delete" (key_least), which
			 * this plain arrangement does not (at 1920x768 and 768x768 its keys are 100 px and
			 * "Delete" would be cut: the page check refuses that); the scenarios hold the real
			 * screen's words at every size. */
			theme_keypad(&page, pad, 16, 200, rtl ? "مسح" : "C", rtl ? "حذف" : "Del");
			ui_bar((struct ui_rect){m, s[4].y, inner, s[4].h}, 3, gap, theme_px(&page, 420), bar);
			theme_button_secondary(&page, "nav.back", bar[0], labels[0]);
			theme_button_secondary(&page, "nav.cancel", bar[1], labels[1]);
			theme_button(&page, "nav.next", bar[2], labels[2]);

			struct kio_error err = {0};
			if (ui_page_check(&page, engine(), &err) != 0)
				g_error("%dx%d %s: %s", sizes[i][0], sizes[i][1], rtl ? "rtl" : "ltr", err.msg);
			struct ui_widget *k1 = ui_page_find(&page, "key.1"), *k3 = ui_page_find(&page, "key.3");
			struct ui_widget *del = ui_page_find(&page, "key.del"), *k0 = ui_page_find(&page, "key.0");
			g_assert_cmpint(k1->rect.x, <, k3->rect.x);
			g_assert_cmpint(del->rect.x, >, k0->rect.x);
			g_assert_cmpint(del->rect.y, >, k1->rect.y);
			g_assert_cmpuint(k1->key, ==, '1');
			g_assert_cmpuint(del->key, ==, 0);
			g_assert_cmpint(k1->rect.w, ==, k1->rect.h);
			g_assert_cmpint(k1->rect.w, >=, UI_TOUCH_MIN_PX);
			/* The value is the row's end: right in English, left in Arabic. */
			struct ui_widget *v = ui_page_find(&page, "pay.total"), *l = ui_page_find(&page, "pay.total.label");
			g_assert_true(rtl ? v->rect.x < l->rect.x : v->rect.x > l->rect.x);
			ui_page_clear(&page);
		}
}

/* A developer's window: the kiosk screen fitted in 90 % of the monitor, portrait or landscape. */
static void test_window_fit(void)
{
	int w, h;
	ui_display_window_fit(1080, 1920, 1920, 1080, &w, &h); /* portrait on a landscape monitor */
	g_assert_cmpint(h, ==, 972);
	g_assert_cmpint(w, ==, 546);
	/* A wide landscape screen on a laptop: its width decides (by height alone it was 1728 wide). */
	ui_display_window_fit(1920, 768, 1366, 768, &w, &h);
	g_assert_cmpint(w, ==, 1229);
	g_assert_cmpint(h, ==, 491);
	ui_display_window_fit(1024, 768, 1920, 1080, &w, &h); /* fits: as it is */
	g_assert_cmpint(w, ==, 1024);
	g_assert_cmpint(h, ==, 768);
	ui_display_window_fit(3840, 3840, 2560, 1440, &w, &h);
	g_assert_cmpint(w, ==, 1296);
	g_assert_cmpint(h, ==, 1296);
	ui_display_window_fit(1920, 1080, 0, 0, &w, &h); /* monitor unknown */
	g_assert_cmpint(w, ==, 1920);
	g_assert_cmpint(h, ==, 1080);
}

/* The page on the output: whole, aspect kept, centred; [display] scale only where it fits. */
static void test_display_fit(void)
{
	struct ui_fit f;
	ui_display_fit(1280, 720, 1920, 1080, 0, &f); /* landscape on a smaller output: whole */
	g_assert_cmpfloat_with_epsilon(f.scale, 2.0 / 3, 1e-9);
	g_assert_cmpint(f.x, ==, 0);
	g_assert_cmpint(f.y, ==, 0);
	g_assert_cmpint(f.w, ==, 1280);
	g_assert_cmpint(f.h, ==, 720);
	ui_display_fit(1280, 1024, 1920, 1080, 0, &f); /* letterboxed: bands above and below */
	g_assert_cmpint(f.w, ==, 1280);
	g_assert_cmpint(f.h, ==, 720);
	g_assert_cmpint(f.x, ==, 0);
	g_assert_cmpint(f.y, ==, 152);
	ui_display_fit(1280, 720, 1080, 1920, 0, &f); /* portrait on a landscape output: pillarboxed */
	g_assert_cmpfloat_with_epsilon(f.scale, 0.375, 1e-9);
	g_assert_cmpint(f.w, ==, 405);
	g_assert_cmpint(f.h, ==, 720);
	g_assert_cmpint(f.x, ==, 437);
	g_assert_cmpint(f.y, ==, 0);
	ui_display_fit(3840, 2160, 1920, 1080, 0, &f); /* larger output: scaled up */
	g_assert_cmpfloat_with_epsilon(f.scale, 2.0, 1e-9);
	g_assert_cmpint(f.w, ==, 3840);
	ui_display_fit(3840, 2160, 1920, 1080, 100, &f); /* scale = 1: pixel for pixel, centred */
	g_assert_cmpfloat_with_epsilon(f.scale, 1.0, 1e-9);
	g_assert_cmpint(f.x, ==, 960);
	g_assert_cmpint(f.y, ==, 540);
	g_assert_cmpint(f.w, ==, 1920);
	g_assert_cmpint(f.h, ==, 1080);
	ui_display_fit(1280, 720, 1920, 1080, 200, &f); /* a scale that does not fit: fitted */
	g_assert_cmpfloat_with_epsilon(f.scale, 2.0 / 3, 1e-9);
	g_assert_cmpint(f.w, ==, 1280);
	ui_display_fit(0, 0, 1920, 1080, 0, &f); /* output unknown: 1:1 */
	g_assert_cmpfloat_with_epsilon(f.scale, 1.0, 1e-9);
	g_assert_cmpint(f.w, ==, 1920);
}

/* A word wider than its box is cut in two pieces that each fit the width: the extent counts
 * the cut, which the width alone cannot show ("Canc" over "el" passed the page check). */
static void test_word_cuts(void)
{
	struct ui_page page;
	ui_page_init(&page, 1080, 1920, false, 0);
	page.text = engine();
	struct ui_text_extent e;
	g_assert_cmpint(ui_page_text_extent(&page, "Government", 40, true, TEXT_DIR_LTR, 1000, &e), ==, 0);
	g_assert_cmpint(e.word_cuts, ==, 0);
	int room = e.width + 2 * UI_TEXT_PAD;
	g_assert_cmpint(ui_page_text_extent(&page, "Government", 40, true, TEXT_DIR_LTR, room - 10, &e), ==, 0);
	g_assert_cmpint(e.word_cuts, ==, 1);
	g_assert_cmpint(e.width, <=, room - 10 - 2 * UI_TEXT_PAD);
	/* Words that wrap at their spaces are not cut. */
	g_assert_cmpint(ui_page_text_extent(&page, "Pay government fees", 40, true, TEXT_DIR_LTR, room, &e), ==, 0);
	g_assert_cmpint(e.lines, ==, 3);
	g_assert_cmpint(e.word_cuts, ==, 0);
	/* Arabic alike. */
	g_assert_cmpint(ui_page_text_extent(&page, "الإلكترونية", 40, true, TEXT_DIR_RTL, 120, &e), ==, 0);
	g_assert_cmpint(e.word_cuts, >=, 1);
	/* The page check refuses a widget whose word is cut. */
	struct ui_widget *w = ui_page_add(&page, "tile", UI_LABEL, (struct ui_rect){0, 0, room - 10, 400}, "Government");
	w->text_px = 40;
	w->bold = true;
	struct kio_error err = {0};
	g_assert_cmpint(ui_page_check(&page, engine(), &err), !=, 0);
	g_assert_nonnull(strstr(err.msg, "breaks inside a word"));
	w->rect.w = room;
	g_assert_cmpint(ui_page_check(&page, engine(), &err), ==, 0);
	ui_page_clear(&page);
}

/* The frame counters behind --startup-report: rebuilds count into the next frame; the
 * median and p99 come from 10 µs buckets and never pass the maximum. */
static void test_frames(void)
{
	static struct ui_frames fr; /* 40 KB of histogram: not on the stack */
	memset(&fr, 0, sizeof(fr));
	g_assert_cmpuint(ui_frames_quantile_ns(&fr, 0.5), ==, 0);
	ui_frames_add_work(&fr, 300000);
	ui_frames_end(&fr, 700000); /* 1 ms */
	for (int i = 0; i < 98; i++)
		ui_frames_end(&fr, 2000000 + (uint64_t)i); /* 2 ms each */
	ui_frames_end(&fr, 250000000); /* 250 ms: past the histogram */
	g_assert_cmpuint(fr.n, ==, 100);
	g_assert_cmpuint(fr.max_ns, ==, 250000000);
	g_assert_cmpuint(fr.pending_ns, ==, 0);
	g_assert_cmpuint(fr.total_ns, ==, 1000000 + 98 * 2000000 + 97 * 98 / 2 + 250000000);
	g_assert_cmpuint(ui_frames_quantile_ns(&fr, 0.0), ==, 1010000);
	g_assert_cmpuint(ui_frames_quantile_ns(&fr, 0.5), ==, 2010000);
	g_assert_cmpuint(ui_frames_quantile_ns(&fr, 0.99), ==, 2010000);
	g_assert_cmpuint(ui_frames_quantile_ns(&fr, 1.0), ==, 250000000);
	char buf[512] = {0};
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	g_assert_nonnull(f);
	g_assert_cmpint(ui_frames_write(&fr, f), ==, 0);
	fclose(f);
	g_assert_nonnull(strstr(buf, "frames 100\n"));
	g_assert_nonnull(strstr(buf, "frame_cpu_us_median 2010\n"));
	g_assert_nonnull(strstr(buf, "frame_cpu_us_max 250000\n"));
}

/* The keypad as screens use it (kiosk/screens/layout.h): scr_layout.keys_wait disables every
 * key of the keypad, and only they, the bar's buttons keeping what the screen gave them (the
 * card-number, reference and voucher screens while the host is asked); scr_key_digit reads a
 * tap on a digit key back as its digit. */
static void test_layout_keypad(void)
{
	for (int wait = 0; wait < 2; wait++) {
		struct ui_page page;
		ui_page_init(&page, 1080, 1920, false, 0);
		page.text = engine();
		ui_page_add(&page, "key.before", UI_BUTTON, (struct ui_rect){0, 0, 10, 10}, "x"); /* not the keypad's */
		const struct scr_button nav[] = {{"nav.back", "Back", false, true}, {"nav.next", "Next", true, false}};
		static const int rows[] = {2};
		struct scr_item items[] = {
			{"card.number", "7840 1234", "0000 0000 0000 0000", SCR_NUMBER_PX, true, true, TEXT_DIR_LTR, 0,
			 SCR_LOOK_NUMBER, 0, 0},
		};
		const struct scr_layout L = {
			.header_id = "title", .title = "Card", .items = items, .n = 1, .buttons = nav, .wide = nav,
			.rows = rows, .n_rows = 1, .n_buttons = 2, .keypad = true, .clear = "Clear", .del = "Delete",
			.keys_wait = wait,
		};
		scr_lay_out(&page, &L);
		int keys = 0, digits = 0;
		for (size_t i = 1; i < page.n; i++)
			if (strncmp(page.widgets[i].id, "key.", 4) == 0) {
				keys++;
				g_assert_cmpint(page.widgets[i].enabled, ==, !wait);
				/* scr_key_digit reads back the digit each digit key types, and no other. */
				char d = 0;
				bool is_digit = scr_key_digit(page.widgets[i].id, &d);
				g_assert_cmpint(is_digit, ==, page.widgets[i].key != 0);
				if (is_digit) {
					g_assert_cmpint(d, ==, (char)page.widgets[i].key);
					digits++;
				}
			}
		g_assert_cmpint(keys, ==, UI_KEYPAD_N);
		g_assert_cmpint(digits, ==, 10);
		g_assert_true(ui_page_find(&page, "key.before")->enabled);
		g_assert_true(ui_page_find(&page, "nav.back")->enabled);
		g_assert_false(ui_page_find(&page, "nav.next")->enabled);
		ui_page_clear(&page);
	}
	static const char *const not_digits[] = {"key.del", "key.clear", "key.", "key.10", "key.a", "nav.next", "key0"};
	for (size_t i = 0; i < G_N_ELEMENTS(not_digits); i++) {
		char d = 'x';
		g_assert_false(scr_key_digit(not_digits[i], &d));
		g_assert_cmpint(d, ==, 'x');
	}
}

/* A done screen's receipt job (kiosk/screens/screen.h, lifecycle 5): its end is taken once,
 * printed or failed; another job's end, a fault or a recovery is not it. */
static void test_receipt_job_ended(void)
{
	char job[32] = "J-7";
	bool printed = true;
	struct receipt_event ev = {.kind = RECEIPT_EV_PRINTED, .job_id = "J-8"};
	g_assert_false(scr_receipt_job_ended(job, &ev, &printed));
	snprintf(ev.job_id, sizeof(ev.job_id), "J-7");
	ev.kind = RECEIPT_EV_FAULT;
	g_assert_false(scr_receipt_job_ended(job, &ev, &printed));
	ev.kind = RECEIPT_EV_RECOVERED;
	g_assert_false(scr_receipt_job_ended(job, &ev, &printed));
	g_assert_cmpstr(job, ==, "J-7");
	ev.kind = RECEIPT_EV_FAILED;
	g_assert_true(scr_receipt_job_ended(job, &ev, &printed));
	g_assert_false(printed);
	g_assert_cmpstr(job, ==, "");
	g_assert_false(scr_receipt_job_ended(job, &ev, &printed)); /* once */
	snprintf(job, sizeof(job), "J-9");
	snprintf(ev.job_id, sizeof(ev.job_id), "J-9");
	ev.kind = RECEIPT_EV_PRINTED;
	g_assert_true(scr_receipt_job_ended(job, &ev, &printed));
	g_assert_true(printed);
	char none[4] = "";
	ev.job_id[0] = '\0';
	g_assert_false(scr_receipt_job_ended(none, &ev, &printed)); /* no job sent */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/widget/word-cuts", test_word_cuts);
	g_test_add_func("/widget/check/good", test_check_passes_good_page);
	g_test_add_func("/widget/check/overlap", test_check_overlap);
	g_test_add_func("/widget/check/overflow", test_check_overflow);
	g_test_add_func("/widget/check/off-screen", test_check_off_screen_and_small);
	g_test_add_func("/widget/check/placeholder", test_check_placeholder);
	g_test_add_func("/widget/check/reversed-number", test_check_reversed_number);
	g_test_add_func("/widget/flow", test_flow_column);
	g_test_add_func("/widget/grid/scale", test_grid_scale);
	g_test_add_func("/widget/grid/cells", test_grid_cells);
	g_test_add_func("/widget/grid/keypad", test_grid_keypad);
	g_test_add_func("/widget/grid/rows-and-bar", test_grid_rows_and_bar);
	g_test_add_func("/widget/grid/columns", test_grid_columns);
	g_test_add_func("/widget/truncate", test_page_truncate);
	g_test_add_func("/widget/layout/keypad", test_layout_keypad);
	g_test_add_func("/widget/screen/receipt-job", test_receipt_job_ended);
	g_test_add_func("/widget/check/image", test_check_image);
	g_test_add_func("/widget/grid/flow-screen", test_flow_screen_helpers);
	g_test_add_func("/widget/window-fit", test_window_fit);
	g_test_add_func("/widget/display-fit", test_display_fit);
	g_test_add_func("/widget/rtl-mirror", test_rtl_mirrors_rects);
	g_test_add_func("/widget/hit", test_hit_topmost_touchable);
	g_test_add_func("/widget/text", test_text_lookup);
	g_test_add_func("/widget/frames", test_frames);
	int rc = g_test_run();
	text_engine_free(engine());
	return rc;
}
