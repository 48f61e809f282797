#!/bin/bash
# Kiosk ledgers drained to the reference host end to end (README: Benchmarks; docs/scaling.md):
# the sync client of `kiosk sync push` (kiosk/sync/drain.c over libcurl, mutual TLS, loopback)
# into `kiosk-host serve` on a throwaway PostgreSQL cluster, against bare libpq INSERT loops of
# the same records into the same table in the same run (bench/hostd/bench-sync.c says how).
#   bench/sync.sh [single|fleet|all]        (default all)
# single: one kiosk's backlog of 100,000 records (the ledger built once, then cached in
#         build/bench-cache); fleet: 100 kiosks of 1,000 records each draining at once, with one
#         host of 4 threads (kiosk-host's default), one of 16, and two hosts of 8 threads on the
#         same database, alternated twice so the shared machine's load drift shows. Needs a
#         PostgreSQL server (apt-get install postgresql; scripts/setup-deps.sh); as root the
#         cluster runs as `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build bench/hostd/bench-sync host/kiosk-host >/dev/null
mkdir -p build/bench-cache
run() {
	(cd build && KIOSK_SOURCE_DIR=.. KIOSK_HOST_BIN=host/kiosk-host bench/hostd/bench-sync --cache bench-cache "$@")
}
case $what in
single | all) run --kiosks 1 --records 100000 --pass 1x4 ;;&
fleet | all) run --kiosks 100 --records 1000 --pass 1x4,1x16,2x8,1x4,1x16,2x8 ;;
single) ;;
*)
	echo "usage: bench/sync.sh [single|fleet|all]" >&2
	exit 2
	;;
esac
