#!/bin/bash
# Quick start, first command: install what is missing, build, and run the kiosk with
# simulated devices and an embedded SQLite database. With a display it opens a window;
# without one it runs the bundled demo scenario headless and writes screenshots to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
mkdir -p out
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
	echo "demo: starting the kiosk in a window (close it to quit)"
	exec build/kiosk/kiosk --simulate --windowed --db out/kiosk.db --out out "$@"
fi
echo "demo: no display: running tests/scenarios/demo.scenario headless"
build/kiosk/kiosk --simulate --headless --script tests/scenarios/demo.scenario --db out/kiosk.db --out out "$@"
echo "demo: passed; screenshots (and any receipts and card faces) are in $(pwd)/out:"
ls -1 out/*.png
