#!/usr/bin/python3
"""The kiosk inside a real compositor, as kiosk.service runs it (data/kiosk.service.in).

cage, headless (WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1, no GPU, no
input device), as an unprivileged user (cage refuses root) with a private XDG_RUNTIME_DIR,
rotated to portrait (-r: 720 x 1280) and the kiosk full screen through SDL's x11 driver and
cage's Xwayland, as the unit has it. Checks, in order:
  1. sd_notify: READY=1 once the first frame is up, then WATCHDOG=1 every WATCHDOG_USEC/2 from
     the event loop, taken although systemd would name cage, not the kiosk, in WATCHDOG_PID;
     a stopped kiosk (SIGSTOP) sends none, so systemd's watchdog would restart it.
  2. grim's screenshot through the compositor shows the attract screen: it matches the kiosk's
     own headless screenshot of attract (scaled to the output) and does not match home's.
  3. The page fitted to an output of another shape (kiosk/ui/display.h, ui_display_fit): a
     1920x1080 kiosk on the 1280x720 output (-r -r) is whole, scaled by 2/3 (it was drawn
     1:1 and cut); a 1080x1920 one there is whole at 0.375, pillarboxed, and a scenario's taps
     (fingers, through the compositor's output) hit attract.en and home.topup on it.
  4. systemctl stop, as systemd does it: the unit's ExecStop (data/kiosk.service.in, with
     MAINPID = cage), then SIGTERM to every process left in the unit: the kiosk stops in
     order (STOPPING=1, the ledger closed: no -wal file left), not killed by the X
     connection's loss when Xwayland goes first.
  5. A top-up killed with SIGKILL while the customer pays (a 50 AED note credited): the kiosk
     started again in cage recovers it (completed, marked recovered, 5000 fils), and the
     ledger's chain verifies.
Debian's python3 (PIL from python3-pil). Skip (77) without root, runuser, cage, Xwayland or grim.
usage: check-compositor.py KIOSK WORKDIR UNIT_IN"""
import glob
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

USER = os.environ.get("KIOSK_TEST_USER", "nobody")
WATCHDOG_USEC = 2000000  # a keep-alive a second
TIMEOUT = float(os.environ.get("KIOSK_COMPOSITOR_TIMEOUT", "120"))  # a loaded CI machine
# Mean absolute difference per channel (0..255) between the compositor's picture and the
# kiosk's own, scaled down 1.5 times with different filters: measured 1-2 for the same screen
# and over 15 for attract against home.
SAME_MAX = 6.0


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


