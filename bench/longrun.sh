#!/bin/bash
# Memory over time and headless speed (README: Benchmarks, issue 14): TRANSACTIONS whole
# top-ups in one kiosk process, headless, simulated devices, virtual time:
#   bench/longrun.sh [TRANSACTIONS]                     default 10000 (about 15 min here)
# Each top-up: attract, English, top-up, the 16 card digits typed, next, an AED 50 note,
# finish, the receipt printed and filed, the done screen timing out to attract (5 s of virtual
# time: a scenario file holds at most 1 MiB, and 10,000 journeys fit only this short). Counted
# only if the ledger then verifies and holds exactly TRANSACTIONS completed AED 50 top-ups.
# Prints top-ups per second of wall time and per second of CPU (the process's user + system),
# and RSS sampled every 500 ms: at 10 % of the run (the warm-up done) and at the end, the
# least-squares slope in KiB per 1,000 top-ups against the top-ups done (the receipts filed),
# and the same for its anonymous and file-backed parts (VmRSS = RssAnon + RssFile + RssShmem).
# BENCH_KIOSK and BENCH_PROCTREE name the binaries (default: build them in build/);
# BENCH_KEEP=DIR keeps the samples (rss.txt: time, top-ups done, VmRSS, RssAnon, RssFile KiB).
# Not run by meson test: `bench-appliance-smoke` runs it with two top-ups and asserts no figure.
set -euo pipefail
[ -z "${BENCH_KIOSK:-}" ] || BENCH_KIOSK=$(realpath "$BENCH_KIOSK")
[ -z "${BENCH_PROCTREE:-}" ] || BENCH_PROCTREE=$(realpath "$BENCH_PROCTREE")
cd "$(dirname "$0")/.."
txs=${1:-10000}
if [ -z "${BENCH_KIOSK:-}" ] || [ -z "${BENCH_PROCTREE:-}" ]; then
	[ -f build/build.ninja ] || meson setup build >/dev/null
	ninja -C build kiosk/kiosk bench/proctree >/dev/null
fi
kiosk=$(realpath "${BENCH_KIOSK:-build/kiosk/kiosk}")
proctree=$(realpath "${BENCH_PROCTREE:-build/bench/proctree}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
val() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

printf '[topup]\ndone_seconds = 5\n' >"$work/long.ini"
for _ in $(seq "$txs"); do
	printf 'tap attract.en\ntap home.topup\ntype "7840123456789014"\ntap nav.next\nnote 50\ntap pay.finish\nwait 5\n'
done >"$work/long.scenario"
mkdir -p "$work/out"
"$proctree" --stderr "$work/l.err" -- "$kiosk" --headless --simulate --config "$work/long.ini" \
	--script "$work/long.scenario" --out "$work/out" --db "$work/long.db" >"$work/long" &
pt=$!
: >"$work/rss"
kpid=""
while kill -0 "$pt" 2>/dev/null; do
	[ -n "$kpid" ] || kpid=$(cat "/proc/$pt/task/$pt/children" 2>/dev/null | awk '{ print $1 }')
	if [ -n "$kpid" ]; then
		mem=$(awk '$1 == "VmRSS:" { r = $2 } $1 == "RssAnon:" { a = $2 } $1 == "RssFile:" { f = $2 }
			END { if (r) print r, a, f }' "/proc/$kpid/status" 2>/dev/null || true)
		# Each top-up files one receipt text: the count is the top-ups done so far.
		done_now=$(find "$work/out" -maxdepth 1 -name 'receipt-*.txt' 2>/dev/null | wc -l)
		[ -z "$mem" ] || echo "$(date +%s.%N) $done_now $mem" >>"$work/rss"
	fi
	sleep 0.5
done
wait "$pt"
[ "$(val "$work/long" status)" = 0 ] || { tail -5 "$work/l.err" >&2; echo "bench: the long run failed" >&2; exit 1; }
"$kiosk" ledger verify --db "$work/long.db" >/dev/null
done_count=$("$kiosk" ledger export --db "$work/long.db" |
	grep -c '"type":"tx_end","tx_rec":[0-9]*,"state":"completed","recovered":0,"credited_fils":5000,' || true)
[ "$done_count" = "$txs" ] || { echo "bench: the ledger holds $done_count completed top-ups, not $txs" >&2; exit 1; }
[ -z "${BENCH_KEEP:-}" ] || cp "$work/rss" "$BENCH_KEEP/rss.txt"
wall=$(val "$work/long" wall_ms) cpu=$(val "$work/long" cpu_ms)
echo "headless top-ups in virtual time, $txs in one run (ledger verified, all completed): $(awk -v n="$txs" -v w="$wall" 'BEGIN { printf "%.1f", n / (w / 1000) }') per second of wall time, $(awk -v n="$txs" -v c="$cpu" 'BEGIN { printf "%.1f", n / (c / 1000) }') per second of CPU ($(awk -v n="$txs" -v c="$cpu" 'BEGIN { printf "%.2f", c / n }') ms CPU each; the rest of the wall time is the ledger's fsyncs)"
# From 10 % of the top-ups (warm-up) to the end: first, last, least-squares slope per top-up.
awk -v n="$txs" '{ d[NR] = $2; r[NR] = $3; a[NR] = $4; f[NR] = $5 } END {
	k = 0
	for (i = 1; i <= NR; i++) if (d[i] >= n / 10 && d[i] < n) { k++; x[k] = d[i]; y[k] = r[i]; ya[k] = a[i]; yf[k] = f[i] }
	if (k < 3 || x[k] == x[1]) { print "RSS over the run: too short to sample (" NR " samples)"; exit }
	for (i = 1; i <= k; i++) { sx += x[i]; sy += y[i]; sa += ya[i]; sf += yf[i] }
	mx = sx / k; my = sy / k; ma = sa / k; mf = sf / k
	for (i = 1; i <= k; i++) {
		sxx += (x[i] - mx) ^ 2; sxy += (x[i] - mx) * (y[i] - my)
		sxa += (x[i] - mx) * (ya[i] - ma); sxf += (x[i] - mx) * (yf[i] - mf)
	}
	printf "RSS over the run (%d samples): %.1f MiB at %d top-ups, %.1f MiB at %d; slope %+.1f KiB per 1,000 top-ups (anonymous %+.1f, file-backed %+.1f)\n", \
		k, y[1] / 1024, x[1], y[k] / 1024, x[k], sxy / sxx * 1000, sxa / sxx * 1000, sxf / sxx * 1000
}' "$work/rss"
