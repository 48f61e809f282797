#!/bin/bash
# What a windowed kiosk on X11 (Xvfb here; Xwayland under cage) does not do on its way to the
# first frame (issue 14, start-up budget): read the X Compose table, which libX11's input
# method parsed for SDL, some 9 ms and 0.5 MB for a keyboard the kiosk has not got
# (kiosk/ui/display.c); load libcurl and its 21 libraries when no host is configured (the
# sync loads it on first use, kiosk/sync/curl-lazy.c). Skips (77) without Xvfb or strace.
#   run-start-lean.sh KIOSK WORKDIR
set -u
kiosk=$(realpath "$1") work=$2
. "$(dirname "$0")/xvfb.sh"
command -v Xvfb >/dev/null || { echo "skip: no Xvfb (apt-get install xvfb)"; exit 77; }
command -v strace >/dev/null || { echo "skip: no strace (apt-get install strace)"; exit 77; }
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
xvfb_start 1080x1920
printf 'expect-screen attract\ntap attract.en\nexpect-screen home\n' >lean.scenario
# A UTF-8 locale, as a kiosk's system has: the C locale has no Compose table to read anyway.
# LeakSanitizer cannot stop the world under strace.
env -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS -u XCOMPOSEFILE -u LC_ALL LANG=C.UTF-8 LD_DEBUG=files \
	DISPLAY=":$(cat display)" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -y -e trace=read -o reads "$kiosk" --windowed --simulate --script lean.scenario --out out \
	--db kiosk.db >stdout 2>stderr
status=$?
[ "$status" -eq 0 ] || { cat stderr >&2; echo "FAIL: windowed run under strace: exit $status" >&2; exit 1; }
# strace -y names each fd's file: a read of the table shows as read(N</usr/share/X11/locale/.../Compose>.
grep -q '</usr/share/X11/locale/' reads || { echo "FAIL: libX11 read none of its locale files: is this X11 at all?" >&2; exit 1; }
if grep -qE '</usr/share/X11/locale/[^>]*/Compose>' reads; then
	grep -m3 -E '</usr/share/X11/locale/[^>]*/Compose>' reads >&2
	echo "FAIL: the kiosk read the X Compose table on its way to the first frame (above)" >&2
	exit 1
fi
# The default configuration names no host: nothing may load libcurl (LD_DEBUG=files lists
# every object loaded, at exec and by dlopen).
grep -q 'file=libSDL2' stderr || { echo "FAIL: no LD_DEBUG=files lines: cannot tell what was loaded" >&2; exit 1; }
if grep -q 'file=libcurl' stderr; then
	grep -m3 'file=libcurl' stderr >&2
	echo "FAIL: the kiosk loaded libcurl with no host configured (above)" >&2
	exit 1
fi
echo "ok: no libcurl loaded, no X Compose table read ($(grep -c '</usr/share/X11/locale/' reads) reads of X locale files)"
