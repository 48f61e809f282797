/* What every device class shares: an overall state the kiosk can show and log. */
#pragma once

enum dev_state {
	DEV_STATE_OK,      /* working */
	DEV_STATE_WARNING, /* working, needs a technician soon (paper near end, ribbon low) */
	DEV_STATE_FAULT,   /* present but cannot serve customers (jam, paper out, box removed) */
	DEV_STATE_OFFLINE, /* not answering or unplugged */
	DEV_STATE_COUNT
};

/* "ok", "warning", "fault", "offline": for logs and the device_event table. */
const char *dev_state_name(enum dev_state state);
