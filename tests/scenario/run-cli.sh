#!/bin/bash
# Checks that a bad command line exits 2 with the expected message and writes nothing:
#   run-cli.sh KIOSK WORKDIR MESSAGE ARGS...
set -u
kiosk=$(realpath "$1") work=$2 want=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
"$kiosk" --db "$work/kiosk.db" --out "$work/out" "$@" 2>stderr </dev/null
status=$?
cat stderr >&2
[ "$status" -eq 2 ] || { echo "FAIL: exit $status, expected 2" >&2; exit 1; }
grep -qF -- "$want" stderr || { echo "FAIL: expected the message: $want" >&2; exit 1; }
[ "$(wc -l <stderr)" -eq 1 ] || { echo "FAIL: expected exactly one line of message" >&2; exit 1; }
[ ! -e "$work/kiosk.db" ] && [ ! -e "$work/out" ] || { echo "FAIL: something was written" >&2; exit 1; }
echo "ok"
