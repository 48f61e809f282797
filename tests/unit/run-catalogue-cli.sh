#!/bin/bash
# `kiosk catalogue check DIR` (kiosk/fees/tool.c) from the kiosk binary: the shipped catalogue
# passes (exit 0), a broken copy fails naming the file and the entry (exit 1), bad arguments 2.
#   run-catalogue-cli.sh KIOSK SOURCE_ROOT
set -u
kiosk=$1
src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-catalogue-cli-XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
"$kiosk" catalogue check "$src/assets/catalogue" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "shipped catalogue: exit $rc: $(cat "$tmp/err")"
grep -qE '^catalogue [0-9a-f]{64}: 8 entities$' "$tmp/out" || fail "shipped: summary line"
grep -qF "  police-fines: inquiry, reference 5..10 digits, check none, host police/fines (needs the host)" "$tmp/out" \
	|| fail "shipped: police-fines line"

# A copy whose Salik step does not divide its range; its icons beside it.
mkdir -p "$tmp/assets/catalogue" "$tmp/assets/icons"
cp "$src"/assets/catalogue/*.json "$tmp/assets/catalogue/"
cp "$src"/assets/icons/*.png "$tmp/assets/icons/"
"$kiosk" catalogue check "$tmp/assets/catalogue" >/dev/null 2>&1 || fail "copy: expected exit 0"
sed -i 's/"step_fils": 5000/"step_fils": 3000/' "$tmp/assets/catalogue/rta.json"
"$kiosk" catalogue check "$tmp/assets/catalogue" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "bad step: expected exit 1, got $rc"
grep -qF "kiosk catalogue check: rta.json: entities[0] (rta): services[0] (salik-recharge): fee.step_fils 3000 does not divide max_fils - min_fils (95000)" "$tmp/err" \
	|| fail "bad step: message: $(cat "$tmp/err")"
[ -s "$tmp/out" ] && fail "bad step: printed a catalogue"

# A missing icon is named.
sed -i 's/"step_fils": 3000/"step_fils": 5000/' "$tmp/assets/catalogue/rta.json"
rm "$tmp/assets/icons/dld.png"
"$kiosk" catalogue check "$tmp/assets/catalogue" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "missing icon: expected exit 1, got $rc"
grep -qF "dld.json: entity dld: icon" "$tmp/err" || fail "missing icon: message: $(cat "$tmp/err")"
"$kiosk" catalogue check "$tmp/assets/catalogue" --icons "$src/assets/icons" >/dev/null 2>&1 \
	|| fail "--icons: expected exit 0"

# Arguments.
"$kiosk" catalogue >/dev/null 2>&1; [ $? -eq 2 ] || fail "no command: expected exit 2"
"$kiosk" catalogue check >/dev/null 2>&1; [ $? -eq 2 ] || fail "no folder: expected exit 2"
"$kiosk" catalogue check a b >/dev/null 2>&1; [ $? -eq 2 ] || fail "two folders: expected exit 2"
"$kiosk" catalogue check --bogus x >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] || fail "bad option: expected exit 2"
grep -qF "unknown option '--bogus'" "$tmp/err" || fail "bad option: message"
"$kiosk" catalogue list x >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command: expected exit 2"
"$kiosk" catalogue check /nonexistent/catalogue >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "no folder: expected exit 1"
"$kiosk" catalogue --help >"$tmp/out" 2>/dev/null; [ $? -eq 0 ] || fail "--help: expected 0"
grep -qF "kiosk catalogue check DIR" "$tmp/out" || fail "--help: usage"
echo ok
