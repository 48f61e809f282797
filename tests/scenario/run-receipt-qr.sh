#!/bin/bash
# A receipt the kiosk printed in a scenario verifies (docs/receipts.md): the top-up scenario
# runs headless on a database of its own, the QR code is decoded from the printed receipt's PNG
# by zbarimg (zbar-tools) as a phone would read it, and `kiosk receipt verify` accepts it with
# the key derived from the database (--db) and with the key `kiosk receipt pubkey` prints
# (--pubkey), naming the transaction the paper shows; the same text with one character changed
# is refused. Skips (77) without zbarimg.
#   run-receipt-qr.sh KIOSK SCENARIO WORKDIR
set -u
kiosk=$(realpath "$1") scenario=$(realpath "$2") work=$3
command -v zbarimg >/dev/null || { echo "SKIP: no zbarimg (zbar-tools)" >&2; exit 77; }
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$kiosk" --headless --simulate --script "$scenario" --db "$work/kiosk.db" --out "$work/out" 2>"$work/kiosk.stderr" ||
	{ cat "$work/kiosk.stderr" >&2; fail "the scenario failed"; }
png=$work/out/receipt-TXN-000001.png txt=$work/out/receipt-TXN-000001.txt
[ -s "$png" ] && [ -s "$txt" ] || fail "no receipt TXN-000001 printed"

# One symbol, read from the pixels the simulated printer decoded from the ESC/POS bytes.
qr=$(zbarimg --raw -q -Sdisable -Sqrcode.enable "$png" 2>/dev/null) || fail "zbarimg found no QR code in $png"
[ "$(wc -l <<<"$qr")" -eq 1 ] || fail "more than one code: $qr"
echo "decoded: $qr"
[[ "$qr" == EDK1:* ]] || fail "the code does not start EDK1:"
grep -qxF "QR	$qr" "$txt" || fail "the PNG's code is not the one the receipt's text says it printed"

out=$("$kiosk" receipt verify --db "$work/kiosk.db" "$qr") || fail "kiosk receipt verify --db refused it"
echo "$out"
for want in "kiosk id: KIOSK-0001" "reference: TXN-000001" "paid: AED 150.00 (15000 fils)" "lines: 1"; do
	grep -qxF "$want" <<<"$out" || fail "verify did not print: $want"
done
# The paper says the same.
grep -qF "Paid in cash	AED 150.00" "$txt" || fail "the receipt does not say AED 150.00 paid"
uuid=$(sed -n 's/^transaction uuid: //p' <<<"$out")
grep -qF "Transaction ID	$uuid" "$txt" || fail "the receipt's transaction id is not $uuid"

pub=$("$kiosk" receipt pubkey --db "$work/kiosk.db" | sed -n 's/^public key: //p')
[[ "$pub" =~ ^[0-9a-f]{64}$ ]] || fail "kiosk receipt pubkey printed no key"
"$kiosk" receipt verify --pubkey "$pub" "$qr" >/dev/null || fail "kiosk receipt verify --pubkey refused it"

# One character changed (inside the transaction uuid): refused, exit 1, with a reason.
i=60
c=${qr:$i:1}
[ "$c" = A ] && n=B || n=A
bad=${qr:0:$i}$n${qr:$((i + 1))}
"$kiosk" receipt verify --pubkey "$pub" "$bad" 2>"$work/bad.stderr" >/dev/null
status=$?
cat "$work/bad.stderr" >&2
[ "$status" -eq 1 ] || fail "an altered receipt gave exit $status, not 1"
grep -qF "NOT VALID" "$work/bad.stderr" || fail "no reason for the refusal"
echo ok
