#!/bin/bash
# Start-up recovery as the kiosk binary meets it: a database a crash left behind, made with
# recovery-tool through the ledger's own API, then the kiosk started headless on it.
#   run-recovery.sh KIOSK RECOVERY_TOOL SCENARIO_DIR WORKDIR CASE
# Cases (tests/scenarios/recovery/CASE.scenario):
#   recovered      an open top-up with AED 250 paid: completed as recovered, its receipt
#                  printed once (a restart prints nothing more)
#   sent           its receipt was sent, never reported printed: printed again, DUPLICATE
#   printer-later  the printer runs out of paper as the receipt goes out: printed again,
#                  DUPLICATE, once paper is back
#   in-path        an accepted note the validator's counters prove stacked: credited to the
#                  open transaction by the acceptor's SETTLE before recovery ends it
#   new-customer   as in-path, and a customer at home the moment the acceptor settled: the
#                  top-up waits until recovery ended the open transaction (home says why),
#                  then serves them as transaction 2
#   undecided      a note journey nothing can decide: cash reports fault "undecided" (its
#                  notice says why), and the log tells the technician
#   fees           an open fees basket of AED 200.00 with AED 250 paid: ended by recovery with
#                  its lines to be confirmed and AED 50.00 on a new e-voucher, whose code the
#                  receipt prints in full and as a QR of its own (the customer's only way to
#                  learn it); the proof QR verifies; printed once
#   fees-no-catalogue  as fees, the kiosk started with no fees catalogue at all (an empty
#                  folder and no good copy stored: recovery holds a NULL catalogue): the basket
#                  is ended all the same, to the fils, and its receipt names the lines by their
#                  ids, with the voucher
#   stuck          two recovered receipts that can never print ahead of one that can: both
#                  given up (logged, listed by `kiosk ledger receipts`, not tried again after a
#                  restart), the third printed
set -u
kiosk=$(realpath "$1") tool=$(realpath "$2") scenarios=$(realpath "$3") work=$4 case=$5
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
db=$work/kiosk.db
fail() { echo "FAIL: $*" >&2; exit 1; }

run() { # SCENARIO [ARGS...]: the kiosk on $db, exit 0 expected
	"$kiosk" --headless --simulate --script "$scenarios/$1.scenario" --db "$db" --out "$work/out" "${@:2}" \
		2>"$work/$1.stderr"
	local status=$?
	cat "$work/$1.stderr" >&2
	[ "$status" -eq 0 ] || fail "$1: exit $status"
}

# The receipt's text has the transaction as the ledger booked it.
expect_receipt() { # FILE
	local txt=$work/out/$1 tab=$'\t'
	[ -s "$txt" ] || fail "no $1"
	for line in "Reference${tab}TXN-000001" "Card${tab}•••• •••• •••• 9012" "Paid in cash${tab}AED 250.00" \
		"Banknotes${tab}3 notes" "2 × AED 100${tab}AED 200.00" "1 × AED 50${tab}AED 50.00" \
		"Credited to card${tab}AED 250.00" "This kiosk gives no change." \
		"رقم البطاقة${tab}•••• •••• •••• 9012" "2 × 100 د.إ${tab}200.00 د.إ" "أضيف إلى البطاقة${tab}250.00 د.إ" \
		"Kiosk${tab}KIOSK-0001" "Date${tab}2027-01-01 0"; do
		grep -qF -- "$line" "$txt" || fail "$1 lacks the line: $line"
	done
	grep -qE "^Transaction ID${tab}[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\$" "$txt" ||
		fail "$1 lacks the transaction id"
	grep -q "7840123456789012\|7840 1234" "$txt" && fail "$1 shows more of the card than its last four digits"
	# The card's middle digits, on the card's own lines only: the transaction id is random hex
	# and holds "5678" in about one receipt in 200 (a failure of this test, seen once).
	grep -E "^(Card|رقم البطاقة)${tab}" "$txt" | grep -q "5678" &&
		fail "$1 shows more of the card than its last four digits"
	return 0
}

expect_ledger() { # TEXT: what recovery-tool show says of transaction 1
	local got
	got=$("$tool" show "$db" 1) || fail "recovery-tool show"
	[ "$got" = "$1" ] || fail "ledger: '$got', expected '$1'"
}

case $case in
recovered)
	"$tool" open "$db" || fail "recovery-tool open"
	expect_ledger "open recovered=0 credited=0 notes=3 receipts-due=0 invariants=ok"
	run recovered
	grep -qF "transaction 1 (" "$work/recovered.stderr" &&
		grep -qF "was left open by an interruption: completed by recovery, 25000 fils credited from 3 notes to card ...9012" \
			"$work/recovered.stderr" || fail "recovery did not log the transaction it completed"
	expect_ledger "completed recovered=1 credited=25000 notes=3 receipts-due=0 invariants=ok"
	expect_receipt receipt-TXN-000001.txt
	grep -qF "Recovered after an interruption" "$work/out/receipt-TXN-000001.txt" || fail "no recovery line"
	grep -qF "DUPLICATE" "$work/out/receipt-TXN-000001.txt" && fail "the first print says DUPLICATE"
	run restarted
	expect_ledger "completed recovered=1 credited=25000 notes=3 receipts-due=0 invariants=ok"
	;;
