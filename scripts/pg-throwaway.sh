#!/bin/bash
# A throwaway PostgreSQL cluster for the reference host's tests and the demo: initdb in DIR,
# listening only on a Unix socket in DIR/sock (no TCP port to collide with), trust auth, one
# database `kioskhost`. initdb and postgres refuse to run as root, so root runs them as the
# `postgres` user (runuser) and gives it DIR; anyone else runs them as themselves.
# Usage: scripts/pg-throwaway.sh start DIR   prints the conninfo on stdout
#        scripts/pg-throwaway.sh stop DIR    stops the cluster (DIR is left for the caller)
# Exit status: 0 done; 2 usage; 3 no PostgreSQL server binaries (tests skip on it); 1 other.
set -euo pipefail

usage() {
	echo "usage: pg-throwaway.sh start|stop DIR" >&2
	exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
[ -n "$dir" ] || usage

# The server's own bindir. pg_config may come from libpq-dev and name a client-only folder
# (or the server of another major version), so look for the folder that holds initdb, pg_ctl
# and postgres together, newest major first; PG_BINDIR overrides.
find_bindir() {
	local d
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return 0
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5nr); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

bindir=$(find_bindir) || {
	echo "pg-throwaway: no PostgreSQL server found (initdb, pg_ctl, postgres; apt-get install postgresql)" >&2
	exit 3
}

if [ "$(id -u)" -eq 0 ]; then
	if ! id -u postgres >/dev/null 2>&1; then
		echo "pg-throwaway: running as root needs the 'postgres' user (initdb refuses root)" >&2
		exit 3
	fi
	as=(runuser -u postgres --)
	user=postgres
else
	as=()
	user=$(id -un)
fi

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -e "$dir/data" ]; then
		echo "pg-throwaway: $dir/data exists already (stop and remove it first)" >&2
		exit 1
	fi
	# The server's socket is DIR/sock/.s.PGSQL.5432, and a Unix socket path holds 107 bytes.
	if [ $(( ${#dir} + 21 )) -gt 107 ]; then
		echo "pg-throwaway: $dir is too long a path for the server's socket (107 bytes at most;" \
			"use a shorter folder, or TMPDIR=/tmp)" >&2
		exit 1
	fi
	mkdir -p "$dir/sock"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres "$dir"
		# The server must reach DIR through its parents: a mktemp folder is 0700 root.
		chmod 0711 "$dir"
		if ! runuser -u postgres -- test -x "$dir/sock"; then
			echo "pg-throwaway: the postgres user cannot reach $dir (a parent folder is closed to it;" \
				"use a folder under /tmp, or chmod o+x its parents)" >&2
			exit 1
		fi
	fi
	"${as[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U "$user" --no-sync -E UTF8 --locale=C \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	# No fsync: a throwaway cluster is not worth the disk's time (the tests and the demo
	# recreate it); listen on the socket only.
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
		-o "-k $dir/sock -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null || {
		cat "$dir/server.log" >&2
		exit 1
	}
	"${as[@]}" "$bindir/createdb" -h "$dir/sock" -U "$user" kioskhost || exit 1
	echo "host=$dir/sock dbname=kioskhost user=$user"
	;;
stop)
	[ -d "$dir/data" ] || exit 0
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || {
		# Already stopped (a crashed test) is not an error; anything else is.
		if "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
			echo "pg-throwaway: cannot stop the cluster in $dir" >&2
			exit 1
		fi
	}
	;;
*)
	usage
	;;
esac
