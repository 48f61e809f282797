# Sourced by the scenario scripts that run the kiosk in a window: an Xvfb of the size asked,
# its display number picked by Xvfb itself (-displayfd: no two tests race for one), stopped
# when the script exits. Leaves $xvfb (its pid) and exports DISPLAY.
#   xvfb_start WIDTHxHEIGHT      (in the script's work folder; "display" is written there)
xvfb_start() {
	rm -f display
	Xvfb -displayfd 3 -nolisten tcp -screen 0 "$1x24" 3>display >/dev/null 2>&1 &
	xvfb=$!
	trap 'kill "$xvfb" 2>/dev/null; wait "$xvfb" 2>/dev/null' EXIT
	for _ in $(seq 100); do [ -s display ] && break; sleep 0.1; done
	[ -s display ] || { echo "FAIL: Xvfb gave no display" >&2; exit 1; }
	export DISPLAY=":$(cat display)"
}

# Stops the Xvfb of the last xvfb_start, before starting another.
xvfb_stop() {
	kill "$xvfb" 2>/dev/null && wait "$xvfb" 2>/dev/null
	rm -f display
}
