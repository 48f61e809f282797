#!/bin/bash
# A reference host with the demo data set, in one command, for the demo and for testers: a
# throwaway PostgreSQL cluster (scripts/pg-throwaway.sh), `kiosk-host` migrated and loaded with
# docs/host-demo-data.md's set, a fresh operator CA, one kiosk enrolled, and the host serving
# on a free loopback port over mutual TLS. Everything lives in DIR; nothing else is touched.
#
#   scripts/host-up.sh start DIR [KIOSK_ID]   prints the kiosk configuration file to use
#   scripts/host-up.sh dump DIR               what the host holds (kiosk-host dump)
#   scripts/host-up.sh stop DIR               stops the host and the cluster
#
# DIR/kiosk.ini is a kiosk configuration with [host] filled in; DIR/kiosk.db is the kiosk's
# database to use with it: its chain key (DIR/kiosk.db.secret) is the one the host was given
# at enrolment, so the host can verify the records. Another database would be refused as
# chain_broken. KIOSK_HOST names the kiosk-host binary (default build/host/kiosk-host).
set -euo pipefail

usage() {
	echo "usage: host-up.sh start DIR [KIOSK_ID] | dump DIR | stop DIR" >&2
	exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
host_bin=${KIOSK_HOST:-$here/../build/host/kiosk-host}

case $cmd in
start)
	kiosk_id=${3:-K-DEMO-0001}
	[ -x "$host_bin" ] || { echo "host-up: no kiosk-host at $host_bin (build first: ninja -C build)" >&2; exit 1; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -e "$dir/conninfo" ]; then
		echo "host-up: $dir holds a host already (host-up.sh stop $dir, then remove it)" >&2
		exit 1
	fi
	# As root the cluster runs as `postgres`, which must pass through DIR (a mktemp folder is
	# 0700): traverse only, no listing; the keys inside stay 0600.
	[ "$(id -u)" -ne 0 ] || chmod o+x "$dir"
	db=$(bash "$here/pg-throwaway.sh" start "$dir/pg")
	echo "$db" >"$dir/conninfo"
	"$host_bin" migrate --db "$db" >/dev/null
	"$host_bin" demo-data --db "$db" >/dev/null
	"$host_bin" ca init --out "$dir/ca" --name localhost --ip 127.0.0.1 >/dev/null
	"$host_bin" enrol --db "$db" --ca "$dir/ca" --kiosk-id "$kiosk_id" --out "$dir/kiosk" >/dev/null
	install -m 0600 "$dir/kiosk/ledger.secret" "$dir/kiosk.db.secret"
	# Port 0: the host picks a free one and says which on its first line.
	"$host_bin" serve --db "$db" --cert "$dir/ca/host.crt" --key "$dir/ca/host.key" --ca "$dir/ca/ca.crt" \
		--listen 127.0.0.1:0 >"$dir/serve.out" 2>"$dir/serve.log" &
	echo $! >"$dir/serve.pid"
	port=
	for _ in $(seq 1 100); do
		port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$dir/serve.out" | head -1)
		[ -n "$port" ] && break
		kill -0 "$(cat "$dir/serve.pid")" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		cat "$dir/serve.log" >&2
		echo "host-up: kiosk-host did not start" >&2
		exit 1
	fi
	cat >"$dir/kiosk.ini" <<INI
# Written by scripts/host-up.sh: this kiosk syncs to the throwaway host in $dir.
[kiosk]
id = $kiosk_id

[host]
url = https://localhost:$port
ca = $dir/kiosk/host-ca.crt
cert = $dir/kiosk/kiosk.crt
key = $dir/kiosk/kiosk.key
INI
	echo "$dir/kiosk.ini"
	;;
dump)
	"$host_bin" dump --db "$(cat "$dir/conninfo")"
	;;
stop)
	if [ -f "$dir/serve.pid" ]; then
		kill "$(cat "$dir/serve.pid")" 2>/dev/null || true
		rm -f "$dir/serve.pid"
	fi
	bash "$here/pg-throwaway.sh" stop "$dir/pg"
	;;
*)
	usage
	;;
esac
