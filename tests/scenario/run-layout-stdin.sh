#!/bin/bash
# `kiosk layout --file -`: a megabyte of text from standard input is laid out (wrapped, so
# every line fits), and a text over the tool's 4 MiB bound is refused with exit 2:
#   run-layout-stdin.sh KIOSK WORKDIR
set -u
kiosk=$(realpath "$1") work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
unit='مرحبا hello 150.00 AED 77 '
for _ in $(seq 1 34000); do printf '%s' "$unit"; done >mb.txt
[ "$(stat -c %s mb.txt)" -ge 1048576 ] || { echo "FAIL: fixture under 1 MiB" >&2; exit 1; }
"$kiosk" layout --width 1000 --file - <mb.txt >records 2>stderr
status=$?
cat stderr >&2
[ "$status" -eq 0 ] || { echo "FAIL: 1 MiB from stdin: exit $status" >&2; exit 1; }
lines=$(wc -l <records)
[ "$lines" -gt 1000 ] || { echo "FAIL: 1 MiB gave $lines lines" >&2; exit 1; }
cat mb.txt mb.txt mb.txt mb.txt mb.txt >5mb.txt
"$kiosk" layout --file - <5mb.txt >records 2>stderr
status=$?
cat stderr >&2
[ "$status" -eq 2 ] || { echo "FAIL: 5 MiB from stdin: exit $status, expected 2" >&2; exit 1; }
grep -qF -- '--file -: longer than 4 MiB' stderr || { echo "FAIL: expected the bound in the message" >&2; exit 1; }
[ ! -s records ] || { echo "FAIL: records printed for a refused text" >&2; exit 1; }
echo "ok: $lines lines"
