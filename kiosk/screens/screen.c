/* The screen table: ids to definitions. */
#include "screen.h"

#include <string.h>

#include "kiosk/core/err.h"

extern const struct scr_def scr_attract, scr_home, scr_topup_card, scr_topup_pay, scr_topup_done, scr_buy_card,
	scr_fees, scr_balance;
extern const struct scr_def scr_specimen;
extern const struct scr_def scr_fees_service, scr_fees_reference, scr_fees_amount, scr_basket, scr_fees_pay,
	scr_fees_change, scr_fees_card, scr_fees_done, scr_fees_voucher;

static const struct scr_def *const screens[SCR_COUNT] = {
	[SCR_ATTRACT] = &scr_attract, [SCR_HOME] = &scr_home, [SCR_TOPUP_CARD] = &scr_topup_card,
	[SCR_TOPUP_PAY] = &scr_topup_pay, [SCR_TOPUP_DONE] = &scr_topup_done, [SCR_BUY_CARD] = &scr_buy_card,
	[SCR_FEES] = &scr_fees, [SCR_BALANCE] = &scr_balance,
	[SCR_SPECIMEN] = &scr_specimen, [SCR_FEES_SERVICE] = &scr_fees_service,
	[SCR_FEES_REFERENCE] = &scr_fees_reference, [SCR_FEES_AMOUNT] = &scr_fees_amount, [SCR_BASKET] = &scr_basket,
	[SCR_FEES_PAY] = &scr_fees_pay, [SCR_FEES_CHANGE] = &scr_fees_change, [SCR_FEES_CARD] = &scr_fees_card,
	[SCR_FEES_DONE] = &scr_fees_done, [SCR_FEES_VOUCHER] = &scr_fees_voucher,
};

const struct scr_def *scr_get(enum scr_id id) { return screens[id]; }

bool scr_receipt_job_ended(char *job, const struct receipt_event *ev, bool *printed)
{
	if (!job[0] || strcmp(ev->job_id, job) != 0 || (ev->kind != RECEIPT_EV_PRINTED && ev->kind != RECEIPT_EV_FAILED))
		return false;
	job[0] = '\0';
	*printed = ev->kind == RECEIPT_EV_PRINTED;
	return true;
}

int scr_parse(const char *id, enum scr_id *out)
{
	for (int i = 0; i < SCR_COUNT; i++) {
		if (strcmp(screens[i]->id, id) == 0) {
			*out = (enum scr_id)i;
			return 0;
		}
	}
	return KIO_ERR_INVALID;
}
