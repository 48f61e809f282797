#!/bin/bash
# A kiosk built without the test port (-Dtest_port=false, as an installed kiosk is): --script
# is refused with exit 2 and one line saying why, creating nothing (run-cli.sh); --help does not
# offer it; and neither the scenario runner (its `goto`, `power-cut`) nor its supervisor is in
# the binary at all.
#   check-no-test-port.sh KIOSK WORKDIR
set -u
# run-cli.sh changes into WORKDIR: both paths absolute.
kiosk=$(realpath "$1") work=$(realpath -m "$2") here=$(dirname "$(realpath "$0")")
fail() { echo "FAIL: $*" >&2; exit 1; }
bash "$here/run-cli.sh" "$kiosk" "$work" 2 "kiosk: --script: this kiosk is built without the test port" \
	--simulate --headless --script "$here/../scenarios/demo.scenario" || fail "--script was not refused"
help=$("$kiosk" --help) || fail "--help failed"
! grep -q -- "--script" <<<"$help" || fail "--help offers --script"
symbols=$(nm "$kiosk") || fail "nm cannot read $kiosk"
found=$(grep -E ' (runner_open|runner_step|runner_check_cmd|script_parse|supervise_scenario)$' <<<"$symbols")
[ -z "$found" ] || fail "the scenario runner is in the binary: $found"
# (A build with the test port has all five: the grep can see them when they are there.)
echo "ok: $kiosk has no test port"
