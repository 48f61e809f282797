/*
 * The scenario language (README: "Scenarios"): one command per line, `#` comments,
 * strings in double quotes with \" and \\ escapes. Parsing is pure and complete before
 * anything runs, so a malformed script is reported (file:line) before the kiosk touches
 * its database or devices.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

enum script_op {
	SCRIPT_TAP,            /* tap ID */
	SCRIPT_TAP_TEXT,       /* tap-text "TEXT" */
	SCRIPT_TYPE,           /* type "TEXT" */
	SCRIPT_NOTE,           /* note AED */
	SCRIPT_NOTE_FAKE,      /* note-fake */
	SCRIPT_NOTE_HOLD,      /* note-hold AED (fed and held under the sensors) */
	SCRIPT_NOTE_RELEASE,   /* note-release (the held note goes on) */
	SCRIPT_WAIT,           /* wait SECONDS (decimals allowed, millisecond resolution) */
	SCRIPT_EXPECT_SCREEN,  /* expect-screen ID */
	SCRIPT_EXPECT_TEXT,    /* expect-text "TEXT" */
	SCRIPT_EXPECT_NO_TEXT, /* expect-no-text "TEXT" */
	SCRIPT_SCREENSHOT,     /* screenshot NAME */
	SCRIPT_FAULT,          /* fault DEVICE KIND */
	SCRIPT_CLEAR,          /* clear DEVICE */
	SCRIPT_GOTO,           /* goto SCREEN (test port: any screen, customer path or not) */
	SCRIPT_EXPECT_DEVICE,  /* expect-device DEVICE ok|FAULT (what the technician is shown) */
	SCRIPT_TEST_PRINT,     /* test-print receipt|card (the technician's test print) */
	SCRIPT_EXPECT_FILE,    /* expect-file NAME (in the output folder, not empty) */
	SCRIPT_EXPECT_FILE_TEXT, /* expect-file-text NAME "TEXT" */
	SCRIPT_EXPECT_NO_FILE, /* expect-no-file NAME */
	SCRIPT_WAIT_DEVICE,    /* wait-device DEVICE ok|FAULT (up to 30 s, then a failure) */
	SCRIPT_EXPECT_LOG,     /* expect-log error|warn "TEXT" (a later log line of that level) */
	SCRIPT_EXPECT_LEDGER,  /* expect-ledger "SQL" "VALUE" (a read-only query on the database) */
	SCRIPT_POWER_CUT,      /* power-cut (the kiosk process dies; a new one goes on) */
	SCRIPT_TOUCH,          /* touch ID (a finger where ID is drawn, whatever it is: maybe no button) */
	SCRIPT_HOST,           /* host up|down|slow|error|cut-after-commit (the scenario's own host) */
	SCRIPT_WAIT_SYNCED,    /* wait-synced (real time, up to 30 s: the host acknowledged every record) */
	SCRIPT_EXPECT_HOST,    /* expect-host "SQL" "VALUE" (a read-only query on the host's database) */
	SCRIPT_HOST_SQL,       /* host-sql "SQL" (a write to the host's database: the end check's self-test) */
	SCRIPT_OP_COUNT
};

struct script_cmd {
	enum script_op op;
	int line;
	char *source;   /* the line as written, for failure messages */
	char *arg;      /* ID, TEXT, NAME, DEVICE, LEVEL or SQL */
	char *arg2;     /* KIND, TEXT or VALUE */
	int64_t number; /* note: fils; wait: milliseconds */
};

struct script {
	char *path;
	struct script_cmd *cmds;
	size_t n, cap;
};

/*
 * Argument checks that need knowledge outside the parser (device and fault names, screen
 * ids, whether the devices are simulated) go through this hook, given check_user; it returns
 * 0 or fills why. NULL skips them.
 */
typedef int (*script_check_fn)(const struct script_cmd *cmd, void *check_user, char *why, size_t why_len);

/*
 * Parses text: UTF-8 (a leading byte order mark is skipped; any invalid sequence is refused
 * with its line and column), commands, ids and names in plain ASCII. name is used in messages
 * ("name:line: reason"). KIO_ERR_INVALID with err set; nothing is returned then. Caller frees.
 */
int script_parse(const char *name, const char *text, script_check_fn check, void *check_user,
		 struct script **out, struct kio_error *err);
/* Reads and parses a file of at most SCRIPT_MAX_BYTES. */
int script_load(const char *path, script_check_fn check, void *check_user, struct script **out,
		struct kio_error *err);
#define SCRIPT_MAX_BYTES (1 << 20) /* a scenario is a page of commands; 1 MiB is a mistake */
void script_free(struct script *script); /* accepts NULL */

const char *script_op_name(enum script_op op);
