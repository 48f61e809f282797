#!/bin/bash
# The Debian package on a fresh Debian 12, booted by systemd (README, "Install on a kiosk"):
#   bash tests/appliance/check-package-boot.sh [DEB_DIR]
# Takes DEB_DIR/kiosk_*.deb, or builds it with dpkg-buildpackage from a copy of this tree;
# makes a minimal bookworm root with debootstrap (KIOSK_BOOT_CACHE=DIR keeps a tarball of it
# between runs); installs the package with apt as a technician does (its dependencies from
# Debian's mirror); boots the root with systemd-nspawn and checks under its own systemd:
#   1. kiosk.service becomes active: READY ("on screen") from the kiosk at its first frame,
#      inside cage, as the kiosk user, every process in the unit's control group;
#   2. grim through cage shows the attract screen (the container has no USB devices: the
#      three "disconnected" notices under the language buttons);
#   3. SIGKILL to the kiosk: cage ends with its client, systemd starts the unit again, READY;
#   4. SIGSTOP to the kiosk: no keep-alive, systemd's watchdog (WatchdogSec=30) restarts it;
#   5. systemctl stop: the kiosk stops in order (exit 0, no -wal left) and its ledger verifies;
#   6. the kiosk-host package beside it, on Debian's PostgreSQL, set up and the kiosk enrolled
#      before its first start as README's "Install on a kiosk" has the operator and the
#      technician do it: kiosk-host.service runs under its own hardening and answers the
#      enrolled kiosk's certificate over mutual TLS with the fees catalogue it was loaded with,
#      and the kiosk's own heartbeat reaches it.
# The unit runs as shipped but for one drop-in: a container has no GPU (cage's headless
# backend, pixman) and grim reads cage's composited frame only when the output is turned
# (-r -r, see check-compositor.py). Not in `meson test` or CI (it downloads ~150 MB and takes
# 5 to 10 minutes): run it after changing debian/ or data/. Needs root, debootstrap,
# systemd-nspawn, dpkg-buildpackage and the mirror; exits 77 (skip) without them.
set -euo pipefail
# The first python3 on PATH that has PIL (python3-pil): a pyenv shim may stand before Debian's.
py=""
for p in $(which -a python3 2>/dev/null); do "$p" -c "import PIL" 2>/dev/null && { py=$p; break; }; done
[ -n "$py" ] || { echo "SKIP: no python3 with PIL (apt-get install python3-pil)"; exit 77; }
src=$(realpath "$(dirname "$0")/../..")
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, systemd-nspawn)"
for t in debootstrap systemd-nspawn dpkg-buildpackage; do
	command -v "$t" >/dev/null || skip "no $t (apt-get install debootstrap systemd-container dpkg-dev)"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/package-boot.XXXXXX")
cleanup() {
	pkill -9 -f "systemd-nspawn.*$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

debs=${1:-}
if [ -z "$debs" ] || ! ls "$debs"/kiosk_*.deb >/dev/null 2>&1; then
	echo "building the packages (dpkg-buildpackage -b) from a copy of $src"
	mkdir -p "$work/src/tree"
	git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -t "$work/src/tree")
	(cd "$work/src/tree" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$work/build.log" 2>&1 ||
		{ tail -30 "$work/build.log"; fail "dpkg-buildpackage"; }
	debs=$work/src
fi
deb=$(ls "$debs"/kiosk_*.deb | head -1)
hostdeb=$(ls "$debs"/kiosk-host_*.deb | head -1)

root=$work/root
# The test's own files inside the booted root (its scripts, what the probe saw): a folder of
# that throwaway system, read from here as $root$g.
g=/var/lib/package-boot
cache=${KIOSK_BOOT_CACHE:-}
if [ -n "$cache" ] && [ -f "$cache/bookworm-minbase.tar" ]; then
	mkdir "$root" && tar -xf "$cache/bookworm-minbase.tar" -C "$root"
else
	echo "debootstrap: a minimal Debian 12 root"
	debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log"; skip "debootstrap could not make a Debian 12 root (no mirror?)"; }
	if [ -n "$cache" ]; then mkdir -p "$cache" && tar -cf "$cache/bookworm-minbase.tar" -C "$root" .; fi
fi

echo "installing $(basename "$deb") and $(basename "$hostdeb") with apt"
cp "$deb" "$hostdeb" "$root/tmp/"
chroot "$root" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/$(basename "$deb") /tmp/$(basename "$hostdeb") postgresql grim curl" \
	>"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; fail "apt-get install of the package"; }
chroot "$root" systemctl is-enabled kiosk.service >/dev/null || fail "kiosk.service is not enabled by the package"
chroot "$root" id -nG kiosk | grep -qw video || fail "the kiosk user is not in seatd's group (video)"

