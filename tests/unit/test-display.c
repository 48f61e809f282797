/*
 * Unit tests of the headless display (kiosk/ui/display.c): the page drawn into the kiosk's own
 * huge-page surface and written from it, taps mapped 1:1 onto the page.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/image.h"
#include "kiosk/text/text.h"
#include "kiosk/ui/display.h"
#include "kiosk/ui/widget.h"

enum { W = 1080, H = 1920 };

static struct text_engine *engine(void)
{
	static struct text_engine *e;
	struct kio_error err = {0};
	if (!e && text_engine_new(NULL, &e, &err) != 0)
		g_error("text engine: %s", err.msg);
	return e;
}

/*
 * The anonymous mappings of at least min_bytes in /proc/self/smaps: how many, and how many of
 * them carry the huge-page advice ("hg" in VmFlags).
 */
static void big_mappings(size_t min_bytes, int *all, int *huge)
{
	*all = *huge = 0;
	FILE *f = fopen("/proc/self/smaps", "r");
	g_assert_nonnull(f);
	char line[512];
	bool big = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, inode;
		char path[256] = "";
		/* A mapping's first line: range, modes, offset, device, inode, path (none: anonymous). */
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %255s", &lo, &hi, &inode, path) >= 3) {
			big = hi - lo >= min_bytes && path[0] == '\0';
			*all += big;
		} else if (big && strncmp(line, "VmFlags:", 8) == 0) {
			*huge += strstr(line, " hg") != NULL;
		}
	}
	fclose(f);
}

static void test_headless_page(void)
{
	struct kio_error err = {0};
	struct ui_display *d = NULL;
	g_assert_cmpint(ui_display_open(UI_MODE_HEADLESS, W, H, engine(), &d, &err), ==, 0);
	struct ui_page page;
	ui_page_init(&page, W, H, false, 0x204060FFu);
	struct ui_widget *b = ui_page_add(&page, "pay", UI_BUTTON, (struct ui_rect){100, 800, 880, 200}, "Pay");
	b->bg = 0xC08000FFu;
	b->fg = 0xFFFFFFFFu;
	char *dir = g_dir_make_tmp("kiosk-display-XXXXXX", NULL);
	char *path = g_build_filename(dir, "page.png", NULL);
	g_assert_cmpint(ui_display_screenshot(d, &page, path, &err), ==, 0);

	/* The page as drawn: the background and the button's fill, opaque. */
	uint8_t *px = NULL;
	int w = 0, h = 0;
	g_assert_cmpint(core_png_read_rgba(path, 4096, &px, &w, &h, &err), ==, 0);
	g_assert_cmpint(w, ==, W);
	g_assert_cmpint(h, ==, H);
	const uint8_t *corner = px, *fill = px + ((size_t)810 * W + 120) * 4;
	g_assert_cmpuint(corner[0], ==, 0x20);
	g_assert_cmpuint(corner[1], ==, 0x40);
	g_assert_cmpuint(corner[2], ==, 0x60);
	g_assert_cmpuint(corner[3], ==, 0xFF);
	g_assert_cmpuint(fill[0], ==, 0xC0);
	g_assert_cmpuint(fill[1], ==, 0x80);
	g_assert_cmpuint(fill[2], ==, 0x00);
	free(px);

	/*
	 * Issue 14: the page lives in a mapping of its own advised for huge pages (a handful of
	 * faults, not 2,025), which SDL's malloc'd window framebuffer never was. Only the advised
	 * ones are counted: the sanitizers keep dozens of big mappings of their own.
	 */
	int all, huge;
	big_mappings((size_t)W * H * 4, &all, &huge);
	g_test_message("%d anonymous mappings of a page's size or more, %d advised for huge pages", all, huge);
	if (g_file_test("/sys/kernel/mm/transparent_hugepage/enabled", G_FILE_TEST_EXISTS))
		g_assert_cmpint(huge, ==, 1);
	else
		g_test_message("no transparent huge pages in this kernel: the advice is not checked");

	/* A tap goes to the page's pixel it names, corners included (the scenario port's taps). */
	static const int pts[][2] = {{0, 0}, {W - 1, H - 1}, {540, 900}, {1, H - 2}, {W - 2, 3}};
	for (size_t i = 0; i < G_N_ELEMENTS(pts); i++) {
		float fx, fy;
		int x, y;
		ui_display_logical_to_finger(d, pts[i][0], pts[i][1], &fx, &fy);
		ui_display_finger_to_logical(d, fx, fy, &x, &y);
		g_assert_cmpint(x, ==, pts[i][0]);
		g_assert_cmpint(y, ==, pts[i][1]);
	}
	ui_page_clear(&page);
	ui_display_close(d);
	g_remove(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/display/headless-page", test_headless_page);
	int rc = g_test_run();
	text_engine_free(engine());
	return rc;
}
