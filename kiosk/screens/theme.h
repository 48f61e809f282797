/* The kiosk's look: colours and the page furniture every screen shares. */
#pragma once

#include <stdio.h>
#include <string.h>

#include "kiosk/core/xmalloc.h"
#include "kiosk/ui/widget.h"

struct app;

/* UAE government palette: deep green band, warm gold accent, high-contrast text. */
#define THEME_BG 0xF3F5F4FFu
#define THEME_BAND 0x0B5D4BFFu
#define THEME_ON_BAND 0xFFFFFFFFu
#define THEME_ACCENT 0xB8860BFFu
#define THEME_TEXT 0x1A1A1AFFu
#define THEME_MUTED 0x55605CFFu
#define THEME_TILE 0xFFFFFFFFu
#define THEME_TILE_BORDER 0xC9D3CFFFu
#define THEME_BUTTON 0x0B5D4BFFu
#define THEME_WARN_BG 0xFFF3CDFFu
#define THEME_WARN_TEXT 0x7A4B00FFu
#define THEME_FAULT_BG 0xF8D7DAFFu
#define THEME_FAULT_TEXT 0x7A1520FFu

enum { THEME_MARGIN = 60, THEME_HEADER_H = 220, THEME_FOOTER_H = 200 };

/* The green header band with a title (in the page's language). */
void theme_header(struct ui_page *page, const char *id, const char *title);
/* A primary action button (green, white text). */
struct ui_widget *theme_button(struct ui_page *page, const char *id, struct ui_rect rect, const char *text);
/* A quiet secondary button (white, green text). */
struct ui_widget *theme_button_secondary(struct ui_page *page, const char *id, struct ui_rect rect,
					 const char *text);
/* Device notices stacked upward from bottom_y; returns the y above the last one. */
int theme_device_notices(struct app *app, struct ui_page *page, int bottom_y, bool bilingual);