cage=$(sed -n 's/^ExecStart=\([^ ]*\) -d -- \(.*\)$/\1/p' "$root/lib/systemd/system/kiosk.service")
rest=$(sed -n 's/^ExecStart=[^ ]* -d -- \(.*\)$/\1/p' "$root/lib/systemd/system/kiosk.service")
[ -n "$cage" ] && [ -n "$rest" ] || fail "the installed unit's ExecStart is not 'cage -d -- ...'"
mkdir -p "$root/etc/systemd/system/kiosk.service.d"
cat >"$root/etc/systemd/system/kiosk.service.d/container.conf" <<EOF
[Service]
Environment=WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
ExecStart=
ExecStart=$cage -d -r -r -- $rest
EOF

# The operator's and the technician's steps (README, "Install on a kiosk") in the booted
# system, before the kiosk's first start: PostgreSQL for the host, its CA, the host started,
# the kiosk enrolled and its files and configuration put in place.
mkdir -p "$root$g"
cat >"$root$g/enrol.sh" <<'ENROL'
#!/bin/bash
set -ex
g=$(dirname "$(readlink -f "$0")")
db="postgresql:///kiosk?host=/var/run/postgresql"
runuser -u postgres -- createuser kiosk-host
runuser -u postgres -- createdb -O kiosk-host kiosk
# The operator (root here) enrols kiosks with a role of its own in the host's (peer login).
runuser -u postgres -- psql -q -c 'CREATE ROLE root LOGIN IN ROLE "kiosk-host"'
sed -i -e "s|^KIOSK_HOST_DB=.*|KIOSK_HOST_DB=$db|" -e "s|^KIOSK_HOST_LISTEN=.*|KIOSK_HOST_LISTEN=127.0.0.1:8443|" \
	/etc/kiosk-host/kiosk-host.env
kiosk-host ca init --out /etc/kiosk-host/pki --name localhost --ip 127.0.0.1
chgrp kiosk-host /etc/kiosk-host/pki /etc/kiosk-host/pki/host.key
chmod 0710 /etc/kiosk-host/pki && chmod 0640 /etc/kiosk-host/pki/host.key
runuser -u kiosk-host -- kiosk-host migrate --db "$db"
runuser -u kiosk-host -- kiosk-host catalogue load --db "$db" --dir /usr/share/kiosk/assets/catalogue
kiosk-host enrol --db "$db" --ca /etc/kiosk-host/pki --kiosk-id K-0042 --out $g/K-0042
install -o kiosk -g kiosk -m 0600 $g/K-0042/kiosk.key $g/K-0042/kiosk.crt $g/K-0042/host-ca.crt /var/lib/kiosk/enrol/
install -o kiosk -g kiosk -m 0600 $g/K-0042/ledger.secret /var/lib/kiosk/kiosk.db.secret
sed -i -e 's/^id = .*/id = K-0042/' -e 's|^url =.*|url = https://127.0.0.1:8443|' /etc/kiosk/kiosk.ini
systemctl enable --now kiosk-host
ENROL
chmod +x "$root$g/enrol.sh"
cat >"$root/etc/systemd/system/enrol.service" <<UNIT
[Unit]
After=postgresql.service
Before=kiosk.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c '$g/enrol.sh >$g/enrol.log 2>&1'
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/enrol.service "$root/etc/systemd/system/multi-user.target.wants/enrol.service"

# The probe: a oneshot after kiosk.service, writing what it saw to $g/result and powering off.
cat >"$root$g/probe.sh" <<'EOF'
#!/bin/bash
g=$(dirname "$(readlink -f "$0")")
out=$g/result
say() { echo "$*" >>"$out"; }
ready() { # $1: restarts expected at least; waits up to $2 s for "on screen" with NRestarts >= $1
	for _ in $(seq $(($2 * 2))); do
		if [ "$(systemctl show kiosk -p StatusText --value)" = "on screen" ] &&
			[ "$(systemctl show kiosk -p ActiveState --value)" = active ] &&
			[ "$(systemctl show kiosk -p NRestarts --value)" -ge "$1" ] &&
			pgrep -u kiosk -x kiosk >/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}
if ready 0 90; then say "ready active"; else say "ready FAILED"; fi
cg=$(systemctl show kiosk -p ControlGroup --value)
for p in $(pgrep -u kiosk -x kiosk) $(pgrep -u kiosk -x cage); do
	grep -q ":$cg\$" "/proc/$p/cgroup" && say "cgroup $(cat /proc/$p/comm) in unit" || say "cgroup $(cat /proc/$p/comm) OUTSIDE: $(cat /proc/$p/cgroup | tr '\n' ' ')"
done
sleep 2
runuser -u kiosk -- env XDG_RUNTIME_DIR=/run/kiosk WAYLAND_DISPLAY=wayland-0 grim /run/kiosk/shot.png &&
	cp /run/kiosk/shot.png $g/shot.png && say "grim ok"
