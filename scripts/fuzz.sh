#!/bin/bash
# Coverage-guided fuzzing: build the libFuzzer configuration in build-fuzz/ (clang, every library
# instrumented, ASan + UBSan) and run each target, or the one named, for SECONDS (default 180),
# one after the other. The committed corpus is only read: new inputs go to a scratch corpus in
# build-fuzz/fuzz-work/<target>/corpus, crashes to build-fuzz/fuzz-work/<target>/.
# Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]    (TARGET: config, scenario, essp_cash, ...)
# Exit status: 0 nothing found, 1 a target crashed, timed out or leaked (its input is named).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${1:-all}
seconds=${2:-180}
build=build-fuzz

case $seconds in
'' | *[!0-9]*)
	echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2
	exit 2
	;;
esac
if ! command -v clang >/dev/null; then
	echo "fuzz.sh: needs clang (apt-get install clang)" >&2
	exit 2
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		>"$build.setup.log" 2>&1 || {
		cat "$build.setup.log"
		exit 1
	}
fi
# Every target meson registered (tests/fuzz/meson.build), whether or not it has a corpus yet;
# build.ninja first, so targets added since the last build are listed.
nice -n 10 ninja -C "$build" build.ninja >/dev/null || exit 1
mapfile -t all < <(ninja -C "$build" -t targets all | sed -n 's|^tests/fuzz/fuzz_\([a-z0-9_]*\):.*|\1|p' | sort -u)
if [ "$target" = all ]; then
	targets=("${all[@]}")
elif printf '%s\n' "${all[@]}" | grep -qx -- "$target"; then
	targets=("$target")
else
	echo "fuzz.sh: no target '$target'; targets: ${all[*]}" >&2
	exit 2
fi
bins=()
for t in "${targets[@]}"; do
	bins+=("tests/fuzz/fuzz_$t")
done
# Two cores are shared: never more than two compile jobs.
nice -n 10 ninja -C "$build" -j2 "${bins[@]}" || exit 1

# As in meson test: a UBSan finding stops the run so libFuzzer keeps the input that caused it.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for t in "${targets[@]}"; do
	work=$root/$build/fuzz-work/$t
	mkdir -p "$work/corpus"
	seeds=()
	[ -d "$root/tests/fuzz/corpus/$t" ] && seeds=("$root/tests/fuzz/corpus/$t")
	# -jobs=1 runs the fuzzer as one child writing fuzz-0.log in the current folder; the first
	# corpus folder is the one libFuzzer writes to, so the scratch one comes first.
	# Inputs left by an earlier run stay for whoever is fixing them; only this run's count.
	touch "$work/.started"
	(cd "$work" && rm -f fuzz-0.log &&
		nice -n 15 "$root/$build/tests/fuzz/fuzz_$t" -jobs=1 -max_total_time="$seconds" \
			-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
			"$work/corpus" "${seeds[@]}" >/dev/null 2>&1)
	log=$work/fuzz-0.log
	stats=$(grep -E '^#[0-9]+' "$log" | tail -1)
	found=$(find "$work" -maxdepth 1 -newer "$work/.started" -type f \
		\( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'slow-unit-*' \))
	if [ -n "$found" ] || grep -q -E '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error:|ALARM: )' "$log"; then
		echo "fuzz $t: FAILED (log: $log): $stats"
		grep -E 'ERROR|runtime error|SUMMARY|ALARM|Test unit written' "$log" | head -5
		failed=1
	else
		echo "fuzz $t: ok, ${seconds}s: $stats"
	fi
done
exit $failed
