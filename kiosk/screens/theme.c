/* Shared page furniture: header band, buttons, measured labels, device notices; all scaled to the page. */
#include "theme.h"

#include "kiosk/app.h"
#include "kiosk/ui/check.h"

enum { HEADER_PX = 64, HEADER_PAD = 40 };

static enum text_dir page_dir(const struct ui_page *page) { return page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR; }

int theme_header_height(const struct ui_page *page, const char *title)
{
	int h = ui_page_text_height(page, title, ui_text_px(page, HEADER_PX), true, page_dir(page), page->width) +
		2 * ui_px(page, HEADER_PAD);
	/* A share of the height, not of the scale: a landscape header stays a band, not a third of the screen. */
	int least = (int)((int64_t)page->height * THEME_HEADER_H / UI_DESIGN_LONG_PX);
	return h > least ? h : least;
}

int theme_header(struct ui_page *page, const char *id, const char *title)
{
	int h = theme_header_height(page, title);
	struct ui_widget *band = ui_page_add(page, id, UI_PANEL, (struct ui_rect){0, 0, page->width, h}, title);
	band->bg = THEME_BAND;
	band->fg = THEME_ON_BAND;
	band->text_px = ui_text_px(page, HEADER_PX);
	band->bold = true;
	return h;
}

int theme_bar_height(const struct ui_page *page, const char *const *labels, size_t n, int w, int *pref)
{
	int need = UI_TOUCH_MIN_PX;
	for (size_t i = 0; i < n && labels[i]; i++) {
		int h = ui_page_text_height(page, labels[i], theme_button_secondary_px(page), true, page_dir(page), w);
		need = h > need ? h : need;
	}
	if (pref) {
		*pref = ui_px(page, THEME_BAR_H);
		*pref = *pref > need ? *pref : need;
	}
	return need;
}

struct ui_widget *theme_button(struct ui_page *page, const char *id, struct ui_rect rect, const char *text)
{
	struct ui_widget *w = ui_page_add(page, id, UI_BUTTON, rect, text);
	w->bg = THEME_BUTTON;
	w->fg = THEME_ON_BAND;
	w->text_px = theme_button_px(page);
	w->bold = true;
	return w;
}

struct ui_widget *theme_button_secondary(struct ui_page *page, const char *id, struct ui_rect rect,
					 const char *text)
{
	struct ui_widget *w = ui_page_add(page, id, UI_BUTTON, rect, text);
	w->bg = THEME_TILE;
	w->border = THEME_BAND;
	w->fg = THEME_BAND;
	w->text_px = theme_button_secondary_px(page);
	w->bold = true;
	return w;
}

struct ui_widget *theme_label(struct ui_page *page, const char *id, const char *text, int px, bool bold,
			      enum text_dir dir, uint32_t fg)
{
	int box_w = theme_inner(page);
	struct ui_widget *w = ui_page_add(page, id, UI_LABEL, (struct ui_rect){theme_margin(page), 0, box_w, 0}, text);
	w->text_px = ui_text_px(page, px), w->bold = bold, w->fg = fg;
	if (dir != TEXT_DIR_AUTO)
		w->dir = dir;
	w->rect.h = ui_page_text_height(page, text, w->text_px, bold, w->dir, box_w);
	return w;
}

struct ui_rect theme_keypad(struct ui_page *page, struct ui_rect area, int gap, int max_key, const char *clear_label,
			    const char *del_label)
{
	gap = ui_px(page, gap), max_key = max_key > 0 ? ui_px(page, max_key) : 0;
	struct ui_rect pad = ui_grid_square(area, UI_KEYPAD_COLS, UI_KEYPAD_ROWS, gap, max_key);
	for (int i = 0; i < UI_KEYPAD_N; i++) {
		struct ui_rect r = ui_keypad_cell(area, gap, max_key, i);
		const char *name = UI_KEYPAD_KEYS[i];
		bool digit = name[1] == '\0';
		char id[48];
		snprintf(id, sizeof(id), "key.%s", name);
		if (page->rtl) {
			/* The pad's place follows the reading order, its keys do not: where the key lands
			 * in the mirrored area, pre-mirrored for ui_page_add to undo. */
			int area_x = page->width - area.x - area.w;
			int x = area_x + (r.x - area.x);
			r.x = page->width - x - r.w;
		}
		struct ui_widget *k = ui_page_add(page, id, UI_KEY, r, digit ? name : i == 9 ? clear_label : del_label);
		k->key = digit ? (uint32_t)name[0] : 0;
		k->bg = digit ? THEME_TILE : THEME_BG;
		k->border = THEME_BAND;
		k->fg = THEME_BAND;
		k->bold = true;
		int px = digit ? ui_text_px(page, THEME_KEY_PX) : theme_button_secondary_px(page);
		if (digit && px > r.h / 2)
			px = r.h / 2;
		/* A word label steps down until it fits its key on one line, but not under UI_TEXT_MIN_PX. */
		for (struct ui_text_extent e; !digit && px > UI_TEXT_MIN_PX; px -= 2)
			if (ui_page_text_extent(page, k->text, px, true, k->dir, r.w, &e) != 0 ||
			    (e.lines <= 1 && e.width <= r.w - 2 * UI_TEXT_PAD && e.height <= r.h))
				break;
		k->text_px = px;
		if (digit)
			k->dir = TEXT_DIR_LTR;
	}
	return pad;
}

