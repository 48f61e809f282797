#!/bin/bash
# Two or more kiosk builds on the same headless scenario, one after the other in each round,
# so a change's before and after are measured in one run on the same machine (README:
# Benchmarks, "What each change did"):
#   bench/ab.sh ROUNDS SCENARIO KIOSK [KIOSK...]
# e.g. `cp build/kiosk/kiosk build/kiosk/kiosk-old` before the change, then
# `bash bench/ab.sh 15 shot.scenario build/kiosk/kiosk-old build/kiosk/kiosk`. A copy must stay
# in build/kiosk/, where the kiosk finds its assets. Each run: --headless --simulate, a fresh
# database and output folder; BENCH_REPEAT=N runs the scenario's lines N times over in one
# process (bench/appliance/topup.scenario 100 times: 100 whole top-ups). Prints per binary the
# median wall time and the mean CPU (user + system) of its runs, and each against the first's.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: bench/ab.sh ROUNDS SCENARIO KIOSK [KIOSK...]" >&2; exit 2; }
rounds=$1 scenario=$(realpath "$2")
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "${BENCH_REPEAT:-1}"); do cat "$scenario"; done >"$work/run.scenario"
scenario=$work/run.scenario
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
for _ in $(seq "$rounds"); do
	for i in "${!bins[@]}"; do
		rm -rf "$work/out" "$work/k.db"*
		/usr/bin/time -o "$work/t" -f "%e %U %S" "${bins[$i]}" --headless --simulate --script "$scenario" \
			--out "$work/out" --db "$work/k.db" >/dev/null 2>"$work/err" ||
			{ cat "$work/err" >&2; echo "bench: ${bins[$i]} failed" >&2; exit 1; }
		echo "$i $(cat "$work/t")" >>"$work/res"
	done
done
for i in "${!bins[@]}"; do
	awk -v i="$i" '$1 == i { print $2 * 1000, ($3 + $4) * 1000 }' "$work/res" | sort -g |
		awk '{ w[NR] = $1; c += $2 } END { printf "%.1f %.1f %d\n", w[int((NR + 1) / 2)], c / NR, NR }' >"$work/s$i"
done
read -r w0 c0 _ <"$work/s0"
for i in "${!bins[@]}"; do
	read -r w c n <"$work/s$i"
	awk -v b="${bins[$i]}" -v w="$w" -v c="$c" -v n="$n" -v w0="$w0" -v c0="$c0" \
		'BEGIN { printf "%s: median wall %.1f ms (%.2f), mean CPU %.1f ms (%.2f), %d runs\n", b, w, w / w0, c, c / c0, n }'
done
