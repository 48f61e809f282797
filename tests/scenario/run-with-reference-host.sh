#!/bin/bash
# Runs a scenario against the reference host (host/, kiosk-host) on a throwaway PostgreSQL
# cluster with docs/host-demo-data.md's set, over mutual TLS, as scripts/host-up.sh starts it:
#   run-with-reference-host.sh KIOSK KIOSK_HOST SCENARIO WORKDIR [DUMP_TEXT...]
# The kiosk runs on the enrolled kiosk's database (its chain key is the host's), with the
# scenario's own NAME.ini after host-up's [host] section; it must exit 0, and afterwards what the
# host holds (`kiosk-host dump`) must contain each DUMP_TEXT. No PostgreSQL server: skip (77).
set -u
kiosk=$1 host=$2 scenario=$3 work=$4
shift 4
src=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "SKIP: no PostgreSQL server (initdb) for the reference host"
	exit 77
fi
rm -rf "$work"
mkdir -p "$work"
# The host's folder: not under the build tree, whose parents (a CI clone in a private mktemp
# folder) the cluster's user cannot pass through when root; a fresh temporary folder of its own.
host_dir=$(mktemp -d) || exit 1
stop_host() {
	KIOSK_HOST=$host bash "$src/scripts/host-up.sh" stop "$host_dir" >/dev/null 2>&1
	rm -rf "$host_dir"
}
trap stop_host EXIT
if ! ini=$(KIOSK_HOST=$host bash "$src/scripts/host-up.sh" start "$host_dir"); then
	echo "FAIL: the reference host did not start" >&2
	exit 1
fi
cp "$ini" "$work/kiosk.ini"
[ -f "${scenario%.scenario}.ini" ] && cat "${scenario%.scenario}.ini" >>"$work/kiosk.ini"
"$kiosk" --headless --simulate --config "$work/kiosk.ini" --script "$scenario" --out "$work/out" \
	--db "$host_dir/kiosk.db"
status=$?
if [ "$status" -ne 0 ]; then
	echo "FAIL: exit status $status, expected 0" >&2
	exit 1
fi
KIOSK_HOST=$host bash "$src/scripts/host-up.sh" dump "$host_dir" >"$work/dump.jsonl" || {
	echo "FAIL: kiosk-host dump" >&2
	exit 1
}
for want in "$@"; do
	if ! grep -qF -- "$want" "$work/dump.jsonl"; then
		echo "FAIL: the host does not hold: $want" >&2
		grep -v '"rec"' "$work/dump.jsonl" >&2
		exit 1
	fi
done
echo "ok: exit 0, the host holds what the kiosk showed"
