/* The voucher page (`pay.voucher`): draws a vpay_view (kiosk/flows/vpay.h) in the session's
 * language; the fees screen owns the flow and routes the taps (vpay.h in this folder). */
#define LOG_MODULE "scr-vpay"
#include "vpay.h"

#include <stdio.h>
#include <string.h>

#include "kiosk/app.h"
#include "kiosk/core/log.h"
#include "kiosk/text/text.h"
#include "layout.h"
#include "theme.h"

/* "{amount}" filled with an amount already written by app_money. */
static const char *fill_text(const char *tmpl, const char *name, const char *value, char *out, size_t size)
{
	const char *at = strstr(tmpl, name);
	if (at)
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + strlen(name));
	else
		snprintf(out, size, "%s", tmpl);
	return out;
}

/*
 * One column: what is still to pay, the code as typed (left to right: an identifier), the
 * verdict or the host's answer, and once valid the value and expiry, that the whole value is
 * used and what exceeds the due becomes the customer's rest; the keypad under them, then the
 * bar (back, check/use). Two columns (landscape): those at the start, the keypad at the end.
 * Short of room, the label over the code goes first, then "used once"; the amounts, the code,
 * the answer, the excess and the buttons stay.
 */
void scr_vpay_build(struct app *app, struct ui_page *page, const struct vpay_view *v)
{
	char remaining[64], due_text[160], value[64], with_amount[256], valid_text[256], excess[64], excess_text[320];
	app_money(app, v->remaining_fils, remaining, sizeof(remaining));
	fill_text(app_str(app, "voucher.remaining"), "{amount}", remaining, due_text, sizeof(due_text));
	const char *valid = NULL, *whole = NULL, *excess_msg = NULL, *value_id = NULL;
	if (v->value_known) {
		/* A redemption resumed after a give-up has its value from the ledger, not its expiry. */
		value_id = v->expires[0] ? "voucher.valid" : "voucher.value";
		app_money(app, v->value_fils, value, sizeof(value));
		fill_text(app_str(app, value_id), "{amount}", value, with_amount, sizeof(with_amount));
		char expires[32];
		valid = v->expires[0] ? app_fill(app, with_amount, "{date}", app_ltr(app, v->expires, expires, sizeof(expires)),
					   valid_text, sizeof(valid_text))
				      : with_amount;
		whole = v->whole_msg ? app_str(app, v->whole_msg) : NULL;
		if (v->excess_msg) {
			app_money(app, v->excess_fils, excess, sizeof(excess));
			excess_msg = fill_text(app_str(app, v->excess_msg), "{amount}", excess, excess_text, sizeof(excess_text));
		}
	}
	/* The validate answer's message is the value line's own template (vpay.c: msg
	 * "voucher.valid"): the value line says it, filled; drawn as the message it was the raw
	 * template over the filled line (the page check's rule 5 now fails such a page). */
	const char *msg = v->msg && !(value_id && strcmp(v->msg, value_id) == 0) ? app_str(app, v->msg) : NULL;
	struct scr_button nav[] = {
		{"voucher.back", app_str(app, "common.back"), false, v->back_enabled},
		{"voucher.redeem", app_str(app, v->step == VPAY_CODE || v->step == VPAY_VALIDATING ? "voucher.check"
												      : "voucher.use"),
		 true, v->redeem_enabled},
	};
	static const int rows[] = {2};
	struct scr_item items[] = {
		{"voucher.remaining", due_text, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0,
		 0},
		{"voucher.label", app_str(app, "voucher.label"), NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED,
		 SCR_LOOK_LABEL, 0, 1},
		{"voucher.code", v->code_grouped[0] ? v->code_grouped : NULL, "0000 0000 0000 0000", SCR_NUMBER_PX, true,
		 true, TEXT_DIR_LTR, THEME_TEXT, SCR_LOOK_NUMBER, 0, 0},
		{"voucher.msg", msg, NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO,
		 v->msg_is_error ? 0 : THEME_BAND,
		 v->msg_is_error ? SCR_LOOK_FAULT : SCR_LOOK_LABEL, 0, 0},
		{"voucher.value", valid, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0, 0},
		{"voucher.whole", whole, NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, SCR_LOOK_LABEL, 0, 2},
		/* The excess is money the customer gets back as a voucher or card credit: always said. */
		{"voucher.excess", excess_msg, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_WARN, 0, 0},
	};
	const struct scr_layout L = {
		.header_id = "voucher.title", .title = app_str(app, "voucher.title"),
		.items = items, .n = (int)(sizeof(items) / sizeof(items[0])),
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 2,
		.keypad = true, .clear = app_str(app, "key.clear"), .del = app_str(app, "key.del"),
		/* While the host is asked, or once it is over, the code is what was asked about. */
		.keys_wait = !v->keys_enabled,
	};
	if (!scr_lay_out(page, &L))
		LOG_ERR("the voucher page (%s) does not fit the screen: the page check names what", vpay_step_name(v->step));
}
