/* Unit tests of pages: RTL mirroring, hit-testing (covered, hidden, disabled), text lookup. */
#include <glib.h>

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/widget/rtl-mirror", test_rtl_mirrors_rects);
	g_test_add_func("/widget/hit", test_hit_topmost_touchable);
	g_test_add_func("/widget/text", test_text_lookup);
	return g_test_run();
}
