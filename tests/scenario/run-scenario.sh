#!/bin/bash
# Runs one scenario headless and checks the outcome a user would see:
#   run-scenario.sh KIOSK SCENARIO WORKDIR EXPECTED_EXIT [STDERR_TEXT] [--no-simulate]
# EXPECTED_EXIT 2 (malformed input) also requires that no database was created. A configuration
# file beside the scenario (NAME.ini for NAME.scenario) is passed with --config; a folder beside
# it (NAME.out/) is copied into the output folder first, as files an earlier run left there.
# --no-simulate runs without --simulate (real devices: only for scenarios refused at parse time).
set -u
kiosk=$1 scenario=$2 work=$3 expected=$4 want_text=${5:-} simulate=(--simulate)
[ "${6:-}" = --no-simulate ] && simulate=()
rm -rf "$work"
mkdir -p "$work"
config=()
[ -f "${scenario%.scenario}.ini" ] && config=(--config "${scenario%.scenario}.ini")
if [ -d "${scenario%.scenario}.out" ]; then
	cp -R "${scenario%.scenario}.out" "$work/out" || exit 1
	# Older than this run, as an earlier run's files would be.
	find "$work/out" -exec touch -d '1 hour ago' {} + || exit 1
fi
"$kiosk" --headless "${simulate[@]}" "${config[@]}" --script "$scenario" --out "$work/out" --db "$work/kiosk.db" \
	2>"$work/stderr"
status=$?
cat "$work/stderr" >&2
if [ "$status" -ne "$expected" ]; then
	echo "FAIL: exit status $status, expected $expected" >&2
	exit 1
fi
if [ -n "$want_text" ] && ! grep -qF -- "$want_text" "$work/stderr"; then
	echo "FAIL: expected the message to contain: $want_text" >&2
	exit 1
fi
if [ "$expected" -eq 2 ] && [ -e "$work/kiosk.db" ]; then
	echo "FAIL: bad input, yet the database was created" >&2
	exit 1
fi
echo "ok: exit $status"