sent)
	"$tool" sent "$db" || fail "recovery-tool sent"
	expect_ledger "completed recovered=1 credited=25000 notes=3 receipts-due=1 invariants=ok"
	run sent
	expect_ledger "completed recovered=1 credited=25000 notes=3 receipts-due=0 invariants=ok"
	expect_receipt receipt-TXN-000001-R2.txt
	;;
printer-later)
	"$tool" open "$db" || fail "recovery-tool open"
	run printer-later
	expect_ledger "completed recovered=1 credited=25000 notes=3 receipts-due=0 invariants=ok"
	expect_receipt receipt-TXN-000001-R2.txt
	grep -qF "DUPLICATE" "$work/out/receipt-TXN-000001-R2.txt" || fail "the reprint does not say DUPLICATE"
	;;
in-path)
	"$tool" in-path "$db" || fail "recovery-tool in-path"
	# The validator's own memory: the accepted AED 100 note reached the cashbox (stacked 0 -> 1)
	# after the kiosk died.
	printf 'sim-essp-state 1\nserial 1873452\ncounters 1 0 0 0 0\ncashbox 8 0 0 0 0 1 0 0 0\nnote none 0 0 0\nlast_reject 0\nfaults 0 0 0 0\n' \
		>"$db.sim-cash"
	run in-path
	# Credited by the acceptor's SETTLE while the transaction was still open: booked to it,
	# not to suspense (recovery waited for the acceptor).
	expect_ledger "completed recovered=1 credited=35000 notes=4 receipts-due=0 invariants=ok"
	;;
new-customer)
	"$tool" in-path "$db" || fail "recovery-tool in-path"
	printf 'sim-essp-state 1\nserial 1873452\ncounters 1 0 0 0 0\ncashbox 8 0 0 0 0 1 0 0 0\nnote none 0 0 0\nlast_reject 0\nfaults 0 0 0 0\n' \
		>"$db.sim-cash"
	run new-customer
	# The crash's transaction ended by recovery with the note in the path, the customer's own
	# completed by them: not ended under them by recovery.
	expect_ledger "completed recovered=1 credited=35000 notes=4 receipts-due=0 invariants=ok"
	got=$("$tool" show "$db" 2) || fail "recovery-tool show 2"
	[ "$got" = "completed recovered=0 credited=1000 notes=1 receipts-due=0 invariants=ok" ] ||
		fail "the customer's transaction: '$got'"
	;;
undecided)
	"$tool" undecided "$db" || fail "recovery-tool undecided"
	# The scenario declares the validator's two start-up error lines at its top (registered
	# before the kiosk starts) and checks the screens; any other error line fails it.
	KIOSK_LOG=info run undecided
	grep -qF "info  app: cash: fault (undecided)" "$work/undecided.stderr" || fail "undecided: no device event"
	[ "$(grep -c '^error' "$work/undecided.stderr")" -eq 2 ] || fail "undecided: more than two error lines"
	;;
fees)
	"$tool" fees "$db" || fail "recovery-tool fees"
	run fees-recovered
	grep -qF "fees transaction 1 (" "$work/fees-recovered.stderr" || fail "recovery did not log the fees transaction"
	got=$("$tool" show-fees "$db" 1) || fail "recovery-tool show-fees"
	[[ "$got" =~ ^voucher=(9[0-9]{15})\ rest=5000\ lines=unconfirmed,unconfirmed$ ]] || fail "ledger: '$got'"
	code=${BASH_REMATCH[1]}
	txt=$work/out/receipt-TXN-000001.txt png=$work/out/receipt-TXN-000001.png tab=$'\t'
	[ -s "$txt" ] || fail "no receipt TXN-000001"
	grouped="${code:0:4} ${code:4:4} ${code:8:4} ${code:12:4}"
	for line in "Service${tab}Government fees" "Item 1: Dubai Police – Traffic fines" "Traffic file number${tab}10012345" \
		"To be confirmed${tab}AED 150.00" "Paid for the items${tab}AED 200.00" "Paid in cash${tab}AED 250.00" \
		"Total paid${tab}AED 250.00" "Balance as a new e-voucher${tab}AED 50.00" "e-Voucher code${tab}$grouped" \
		"رمز القسيمة الإلكترونية${tab}$grouped" "QR${tab}$code" "Recovered after an interruption: the kiosk restarted"; do
		grep -qF -- "$line" "$txt" || fail "the receipt lacks the line: $line"
	done
	# Not a top-up's receipt: no card, nothing "credited to card".
	grep -qE "^(Card|Credited to card)${tab}" "$txt" && fail "the fees receipt speaks of a card"
	grep -qF "DUPLICATE" "$txt" && fail "the first print says DUPLICATE"
	if command -v zbarimg >/dev/null; then
		codes=$(zbarimg --raw -q -Sdisable -Sqrcode.enable "$png" 2>/dev/null) || fail "zbarimg found no QR code in $png"
		grep -qxF "$code" <<<"$codes" || fail "the voucher's QR is not in $png: $codes"
		proof=$(grep '^EDK1:' <<<"$codes") || fail "no proof QR in $png"
		out=$("$kiosk" receipt verify --db "$db" "$proof") || fail "kiosk receipt verify refused $proof"
		for want in "reference: TXN-000001" "paid: AED 250.00 (25000 fils)" "lines: 2"; do
			grep -qxF "$want" <<<"$out" || fail "verify did not print: $want"
		done
	else
		echo "no zbarimg: the PNG's QR codes are not read back" >&2
	fi
	run restarted
	[ -e "$work/out/receipt-TXN-000001-R2.txt" ] && fail "printed twice"
	;;
