/*
 * Unit tests of pages: RTL mirroring, hit-testing (covered, hidden, disabled), text lookup, the
 * column layout, and the page check (kiosk/ui/check.h) with the real text engine.
 */
#include <glib.h>
#include <string.h>

#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/widget/check/good", test_check_passes_good_page);
	g_test_add_func("/widget/check/overlap", test_check_overlap);
	g_test_add_func("/widget/check/overflow", test_check_overflow);
	g_test_add_func("/widget/check/off-screen", test_check_off_screen_and_small);
	g_test_add_func("/widget/flow", test_flow_column);
	g_test_add_func("/widget/rtl-mirror", test_rtl_mirrors_rects);
	g_test_add_func("/widget/hit", test_hit_topmost_touchable);
	g_test_add_func("/widget/text", test_text_lookup);
	int rc = g_test_run();
	text_engine_free(engine());
	return rc;
}
