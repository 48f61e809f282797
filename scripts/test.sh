#!/bin/bash
# Quick start, second command (and what CI runs): install what is missing, build with
# warnings as errors, and run the whole suite twice: a normal build, then an
# AddressSanitizer + UndefinedBehaviorSanitizer build; then build the kiosk alone without the
# test port and check it takes no scenario, and run each libFuzzer target for a few seconds.
# Ends with "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh || exit 1

passed=0 failed=0 skipped=0
run_suite() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			echo "tests: 0 passed, 1 failed"
			exit 1
		}
	fi
	ninja -C "$dir" || { echo "tests: 0 passed, 1 failed"; exit 1; }
	meson test -C "$dir" --num-processes "$(nproc)" --print-errorlogs --no-rebuild
	# meson writes one JSON object per test; count outcomes from it, not from screen text.
	local log="$dir/meson-logs/testlog.json"
	local ok fail skip
	ok=$(grep -c '"result": "OK"' "$log" || true)
	skip=$(grep -c '"result": "SKIP"' "$log" || true)
	fail=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
	echo "$dir: $ok passed, $fail failed, $skip skipped"
	# The crash suite's counts (issue 11: "it prints its counts"), from its output in the log.
	grep -h '^crash: [0-9]* cases' "$dir/meson-logs/testlog.txt" || true
	# The network suite's counts (issue 12: "passes in CI with its counts printed"): its tests
	# and their TAP subtests, from the same JSON.
	python3 - "$log" <<'PY' || true
import json, re, sys
tests = ok = bad = sub_ok = sub_bad = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    if not t["name"].startswith("kiosk:network / "):
        continue
    tests += 1
    if t["result"] == "OK":
        ok += 1
    elif t["result"] != "SKIP":
        bad += 1
    out = t.get("stdout") or ""
    sub_ok += len(re.findall(r"^ok \d+", out, re.M))
    sub_bad += len(re.findall(r"^not ok \d+", out, re.M))
print(f"network: {ok} passed, {bad} failed ({tests} tests; subtests: {sub_ok} passed, {sub_bad} failed)")
PY
	passed=$((passed + ok)) failed=$((failed + fail)) skipped=$((skipped + skip))
}

# An installed kiosk is built without the test port (-Dtest_port=false): only its binary is
# built here, then checked to take no scenario (tests/scenario/check-no-test-port.sh).
run_no_test_port() {
	local dir=build-no-test-port
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true -Dtest_port=false >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			failed=$((failed + 1))
			return
		}
	fi
	if ninja -C "$dir" kiosk/kiosk && bash tests/scenario/check-no-test-port.sh "$dir/kiosk/kiosk" "$dir/check"; then
		echo "$dir: 1 passed, 0 failed, 0 skipped"
		passed=$((passed + 1))
	else
		echo "$dir: 0 passed, 1 failed, 0 skipped"
		failed=$((failed + 1))
	fi
}

# The fuzz targets as libFuzzer binaries (clang, every library instrumented, ASan + UBSan:
# scripts/fuzz.sh builds build-fuzz/), each run for FUZZ_SECONDS (default 5): a target that no
# longer builds with -Dfuzz=true, or falls over at once, fails here and not on the day someone
# fuzzes for hours. The `fuzz` suite above replays the corpora in the other two builds.
run_fuzz_smoke() {
	if bash scripts/fuzz.sh all "${FUZZ_SECONDS:-5}"; then
		echo "build-fuzz: 1 passed, 0 failed, 0 skipped"
		passed=$((passed + 1))
	else
		echo "build-fuzz: 0 passed, 1 failed, 0 skipped"
		failed=$((failed + 1))
	fi
}

run_suite build
run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
run_no_test_port
run_fuzz_smoke

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
