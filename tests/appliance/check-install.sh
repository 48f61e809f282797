#!/bin/bash
# `meson install` lays out a working appliance (README, "Install on a kiosk"): installs the
# build into a throwaway DESTDIR and checks every file the kiosk and systemd need is there,
# that the installed kiosk reads its assets from datadir and not from the source tree, that the
# shipped configuration loads, and that systemd accepts the units (`systemd-analyze verify`,
# and the security exposure under 3.0 and equal to the README's figure); without systemd-analyze that part
# is skipped and said so.
#   check-install.sh BUILD_DIR KIOSK_SOURCE_DIR
set -u
build=$(realpath "$1") src=$(realpath "$2")
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/check-install.XXXXXX") || fail "mktemp"
trap 'rm -rf "$work"' EXIT
dest=$work/dest
meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; fail "meson install"; }

# The install's own paths, as meson resolved them.
meson introspect "$build" --buildoptions >"$work/options.json" || fail "meson introspect"
eval "$(python3 - "$work/options.json" <<'PY'
import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
p = o["prefix"]
for k in ("bindir", "datadir", "sysconfdir", "localedir"):
    d = o[k]
    print(f"{k}={d if d.startswith('/') else p + '/' + d}")
print(f"prefix={p}")
PY
)"
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo "$prefix/lib/systemd/system")
sysusersdir=$(pkg-config --variable=sysusersdir systemd 2>/dev/null || echo "$prefix/lib/sysusers.d")
tmpfilesdir=$(pkg-config --variable=tmpfilesdir systemd 2>/dev/null || echo "$prefix/lib/tmpfiles.d")
udevdir=$(pkg-config --variable=udevdir udev 2>/dev/null || echo "$prefix/lib/udev")

for f in "$bindir/kiosk" "$bindir/kiosk-host" \
	"$datadir/kiosk/assets/catalogue/police.json" "$datadir/kiosk/assets/icons/police.png" \
	"$localedir/ar/LC_MESSAGES/kiosk.mo" "$localedir/en/LC_MESSAGES/kiosk.mo" \
	"$sysconfdir/kiosk/kiosk.ini" "$sysconfdir/kiosk-host/kiosk-host.env" \
	"$unitdir/kiosk.service" "$unitdir/kiosk-host.service" \
	"$sysusersdir/kiosk.conf" "$sysusersdir/kiosk-host.conf" "$tmpfilesdir/kiosk.conf" \
	"$udevdir/rules.d/70-kiosk-devices.rules"; do
	[ -f "$dest$f" ] || fail "not installed: $f"
done
[ -x "$dest$bindir/kiosk" ] || fail "$bindir/kiosk is not executable"
# Every catalogue file and icon of the source tree, and nothing of the build's own.
for f in "$src"/assets/catalogue/*.json "$src"/assets/icons/*.png; do
	rel=${f#"$src"/}
	cmp -s "$f" "$dest$datadir/kiosk/$rel" || fail "not installed as in the tree: $rel"
done
[ ! -e "$dest$datadir/kiosk/assets/icons/make-icons.py" ] || fail "the icons' generator is installed"
grep -q '^u kiosk ' "$dest$sysusersdir/kiosk.conf" || fail "no kiosk user in sysusers.d"
grep -q '^d /var/lib/kiosk 0750 kiosk kiosk' "$dest$tmpfilesdir/kiosk.conf" || fail "no state directory in tmpfiles.d"

# The installed kiosk, run from outside the build tree, reads its assets from datadir (the
# uninstalled one from the source tree: kiosk/core/install.c).
data=$("$dest$bindir/kiosk" --print-config | sed -n 's/^data_dir = //p')
[ "$data" = "$datadir/kiosk" ] || fail "installed kiosk's data_dir is '$data', not $datadir/kiosk"
data=$("$build/kiosk/kiosk" --print-config | sed -n 's/^data_dir = //p')
[ "$data" = "$src" ] || fail "uninstalled kiosk's data_dir is '$data', not $src"

# The shipped configuration loads: the kiosk starts on it (its database and output folder
# moved to the throwaway folder) and shows attract.
if "$build/kiosk/kiosk" --help | grep -q -- --script; then
	printf 'expect-screen attract\n' >"$work/attract.scenario"
	"$build/kiosk/kiosk" --simulate --headless --config "$dest$sysconfdir/kiosk/kiosk.ini" \
		--db "$work/k.db" --out "$work/out" --script "$work/attract.scenario" >"$work/run.log" 2>&1 ||
		{ cat "$work/run.log"; fail "the kiosk does not start on the shipped kiosk.ini"; }
fi

# The two Debian packages (debian/*.install, as dh_install splits debian/tmp): each file of the
# install in exactly one package or in debian/not-installed (dh_missing; two packages owning
# one path cannot both be installed), and the kiosk-host package whole on its own: its fees
# catalogue, which its configuration names and its unit loads at each start. The .install
# paths are Debian's (prefix /usr); each is mapped to the place this build installs it.
debpath() { # a debian/*.install line -> the path under $dest
	local p=/$1
	case "$p" in
	/usr/bin/*) p=$bindir${p#/usr/bin} ;;
	/usr/share/locale*) p=$localedir${p#/usr/share/locale} ;;
	/usr/share/*) p=$datadir${p#/usr/share} ;;
	/etc/*) p=$sysconfdir${p#/etc} ;;
	/lib/systemd/system*) p=$unitdir${p#/lib/systemd/system} ;;
	/usr/lib/sysusers.d*) p=$sysusersdir${p#/usr/lib/sysusers.d} ;;
	/usr/lib/tmpfiles.d*) p=$tmpfilesdir${p#/usr/lib/tmpfiles.d} ;;
	/usr/lib/udev*) p=$udevdir${p#/usr/lib/udev} ;;
	esac
	echo "$dest$p"
}
(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort) >"$work/all.files"
: >"$work/claimed.files"
for pkg in kiosk kiosk-host not-installed; do
	list=$src/debian/$pkg.install
	[ "$pkg" = not-installed ] && list=$src/debian/not-installed
	while read -r line; do
		[ -n "$line" ] || continue
		p=$(debpath "$line")
		[ -e "$p" ] || fail "debian/${list##*/}: $line ($p) is not installed"
		find "$p" ! -type d | sed "s|^$dest||" | sed "s|\$|	$pkg|"
	done <"$list" >"$work/$pkg.files"
	cat "$work/$pkg.files" >>"$work/claimed.files"