fees-no-catalogue)
	"$tool" fees "$db" || fail "recovery-tool fees"
	mkdir -p "$work/no-catalogue"
	printf '[fees]\ncatalogue = %s\n' "$work/no-catalogue" >"$work/no-catalogue.ini"
	run fees-no-catalogue --config "$work/no-catalogue.ini"
	err=$work/fees-no-catalogue.stderr
	grep -qF "warn  app: no fees catalogue: fees cannot be paid on this kiosk" "$err" || fail "the kiosk had a catalogue"
	grep -qF "fees transaction 1 (" "$err" || fail "recovery did not log the fees transaction"
	got=$("$tool" show-fees "$db" 1) || fail "recovery-tool show-fees"
	[[ "$got" =~ ^voucher=(9[0-9]{15})\ rest=5000\ lines=unconfirmed,unconfirmed$ ]] || fail "ledger: '$got'"
	code=${BASH_REMATCH[1]}
	got=$("$kiosk" ledger verify --db "$db" 2>&1) || fail "kiosk ledger verify: $got"
	txt=$work/out/receipt-TXN-000001.txt tab=$'\t'
	[ -s "$txt" ] || fail "no receipt TXN-000001"
	grouped="${code:0:4} ${code:4:4} ${code:8:4} ${code:12:4}"
	for line in "Item 1: police – police-fines" "Item 2: dewa – dewa-bill" "Reference number${tab}10012345" \
		"To be confirmed${tab}AED 150.00" "To be confirmed${tab}AED 50.00" "Paid for the items${tab}AED 200.00" \
		"Total paid${tab}AED 250.00" "Balance as a new e-voucher${tab}AED 50.00" "e-Voucher code${tab}$grouped" \
		"Recovered after an interruption: the kiosk restarted"; do
		grep -qF -- "$line" "$txt" || fail "the receipt lacks the line: $line"
	done
	grep -qF "line 1 police/police-fines is not in the catalogue: its ids print" "$err" ||
		fail "the receipt's fallback to ids was not logged"
	;;
stuck)
	"$tool" stuck "$db" || fail "recovery-tool stuck"
	run stuck
	expect_ledger "completed recovered=1 credited=153000 notes=17 receipts-due=0 invariants=ok"
	got=$("$tool" show "$db" 3) || fail "recovery-tool show 3"
	[ "$got" = "completed recovered=1 credited=25000 notes=3 receipts-due=0 invariants=ok" ] ||
		fail "transaction 3: '$got'"
	for line in "Reference"$'\t'"TXN-000003" "Credited to card"$'\t'"AED 250.00"; do
		grep -qF -- "$line" "$work/out/receipt-TXN-000003.txt" || fail "receipt-TXN-000003.txt lacks: $line"
	done
	list=$("$kiosk" ledger receipts --db "$db") || fail "kiosk ledger receipts"
	echo "$list" >&2
	grep -qE "^TXN-000001 [0-9a-f-]{36} given-up at [0-9]+ after 1 sends: cannot be drawn: ledger: transaction 1 has more than 16 note values$" <<<"$list" ||
		fail "kiosk ledger receipts does not list transaction 1 as given up"
	grep -qE "^TXN-000002 [0-9a-f-]{36} given-up at [0-9]+ after 3 sends: sent 3 times, never reported printed" <<<"$list" ||
		fail "kiosk ledger receipts does not list transaction 2 as given up"
	grep -q "^TXN-000003" <<<"$list" && fail "transaction 3's printed receipt is listed"
	grep -qxF "$db: 0 recovery receipts due, 2 given up" <<<"$list" || fail "kiosk ledger receipts: no count"
	# A restart tries neither again: nothing logged at error level, nothing printed.
	run restarted
	grep -q "^error" "$work/restarted.stderr" && fail "the restart gave a receipt up again"
	ls "$work/out" | grep -q "TXN-00000[12]" && fail "a given-up receipt printed"
	;;
*)
	fail "unknown case $case"
	;;
esac
echo "ok: $case"
