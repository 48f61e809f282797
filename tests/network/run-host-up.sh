#!/bin/bash
# scripts/host-up.sh as a tester uses it: a host in one command, a kiosk top-up against its
# configuration, `kiosk sync push`, and the host's dump holding exactly the kiosk's records
# and the card's credit. Skips (77) only when no PostgreSQL server is installed.
set -euo pipefail
kiosk=$1
host=$2
src=${KIOSK_SOURCE_DIR:?}
d=$(mktemp -d)
cleanup() {
	KIOSK_HOST=$host bash "$src/scripts/host-up.sh" stop "$d" >/dev/null 2>&1 || true
	rm -rf "$d"
}
trap cleanup EXIT
set +e
cfg=$(KIOSK_HOST=$host bash "$src/scripts/host-up.sh" start "$d" 2>"$d/start.err")
rc=$?
set -e
if [ $rc -ne 0 ]; then
	cat "$d/start.err" >&2
	grep -q "no PostgreSQL server found" "$d/start.err" && exit 77
	exit 1
fi
[ "$cfg" = "$d/kiosk.ini" ] || { echo "start printed '$cfg', not the configuration's path" >&2; exit 1; }
# A second start in the same folder is refused, the running host untouched.
if KIOSK_HOST=$host bash "$src/scripts/host-up.sh" start "$d" 2>/dev/null; then
	echo "a second start in $d was not refused" >&2
	exit 1
fi
"$kiosk" --simulate --headless --config "$cfg" --db "$d/kiosk.db" --out "$d/out" \
	--script "$src/tests/scenarios/host/host-up-topup.scenario" >"$d/run.log" 2>&1 || { cat "$d/run.log" >&2; exit 1; }
"$kiosk" sync push --db "$d/kiosk.db" --config "$cfg" >"$d/push.log" 2>&1 || { cat "$d/push.log" >&2; exit 1; }
"$kiosk" sync status --db "$d/kiosk.db" | grep -q '^queue depth: 0 records' || { echo "queue not empty after push" >&2; exit 1; }
KIOSK_HOST=$host bash "$src/scripts/host-up.sh" dump "$d" >"$d/dump.jsonl"
"$kiosk" ledger export --db "$d/kiosk.db" >"$d/export.jsonl"
# The host's records, in rec order, byte for byte what the kiosk exports.
grep '^{"rec":' "$d/dump.jsonl" >"$d/host-records.jsonl"
cmp "$d/export.jsonl" "$d/host-records.jsonl" || { echo "host and kiosk records differ" >&2; diff "$d/export.jsonl" "$d/host-records.jsonl" >&2; exit 1; }
[ -s "$d/export.jsonl" ] || { echo "the top-up left no records" >&2; exit 1; }
# The scenario paid 150 AED to demo card 7841000013579022 (a kiosk refuses a card the host does
# not know): credited once, exactly.
grep -q '^{"card":"7841000013579022","status":"active","balance_fils":15000,"opening_fils":0,"credited_fils":15000}$' \
	"$d/dump.jsonl" || { echo "card balance at the host is not the 15000 fils paid:" >&2; cat "$d/dump.jsonl" >&2; exit 1; }
echo "host-up: $(wc -l <"$d/export.jsonl") records synced and equal; card credited 15000 fils once"
