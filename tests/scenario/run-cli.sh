#!/bin/bash
# Checks that a bad command line, environment or file exits with STATUS (2 bad input, 3 a
# start-up fault) and exactly one line naming the problem, and creates or writes nothing:
#   run-cli.sh KIOSK WORKDIR STATUS MESSAGE ARGS...
# It runs in WORKDIR, where the kiosk's default database (kiosk.db) and output folder (out)
# would land, with fixtures for ARGS to name: a-file (a regular file), ro-dir (a folder the
# kiosk may not write in), a-dir (an empty folder), wide.txt (20,000 x U+FDFD, for
# `kiosk layout`), a-fifo and fifo-db.secret (FIFOs: the ledger secret of --db fifo-db),
# @LONG@ (a path of 600 bytes), @NAME250@ (a 250-byte file name). No display:
# DISPLAY, WAYLAND_DISPLAY and SDL_VIDEODRIVER are unset. Leading ARGS of the form NAME=VALUE
# go into the kiosk's environment instead, and @LONG@ in an argument stands for that long path.
# The kiosk runs under timeout: a run that hangs (an open waiting on a FIFO) fails, exit 124.
set -u
kiosk=$(realpath "$1") work=$2 status=$3 want=$4
shift 4
rm -rf "$work"
mkdir -p "$work/ro-dir" "$work/a-dir"
cd "$work" || exit 1
echo "not a folder" >a-file
mkfifo a-fifo fifo-db.secret || exit 1
printf '\xef\xb7\xbd%.0s' $(seq 1 20000) >wide.txt
chmod 0555 ro-dir
long=$(printf 'd%.0s' $(seq 1 600))
name250=$(printf 'k%.0s' $(seq 1 247)).db
vars=() args=()
for a in "$@"; do
	if [ ${#args[@]} -eq 0 ] && [[ "$a" =~ ^[A-Z_]+= ]]; then vars+=("$a"); else a=${a//@LONG@/$long}; args+=("${a//@NAME250@/$name250}"); fi
done
# Root may write anywhere: the unwritable-folder cases run as nobody. Nobody may not reach
# the files the arguments name (a clone inside a private mktemp folder), so those are copied
# into the work folder first, readable by all.
run=()
if [[ " ${args[*]} " == *ro-dir* ]] && [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || { echo "SKIP: root, and no setpriv to drop to nobody" >&2; exit 77; }
	chmod 0755 "$work"
	run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	for i in "${!args[@]}"; do
		a=${args[$i]}
		if [[ "$a" == /* ]] && [ -f "$a" ]; then
			mkdir -p inputs && cp "$a" "inputs/$i-${a##*/}" && chmod 0644 "inputs/$i-${a##*/}"
			args[$i]=inputs/$i-${a##*/} # relative: nobody may not pass the folders above
		fi
	done
fi

before=$(find . | sort)

env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER XDG_RUNTIME_DIR="$work" "${vars[@]}" \
	timeout 20 "${run[@]}" "$kiosk" "${args[@]}" 2>"$work/.stderr" </dev/null
got=$?
msg=$(cat "$work/.stderr")
rm -f "$work/.stderr"
echo "$msg" >&2
[ "$got" -eq "$status" ] || { echo "FAIL: exit $got, expected $status" >&2; exit 1; }
grep -qF -- "$want" <<<"$msg" || { echo "FAIL: expected the message: $want" >&2; exit 1; }
[ "$(wc -l <<<"$msg")" -eq 1 ] || { echo "FAIL: expected exactly one line of message" >&2; exit 1; }
after=$(find . | sort)
[ "$before" = "$after" ] || { echo "FAIL: something was created:" >&2; diff <(echo "$before") <(echo "$after") >&2; exit 1; }
echo "ok"
