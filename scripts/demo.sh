#!/bin/bash
# Quick start, first command: install what is missing, build, and run the kiosk with
# simulated devices and an embedded SQLite database, synced to a reference host of its own
# (kiosk-host on a throwaway PostgreSQL cluster with docs/host-demo-data.md's cards, over
# mutual TLS: scripts/host-up.sh). With a display it opens a window; without one it runs the
# bundled demo scenario and a top-up of demo card 7841000024680132 (AED 25.00 at the host, AED
# 75.00 after the top-up, shown on screen) headless, and writes screenshots to out/. Either
# way it ends by printing what the host holds, and stops the host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
mkdir -p out

# The host's folder: under /tmp, as the cluster's user (postgres, when root) must reach it.
host_dir=$(mktemp -d)
stop_host() {
	bash scripts/host-up.sh stop "$host_dir" >/dev/null 2>&1 || true
	rm -rf "$host_dir"
}
trap stop_host EXIT
echo "demo: starting the reference host (throwaway PostgreSQL, mutual TLS)"
cfg=$(bash scripts/host-up.sh start "$host_dir")
db=$host_dir/kiosk.db

show_host() {
	echo "demo: the kiosk's queue:"
	build/kiosk/kiosk sync status --db "$db" | sed 's/^/  /'
	echo "demo: what the host holds:"
	bash scripts/host-up.sh dump "$host_dir" >"$host_dir/dump.jsonl"
	python3 - "$host_dir/dump.jsonl" <<'PY'
import json, sys
records = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "rec" in o:
        records[o["type"]] = records.get(o["type"], 0) + 1
    elif "acked" in o:
        print(f"  kiosk {o['kiosk']}: records 1..{o['acked']} held")
    elif "card" in o:
        print(f"  card {o['card']} ({o['status']}): AED {o['balance_fils'] // 100}.{o['balance_fils'] % 100:02d}"
              f" (credited by kiosks: AED {o['credited_fils'] // 100}.{o['credited_fils'] % 100:02d})")
    elif "alarms" in o:
        print(f"  alarms: {o['alarms']}")
print("  records by type: " + (", ".join(f"{k} {v}" for k, v in sorted(records.items())) or "none"))
PY
}

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
	echo "demo: starting the kiosk in a window (close it to quit); demo cards: docs/host-demo-data.md"
	build/kiosk/kiosk --simulate --windowed --config "$cfg" --db "$db" --out out "$@" || true
	show_host
	exit 0
fi
echo "demo: no display: running tests/scenarios/demo.scenario headless"
build/kiosk/kiosk --simulate --headless --config "$cfg" --script tests/scenarios/demo.scenario --db "$db" --out out "$@"
echo "demo: a top-up of card 7841000024680132 synced to the host (tests/scenarios/host/reference-topup.scenario)"
build/kiosk/kiosk --simulate --headless --config "$cfg" --script tests/scenarios/host/reference-topup.scenario \
	--db "$db" --out out "$@"
echo "demo: passed; screenshots (and any receipts and card faces) are in $(pwd)/out:"
ls -1 out/*.png
show_host
