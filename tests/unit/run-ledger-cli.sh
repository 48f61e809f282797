#!/bin/bash
# `kiosk ledger` reaches the ledger tool from the kiosk binary (main.c's dispatch) with its
# exit codes: 2 for bad arguments, 3 for a database that cannot be opened, 0 for help.
#   run-ledger-cli.sh KIOSK
set -u
kiosk=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
"$kiosk" ledger 2>err >/dev/null; [ $? -eq 2 ] || fail "no command: expected exit 2"
"$kiosk" ledger verify 2>err >/dev/null; [ $? -eq 2 ] || fail "no --db: expected exit 2"
grep -qF -- "--db PATH is needed" err || fail "no --db: message"
"$kiosk" ledger export --db x --since 1x 2>err >/dev/null; [ $? -eq 2 ] || fail "bad --since: expected 2"
grep -qF -- "not a record number" err || fail "bad --since: message"
"$kiosk" ledger verify --db /nonexistent/k.db 2>err >/dev/null; [ $? -eq 3 ] || fail "no database: expected 3"
"$kiosk" ledger --help >out 2>/dev/null; [ $? -eq 0 ] || fail "--help: expected 0"
grep -qF "kiosk ledger verify --db PATH" out || fail "--help: usage"
rm -f err out
echo ok
