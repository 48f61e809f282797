#!/bin/bash
# Start-up and idle benchmark (README: Benchmarks). IDLE_SECONDS defaults to 30.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build kiosk/kiosk bench/startup bench/sdl_baseline >/dev/null
exec build/bench/startup build/kiosk/kiosk build/bench/sdl_baseline "${1:-30}"