systemctl is-active kiosk-host >/dev/null && say "host active" || say "host FAILED"
e=/var/lib/kiosk/enrol
code=$(runuser -u kiosk -- curl -s -o /tmp/catalogue.json -w "%{http_code}" --cacert $e/host-ca.crt \
	--cert $e/kiosk.crt --key $e/kiosk.key -H "Date: $(date -u '+%a, %d %b %Y %H:%M:%S GMT')" \
	https://127.0.0.1:8443/v1/catalogue)
say "host catalogue $code"
cp /tmp/catalogue.json $g/catalogue.json 2>/dev/null || true
# The kiosk's own heartbeat (at start, then every [host] heartbeat_seconds, 60 s).
for _ in $(seq 90); do
	n=$(runuser -u kiosk-host -- kiosk-host query --db "postgresql:///kiosk?host=/var/run/postgresql" \
		--sql "SELECT count(*) FROM heartbeat WHERE kiosk_id = 'K-0042'" 2>/dev/null | grep -o '[0-9]*' | head -1)
	[ "${n:-0}" -gt 0 ] && break
	sleep 1
done
[ "${n:-0}" -gt 0 ] && say "heartbeat received" || say "heartbeat MISSING"
n0=$(systemctl show kiosk -p NRestarts --value)
pkill -KILL -u kiosk -x kiosk
if ready $((n0 + 1)) 60; then say "sigkill restarted"; else say "sigkill FAILED"; fi
n1=$(systemctl show kiosk -p NRestarts --value)
pkill -STOP -u kiosk -x kiosk
if ready $((n1 + 1)) 75; then say "watchdog restarted"; else say "watchdog FAILED"; fi
systemctl stop kiosk
say "stop result $(systemctl show kiosk -p Result --value) $(systemctl show kiosk -p ExecMainStatus --value)"
[ -e /var/lib/kiosk/kiosk.db-wal ] && say "wal LEFT" || say "wal none"
if runuser -u kiosk -- kiosk ledger verify --db /var/lib/kiosk/kiosk.db >>$g/verify.log 2>&1; then say "ledger verifies"; else say "ledger FAILED"; fi
journalctl -b --no-pager -o short-precise >$g/journal.txt
say "done"
systemctl poweroff
EOF
chmod +x "$root$g/probe.sh"
cat >"$root/etc/systemd/system/probe.service" <<EOF
[Unit]
After=kiosk.service
[Service]
Type=oneshot
ExecStart=$g/probe.sh
[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/probe.service "$root/etc/systemd/system/multi-user.target.wants/probe.service"

echo "booting it with systemd-nspawn (up to 6 minutes)"
# --register=no --keep-unit: no systemd-machined needed on this side.
timeout 360 systemd-nspawn -q --register=no --keep-unit -D "$root" -b >"$work/boot.log" 2>&1 </dev/null || true
[ -f "$root$g/result" ] || { tail -30 "$work/boot.log"; fail "the probe wrote nothing"; }
cat "$root$g/result"
keep=${KIOSK_BOOT_KEEP:-}
if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$root$g/result" "$root$g/journal.txt" "$root$g/shot.png" "$root$g/enrol.log" "$keep/" 2>/dev/null || true; fi
res=$root$g/result
grep -qx "ready active" "$res" || { grep -i "kiosk\|cage" "$root$g/journal.txt" | tail -30; fail "kiosk.service never became ready"; }
! grep -q OUTSIDE "$res" || fail "a process of the kiosk left the unit's control group (READY and WATCHDOG would be ignored)"
grep -qx "sigkill restarted" "$res" || fail "the unit did not come back after SIGKILL to the kiosk"
grep -qx "watchdog restarted" "$res" || fail "a stopped kiosk was not restarted by the watchdog"
grep -qx "stop result success 0" "$res" || fail "systemctl stop did not stop the kiosk cleanly"
grep -qx "wal none" "$res" || fail "the ledger was left open (-wal) by systemctl stop"
grep -qx "ledger verifies" "$res" || fail "the ledger does not verify after the boot"
grep -qx "host active" "$res" || { cat "$root$g/enrol.log"; grep -i "kiosk-host" "$root$g/journal.txt" | tail -20; fail "kiosk-host.service is not running"; }
grep -qx "host catalogue 200" "$res" || fail "the host did not answer the enrolled kiosk's certificate with its catalogue"
grep -q '"entities"\|"services"' "$root$g/catalogue.json" || fail "the host's catalogue reply is not a catalogue"
grep -qx "heartbeat received" "$res" || fail "the enrolled kiosk's heartbeat never reached the host"
grep -qx "grim ok" "$res" || fail "grim took no screenshot through cage"
# The attract screen: its header green and the disconnected notices' pink, each over a share
# of the 1280 x 720 output that no other screen of the kiosk has both of.
"$py" - "$root$g/shot.png" <<'PY' || fail "the screenshot through cage is not the attract screen"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
px = list(im.getdata())
def share(rgb, tol=24):
    return sum(1 for p in px if all(abs(a - b) <= tol for a, b in zip(p, rgb))) / len(px)
green, pink = share((11, 93, 75)), share((248, 215, 218))
print(f"screenshot {im.size[0]}x{im.size[1]}: header green {green:.3f}, notice pink {pink:.3f}")
sys.exit(0 if green > 0.02 and pink > 0.02 else 1)
PY
echo "ok: the package installs on a fresh Debian 12 and its unit runs the kiosk under cage"
