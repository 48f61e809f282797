/*
 * The page check: what every page the kiosk draws must satisfy, whatever the language, the
 * device notices or the catalogue's strings (issue 9, "What the customer sees"). Scenario runs
 * apply it to every page built, and fail at the first violation.
 */
#pragma once

#include "kiosk/core/err.h"
#include "kiosk/text/text.h"
#include "widget.h"

/*
 * The smallest touch target, both sides, in logical pixels: the kiosk screens were designed
 * at 1080 x 1920 with no target under 100 px, and a fingertip is about 80 px there. Unlike the
 * layouts' sizes (kiosk/ui/grid.h) it is not scaled with the screen: 80 px is at least 16 mm on
 * every panel the supported sizes come on (a 10" 768 x 1024 one), above the ~9 mm a finger
 * needs.
 */
enum { UI_TOUCH_MIN_PX = 80 };

/*
 * Checks every visible widget of page, in drawing order:
 *   1. it lies inside the screen (0, 0, width, height), with a non-empty box;
 *   2. its text, measured by text as display.c draws it, fits its box: no line wider than
 *      the box less UI_TEXT_PAD on each side, the block no taller than the box; and a button's
 *      label breaks only between words (no word of it wider than that room: "Canc" over "el");
 *   3. a touch target is at least UI_TOUCH_MIN_PX on both sides;
 *   4. it overlaps no widget drawn before it, unless that one is a backdrop (a label or panel
 *      without text: a colour band). So nothing covers a touch target or any text, and no
 *      touch target sits on another;
 *   5. its text and subtext hold no template placeholder ("{amount}", "{date}": a brace, then
 *      [a-z0-9_-]+, then a brace): a message id drawn with app_str where app_fill was owed
 *      shows the customer the raw template (the voucher page's "worth {amount}").
 *   6. its text and subtext hold no number joined to another by "-" or "+" after an Arabic
 *      letter (or in Arabic-Indic digits) outside an isolate: the bidi algorithm draws it
 *      backwards ("2099-12-31" as "31-12-2099", UAX #9 W2 and W4); a date, a reference or a
 *      phone number in an Arabic line goes between LRI and PDI (U+2066, U+2069).
 * Returns 0, or KIO_ERR_INVALID with err naming the page (its first widget's id prefix, size
 * and direction), the widget(s) and the numbers of the first violation; KIO_ERR_NOMEM if text
 * could not be measured. Borrows both.
 */
int ui_page_check(const struct ui_page *page, struct text_engine *text, struct kio_error *err);
