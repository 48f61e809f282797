#!/bin/bash
# Installs the Debian 12 packages the kiosk builds, runs and tests with, when any is missing.
# Safe to run again: it does nothing when everything is there.
set -euo pipefail

packages=(
	# toolchain
	gcc pkg-config meson ninja-build python3
	# the kiosk: window and touch, text layout, devices, storage, images, configuration
	libsdl2-dev libsdl2-ttf-dev libfribidi-dev libharfbuzz-dev libfreetype-dev
	libusb-1.0-0-dev libsqlite3-dev libpng-dev libglib2.0-dev
	# the catalogues: msgfmt compiles locales/*.po at build time, xgettext and msgmerge remake
	# the template and merge it; the tests run msgfmt --check on both (README: Catalogues)
	gettext
	# eSSP encryption (AES-128, Diffie-Hellman) for note acceptors that require it; HMAC-SHA256
	# of the money ledger's chain (kiosk/ledger/chain.c), which needs it always; its hogweed
	# half signs the receipts' records with Ed25519 (kiosk/proof, docs/receipts.md)
	nettle-dev
	# the QR code on every receipt (kiosk/print/doc.c): the signed record anyone can verify
	libqrencode-dev
	# the ledger export's JSON lines (kiosk/ledger/export.c), written and read back in the
	# tests with a real JSON library instead of hand-made escaping; GLib is already in
	libjson-glib-dev
	# the operator's CA for the host link's mutual TLS (host/pki): keys and certificates made
	# with GnuTLS, the TLS stack libmicrohttpd and Debian's libcurl-gnutls share
	libgnutls28-dev
	# the reference host (host/, kiosk-host): PostgreSQL's client library, and libmicrohttpd
	# built with GnuTLS for its HTTPS with client certificates (mutual TLS)
	libpq-dev libmicrohttpd-dev
	# the reference host's database: the tests and the demo start a throwaway cluster with the
	# server's initdb and pg_ctl (scripts/pg-throwaway.sh); without it the host tests skip
	postgresql
	# the sync to the host (kiosk/sync/transport-curl.c): libcurl over mutual TLS; the GnuTLS
	# flavour keeps one TLS stack with the host's libmicrohttpd (the OpenSSL and GnuTLS -dev
	# packages conflict); gnutls-bin's certtool and gnutls-serv give the transport's test its
	# own CA and a TLS server that asks for the kiosk's certificate
	libcurl4-gnutls-dev gnutls-bin
	# fonts (Noto Naskh Arabic, Noto Sans); Unicode data: the line-break table is generated
	# from it at build time, and the text conformance tests read it
	fonts-noto-core unicode-data
	# test-only: libraqm as a layout oracle, umockdev to emulate USB devices under libusb
	libraqm-dev umockdev libumockdev-dev
	# test-only: clang and its runtime libraries (libFuzzer, the sanitizers' runtimes, only
	# recommended by clang) build the fuzz targets as libFuzzer binaries, which
	# scripts/test.sh runs for a few seconds each (scripts/fuzz.sh)
	clang libclang-rt-dev
	# test-only: zbarimg reads the QR code back from a scenario's printed receipt PNG, as a
	# phone would, for `kiosk receipt verify` (tests/scenario/run-receipt-qr.sh; skips without)
	zbar-tools
	# test-only: PyYAML parses docs/host-api.yaml and jsonschema validates its examples
	# against its schemas (tests/docs/check-host-api.py; each skips with 77 without them)
	python3-yaml python3-jsonschema
	# the appliance: libsystemd's sd_notify tells systemd the kiosk is ready and that its event
	# loop still turns (the unit's WatchdogSec= restarts a hung loop, not only a dead process);
	# debhelper builds the Debian packages (debian/, dpkg-buildpackage)
	libsystemd-dev debhelper
	# test-only: the real-compositor test (tests/compositor): cage, the Wayland kiosk
	# compositor the unit runs the kiosk in, headless; xwayland for SDL's x11 driver inside it
	# (cage starts Xwayland when a client asks); grim takes the screenshot through the compositor
	# and python3-pil compares that screenshot with the kiosk's own headless one, scaled
	cage xwayland grim python3-pil
	# bench-only: libunibreak, the line-break stage the own UAX #14 breaker replaced, as the
	# speed baseline of bench/text/bench-linebreak (the kiosk no longer links it)
	libunibreak-dev
	# test and bench: an X server without a screen, so the no-gl test (tests/scenario) checks
	# a windowed kiosk loads no OpenGL, and bench/appliance.sh times the window's first frame
	xvfb
	# test-only: xdotool types the key combinations and clicks the mouse at the kiosk full
	# screen on Xvfb (XTEST), and finds its window, for the lock-down test
	# (tests/appliance/check-lockdown.py: no key closes or leaves it, the page fits the output)
	xdotool
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
else
	sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
