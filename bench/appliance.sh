#!/bin/bash
# The appliance's performance budget against a Chromium kiosk (README: Benchmarks, issue 14):
#   bench/appliance.sh [ROUNDS] [IDLE_SECONDS] [TRANSACTIONS]        defaults 7, 60, 10000
# Each round runs the kiosk and Chromium one after the other (the order alternating by round)
# on the same machine and the same Xvfb display, so every ratio is of two runs made a moment
# apart; the figures are medians over the rounds. Measured, with bench/appliance/proctree
# (a subreaper: a process tree's orphans stay in it and are counted and killed):
#   - one-shot 1080x1920 screenshot, exec to the whole tree's exit: `kiosk --headless` (a
#     scenario with one screenshot) against `chromium-headless-shell --screenshot`;
#   - exec to first frame in a window on Xvfb: `kiosk --windowed` (its --startup-report)
#     against `chromium --kiosk`'s first contentful paint (bench/appliance/attract.html logs
#     it); `kiosk --fullscreen` too, which waits for a window manager there is none of;
#   - memory of the whole tree, the sum of PSS, 3 s after the first frame: the windowed kiosk
#     against `chromium --kiosk` and against chromium-headless-shell holding the same page;
#   - idle CPU and context switches over IDLE_SECONDS on attract, the simulated devices
#     connected, against `chromium --kiosk` on its page.
# Then the kiosk alone: frame CPU (its --startup-report's frame lines) full screen on Xvfb
# for 50 attract/home round trips and for one whole top-up; and bench/longrun.sh: TRANSACTIONS
# scripted top-ups headless in virtual time (counted only if the ledger verifies and holds
# them all): top-ups per second (wall, and CPU), RSS at 10 % and at the end and its slope.
# Chromium is Debian's `chromium` and `chromium-headless-shell` (apt-get install chromium
# chromium-headless-shell); either missing, or BENCH_CHROMIUM=0, skips its baseline with a
# message. No Xvfb skips the windowed figures. BENCH_KIOSK and BENCH_PROCTREE name the
# binaries (default: build them in build/); BENCH_HOLD_MS the wait after the first frame.
set -euo pipefail
# Named binaries are taken from where the caller stands.
[ -z "${BENCH_KIOSK:-}" ] || BENCH_KIOSK=$(realpath "$BENCH_KIOSK")
[ -z "${BENCH_PROCTREE:-}" ] || BENCH_PROCTREE=$(realpath "$BENCH_PROCTREE")
cd "$(dirname "$0")/.."
src=$PWD
rounds=${1:-7} idle_s=${2:-60} txs=${3:-10000}
hold_ms=${BENCH_HOLD_MS:-3000}
if [ -z "${BENCH_KIOSK:-}" ] || [ -z "${BENCH_PROCTREE:-}" ]; then
	[ -f build/build.ninja ] || meson setup build >/dev/null
	ninja -C build kiosk/kiosk bench/proctree >/dev/null