class Cage:
    """cage with the kiosk inside, as USER; the test reads the kiosk's sd_notify messages."""

    def __init__(self, work, kiosk_args, tag, rotate="-r"):
        self.work = work
        self.run = os.path.join(work, f"run-{tag}")
        os.mkdir(self.run, 0o700)
        os.chown(self.run, self.uid, self.gid)
        self.notify_path = os.path.join(work, f"notify-{tag}")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        os.chmod(self.notify_path, 0o666)
        self.log_path = os.path.join(work, f"cage-{tag}.log")
        env = ["PATH=/usr/bin:/bin", f"HOME={work}", f"XDG_RUNTIME_DIR={self.run}",
               "WLR_BACKENDS=headless", "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1",
               "SDL_VIDEODRIVER=x11", f"NOTIFY_SOCKET={self.notify_path}",
               f"WATCHDOG_USEC={WATCHDOG_USEC}", "KIOSK_LOG=info"]
        # systemd names the unit's main process, cage, in WATCHDOG_PID: so does this.
        shell = 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec cage -d %s -- "$@"' % rotate
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                ["runuser", "-u", USER, "--", "env", "-i", *env, "sh", "-c", shell, "sh", *kiosk_args],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=work)

    def messages(self, seconds):
        """The notify messages that arrive within `seconds`."""
        out, end = [], time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.notify.settimeout(left)
            try:
                out.append(self.notify.recv(4096).decode())
            except socket.timeout:
                break
        return out

    def wait_for(self, what, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                fail(f"cage ended ({self.proc.returncode}) before {what!r}: {self.log()}")
            for m in self.messages(1):
                if what in m.split("\n"):
                    return
        fail(f"no {what!r} from the kiosk in {seconds:.0f} s: {self.log()}")

    def kiosk_pid(self):
        """runuser (the Popen) runs cage as its child; the kiosk is cage's child."""
        for cage in children(self.proc.pid):
            for pid in children(cage):
                with open(f"/proc/{pid}/comm") as c:
                    if c.read().strip() == "kiosk":
                        return pid
        fail(f"no kiosk process under cage: {self.log()}")

    def grim(self, path):
        env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": self.run, "WAYLAND_DISPLAY": "wayland-0"}
        r = subprocess.run(["runuser", "-u", USER, "--", "env", *[f"{k}={v}" for k, v in env.items()],
                            "grim", path], capture_output=True)
        if r.returncode != 0:
            fail(f"grim: {r.stderr.decode()}")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.notify.close()


def children(pid):
    out = []
    for t in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(t) as f:
            out += [int(x) for x in f.read().split()]
    return out


def mean_diff(a, b):
    from PIL import ImageChops, ImageStat
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def headless_shot(kiosk, work, name, lines, config):
    """The kiosk's own screenshot of a screen, headless (SDL's offscreen driver, no compositor)."""
    script = os.path.join(work, f"{name}.scenario")
    with open(script, "w") as f:
        f.write("\n".join(lines + [f"screenshot {name}"]) + "\n")
    out = os.path.join(work, "ref")
    r = subprocess.run([kiosk, "--simulate", "--headless", "--config", config, "--script", script,
                        "--db", os.path.join(work, f"ref-{name}.db"), "--out", out], capture_output=True)
    if r.returncode != 0:
        fail(f"headless {name}: exit {r.returncode}: {r.stderr.decode()[-2000:]}")
    return os.path.join(out, f"{name}.png")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def check_attract(kiosk, work, config):
    from PIL import Image
    db = os.path.join(work, "attract.db")
    cage = Cage(work, [kiosk, "--simulate", "--config", config, "--db", db, "--out", os.path.join(work, "out")], "attract")
    try:
        cage.wait_for("READY=1", TIMEOUT)
        pings = [m for m in cage.messages(3.5) if m == "WATCHDOG=1"]
        if len(pings) < 2:
            fail(f"{len(pings)} keep-alives in 3.5 s, expected one a second: {cage.log()}")
        shot = os.path.join(work, "cage-attract.png")
        cage.grim(shot)
        kpid = cage.kiosk_pid()
        os.kill(kpid, signal.SIGSTOP)
        cage.messages(1.2)  # what was on its way
        stopped = [m for m in cage.messages(3) if m == "WATCHDOG=1"]
        os.kill(kpid, signal.SIGCONT)
        if stopped:
            fail(f"{len(stopped)} keep-alives from a stopped kiosk")
        resumed = [m for m in cage.messages(3) if m == "WATCHDOG=1"]
        if not resumed:
            fail("no keep-alive once the kiosk runs again")
        print(f"sd_notify: READY=1, {len(pings)} keep-alives in 3.5 s, none while stopped, "
              f"{len(resumed)} after")
    finally:
        cage.stop()
    got = Image.open(shot).convert("RGB")
    if got.size != (720, 1280):
        fail(f"the compositor's output is {got.size}, expected 720 x 1280 (headless, rotated)")
    attract = Image.open(headless_shot(kiosk, work, "attract", ["expect-screen attract"], config)).convert("RGB")
    home = Image.open(headless_shot(kiosk, work, "home", ["tap attract.en", "expect-screen home"], config)).convert("RGB")
    d_attract = mean_diff(got, attract.resize(got.size, Image.BOX))
    d_home = mean_diff(got, home.resize(got.size, Image.BOX))
    print(f"grim vs the kiosk's own attract: {d_attract:.2f}; vs home: {d_home:.2f} (same below {SAME_MAX})")
    if d_attract > SAME_MAX:
        fail(f"the compositor's picture is not attract ({d_attract:.2f}): {shot}")
    if d_home <= SAME_MAX * 2:
        fail(f"the comparison cannot tell attract from home ({d_home:.2f})")


def check_kill_recover(kiosk, work, config):
    db = os.path.join(work, "topup.db")
    out = os.path.join(work, "out-topup")
    os.mkdir(out)
    os.chown(out, KioskUser.uid, KioskUser.gid)
    pay = os.path.join(work, "pay.scenario")
    write(pay, "\n".join([
        "tap attract.en", "tap home.topup", 'type "7840123456789014"', "tap nav.next",
        "expect-screen topup-pay", "note 50", 'expect-text "AED 50.00"', "screenshot paying",
        "wait 3600", ""]))
    cage = Cage(work, [kiosk, "--simulate", "--config", config, "--db", db, "--out", out, "--script", pay], "pay")
    try:
        end = time.monotonic() + TIMEOUT
        while not os.path.exists(os.path.join(out, "paying.png")):
            if time.monotonic() > end or cage.proc.poll() is not None:
                fail(f"the top-up did not reach paying: {cage.log()}")
            time.sleep(0.2)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            paid = c.execute("SELECT coalesce(sum(value_fils), 0) FROM payment").fetchone()[0]
            open_tx = c.execute("SELECT count(*) FROM tx_end").fetchone()[0]
        if paid != 5000 or open_tx != 0:
            fail(f"before the kill: {paid} fils paid, {open_tx} transactions ended; expected 5000, 0")
        os.kill(cage.kiosk_pid(), signal.SIGKILL)
        cage.proc.wait(30)
    finally:
        cage.stop()
    after = os.path.join(work, "after.scenario")
    write(after, "\n".join([
        'expect-log warn "was left open by an interruption: completed by recovery, 5000 fils credited from 1 notes"',
        "wait-device cash ok", "wait 3", "expect-screen attract",
        """expect-ledger "SELECT state || ' ' || recovered || ' ' || credited_fils FROM tx_end" "completed 1 5000\"""",
        "screenshot recovered", ""]))
    cage = Cage(work, [kiosk, "--simulate", "--config", config, "--db", db, "--out", out, "--script", after], "after")
    try:
        end = time.monotonic() + TIMEOUT
        while cage.proc.poll() is None and time.monotonic() < end:
            time.sleep(0.2)
        if not os.path.exists(os.path.join(out, "recovered.png")):
            fail(f"the restarted kiosk did not recover the top-up: {cage.log()}")
    finally:
        cage.stop()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        row = c.execute("SELECT state, recovered, credited_fils FROM tx_end").fetchall()
    if row != [("completed", 1, 5000)]:
        fail(f"tx_end after recovery: {row}")
    r = subprocess.run([kiosk, "ledger", "verify", "--db", db], capture_output=True)
    if r.returncode != 0:
        fail(f"kiosk ledger verify: {r.stdout.decode()}{r.stderr.decode()}")
    print("SIGKILL while paying: the restarted kiosk completed the top-up by recovery, 5000 fils; chain verifies")


def check_fit(kiosk, work):
    """The page whole on an output of another size or shape, and taps that hit through it."""
    from PIL import Image
    # wlroots' headless output turned 180 degrees: 1280 x 720 as unturned. Unturned, cage 0.1.4
    # scans a window that covers the output out directly (output.c, scan_out_primary_view:
    # same size, scale and transform), and grim's screencopy of that on the headless backend
    # reads black or an older frame; turned, cage composites, as it does any shm buffer on a
    # real screen.
    out_w, out_h = 1280, 720
    cases = [("landscape", 1920, 1080, ["expect-screen attract"], "attract"),
             ("portrait", 1080, 1920, ["tap attract.en", "expect-screen home", "tap home.topup",
                                        "expect-screen topup-card", "tap nav.back", "expect-screen home"], "home")]
    for name, w, h, taps, screen in cases:
        config = os.path.join(work, f"fit-{name}.ini")
        write(config, f"[ui]\nwidth = {w}\nheight = {h}\n")
        out = os.path.join(work, f"out-fit-{name}")
        os.mkdir(out)
        os.chown(out, KioskUser.uid, KioskUser.gid)
        script = os.path.join(work, f"fit-{name}.scenario")
        write(script, "\n".join(taps + ["screenshot shown", "wait 3600", ""]))
        cage = Cage(work, [kiosk, "--simulate", "--config", config, "--db", os.path.join(work, f"fit-{name}.db"),
                           "--out", out, "--script", script], f"fit-{name}", rotate="-r -r")
        shot = os.path.join(work, f"cage-fit-{name}.png")
        try:
            end = time.monotonic() + TIMEOUT
            while not os.path.exists(os.path.join(out, "shown.png")):
                if time.monotonic() > end or cage.proc.poll() is not None:
                    fail(f"{name}: the scenario did not reach its screenshot (a tap missed?): {cage.log()}")
                time.sleep(0.2)
            time.sleep(1)
            cage.grim(shot)
        finally:
            cage.stop()
        got = Image.open(shot).convert("RGB")
        if got.size != (out_w, out_h):
            fail(f"{name}: the compositor's output is {got.size}, expected {out_w} x {out_h}")
        s = min(out_w / w, out_h / h)
        pw, ph = round(w * s), round(h * s)
        box = ((out_w - pw) // 2, (out_h - ph) // 2, (out_w - pw) // 2 + pw, (out_h - ph) // 2 + ph)
        ref = Image.open(headless_shot(kiosk, work, f"fit-{name}-{screen}", taps, config)).convert("RGB")
        # The page's edge may fall a pixel either side of box (SDL rounds its viewport).
        scaled = ref.resize((pw, ph), Image.BOX)
        d = min(mean_diff(got.crop((box[0] + dx, box[1], box[2] + dx, box[3])), scaled) for dx in (-1, 0, 1))
        bands = [got.crop(b) for b in ((0, 0, box[0] - 1, out_h), (box[2] + 1, 0, out_w, out_h)) if b[2] > b[0]]
        colours = {c for b in bands for _, c in b.getcolors(1 << 20)}
        print(f"fit {name}: {w}x{h} at {s:.3f} in {box} of the {out_w}x{out_h} output: {d:.2f} from the "
              f"kiosk's own {screen}; {len(colours)} colour(s) beside it")
        if d > SAME_MAX:
            fail(f"{name}: the output does not show the whole {screen} page in {box} ({d:.2f}): {shot}")
        if len(colours) > 1:
            fail(f"{name}: the bands beside the page are not one colour ({len(colours)}): {shot}")


def unit_exec_stop(unit_in):
    """The unit's ExecStop= commands, as systemd would run them (one line each)."""
    out = []
    with open(unit_in) as f:
        for line in f:
            if line.startswith("ExecStop="):
                out.append(line[len("ExecStop="):].strip().lstrip("-@:+!"))  # systemd's prefixes
    return out


def check_stop(kiosk, work, config, unit_in):
    """systemctl stop: ExecStop, then SIGTERM to the whole unit at once (KillMode=control-group)."""
    db = os.path.join(work, "stop.db")
    cage = Cage(work, [kiosk, "--simulate", "--config", config, "--db", db, "--out", os.path.join(work, "out")], "stop")
    stops = unit_exec_stop(unit_in)
    try:
        cage.wait_for("READY=1", TIMEOUT)
        cage.messages(1)
        main_pid = children(cage.proc.pid)[0]  # runuser's child: cage, the unit's main process
        for cmd in stops:
            # systemd runs it as the unit's user with $MAINPID; the notify socket stays open.
            r = subprocess.run(["runuser", "-u", USER, "--", "env", f"MAINPID={main_pid}", "PATH=/usr/bin:/bin",
                                "sh", "-c", f"exec {cmd}"], capture_output=True, text=True, timeout=25)
            if r.returncode != 0:
                fail(f"ExecStop={cmd}: exit {r.returncode}: {r.stderr}")
        os.killpg(cage.proc.pid, signal.SIGTERM)
        try:
            cage.proc.wait(20)
        except subprocess.TimeoutExpired:
            fail(f"the unit's processes did not end within TimeoutStopSec after SIGTERM: {cage.log()}")
        said = cage.messages(1)
    finally:
        cage.stop()
    log = cage.log()
    if "STOPPING=1" not in said or "XIO" in log or os.path.exists(db + "-wal"):
        fail(f"the kiosk did not stop in order (STOPPING=1 {'sent' if 'STOPPING=1' in said else 'not sent'}, "
             f"-wal {'left' if os.path.exists(db + '-wal') else 'gone'}): {log}")
    print(f"systemctl stop ({len(stops)} ExecStop, then SIGTERM to all): STOPPING=1, ledger closed, no X error")


class KioskUser:
    uid = gid = 0


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    kiosk = os.path.realpath(sys.argv[1])
    if os.geteuid() != 0:
        skip("needs root to run cage as another user (cage refuses root)")
    for tool in ("runuser", "cage", "Xwayland", "grim"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (scripts/setup-deps.sh)")
    try:
        import PIL  # noqa: F401
    except ImportError:
        skip("python3-pil is not installed")
    pw = pwd.getpwnam(USER)
    KioskUser.uid, KioskUser.gid = Cage.uid, Cage.gid = pw.pw_uid, pw.pw_gid
    work = os.path.realpath(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.chown(work, pw.pw_uid, pw.pw_gid)
    # The user must reach the kiosk and its files through every parent folder. A clone under a
    # private folder (mktemp -d is 0700, as CI's may be) would skip the test CI must run, so
    # each such folder gets the search bit for others (names can be followed, not listed) for
    # the test's length and its mode back afterwards.
    opened = []
    for top in {os.path.dirname(kiosk), work}:
        p = top
        while p != "/":
            mode = os.stat(p).st_mode
            if not mode & 0o001 and p not in (q for q, _ in opened):
                os.chmod(p, (mode & 0o7777) | 0o001)
                opened.append((p, mode & 0o7777))
                print(f"note: {p} made searchable by {USER} for the test")
            p = os.path.dirname(p)
    try:
        config = os.path.join(work, "portrait.ini")
        write(config, "[ui]\nwidth = 1080\nheight = 1920\n")
        check_attract(kiosk, work, config)
        check_fit(kiosk, work)
        check_stop(kiosk, work, config, os.path.realpath(sys.argv[3]))
        check_kill_recover(kiosk, work, config)
    finally:
        for p, mode in reversed(opened):
            os.chmod(p, mode)
    print("ok: attract through cage and grim; watchdog; fitted pages and taps; SIGKILL mid top-up recovered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
