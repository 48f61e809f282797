#!/bin/bash
# Runs a scenario with its own host (`host up`, kiosk/scenario/host.h) like run-scenario.sh,
# then checks that the run left nothing behind: no process of its cluster, kiosk-host or proxy,
# and no cluster folder, whether it passed or failed.
#   run-host-scenario.sh KIOSK SCENARIO WORKDIR EXPECTED_EXIT [STDERR_TEXT]
# Skips (77) when the machine has no PostgreSQL server.
set -u
here=$(dirname "$0")
work=$3
root=$(mktemp -d -t ksh-XXXXXX) || exit 1
# As root the cluster runs as postgres, which must pass through this folder.
chmod 0711 "$root"
KIOSK_SCENARIO_HOST_ROOT=$root bash "$here/run-scenario.sh" "$@"
status=$?
if grep -qF "no PostgreSQL server is installed" "$work/stderr" 2>/dev/null; then
	rmdir "$root"
	exit 77
fi
left=$(pgrep -af -- "$root/" || true)
if [ -n "$left" ]; then
	echo "FAIL: the scenario's host left processes running:" >&2
	echo "$left" >&2
	status=1
fi
if [ -n "$(ls -A "$root")" ]; then
	echo "FAIL: the scenario's host left its folder: $(ls -A "$root")" >&2
	status=1
fi
rm -rf "$root"
exit $status
