/* The kiosk's device table (kdev.h): the one place the devices are listed. */
#include "kiosk/kdev.h"

#include <stdio.h>
#include <string.h>

#include "drivers/class/cardprn.h"
#include "drivers/class/cash.h"
#include "drivers/class/receipt.h"
#include "kiosk/core/err.h"
#include "kiosk/ledger/store.h"
#include "kiosk/sync/sync.h"

/* The class fault names take their own enum; the table takes an int, checked here. */
static const char *cash_fault(int f)
{
	return f >= 0 && f < CASH_FAULT_COUNT ? cash_fault_name((enum cash_fault)f) : NULL;
}
static const char *receipt_fault(int f)
{
	return f >= 0 && f < RECEIPT_FAULT_COUNT ? receipt_fault_name((enum receipt_fault)f) : NULL;
}
static const char *card_fault(int f)
{
	return f >= 0 && f < CARDPRN_FAULT_COUNT ? cardprn_fault_name((enum cardprn_fault)f) : NULL;
}
static const char *store_fault(int f) { return f >= 0 && f < LEDGER_FAULT_COUNT ? ledger_fault_name(f) : NULL; }
/* The sync's sticky faults (sync.h, enum sync_fault_state): the host refused a record. */
#define HOST_FAULT_COUNT (SYNC_STATUS_FAULT_BAD_RECORD + 1)
static const char *host_fault(int f)
{
	static const char *const names[HOST_FAULT_COUNT] = {
		[SYNC_STATUS_FAULT_NONE] = "none",
		[SYNC_STATUS_FAULT_RECORD_CONFLICT] = "record-conflict",
		[SYNC_STATUS_FAULT_CHAIN_BROKEN] = "chain-broken",
		[SYNC_STATUS_FAULT_BAD_RECORD] = "bad-record",
	};
	return f >= 0 && f < HOST_FAULT_COUNT ? names[f] : NULL;
}

static const struct kdev_info table[KDEV_COUNT] = {
	[KDEV_CASH] = {"cash", cash_fault, CASH_FAULT_COUNT, true, SIM_BENCH_CASH, false, 0},
	[KDEV_RECEIPT] = {"receipt", receipt_fault, RECEIPT_FAULT_COUNT, true, SIM_BENCH_RECEIPT, true, 2},
	[KDEV_CARD] = {"card", card_fault, CARDPRN_FAULT_COUNT, true, SIM_BENCH_CARD, true, 1},
	/* The database: out of service while it cannot write (kiosk/ledger/store.h). */
	[KDEV_STORE] = {"store", store_fault, LEDGER_FAULT_COUNT, false, SIM_BENCH_DEV_COUNT, false, -1},
	/* The host link: its sync stopped on a record the host refused (kiosk/sync/sync.h). */
	[KDEV_HOST] = {"host", host_fault, HOST_FAULT_COUNT, false, SIM_BENCH_DEV_COUNT, false, -1},
};

const struct kdev_info *kdev_info(enum kdev dev) { return &table[dev]; }

int kdev_parse(const char *name, enum kdev *out)
{
	for (int d = 0; d < KDEV_COUNT; d++) {
		if (strcmp(name, table[d].name) == 0) {
			*out = (enum kdev)d;
			return 0;
		}
	}
	return KIO_ERR_INVALID;
}

bool kdev_has(enum kdev dev, enum kdev_role role)
{
	switch (role) {
	case KDEV_ROLE_STATUS: return true;
	case KDEV_ROLE_SIMULATED: return table[dev].hardware;
	case KDEV_ROLE_TEST_PRINT: return table[dev].test_print;
	}
	return false;
}

const char *kdev_names(enum kdev_role role)
{
	/* Built once per role: the table is constant. */
	static char lists[KDEV_ROLE_TEST_PRINT + 1][64];
	char *list = lists[role];
	if (list[0])
		return list;
	size_t len = 0;
	for (int d = 0; d < KDEV_COUNT; d++) {
		if (!kdev_has((enum kdev)d, role))
			continue;
		int n = snprintf(list + len, sizeof(lists[0]) - len, "%s%s", len ? ", " : "", table[d].name);
		if (n > 0 && (size_t)n < sizeof(lists[0]) - len)
			len += (size_t)n;
	}
	return list;
}

void kdev_notice_key(enum kdev dev, const char *fault, char *out, size_t cap)
{
	snprintf(out, cap, "status.%s.%s", table[dev].name, strcmp(fault, "none") == 0 ? "starting" : fault);
}
