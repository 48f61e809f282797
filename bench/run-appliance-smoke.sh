#!/bin/bash
# The `bench-appliance-smoke` test: bench/appliance.sh with one round, 1 s of idle and two
# top-ups, without Chromium, must run to the end and print each of its figure lines (the
# windowed ones only where Xvfb is installed). It asserts no figure: a slow machine passes.
#   run-appliance-smoke.sh KIOSK PROCTREE APPLIANCE_SH
set -u
# The bench runs the kiosk on Xvfb, where SDL's input-method support leaves libdbus's global
# state for LeakSanitizer to report (README: the sanitizer build): no leak check here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
out=$(BENCH_KIOSK="$1" BENCH_PROCTREE="$2" BENCH_CHROMIUM=0 BENCH_HOLD_MS=200 bash "$3" 1 1 2 2>&1)
status=$?
printf '%s\n' "$out"
[ "$status" -eq 0 ] || { echo "FAIL: bench/appliance.sh exit $status" >&2; exit 1; }
lines=('Chromium: skipped \(BENCH_CHROMIUM=0\)' 'one-shot 1080x1920 screenshot, exec to exit: kiosk --headless [0-9]'
	'headless top-ups in virtual time, 2 in one run \(ledger verified, all completed\): [0-9]' 'RSS over the run')
if command -v Xvfb >/dev/null; then
	lines+=('exec to first frame on Xvfb: kiosk --windowed [0-9]' 'memory, sum of PSS over the process tree: kiosk --windowed [0-9]'
		'idle CPU over 1 s on attract \(devices connected\): kiosk [0-9]' 'frame CPU, full screen 1080x1920 on Xvfb'
		'frame CPU during one whole top-up, [0-9]+ frames: median [0-9]')
fi
for l in "${lines[@]}"; do
	grep -qE -- "$l" <<<"$out" || { echo "FAIL: no line matching '$l'" >&2; exit 1; }
done
echo "ok: every figure line printed"