fi
kiosk=$(realpath "${BENCH_KIOSK:-build/kiosk/kiosk}")
proctree=$(realpath "${BENCH_PROCTREE:-build/bench/proctree}")
page="file://$src/bench/appliance/attract.html"
work=$(mktemp -d)
xvfb=""
cleanup() {
	[ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null && wait "$xvfb" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
# Median of the numbers on stdin ("-" when none).
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The value of key in a proctree or report output file.
val() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", a / b }'; }

shell=$(command -v chromium-headless-shell || true)
chrome=$(command -v chromium || true)
if [ "${BENCH_CHROMIUM:-1}" = 0 ]; then
	say "Chromium: skipped (BENCH_CHROMIUM=0): kiosk figures only, no ratios"
	shell="" chrome=""
else
	[ -n "$shell" ] || say "Chromium: no chromium-headless-shell (apt-get install chromium-headless-shell): its baselines skipped"
	[ -n "$chrome" ] || say "Chromium: no chromium (apt-get install chromium): its baselines skipped"
fi
nosandbox=()
[ "$(id -u)" = 0 ] && nosandbox=(--no-sandbox) # Chromium refuses to run as root with its sandbox
if command -v Xvfb >/dev/null; then
	# Portrait like the kiosk's 1080x1920 screen, so full screen is that size and unscaled.
	Xvfb -displayfd 3 -nolisten tcp -screen 0 1080x1920x24 3>"$work/display" >/dev/null 2>&1 &
	xvfb=$!
	for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
	[ -s "$work/display" ] || { echo "bench: Xvfb gave no display" >&2; exit 1; }
	display=":$(cat "$work/display")"
else
	say "Xvfb: not installed (apt-get install xvfb): the windowed figures are skipped"
	display=""
fi
mkdir -p "$work/res"
printf 'expect-screen attract\nscreenshot attract\n' >"$work/shot.scenario"

kiosk_shot() {
	"$proctree" -- "$kiosk" --headless --simulate --script "$work/shot.scenario" --out "$work/shot-k" \
		--db "$work/shot-k.db" >"$work/o"
	[ "$(val "$work/o" status)" = 0 ] || { echo "bench: the kiosk's screenshot run failed" >&2; exit 1; }
	val "$work/o" wall_ms >>"$work/res/shot_k"
}
shell_shot() {
	rm -f "$work/shot-c.png"
	"$proctree" -- "$shell" "${nosandbox[@]}" --user-data-dir="$work/ud-shell" --screenshot="$work/shot-c.png" \
		--window-size=1080,1920 --hide-scrollbars "$page" >"$work/o"
	[ -s "$work/shot-c.png" ] || { echo "bench: chromium-headless-shell wrote no screenshot" >&2; exit 1; }
	val "$work/o" wall_ms >>"$work/res/shot_c"
}
# $1: --windowed or --fullscreen; $2: the result's name; $3: idle seconds (0: none).
kiosk_window() {
	rm -f "$work/report"
	DISPLAY=$display WAYLAND_DISPLAY='' "$proctree" --hold "$hold_ms" --idle $(($3 * 1000)) \
		--ready-file "$work/report" --stderr "$work/k.err" -- \
		"$kiosk" "$1" --simulate --db "$work/win-k.db" --startup-report "$work/report" >"$work/o" ||
		{ cat "$work/k.err" >&2; exit 1; }
	awk -v t0="$(val "$work/o" exec_mono_ns)" '$1 == "first_frame_monotonic_ns" { printf "%.1f\n", ($2 - t0) / 1e6 }' \
		"$work/report" >>"$work/res/${2}_first"
	val "$work/o" pss_kib >>"$work/res/${2}_pss"
	val "$work/o" procs >>"$work/res/${2}_procs"
	if [ "$3" -gt 0 ]; then
		val "$work/o" idle_cpu_ms >>"$work/res/${2}_idle"
		val "$work/o" idle_switches >>"$work/res/${2}_sw"
	fi
}
chrome_window() {
	DISPLAY=$display "$proctree" --hold "$hold_ms" --idle $((idle_s * 1000)) --ready-text FCP_EPOCH_MS \
		--stderr "$work/c.err" -- "$chrome" "${nosandbox[@]}" --kiosk --no-first-run --noerrdialogs \
		--password-store=basic --user-data-dir="$work/ud-chrome" --enable-logging=stderr "$page" >"$work/o" ||
		{ tail -5 "$work/c.err" >&2; exit 1; }
	grep -q 'OVERFLOW false' "$work/c.err" || { echo "bench: the fixture overflows the 1080x1920 page" >&2; exit 1; }
	awk -v t0="$(val "$work/o" exec_real_ns)" '{ for (i = 1; i < NF; i++) if ($i ~ /FCP_EPOCH_MS$/) { printf "%.1f\n", $(i + 1) - t0 / 1e6; exit } }' \
		"$work/c.err" >>"$work/res/win_c_first"
	val "$work/o" pss_kib >>"$work/res/win_c_pss"
	val "$work/o" procs >>"$work/res/win_c_procs"
	val "$work/o" idle_cpu_ms >>"$work/res/win_c_idle"
	val "$work/o" idle_switches >>"$work/res/win_c_sw"
}
shell_hold() {
	"$proctree" --hold "$hold_ms" --ready-text FCP_EPOCH_MS --stderr "$work/s.err" -- "$shell" "${nosandbox[@]}" \
		--user-data-dir="$work/ud-shell" --window-size=1080,1920 --remote-debugging-port=0 \
		--enable-logging=stderr "$page" >"$work/o" || { tail -5 "$work/s.err" >&2; exit 1; }
	val "$work/o" pss_kib >>"$work/res/shell_pss"
	val "$work/o" procs >>"$work/res/shell_procs"
}

# Warm-up, not counted: each side's database or profile exists, and the files are cached.
kiosk_shot
[ -z "$shell" ] || shell_shot
rm -f "$work"/res/*
for r in $(seq "$rounds"); do
	say "round $r/$rounds"
	if [ $((r % 2)) = 1 ]; then
		kiosk_shot
		[ -z "$shell" ] || { shell_shot; shell_hold; }
	else
		[ -z "$shell" ] || { shell_hold; shell_shot; }
		kiosk_shot
	fi
	[ -n "$display" ] || continue
	if [ $((r % 2)) = 1 ]; then
		kiosk_window --windowed win_k "$idle_s"
		[ -z "$chrome" ] || chrome_window
	else
		[ -z "$chrome" ] || chrome_window
		kiosk_window --windowed win_k "$idle_s"
	fi
	kiosk_window --fullscreen full_k 0
done

m() { if [ -s "$work/res/$1" ]; then median <"$work/res/$1"; else echo -; fi; }
mib() { awk -v k="$1" 'BEGIN { if (k == "-") print "-"; else printf "%.1f", k / 1024 }'; }
say ""
say "== Against Chromium: medians of $rounds paired rounds =="
say "one-shot 1080x1920 screenshot, exec to exit: kiosk --headless $(m shot_k) ms; chromium-headless-shell $(m shot_c) ms; ratio $(ratio "$(m shot_k)" "$(m shot_c)")"
if [ -n "$display" ]; then
	say "exec to first frame on Xvfb: kiosk --windowed $(m win_k_first) ms; chromium --kiosk first contentful paint $(m win_c_first) ms; ratio $(ratio "$(m win_k_first)" "$(m win_c_first)")"
	say "exec to first frame on Xvfb, kiosk --fullscreen (no window manager there): $(m full_k_first) ms; ratio to chromium --kiosk $(ratio "$(m full_k_first)" "$(m win_c_first)")"
	say "memory, sum of PSS over the process tree: kiosk --windowed $(mib "$(m win_k_pss)") MiB ($(m win_k_procs) process); chromium --kiosk $(mib "$(m win_c_pss)") MiB ($(m win_c_procs) processes), ratio $(ratio "$(m win_k_pss)" "$(m win_c_pss)"); chromium-headless-shell $(mib "$(m shell_pss)") MiB ($(m shell_procs) processes), ratio $(ratio "$(m win_k_pss)" "$(m shell_pss)")"
	say "idle CPU over ${idle_s} s on attract (devices connected): kiosk $(m win_k_idle) ms, $(m win_k_sw) context switches; chromium --kiosk $(m win_c_idle) ms, $(m win_c_sw) switches; ratio $(ratio "$(m win_k_idle)" "$(m win_c_idle)")"
fi

say ""
say "== The kiosk alone =="
if [ -n "$display" ]; then
	for _ in $(seq 50); do printf 'tap attract.en\ntap home.cancel\n'; done >"$work/taps.scenario"
	printf 'tap attract.en\ntap home.topup\ntype "7840123456789014"\ntap nav.next\nnote 50\nnote 100\ntap pay.finish\nexpect-screen topup-done\ntap done.close\nexpect-screen attract\n' \
		>"$work/topup1.scenario"
	for s in taps topup1; do
		rm -rf "$work/frames.db"* "$work/report"
		DISPLAY=$display WAYLAND_DISPLAY='' "$kiosk" --fullscreen --simulate --script "$work/$s.scenario" \
			--out "$work/frames-out" --db "$work/frames.db" --startup-report "$work/report" 2>"$work/f.err" ||
			{ cat "$work/f.err" >&2; exit 1; }
		cp "$work/report" "$work/frames-$s"
	done
	f() { val "$work/frames-$1" "frame_cpu_us_$2" | awk '{ printf "%.2f", $1 / 1000 }'; }
	say "frame CPU, full screen 1080x1920 on Xvfb, software renderer (rebuild, draw, present): 50 attract/home round trips, $(val "$work/frames-taps" frames) frames: median $(f taps median) ms, p99 $(f taps p99) ms, max $(f taps max) ms (the first, glyphs rasterised)"
	say "frame CPU during one whole top-up, $(val "$work/frames-topup1" frames) frames: median $(f topup1 median) ms, p99 $(f topup1 p99) ms, worst $(f topup1 max) ms"
fi

# TRANSACTIONS top-ups headless in virtual time, RSS sampled as they run: bench/longrun.sh.
BENCH_KIOSK=$kiosk BENCH_PROCTREE=$proctree bash "$src/bench/longrun.sh" "$txs"
