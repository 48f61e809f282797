#!/bin/bash
# A fees receipt the kiosk printed in a scenario verifies, and its e-voucher can be scanned
# (docs/receipts.md): the scenario runs headless on a database of its own; zbarimg (zbar-tools)
# reads both QR codes off the printed receipt's PNG as a phone or a kiosk's scanner would; the
# proof (EDK1:) is accepted by `kiosk receipt verify --db` naming the transaction, the amount
# and the number of lines the paper shows, and refused with one character changed; the voucher
# code (16 digits) is the one the paper prints in full and the one the ledger issued
# (`kiosk ledger export`, the voucher_issue record). Skips (77) without zbarimg.
#   run-fees-receipt-qr.sh KIOSK SCENARIO WORKDIR PAID_FILS LINES
set -u
kiosk=$(realpath "$1") scenario=$(realpath "$2") work=$3 paid_fils=$4 lines=$5
command -v zbarimg >/dev/null || { echo "SKIP: no zbarimg (zbar-tools)" >&2; exit 77; }
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$kiosk" --headless --simulate --script "$scenario" --db "$work/kiosk.db" --out "$work/out" 2>"$work/kiosk.stderr" ||
	{ cat "$work/kiosk.stderr" >&2; fail "the scenario failed"; }
png=$work/out/receipt-TXN-000001.png txt=$work/out/receipt-TXN-000001.txt
[ -s "$png" ] && [ -s "$txt" ] || fail "no receipt TXN-000001 printed"

# Two QR symbols (QR only: a 1-D symbology can be misread in the printed text), in whatever
# order zbarimg finds them: the proof and the voucher.
codes=$(zbarimg --raw -q -Sdisable -Sqrcode.enable "$png" 2>/dev/null) || fail "zbarimg found no QR code in $png"
echo "decoded:"
echo "$codes"
[ "$(grep -c . <<<"$codes")" -eq 2 ] || fail "not two codes on the receipt"
qr=$(grep '^EDK1:' <<<"$codes") || fail "no proof code (EDK1:) on the receipt"
voucher=$(grep -xE '9[0-9]{15}' <<<"$codes") || fail "no 16-digit voucher code on the receipt"
grep -qxF "QR	$qr" "$txt" || fail "the PNG's proof is not the one the receipt's text says it printed"
grep -qxF "QR	$voucher" "$txt" || fail "the PNG's voucher code is not the one the receipt's text says it printed"

out=$("$kiosk" receipt verify --db "$work/kiosk.db" "$qr") || fail "kiosk receipt verify --db refused it"
echo "$out"
aed=$(printf '%d.%02d' $((paid_fils / 100)) $((paid_fils % 100)))
for want in "kiosk id: KIOSK-0001" "reference: TXN-000001" "paid: AED $aed ($paid_fils fils)" "lines: $lines"; do
	grep -qxF "$want" <<<"$out" || fail "verify did not print: $want"
done
# The paper says the same, in its English block.
grep -qF "Total paid	AED $aed" "$txt" || fail "the receipt does not say AED $aed paid"
uuid=$(sed -n 's/^transaction uuid: //p' <<<"$out")
grep -qF "Transaction ID	$uuid" "$txt" || fail "the receipt's transaction id is not $uuid"
[ "$(grep -c '^Item [0-9]*:' "$txt")" -eq "$lines" ] || fail "the receipt does not list $lines items"

# The voucher: printed in full in groups of four, and the one the ledger issued.
grouped=$(sed -E 's/(....)(....)(....)(....)/\1 \2 \3 \4/' <<<"$voucher")
grep -qxF "e-Voucher code	$grouped" "$txt" || fail "the receipt's e-voucher code is not $grouped"
"$kiosk" ledger export --db "$work/kiosk.db" >"$work/export.jsonl" || fail "kiosk ledger export failed"
grep -q "\"type\":\"voucher_issue\".*\"code\":\"$voucher\"" "$work/export.jsonl" ||
	fail "the ledger issued no voucher $voucher"

# One character changed (inside the transaction uuid): refused, exit 1, with a reason.
i=60
c=${qr:$i:1}
[ "$c" = A ] && n=B || n=A
bad=${qr:0:$i}$n${qr:$((i + 1))}
"$kiosk" receipt verify --db "$work/kiosk.db" "$bad" 2>"$work/bad.stderr" >/dev/null
status=$?
cat "$work/bad.stderr" >&2
[ "$status" -eq 1 ] || fail "an altered receipt gave exit $status, not 1"
grep -qF "NOT VALID" "$work/bad.stderr" || fail "no reason for the refusal"
echo ok
