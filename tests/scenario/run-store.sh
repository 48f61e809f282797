#!/bin/bash
# The kiosk against a database it cannot use, as the kiosk binary meets it:
#   run-store.sh KIOSK STORE_TOOL WORKDIR CASE [SCENARIO [WIDTHxHEIGHT]]
# Start-up cases (exit 3, one message naming the problem): read-only-file, read-only-folder,
# damaged, locked (another program holds the write lock), newer (the file is left byte for
# byte), second-kiosk (two kiosk processes on one database; the second names the first's
# pid). Run-time case: out-of-service SCENARIO (tests/scenarios/store/out-of-service.scenario).
set -u
kiosk=$(realpath "$1") tool=$(realpath "$2") work=$3 case=$4 scenario=${5:-} size=${6:-}
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
db=$work/kiosk.db
printf 'expect-screen attract\n' >idle.scenario

# A kiosk left waiting at a FIFO is ended with the test.
background=()
trap '[ ${#background[@]} -eq 0 ] || kill "${background[@]}" 2>/dev/null' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Reads a FIFO screenshot to its end; a kiosk that never gets there fails the test, not hangs it.
drain() { timeout 30 cat "$1" >/dev/null || fail "the kiosk never wrote $1"; }

# Permission bits bind root only without capabilities: drop them for the kiosk.
unprivileged=()
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || { echo "skip: root without setpriv cannot test permissions"; exit 77; }
	unprivileged=(setpriv --bounding-set=-all --)
fi

# Runs the kiosk once on $db; expects exit 3 and exactly one line naming the problem.
expect_refusal() {
	local want=$1
	shift
	"$@" "$kiosk" --headless --simulate --script idle.scenario --db "$db" --out "$work/out" 2>stderr </dev/null
	local status=$?
	cat stderr >&2
	[ "$status" -eq 3 ] || fail "exit $status, expected 3"
	grep -qF -- "$want" stderr || fail "expected the message: $want"
	[ "$(wc -l <stderr)" -eq 1 ] || fail "expected exactly one line of message"
}

case $case in
read-only-file)
	"$kiosk" --headless --simulate --script idle.scenario --db "$db" --out "$work/out" 2>/dev/null ||
		fail "could not make the database"
	chmod 0444 "$db"
	expect_refusal "database $db is read-only" "${unprivileged[@]}"
	;;
read-only-folder)
	mkdir data
	db=$work/data/kiosk.db
	"$kiosk" --headless --simulate --script idle.scenario --db "$db" --out "$work/out" 2>/dev/null ||
		fail "could not make the database"
	chmod 0555 data
	expect_refusal "database $db cannot be read" "${unprivileged[@]}"
	chmod 0755 data
	;;
damaged)
	"$tool" damage "$db" || fail "store-tool damage"
	cp "$db" before.db
	expect_refusal "database $db is damaged"
	cmp -s before.db "$db" || fail "the damaged database was changed"
	;;
locked)
	"$kiosk" --headless --simulate --script idle.scenario --db "$db" --out "$work/out" 2>/dev/null ||
		fail "could not make the database"
	coproc HOLDER { "$tool" hold "$db"; }
	read -r line <&"${HOLDER[0]}"
	[ "$line" = held ] || fail "store-tool hold: $line"
	expect_refusal "database $db cannot be written"
	grep -qF "another program holds it" stderr || fail "expected the reason: another program holds it"
	exec {HOLDER[1]}>&-
	wait "$HOLDER_PID"
	;;
newer)
	"$tool" newer "$db" || fail "store-tool newer"
	cp "$db" before.db
	expect_refusal "database $db: schema version"
	grep -qF "is newer than this kiosk knows" stderr || fail "expected: is newer than this kiosk knows"
	cmp -s before.db "$db" || fail "the newer database was changed"
	[ ! -e "$db-wal" ] || fail "a WAL was made beside the newer database"
	;;
second-kiosk)
	mkdir out1
	mkfifo out1/ready.png out1/hold.png
	printf 'expect-screen attract\nscreenshot ready\nscreenshot hold\n' >hold.scenario
	"$kiosk" --headless --simulate --script hold.scenario --db "$db" --out "$work/out1" 2>first.stderr &
	first=$!
	background+=("$first")
	# `ready` read to the end: the first kiosk holds the database and the simulated
	# validator's memory and waits in `hold` (a FIFO nobody reads yet); virtual time stands
	# still, so its memory file does not change meanwhile. The second must not touch it.
	drain out1/ready.png
	cp "$db.sim-cash" sim-cash.before || fail "no $db.sim-cash"
	expect_refusal "database $db is in use by another kiosk (pid $first)"
	cmp -s sim-cash.before "$db.sim-cash" || fail "the second kiosk changed $db.sim-cash"
	[ ! -e "$work/out/hold.png" ] || fail "the second kiosk wrote output"
	drain out1/hold.png
	wait "$first" || { cat first.stderr >&2; fail "the first kiosk failed"; }
	;;
out-of-service)
	[ -n "$scenario" ] || fail "out-of-service needs the scenario"
	mkdir out
	for f in started locked out-of-service unlocked; do mkfifo "out/$f.png"; done
	# With a size, the kiosk runs at that logical screen size (ui.width, ui.height).
	config=()
	if [ -n "$size" ]; then
		printf '[ui]\nwidth = %s\nheight = %s\n' "${size%x*}" "${size#*x}" >size.ini
		config=(--config size.ini)
	fi
	"$kiosk" --headless --simulate --log-level info "${config[@]}" --script "$scenario" --db "$db" --out "$work/out" \
		2>stderr &
	kiosk_pid=$!
	background+=("$kiosk_pid")
	# `started` read to the end: the kiosk is past its own start-up write, heading for `locked`.
	drain out/started.png
	coproc HOLDER { "$tool" hold "$db"; }
	read -r line <&"${HOLDER[0]}"
	[ "$line" = held ] || fail "store-tool hold: $line"
	drain out/locked.png
	# `out-of-service` read to the end: the kiosk made its checks and waits at `unlocked`.
	drain out/out-of-service.png
	exec {HOLDER[1]}>&-
	wait "$HOLDER_PID"
	drain out/unlocked.png
	wait "$kiosk_pid"
	status=$?
	grep -E "^(error|warn)|OUT OF SERVICE|back in service" stderr >&2
	[ "$status" -eq 0 ] || fail "scenario exit $status, expected 0"
	grep -q "OUT OF SERVICE: the database cannot record money" stderr || fail "no OUT OF SERVICE in the log"
	grep -q "back in service" stderr || fail "no 'back in service' in the log"
	"$tool" events "$db" >events.txt || fail "store-tool events"
	cat events.txt >&2
	grep -q "^receipt .* paper-out$" events.txt || fail "the device event kept while failing was lost"
	;;
*)
	fail "unknown case $case"
	;;
esac
echo "ok: $case"
