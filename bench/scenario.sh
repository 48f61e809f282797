#!/bin/bash
# What a scenario's virtual time and taps cost in real time (README: Benchmarks), as ratios to
# the floor measured in the same run: bench-devday, the three drivers polling their device
# models for a virtual day with no kiosk around them (what a day cannot cost less than).
#   bench/scenario.sh [KIOSK] [ROUNDS]
# KIOSK defaults to build/kiosk/kiosk; the build's bench-devday is the baseline either way (it
# does not involve the kiosk's loop, display or memory file). Each figure is the best of ROUNDS
# (default 3). CPU time (user + system) is the figure to compare: on a shared machine wall
# time also counts other people's work. Three generated scenarios run headless over the
# simulated devices: `wait 0` (start-up and shutdown), two virtual days (`wait 86400` twice)
# 200 taps (attract -> home -> attract, 100 times) and 20 whole top-ups (language, service, the
# 16 keypad digits, next, two notes, finish, the receipt printed, back to attract: 22 taps, two
# notes and every durable ledger commit of a customer). A day, a tap or a top-up costs
# (its run - the `wait 0` run) / count; a top-up is also given in taps, to show what the money
# path (ledger commits with their fsyncs, the receipt drawn and filed) adds to the screens.
# BENCH_USE_DISPLAY=1 also runs `wait 0` and the taps --windowed on $DISPLAY (e.g. Xvfb), where
# frames go through the display's accelerated renderer (OpenGL) as on a kiosk; virtual days
# need --headless, so they are not repeated there.
set -euo pipefail
cd "$(dirname "$0")/.."
kiosk=${1:-build/kiosk/kiosk}
rounds=${2:-3}
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build kiosk/kiosk bench/bench-devday >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "wait 0" >"$work/empty.scenario"
printf 'wait 86400\nwait 86400\n' >"$work/days.scenario"
for _ in $(seq 100); do printf 'tap attract.en\ntap home.cancel\n'; done >"$work/taps.scenario"
topups=20
for _ in $(seq "$topups"); do
	printf 'tap attract.en\ntap home.topup\ntype "7840123456789014"\ntap nav.next\n'
	printf 'note 50\nnote 100\ntap pay.finish\nexpect-screen topup-done\ntap done.close\nexpect-screen attract\n'
done >"$work/topups.scenario"

# Prints "wall_ms cpu_ms" of the best round (lowest CPU time). $2: --headless or --windowed.
measure() {
	local name=$1 mode=${2:---headless} best="" line
	for _ in $(seq "$rounds"); do
		rm -rf "$work/run"
		mkdir -p "$work/run"
		line=$( { TIMEFORMAT='%3R %3U %3S'; time "$kiosk" "$mode" --simulate --script "$work/$name.scenario" \
			--out "$work/run/out" --db "$work/run/kiosk.db" 2>"$work/run/stderr"; } 2>&1 ) || {
			echo "bench: $name.scenario failed:" >&2
			cat "$work/run/stderr" >&2
			exit 1
		}
		line=$(awk '{ printf "%d %d", $1 * 1000, ($2 + $3) * 1000 }' <<<"$line")
		if [ -z "$best" ] || [ "${line##* }" -lt "${best##* }" ]; then best=$line; fi
	done
	echo "$best"
}

floor_cpu=""
for _ in $(seq "$rounds"); do
	cpu=$(build/bench/bench-devday 1 | awk '/devday_cpu_ms/ { print $2 }')
	if [ -z "$floor_cpu" ] || awk -v a="$cpu" -v b="$floor_cpu" 'BEGIN { exit !(a < b) }'; then floor_cpu=$cpu; fi
done
read -r base_wall base_cpu < <(measure empty)
read -r days_wall days_cpu < <(measure days)
read -r taps_wall taps_cpu < <(measure taps)
read -r topups_wall topups_cpu < <(measure topups)
# The figure counts only if every journey really credited its card: the last round's ledger
# must hold the chain and one completed top-up of AED 150 per journey.
"$kiosk" ledger verify --db "$work/run/kiosk.db" >/dev/null
done_count=$("$kiosk" ledger export --db "$work/run/kiosk.db" |
	grep -c '"type":"tx_end","tx_rec":[0-9]*,"state":"completed","recovered":0,"credited_fils":15000,' || true)
if [ "$done_count" != "$topups" ]; then
	echo "bench: the ledger holds $done_count completed top-ups of AED 150, not $topups" >&2
	exit 1
fi
awk -v f="$floor_cpu" -v bw="$base_wall" -v bc="$base_cpu" -v dw="$days_wall" -v dc="$days_cpu" \
	-v tw="$taps_wall" -v tc="$taps_cpu" -v uw="$topups_wall" -v uc="$topups_cpu" -v n="$topups" 'BEGIN {
	dayw = (dw - bw) / 2; dayc = (dc - bc) / 2; tapw = (tw - bw) / 200; tapc = (tc - bc) / 200
	upw = (uw - bw) / n; upc = (uc - bc) / n
	printf "baseline: the drivers and device models alone, one virtual day: %.0f ms CPU\n", f
	printf "kiosk start-up + shutdown (wait 0): %d ms wall, %d ms CPU = %.2f x baseline\n", bw, bc, bc / f
	printf "one virtual day (wait 86400): %.0f ms wall, %.0f ms CPU = %.2f x baseline\n", dayw, dayc, dayc / f
	printf "one tap (touch, new page, frame drawn): %.1f ms wall, %.1f ms CPU = %.3f x baseline\n", tapw, tapc, tapc / f
	printf "one top-up (22 taps, 2 notes, ledger, receipt): %.0f ms wall, %.0f ms CPU = %.3f x baseline = %.1f taps\n", \
		upw, upc, upc / f, upc / tapc
	printf "top-ups per second: %.2f by wall time (fsync included), %.2f by CPU time\n", 1000 / upw, 1000 / upc
}'
if [ "${BENCH_USE_DISPLAY:-0}" = 1 ]; then
	read -r dbase_wall dbase_cpu < <(measure empty --windowed)
	read -r dtaps_wall dtaps_cpu < <(measure taps --windowed)
	awk -v f="$floor_cpu" -v bw="$dbase_wall" -v bc="$dbase_cpu" -v tw="$dtaps_wall" -v tc="$dtaps_cpu" 'BEGIN {
		tapw = (tw - bw) / 200; tapc = (tc - bc) / 200
		printf "one tap, --windowed on $DISPLAY: %.1f ms wall, %.1f ms CPU = %.3f x baseline\n", tapw, tapc, tapc / f
	}'
fi