enum { ROW_GAP = 24 };

int theme_row_height(const struct ui_page *page, const char *label, const char *value, int w, int label_w, int px)
{
	struct ui_rect l, v;
	ui_row_split((struct ui_rect){0, 0, w, 0}, label_w, ui_px(page, ROW_GAP), &l, &v);
	int tpx = ui_text_px(page, px);
	int lh = ui_page_text_height(page, label, tpx, false, page_dir(page), l.w);
	int vh = ui_page_text_height(page, value, tpx, true, page_dir(page), v.w);
	return lh > vh ? lh : vh;
}

void theme_row(struct ui_page *page, const char *id, struct ui_rect row, int label_w, const char *label,
	       const char *value, int px)
{
	struct ui_rect l, v;
	ui_row_split(row, label_w, ui_px(page, ROW_GAP), &l, &v);
	char label_id[48];
	snprintf(label_id, sizeof(label_id), "%s.label", id);
	struct ui_widget *lw = ui_page_add(page, label_id, UI_LABEL, l, label);
	lw->text_px = ui_text_px(page, px), lw->fg = THEME_MUTED, lw->align = TEXT_ALIGN_START;
	struct ui_widget *vw = ui_page_add(page, id, UI_LABEL, v, value);
	vw->text_px = ui_text_px(page, px), vw->fg = THEME_TEXT, vw->bold = true, vw->align = TEXT_ALIGN_END;
}

/* Notice sizes in design px (scaled by ui_px / ui_text_px), largest first. Every notice that can
 * be due at once is shown (app.h APP_MAX_NOTICES: the kiosk's state and all three devices); when
 * they would take more than their share of the page height the whole list steps down a size
 * rather than drop one or push a button off the screen. The shares are measured with four
 * notices (tests/scenarios/store/notices-four.scenario, run at 1080x1920 and every corner of the
 * size matrix) by which sizes pass the page check. Both languages (attract): 51% of the height
 * fits (34 px at 1080x1920), 55% does not (34 px at 1920x1080; 57% at 1024x768, 60% at
 * 768x1024); side by side in landscape they take only 24-34%. One language (home): 34 px at 32%
 * of 1024x768 pushes a button off, 30 px at 27% there fits (at 35% of 768x1024 it still fits:
 * the share is the conservative bound, not the room). */
struct notice_size {
	int px, pad, gap;
};
static const struct notice_size notice_sizes[] = {{34, 14, 12}, {30, 10, 10}, {26, 8, 8}};
#define N_NOTICE_SIZES ((int)(sizeof(notice_sizes) / sizeof(notice_sizes[0])))
enum { NOTICE_SHARE_BILINGUAL_PCT = 52, NOTICE_SHARE_PCT = 28 };

/* Each band's language, in the order they are stacked; returns how many bands a device has. */
static int notice_langs(struct app *app, bool bilingual, enum lang out[2])
{
	if (!bilingual) {
		out[0] = app_lang(app);
		return 1;
	}
	out[0] = LANG_AR, out[1] = LANG_EN;
	return 2;
}

/* Bilingual notices in landscape: the two languages side by side, each in half the width. */
static bool side_by_side(const struct ui_page *page, int bands) { return bands == 2 && ui_page_landscape(page); }

static int band_w(const struct ui_page *page, int bands)
{
	int inner = theme_inner(page);
	return side_by_side(page, bands) ? (inner - theme_margin(page)) / 2 : inner;
}