done
dup=$(cut -f1 "$work/claimed.files" | sort | uniq -d)
[ -z "$dup" ] || fail "in two packages at once: $dup"
missing=$(comm -23 "$work/all.files" <(cut -f1 "$work/claimed.files" | sort))
[ -z "$missing" ] || fail "installed, in no package (debian/*.install, debian/not-installed): $missing"
hostcat=$datadir/kiosk-host/catalogue
for f in "$src"/assets/catalogue/*.json; do
	grep -qxF "$hostcat/${f##*/}	kiosk-host" "$work/kiosk-host.files" ||
		fail "the kiosk-host package lacks the fees catalogue's ${f##*/} ($hostcat)"
	cmp -s "$f" "$dest$hostcat/${f##*/}" || fail "$hostcat/${f##*/} is not the tree's"
done
grep -qxF "KIOSK_HOST_CATALOGUE=$hostcat" "$dest$sysconfdir/kiosk-host/kiosk-host.env" ||
	fail "kiosk-host.env does not name the package's catalogue ($hostcat)"
grep -q '^ExecStartPre=.*/kiosk-host catalogue load --db ${KIOSK_HOST_DB} --dir ${KIOSK_HOST_CATALOGUE}$' \
	"$dest$unitdir/kiosk-host.service" || fail "kiosk-host.service does not load \${KIOSK_HOST_CATALOGUE}"
# The installed host's own default is the package's copy, not the kiosk package's assets.
"$dest$bindir/kiosk-host" 2>&1 | grep -qF "catalogue load's default --dir: $hostcat" ||
	fail "the installed kiosk-host's default catalogue is not $hostcat: $("$dest$bindir/kiosk-host" 2>&1 | grep default)"
"$build/host/kiosk-host" 2>&1 | grep -qF "catalogue load's default --dir: $src/assets/catalogue" ||
	fail "the uninstalled kiosk-host's default catalogue is not the tree's"
# The package's copy loads with the kiosk's own loader (the host reads no icons: the tree's).
"$build/kiosk/kiosk" catalogue check "$dest$hostcat" --icons "$src/assets/icons" >"$work/cat.log" 2>&1 ||
	{ cat "$work/cat.log"; fail "the kiosk-host package's catalogue does not load"; }

if ! command -v systemd-analyze >/dev/null; then
	echo "ok: installed layout (systemd-analyze missing: units not verified)"
	exit 0
fi
# verify looks for the programs the units run; kiosk-host's are inside DESTDIR, cage is the
# system's (the test's own copy of the unit names it where it is installed here, if anywhere).
for u in kiosk kiosk-host; do
	sed -e "s|$bindir/|$dest$bindir/|g" "$dest$unitdir/$u.service" >"$work/$u.service"
done
cage=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$work/kiosk.service")
if [ ! -x "$cage" ]; then
	sed -i "s|^ExecStart=$cage |ExecStart=/bin/true |" "$work/kiosk.service"
	echo "note: $cage is not installed here; verified with /bin/true in its place"
fi
(cd "$work" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify ./kiosk.service ./kiosk-host.service) >"$work/verify.log" 2>&1 ||
	{ cat "$work/verify.log"; fail "systemd-analyze verify"; }
# verify prints warnings for directives it does not know and still exits 0: none allowed.
if grep -v -e 'sysinit.target not found' -e '^$' "$work/verify.log" | grep -q .; then
	cat "$work/verify.log"
	fail "systemd-analyze verify warned"
fi
for u in kiosk kiosk-host; do
	score=$(systemd-analyze security --offline=yes "$work/$u.service" 2>/dev/null |
		sed -n "s/.*Overall exposure level for $u.service: \([0-9.]*\).*/\1/p")
	[ -n "$score" ] || fail "systemd-analyze security gave no score for $u.service"
	echo "$u.service: systemd-analyze security exposure $score"
	awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "$u.service exposure $score is over 3.0"
	# The README's figure ("Install on a kiosk", Hardening) is this one, not last year's.
	readme=$(tr '\n' ' ' <"$src/README.md" | grep -o "\*\*[0-9.]*\*\*[^*]\{0,20\}for \`$u\.service\`" |
		sed 's/^\*\*\([0-9.]*\)\*\*.*/\1/')
	[ "$readme" = "$score" ] ||
		fail "README gives ${readme:-no figure} for $u.service, systemd-analyze security $score: update README's Hardening"
done
echo "ok: installed layout, configuration, units verified"
