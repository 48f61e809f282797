/*
 * The voucher page (`pay.voucher`): what kiosk/screens/vpay.c draws for a vpay_view
 * (kiosk/flows/vpay.h). The fees screen calls it for its VOUCHER step and routes the page's
 * taps (key.0..key.9, key.del, voucher.redeem, voucher.back) to vpay_step.
 */
#pragma once

#include "kiosk/flows/vpay.h"
#include "kiosk/ui/widget.h"

struct app;

/* Adds the whole voucher page to page (a header, the code as typed, the verdict or the host's
 * answer, the value, expiry and what exceeds the due once valid, a keypad and the buttons
 * voucher.redeem and voucher.back), in the app's language, laid out by scr_lay_out. A layout
 * that does not fit is an error: logged and left for the page check to report. */
void scr_vpay_build(struct app *app, struct ui_page *page, const struct vpay_view *v);
