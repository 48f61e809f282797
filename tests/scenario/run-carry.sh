#!/bin/bash
# The scenario supervisor refuses a carry it cannot use and starts no other kiosk:
#   run-carry.sh KIOSK WORKDIR
# The scenario is edited while the first kiosk process runs (it waits in a FIFO screenshot),
# so at the power-cut the carry names a scenario of 4 lines and the file now has 5: the
# supervisor says why and exits 3, and no second kiosk process starts.
set -u
kiosk=$1 work=$2
rm -rf "$work"
mkdir -p "$work/out"
fail() { echo "FAIL: $*" >&2; exit 1; }
scenario=$work/edited.scenario
printf 'expect-screen attract\nscreenshot edit\npower-cut\nexpect-screen attract\n' >"$scenario"
mkfifo "$work/out/edit.png" || fail "mkfifo"
KIOSK_LOG=info "$kiosk" --headless --simulate --script "$scenario" --out "$work/out" --db "$work/kiosk.db" \
	2>"$work/stderr" &
pid=$!
# Opening the FIFO returns once the kiosk opens it to write the screenshot: it has parsed the
# scenario by then.
exec 3<"$work/out/edit.png"
echo 'expect-screen home' >>"$scenario"
cat <&3 >/dev/null
exec 3<&-
wait "$pid"
status=$?
cat "$work/stderr" >&2
[ "$status" -eq 3 ] || fail "exit $status, expected 3"
grep -qF "kiosk: scenario supervisor: kiosk process" "$work/stderr" || fail "the supervisor did not say why"
grep -qF "the scenario changed while it ran; no other kiosk is started" "$work/stderr" ||
	fail "not the reason expected"
grep -qF "starting number 2" "$work/stderr" && fail "a second kiosk process was started"
echo "ok: bad carry refused"
