/*
 * The technician's test prints, through the real drivers and devices: a receipt that says in
 * both languages that it is not a receipt (so it can never pass for a payment), and a test
 * card with a number from the test range. The maintenance menu calls them; so does the
 * scenario language's `test-print` command.
 */
#pragma once

#include <stdint.h>

#include "kiosk/core/config.h"
#include "kiosk/core/i18n.h"
#include "kiosk/devices.h"
#include "kiosk/text/text.h"

struct tech_print_ctx {
	struct text_engine *engine;   /* borrowed */
	const struct i18n *i18n;      /* borrowed */
	const struct core_config *cfg;
	struct devices *devices;      /* borrowed */
	int64_t wall_s;               /* printed as the date */
};

/*
 * Starts test receipt number seq: job id "TEST-<seq>" (4+ digits) written to job_out. The
 * printer's RECEIPT_EV_PRINTED or _FAILED for that job follows. Errors: KIO_ERR_INVALID from
 * rendering, or the printer's refusal (KIO_ERR_BUSY, KIO_ERR_NO_DEVICE), err filled.
 */
int tech_test_receipt(const struct tech_print_ctx *ctx, unsigned seq, char *job_out, size_t job_cap,
		      struct kio_error *err);
/* Starts test card number seq: card number "99" + 14 digits of seq (the test range) written
 * to number_out; CARDPRN_EV_ISSUED or _FAILED follows. Errors as above. */
int tech_test_card(const struct tech_print_ctx *ctx, unsigned seq, char *number_out, size_t number_cap,
		   struct kio_error *err);