static int notice_band_h(const struct ui_page *page, const char *text, enum lang lang, int w, const struct notice_size *z)
{
	return ui_page_text_height(page, text, ui_text_px(page, z->px), true, lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR,
				   w) +
	       2 * ui_px(page, z->pad);
}

/* The height of one device's notice: its bands stacked, or the taller of a side-by-side pair. */
static int notice_h(struct app *app, const struct ui_page *page, const struct app_notice *n, const enum lang *langs,
		    int bands, const struct notice_size *z)
{
	int h = 0, w = band_w(page, bands);
	for (int b = 0; b < bands; b++) {
		int bh = notice_band_h(page, app_str_in(app, langs[b], n->key), langs[b], w, z);
		if (side_by_side(page, bands))
			h = bh > h ? bh : h;
		else
			h += bh;
	}
	return h;
}

static int notices_h(struct app *app, const struct ui_page *page, const struct app_notice *notices, int n,
		     const enum lang *langs, int bands, const struct notice_size *z)
{
	int h = 0;
	for (int i = 0; i < n; i++)
		h += (i ? ui_px(page, z->gap) : 0) + notice_h(app, page, &notices[i], langs, bands, z);
	return h;
}

/* The largest size whose whole list fits the share, else the smallest; its height in *h. */
static const struct notice_size *notice_size(struct app *app, const struct ui_page *page,
					     const struct app_notice *notices, int n, const enum lang *langs, int bands,
					     int *h)
{
	int share = page->height * (bands == 2 ? NOTICE_SHARE_BILINGUAL_PCT : NOTICE_SHARE_PCT) / 100;
	for (int i = 0; i < N_NOTICE_SIZES; i++) {
		*h = notices_h(app, page, notices, n, langs, bands, &notice_sizes[i]);
		if (*h <= share || i == N_NOTICE_SIZES - 1)
			return &notice_sizes[i];
	}
	return &notice_sizes[N_NOTICE_SIZES - 1];
}

int theme_notices_height(struct app *app, const struct ui_page *page, bool bilingual)
{
	struct app_notice notices[APP_MAX_NOTICES];
	enum lang langs[2];
	int n = app_device_notices(app, notices, APP_MAX_NOTICES), bands = notice_langs(app, bilingual, langs);
	int h = 0;
	notice_size(app, page, notices, n, langs, bands, &h);
	return h;
}

int theme_device_notices(struct app *app, struct ui_page *page, int top_y, bool bilingual)
{
	struct app_notice notices[APP_MAX_NOTICES];
	enum lang langs[2];
	int n = app_device_notices(app, notices, APP_MAX_NOTICES), bands = notice_langs(app, bilingual, langs);
	int total = 0;
	const struct notice_size *z = notice_size(app, page, notices, n, langs, bands, &total);
	int y = top_y, margin = theme_margin(page), w = band_w(page, bands);
	bool beside = side_by_side(page, bands);
	for (int i = 0; i < n; i++) {
		y += i ? ui_px(page, z->gap) : 0;
		int pair_h = notice_h(app, page, &notices[i], langs, bands, z);
		for (int b = 0; b < bands; b++) {
			enum lang lang = langs[b];
			const char *text = app_str_in(app, lang, notices[i].key);
			char id[48];
			snprintf(id, sizeof(id), "notice.%s%s", notices[i].device,
				 bilingual ? (lang == LANG_AR ? ".ar" : ".en") : "");
			int h = beside ? pair_h : notice_band_h(page, text, lang, w, z);
			/* Side by side, Arabic on the right as on the language buttons (the page is not mirrored). */
			int x = beside && lang == LANG_AR ? page->width - margin - w : margin;
			if (page->rtl && beside)
				x = page->width - x - w; /* ui_page_add mirrors it back */
			struct ui_widget *wd = ui_page_add(page, id, UI_PANEL, (struct ui_rect){x, y, w, h}, text);
			bool fault = notices[i].severity == DEV_STATE_FAULT || notices[i].severity == DEV_STATE_OFFLINE;
			wd->bg = fault ? THEME_FAULT_BG : THEME_WARN_BG;
			wd->fg = fault ? THEME_FAULT_TEXT : THEME_WARN_TEXT;
			wd->text_px = ui_text_px(page, z->px);
			wd->bold = true;
			wd->dir = lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
			wd->align = TEXT_ALIGN_START;
			if (!beside)
				y += h;
		}
		if (beside)
			y += pair_h;
	}
	return y;
}
