#!/bin/bash
# The crash suite's long run (tests/README.md, "crash/"): every kill point of every script under
# every device fate, then CASES moments at random (default 5000) from a new seed each run, in the
# plain build (build/). Prints the same counts as the CI run; a failure prints CRASH_REPLAY=...
# to run that case alone (`CRASH_REPLAY='...' build/tests/crash/test-crash`) and keeps its folder.
# Usage: bash scripts/crash.sh [CASES]     (CRASH_SEED=N to repeat a run)
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-5000}
[ -f build/build.ninja ] || meson setup build -Dwerror=true
ninja -C build -j2 tests/crash/test-crash
export CRASH_CASES=$cases CRASH_FATES=all CRASH_SEED=${CRASH_SEED:-$(date +%s)}
exec nice -n 10 build/tests/crash/test-crash
