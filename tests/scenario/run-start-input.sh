#!/bin/bash
# Invariant 8 of kiosk/app.c: a windowed kiosk shows its first frame before its ledger opens,
# and taps made meanwhile are dropped unread: none acts on a kiosk that cannot record it yet.
# The ledger's open is held 3 s (strace delays the open of its lock file, its first step);
# once the first frame is reported the mouse taps the attract screen all over (xdotool), where
# both language buttons lead home; no screen change may follow (the log at info says each).
# A control run taps the same points after the start and must leave attract (the taps do hit
# a button).
# Skips (77) without Xvfb, strace or xdotool.
#   run-start-input.sh KIOSK WORKDIR
set -u
kiosk=$(realpath "$1") work=$2
. "$(dirname "$0")/xvfb.sh"
for tool in Xvfb strace xdotool; do
	command -v "$tool" >/dev/null || { echo "skip: no $tool"; exit 77; }
done
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
xvfb_start 1080x1920
unset WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
# LeakSanitizer cannot stop the world under strace.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
printf 'wait 6\n' >stay.scenario

# Taps where the portrait attract screen's two language buttons are (the control run shows a
# tap there acts), until the log $1 shows a screen change.
tap_all() {
	local win geo x0 y0 w h
	win=$(xdotool search --name 'e-Dirham kiosk' | head -1)
	[ -n "$win" ] || { echo "FAIL: no kiosk window to tap" >&2; return 1; }
	geo=$(xdotool getwindowgeometry --shell "$win")
	x0=$(sed -n 's/^X=//p' <<<"$geo") y0=$(sed -n 's/^Y=//p' <<<"$geo")
	w=$(sed -n 's/^WIDTH=//p' <<<"$geo") h=$(sed -n 's/^HEIGHT=//p' <<<"$geo")
	# A tap at a time (chained in one xdotool the taps did not reach SDL).
	for fy in 80 85; do
		for fx in 25 75; do
			xdotool mousemove $((x0 + w * fx / 100)) $((y0 + h * fy / 100)) click 1 || return 1
			! grep -q 'screen: attract -> ' "$1" || return 0 # a tap acted: enough
		done
	done
}

# $1: run name; $2: delay of the ledger's open in µs (0: none). Prints the kiosk's exit status.
run() {
	local name=$1 delay=$2 pid status
	rm -rf out "$name".db* report
	strace -f -qq -o /dev/null -P "$PWD/$name.db.lock" -e trace=openat -e inject=openat:delay_enter="$delay" \
		"$kiosk" --windowed --simulate --script stay.scenario --out out --db "$PWD/$name.db" \
		--startup-report "$PWD/report" --log-level info >"$name.out" 2>"$name.err" &
	pid=$!
	for _ in $(seq 300); do [ -s report ] && break; sleep 0.01; done
	[ -s report ] || { cat "$name.err" >&2; echo "FAIL: $name: no first frame within 3 s" >&2; kill "$pid"; exit 1; }
	if [ "$delay" = 0 ]; then
		# The control taps once the kiosk runs: its database is there and the loop turns.
		sleep 0.5
	elif [ -e "$name.db" ]; then
		echo "FAIL: $name: the ledger was open before the first frame: the taps would not come while it opens" >&2
		kill "$pid"
		exit 1
	fi
	tap_all "$name.err" || { kill "$pid"; exit 1; }
	if [ "$delay" != 0 ] && [ -e "$name.db" ]; then
		echo "FAIL: $name: the taps took longer than the ledger's held open" >&2
		kill "$pid"
		exit 1
	fi
	wait "$pid"
	echo $?
}

control=$(run control 0) || exit 1
[ "$control" = 0 ] || { cat control.err >&2; echo "FAIL: control: exit $control" >&2; exit 1; }
grep -q 'screen: attract -> home' control.err ||
	{ echo "FAIL: control: the taps after the start left the kiosk on attract: they hit no button" >&2; exit 1; }
held=$(run held 3000000) || exit 1
[ "$held" = 0 ] || { cat held.err >&2; echo "FAIL: held: exit $held" >&2; exit 1; }
if grep 'screen: attract -> ' held.err >&2; then
	echo "FAIL: taps made while the ledger opened acted on the kiosk (above)" >&2
	exit 1
fi
echo "ok: taps while the ledger opened were dropped; the same taps after the start left attract"
