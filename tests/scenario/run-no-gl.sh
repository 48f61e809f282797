#!/bin/bash
# The kiosk draws without OpenGL in every mode (kiosk/ui/display.c): neither a windowed kiosk
# on an X display (Xvfb) nor a headless one loads libGL or libEGL, which under Xvfb meant
# Mesa's llvmpipe, half the start-up and 100 MiB (issue 14). A headless kiosk draws no frame
# nobody sees (its --startup-report counts 0) but still its screenshots; a windowed one draws
# each. Skips (77) without Xvfb, after the headless half.
#   run-no-gl.sh KIOSK WORKDIR
set -u
kiosk=$(realpath "$1") work=$2
. "$(dirname "$0")/xvfb.sh"
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
printf 'tap attract.en\nscreenshot home\ntap home.cancel\n' >w0.scenario

# $1: mode; the rest: environment. Fails when a GL library was loaded or the run failed.
check() {
	local mode=$1
	shift
	rm -rf out kiosk.db*
	rm -f report
	env "$@" LD_DEBUG=files "$kiosk" "$mode" --simulate --script w0.scenario --out out --db kiosk.db \
		--log-level info --startup-report "$PWD/report" >stdout 2>stderr
	local status=$?
	[ "$status" -eq 0 ] || { cat stderr >&2; echo "FAIL: $mode: exit $status" >&2; exit 1; }
	if grep -E 'file=lib(GL|EGL|GLX|gallium)[^ ]*\.so' stderr >&2; then
		echo "FAIL: $mode loaded an OpenGL library (above)" >&2
		exit 1
	fi
	grep -q 'display: .* software renderer' stderr || { echo "FAIL: $mode: no 'software renderer' line" >&2; exit 1; }
	[ -s out/home.png ] || { echo "FAIL: $mode: no screenshot" >&2; exit 1; }
	grep -q '^first_frame_monotonic_ns [0-9]' report || { echo "FAIL: $mode: no first frame reported" >&2; exit 1; }
	frames=$(awk '$1 == "frames" { print $2 }' report)
	if [ "$mode" = --headless ]; then
		[ "$frames" = 0 ] || { echo "FAIL: headless drew $frames frames nobody sees" >&2; exit 1; }
	else
		[ "${frames:-0}" -ge 3 ] || { echo "FAIL: $mode drew ${frames:-no} frames, not one per screen" >&2; exit 1; }
	fi
}

check --headless
cp out/home.png headless-home.png
command -v Xvfb >/dev/null || { echo "skip: no Xvfb (apt-get install xvfb)"; exit 77; }
xvfb_start 1920x1080
# With a session bus named SDL's input-method support opens D-Bus and leaves libdbus's global
# state for LeakSanitizer to report; with none the kiosk keeps SDL off D-Bus (display.c) and
# the windowed runs are checked for leaks like the headless ones (README: the sanitizer build).
# LeakSanitizer cannot stop the world under strace: no leak check for the strace run.
noleak="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
check --windowed -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS DISPLAY=":$(cat display)"
# SDL stays off D-Bus (display.c): with no session bus named, libdbus would fork the kiosk to
# exec dbus-launch before its first frame.
if command -v strace >/dev/null; then
	rm -rf out kiosk.db*
	env -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS DISPLAY=":$(cat display)" ASAN_OPTIONS="$noleak" \
		strace -f -qq -e trace=execve -o execs "$kiosk" --windowed --simulate --script w0.scenario --out out \
		--db kiosk.db >/dev/null 2>stderr || { cat stderr >&2; echo "FAIL: windowed under strace" >&2; exit 1; }
	if grep dbus-launch execs >&2; then
		echo "FAIL: the kiosk tried to start a D-Bus session bus (above)" >&2
		exit 1
	fi
else
	echo "note: no strace: the D-Bus check is skipped"
fi
# A headless screenshot is written from the page's own surface (display.c, headless_renderer,
# screenshot_framebuffer), a windowed one through a target texture: the same page either way,
# but for the blenders' rounding at the edges of text (at most 3 levels a channel).
if /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
	/usr/bin/python3 - headless-home.png out/home.png <<'PY' || exit 1
import sys
from PIL import Image, ImageChops
a, b = Image.open(sys.argv[1]), Image.open(sys.argv[2])
if a.mode != "RGB":
    sys.exit(f"FAIL: the headless screenshot is {a.mode}, not opaque RGB")
if a.size != b.size:
    sys.exit(f"FAIL: headless {a.size} and windowed {b.size} screenshots differ in size")
worst = max(hi for _, hi in ImageChops.difference(a, b.convert("RGB")).getextrema())
if worst > 3:
    sys.exit(f"FAIL: the headless and windowed screenshots of home differ by {worst} levels")
print(f"headless and windowed screenshots of home: at most {worst} levels apart")
PY
else
	echo "note: no python3-pil: the headless and windowed screenshots are not compared"
fi

# Full screen, unscaled: the card number typed key by key and the running total after each note
# redraw only what changed (kiosk/ui/display.c, D1), and each such partial frame, read back
# from the window, equals the page drawn whole (KIOSK_UI_CHECK_DAMAGE=1).
xvfb_stop
xvfb_start 1080x1920
printf 'tap attract.en\ntap home.topup\ntype "7840123456789014"\ntap nav.next\nnote 50\nnote 100\ntap pay.finish\nexpect-screen topup-done\n' \
	>topup.scenario
rm -rf out kiosk.db* report
env -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS DISPLAY=":$(cat display)" KIOSK_UI_CHECK_DAMAGE=1 "$kiosk" --fullscreen --simulate \
	--script topup.scenario --out out --db kiosk.db --startup-report "$PWD/report" >stdout 2>stderr
status=$?
[ "$status" -eq 0 ] || { cat stderr >&2; echo "FAIL: --fullscreen top-up: exit $status" >&2; exit 1; }
if grep 'partial frame differs' stderr >&2; then
	echo "FAIL: a partial frame is not what a whole draw shows (above)" >&2
	exit 1
fi
partial=$(awk '$1 == "frames_partial" { print $2 }' report)
whole=$(awk '$1 == "frames_whole" { print $2 }' report)
errors=$(awk '$1 == "frame_damage_errors" { print $2 }' report)
# 16 digits typed and two notes: at least that many frames change one field only.
[ "${partial:-0}" -ge 18 ] || { cat report >&2; echo "FAIL: ${partial:-no} partial frames, expected >= 18" >&2; exit 1; }
[ "$errors" = 0 ] || { echo "FAIL: $errors damage errors" >&2; exit 1; }
frames="$frames; full screen top-up: $whole whole, $partial partial, checked"
echo "ok: no OpenGL headless or windowed; headless drew no frame, windowed $frames"
