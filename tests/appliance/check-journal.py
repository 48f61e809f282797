#!/usr/bin/env python3
"""Under systemd the kiosk logs to the journal with structured fields (kiosk/core/log.c).

A stand-in journald: a datagram socket bound where libsystemd sends (/run/systemd/journal/socket),
seen by the kiosk alone through a private mount namespace (unshare; skip 77 without it or
without root). The kiosk runs a headless top-up with its stderr a file whose device and inode
JOURNAL_STREAM names, as systemd does for a unit: every line arrives as a datagram with MESSAGE,
PRIORITY and KIOSK_SUBSYSTEM, the acceptor's with KIOSK_DEVICE=cash, the transaction's with
KIOSK_TRANSACTION; nothing goes to stderr twice. The same run without JOURNAL_STREAM writes the
plain lines to stderr and nothing to the journal.
usage: check-journal.py KIOSK SCENARIO"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


def parse(datagram):
    """journald's native protocol: NAME=value lines (values with a newline come length-prefixed,
    which the kiosk's lines never need: their absence is checked too)."""
    fields = {}
    for line in datagram.decode().split("\n"):
        if not line:
            continue
        if "=" not in line:
            fail(f"a field without '=' (binary-framed?): {line!r}")
        name, value = line.split("=", 1)
        fields[name] = value
    return fields


def run(kiosk, scenario, work, journal):
    sockdir = os.path.join(work, "journal")
    os.makedirs(sockdir, exist_ok=True)
    path = os.path.join(sockdir, "socket")
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    # Drained while the kiosk runs: libsystemd's send blocks once the socket's queue is full.
    datagrams = []
    sock.settimeout(0.2)
    done = threading.Event()

    def drain():
        while True:
            try:
                datagrams.append(sock.recv(1 << 16))
            except socket.timeout:
                if done.is_set():
                    return
    reader = threading.Thread(target=drain)
    reader.start()
    err_path = os.path.join(work, "stderr.txt")
    env = dict(os.environ, KIOSK_LOG="info")
    env.pop("JOURNAL_STREAM", None)
    with open(err_path, "w+b") as err:
        if journal:
            st = os.fstat(err.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        out = os.path.join(work, "out")
        shutil.rmtree(out, ignore_errors=True)
        db = os.path.join(work, "k.db")
        for f in (db, db + "-wal", db + "-shm"):
            if os.path.exists(f):
                os.unlink(f)
        cmd = ["unshare", "--mount", "sh", "-c",
               'mkdir -p /run/systemd/journal && mount --bind "$0" /run/systemd/journal && exec "$@"',
               sockdir, kiosk, "--simulate", "--headless", "--script", scenario, "--db", db, "--out", out]
        rc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err).returncode
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    done.set()
    reader.join()
    sock.close()
    datagrams = [parse(d) for d in datagrams]
    if rc != 0:
        fail(f"kiosk exit {rc}: {stderr[-2000:]}")
    return datagrams, stderr


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    kiosk, scenario = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    if os.geteuid() != 0 or not shutil.which("unshare"):
        skip("needs root and unshare for a private journal socket")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        skip(f"unshare --mount refused: {probe.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory(prefix="check-journal.") as work:
        lines, stderr = run(kiosk, scenario, work, journal=True)
        if not lines:
            fail("nothing reached the journal")
        for f in lines:
            for name in ("MESSAGE", "PRIORITY", "KIOSK_SUBSYSTEM"):
                if name not in f:
                    fail(f"a line without {name}: {f}")
            if not f["MESSAGE"].startswith(f["KIOSK_SUBSYSTEM"] + ": "):
                fail(f"MESSAGE does not name its subsystem: {f}")
            if f["PRIORITY"] not in ("3", "4", "6", "7"):
                fail(f"bad PRIORITY: {f}")
        cash = [f for f in lines if f.get("KIOSK_DEVICE") == "cash"]
        tx = [f for f in lines if f.get("KIOSK_TRANSACTION") == "1"]
        if not cash:
            fail("no line with KIOSK_DEVICE=cash")
        if not any("completed" in f["MESSAGE"] for f in tx):
            fail("no 'transaction 1 ... completed' line with KIOSK_TRANSACTION=1: "
                 + "; ".join(f["MESSAGE"] for f in lines if "transaction" in f["MESSAGE"]))
        if any(f["MESSAGE"] in stderr for f in lines):
            fail("a journal line went to stderr too")
        print(f"journal: {len(lines)} lines, {len(cash)} of the acceptor, {len(tx)} of transaction 1")
        plain, stderr = run(kiosk, scenario, work, journal=False)
        if plain:
            fail(f"{len(plain)} lines reached the journal without JOURNAL_STREAM")
        if "info  flow-topup: transaction 1 completed" not in stderr:
            fail(f"no plain line on stderr without JOURNAL_STREAM: {stderr[-1000:]}")
    print("ok: journal fields under systemd, plain stderr otherwise")
    return 0


if __name__ == "__main__":
    sys.exit(main())
