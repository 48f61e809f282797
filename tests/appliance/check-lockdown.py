#!/usr/bin/python3
"""The kiosk's lock-down on a real X server (Xvfb), full screen as on a kiosk (issue 14).

A 1920x1080 (landscape) kiosk on a 1280x1024 output, through SDL's x11 driver as under cage:
  1. fit: the window covers the output, and the output shows the whole page, scaled by 2/3
     and letterboxed (bands above and below), equal to the kiosk's own headless screenshot;
     `[display] scale = 0.5` shows it at half size, centred; a scale too large is fitted.
  2. cursor: the pointer over the kiosk shows no cursor (XFixes reads the cursor image; over
     the bare root window it is X's own, not empty).
  3. keys and close requests: Alt+F4, Ctrl+Q, Ctrl+W, Ctrl+C, Escape, F11, Super, Alt+Tab,
     Alt+Esc (cage's quit key in its debug builds), Ctrl+Alt+Backspace, Ctrl+Alt+Delete,
     Ctrl+Alt+F2 sent to the focused kiosk (xdotool, XTEST), and a window manager's close
     request (WM_DELETE_WINDOW, what `wmctrl -c` or a title bar's button sends): after each
     the kiosk still runs, its window is still the output's size, and the screen is
     unchanged, still attract.
  4. mouse: a left click at the English button's place on the output (its place on the page,
     scaled and moved into the letterbox) opens home in English.
  5. touch: a scenario (the test port) taps the buttons as fingers on the letterboxed output.
  6. SIGTERM (systemctl stop): the kiosk exits 0 within 10 s and its ledger verifies.
Debian's python3 (PIL from python3-pil, libX11 and libXfixes through ctypes). Skips (77)
without Xvfb, xdotool or PIL.
usage: check-lockdown.py KIOSK WORKDIR"""
import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import time

OUT_W, OUT_H = 1280, 1024
PAGE_W, PAGE_H = 1920, 1080
TIMEOUT = float(os.environ.get("KIOSK_LOCKDOWN_TIMEOUT", "60"))
# Mean absolute difference per channel (0..255) between the output and the kiosk's own page
# scaled the same way: measured about 1 for the same screen, over 12 for attract against home.
SAME_MAX = 6.0
KEYS = ["alt+F4", "ctrl+q", "ctrl+w", "ctrl+c", "Escape", "F11", "super", "alt+Tab", "alt+Escape",
        "ctrl+alt+BackSpace", "ctrl+alt+Delete", "ctrl+alt+F2"]


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


def mean_diff(a, b):
    from PIL import ImageChops, ImageStat
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


class Xvfb:
    def __init__(self, work):
        r, w = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{OUT_W}x{OUT_H}x24",
                                      "-nolisten", "tcp"], pass_fds=[w], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(work, "xvfb.log"), "wb"))
        os.close(w)
        with os.fdopen(r) as f:
            num = f.readline().strip()
        if not num:
            fail("Xvfb gave no display number")
        self.display = f":{num}"
        self.env = {"PATH": "/usr/bin:/bin", "DISPLAY": self.display, "HOME": work}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def xdotool(x, *args, check=True):
    r = subprocess.run(["xdotool", *args], env=x.env, capture_output=True, text=True)
    if check and r.returncode != 0:
        fail(f"xdotool {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def grab(x):
    from PIL import ImageGrab
    return ImageGrab.grab(xdisplay=x.display).convert("RGB")


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("l", ctypes.c_long * 5)]


class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


class Xlib:
    """The few libX11/libXfixes calls the test needs: a close request and the cursor image."""

    class CursorImage(ctypes.Structure):
        _fields_ = [("x", ctypes.c_short), ("y", ctypes.c_short), ("width", ctypes.c_ushort),
                    ("height", ctypes.c_ushort), ("xhot", ctypes.c_ushort), ("yhot", ctypes.c_ushort),
                    ("cursor_serial", ctypes.c_ulong), ("pixels", ctypes.POINTER(ctypes.c_ulong)),
                    ("atom", ctypes.c_ulong), ("name", ctypes.c_char_p)]

    def __init__(self, display):
        self.x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        self.xf = ctypes.CDLL(ctypes.util.find_library("Xfixes") or "libXfixes.so.3")
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XInternAtom.restype = ctypes.c_ulong
        self.x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self.x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        self.x.XFlush.argtypes = [ctypes.c_void_p]
        self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x.XFree.argtypes = [ctypes.c_void_p]
        self.xf.XFixesGetCursorImage.restype = ctypes.POINTER(Xlib.CursorImage)
        self.xf.XFixesGetCursorImage.argtypes = [ctypes.c_void_p]
        self.dpy = self.x.XOpenDisplay(display.encode())
        if not self.dpy:
            fail(f"cannot open {display} through libX11")

    def close_request(self, window):
        """What a window manager sends when its close button or key is used (ICCCM 4.2.8.1)."""
        ev = XEvent()
        ev.xclient.type = 33  # ClientMessage
        ev.xclient.window = window
        ev.xclient.message_type = self.x.XInternAtom(self.dpy, b"WM_PROTOCOLS", 0)
        ev.xclient.format = 32
        ev.xclient.l[0] = self.x.XInternAtom(self.dpy, b"WM_DELETE_WINDOW", 0)
        ev.xclient.l[1] = 0  # CurrentTime
        if not self.x.XSendEvent(self.dpy, window, 0, 0, ctypes.byref(ev)):
            fail("XSendEvent refused the close request")
        self.x.XFlush(self.dpy)

    def cursor_visible(self):
        """Whether the cursor X shows now has any pixel that is not fully transparent."""
        img = self.xf.XFixesGetCursorImage(self.dpy)
        if not img:
            fail("XFixesGetCursorImage gave nothing")
        c = img.contents
        visible = any((c.pixels[i] >> 24) & 0xFF for i in range(c.width * c.height))
        self.x.XFree(img)
        return visible

    def close(self):
        self.x.XCloseDisplay(self.dpy)


class Kiosk:
    def __init__(self, kiosk, x, work, tag, config, script=None):
        self.work, self.tag = work, tag
        self.db = os.path.join(work, f"{tag}.db")
        self.log_path = os.path.join(work, f"kiosk-{tag}.log")
        args = [kiosk, "--simulate", "--fullscreen", "--config", config, "--db", self.db,
                "--out", os.path.join(work, f"out-{tag}"), "--log-level", "debug"]
        if script:
            args += ["--script", script]
        env = dict(x.env, SDL_VIDEODRIVER="x11")
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):  # the sanitizer build's
            if k in os.environ:
                env[k] = os.environ[k]
        # On a display SDL's input-method support opens D-Bus and leaves libdbus's global state
        # for LeakSanitizer to report (as run-no-gl.sh): no leak check for these runs.
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, what, seconds=TIMEOUT):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if what in self.log():
                return
            if self.proc.poll() is not None:
                fail(f"the kiosk ({self.tag}) ended ({self.proc.returncode}) before {what!r}: {self.log()[-2000:]}")
            time.sleep(0.1)
        fail(f"no {what!r} from the kiosk ({self.tag}) in {seconds:.0f} s: {self.log()[-2000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def window_of(x):
    ids = xdotool(x, "search", "--name", "e-Dirham kiosk", check=False).split()
    return int(ids[0]) if ids else None


def geometry(x, win):
    out = xdotool(x, "getwindowgeometry", "--shell", str(win), check=False)
    g = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return tuple(int(g.get(k, -1)) for k in ("X", "Y", "WIDTH", "HEIGHT"))


def headless_shot(kiosk, work, name, lines, config):
    """The kiosk's own screenshot of a screen, headless (SDL's offscreen driver)."""
    script = os.path.join(work, f"ref-{name}.scenario")
    with open(script, "w") as f:
        f.write("\n".join(lines + [f"screenshot {name}"]) + "\n")
    out = os.path.join(work, "ref")
    r = subprocess.run([kiosk, "--simulate", "--headless", "--config", config, "--script", script,
                        "--db", os.path.join(work, f"ref-{name}.db"), "--out", out], capture_output=True)
    if r.returncode != 0:
        fail(f"headless {name}: exit {r.returncode}: {r.stderr.decode()[-2000:]}")
    from PIL import Image
    return Image.open(os.path.join(out, f"{name}.png")).convert("RGB")


def page_box(scale_pct=0):
    """Where the page must be on the output (kiosk/ui/display.h, ui_display_fit)."""
    s = min(OUT_W / PAGE_W, OUT_H / PAGE_H)
    if scale_pct:
        s = min(s, scale_pct / 100)
    w, h = min(OUT_W, round(PAGE_W * s)), min(OUT_H, round(PAGE_H * s))
    x, y = (OUT_W - w) // 2, (OUT_H - h) // 2
    return (x, y, x + w, y + h), s


def check_shows(got, page, box, what):
    """got (the output) shows page whole in box, and nothing but one colour outside it."""
    from PIL import Image
    got.save(os.path.join(os.environ.get("LOCKDOWN_WORK", "."), f"output-{what}.png"))
    # The page's edge may fall a pixel either side of box (SDL rounds its viewport).
    scaled = page.resize((box[2] - box[0], box[3] - box[1]), Image.BOX)
    d = min(mean_diff(got.crop((box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)), scaled)
            for dx in (-1, 0, 1) for dy in (-1, 0, 1))
    bands = [got.crop(b) for b in ((0, 0, OUT_W, box[1] - 1), (0, box[3] + 1, OUT_W, OUT_H),
                                   (0, 0, box[0] - 1, OUT_H), (box[2] + 1, 0, OUT_W, OUT_H))
             if b[2] > b[0] and b[3] > b[1]]
    colours = set()
    for b in bands:
        colours |= {c for _, c in b.getcolors(1 << 20)}
    if d > SAME_MAX or len(colours) > 1:
        path = os.path.join(os.environ.get("LOCKDOWN_WORK", "."), f"output-{what}.png")
        fail(f"{what}: the output does not show the whole page in {box} (difference {d:.2f}, "
             f"{len(colours)} colours around it): {path}")
    return d


def check_seams(got, page, box, scale):
    """A scaled button is one piece: no row of the page's background runs across it between
    rows of the button's colour (its rounded corners are drawn as spans, which SDL's scaling
    once pulled apart: a pale line across every button at 2/3)."""
    bx, by = button_centre(page)
    x = box[0] + round(bx * scale)
    green = got.getpixel((OUT_W // 2, box[1] + 2))  # the header's colour, the button's too
    bg = got.getpixel((0, 0))  # the letterbox band: the page's background
    top = (box[1] + box[3]) // 2  # the lower half of the page: the button, not the header
    column = [got.getpixel((x, y)) for y in range(top, box[3])]
    painted = [i for i, c in enumerate(column) if c == green]
    if len(painted) < 20:
        fail(f"no button colour {green} on the column x {x} of the output")
    first, last = painted[0], painted[-1]
    seams = [top + i for i in range(first, last) if column[i] == bg]
    if seams:
        fail(f"seams across the scaled English button at x {x}: background rows {seams}")
    print(f"seams: none across the scaled English button (rows {top + first}..{top + last} at x {x})")


def button_centre(page):
    """The centre of the English button on the attract page: the bounding box of the header's
    colour in the page's lower left quarter (the button is drawn in it, nothing else is)."""
    green = page.getpixel((page.width // 2, 4))
    w, h = page.width, page.height
    px = page.load()
    xs, ys = [], []
    for y in range(h // 2, h, 2):
        for xx in range(0, w // 2, 2):
            if px[xx, y] == green:
                xs.append(xx)
                ys.append(y)
    if len(xs) < 1000:
        fail(f"no English button found on the attract page (colour {green})")
    return (min(xs) + max(xs)) // 2, (min(ys) + max(ys)) // 2


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    kiosk = os.path.realpath(sys.argv[1])
    for tool in ("Xvfb", "xdotool"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (scripts/setup-deps.sh)")
    try:
        from PIL import ImageGrab  # noqa: F401
    except ImportError:
        skip("python3-pil is not installed")
    work = os.path.realpath(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.environ["LOCKDOWN_WORK"] = work
    config = os.path.join(work, "landscape.ini")
    with open(config, "w") as f:
        f.write(f"[ui]\nwidth = {PAGE_W}\nheight = {PAGE_H}\n")
    attract = headless_shot(kiosk, work, "attract", ["expect-screen attract"], config)
    home = headless_shot(kiosk, work, "home", ["tap attract.en", "expect-screen home"], config)

    x = Xvfb(work)
    xl = Xlib(x.display)
    k = None
    try:
        # 2, before the kiosk: over the bare root window X shows its own cursor.
        xdotool(x, "mousemove", str(OUT_W // 2), str(OUT_H // 2))
        if not xl.cursor_visible():
            fail("the root window's cursor reads as empty: the cursor check could not tell")

        k = Kiosk(kiosk, x, work, "locked", config)
        k.wait_log("service: ready")
        win = None
        end = time.monotonic() + TIMEOUT
        while win is None and time.monotonic() < end:
            win = window_of(x)
            time.sleep(0.1)
        if win is None:
            fail(f"no kiosk window: {k.log()[-2000:]}")
        time.sleep(1)
        # 1. The window covers the output, the page is whole in its letterbox.
        geo = geometry(x, win)
        if geo != (0, 0, OUT_W, OUT_H):
            fail(f"the kiosk's window is {geo} (x, y, w, h), not the output's (0, 0, {OUT_W}, {OUT_H})")
        box, scale = page_box()
        first = grab(x)
        d = check_shows(first, attract, box, "fit")
        d_home = mean_diff(first.crop(box), home.resize((box[2] - box[0], box[3] - box[1])))
        if d_home <= SAME_MAX * 2:
            fail(f"the comparison cannot tell attract from home ({d_home:.2f})")
        print(f"fit: {PAGE_W}x{PAGE_H} page at {scale:.3f} in {box} of {OUT_W}x{OUT_H}: difference {d:.2f} "
              f"from the kiosk's own (home: {d_home:.2f})")
        check_seams(first, attract, box, scale)

        # 2. No cursor over the kiosk.
        xdotool(x, "mousemove", str(OUT_W // 2), str(OUT_H // 3))
        time.sleep(0.3)
        if xl.cursor_visible():
            fail("the cursor is visible over the full-screen kiosk")
        print("cursor: X's own over the root window, none over the kiosk")

        # 3. Keys and close requests change nothing.
        xdotool(x, "windowfocus", "--sync", str(win))
        focus = xdotool(x, "getwindowfocus")
        if int(focus) != win:
            fail(f"the kiosk's window {win} does not have the focus ({focus}): keys would not reach it")
        for combo in KEYS + ["WM_DELETE_WINDOW"]:
            if combo == "WM_DELETE_WINDOW":
                xl.close_request(win)
            else:
                xdotool(x, "key", "--window", str(win), combo)
                xdotool(x, "key", combo)  # XTEST, to the focus, as a keyboard types it
            time.sleep(0.5)
            if k.proc.poll() is not None:
                fail(f"{combo}: the kiosk ended ({k.proc.returncode}): {k.log()[-2000:]}")
            now = window_of(x)
            if now != win or geometry(x, win) != (0, 0, OUT_W, OUT_H):
                fail(f"{combo}: the kiosk's window is gone or moved ({now}, {geometry(x, win) if now else None})")
            d = mean_diff(grab(x), first)
            if d > 0.5:
                grab(x).save(os.path.join(work, "fail-keys.png"))
                fail(f"{combo}: the screen changed (difference {d:.2f})")
        print(f"keys: {', '.join(KEYS)} and a WM_DELETE_WINDOW close request: still running, same window, "
              "attract unchanged")

        # 4. A mouse click at the English button's place on the output opens home.
        bx, by = button_centre(attract)
        ox, oy = box[0] + round(bx * scale), box[1] + round(by * scale)
        xdotool(x, "mousemove", str(ox), str(oy), "click", "1")
        k.wait_log("tap attract.en on attract", 10)
        time.sleep(1)
        d = check_shows(grab(x), home, box, "mouse")
        print(f"mouse: a click at ({ox}, {oy}) on the output, the button's ({bx}, {by}) on the page, "
              f"opened home (difference {d:.2f})")

        # 6. SIGTERM, as systemctl stop sends it: a clean exit.
        k.proc.send_signal(signal.SIGTERM)
        try:
            rc = k.proc.wait(10)
        except subprocess.TimeoutExpired:
            fail("the kiosk did not stop within 10 s of SIGTERM")
        if rc != 0:
            fail(f"the kiosk exited {rc} on SIGTERM: {k.log()[-2000:]}")
        r = subprocess.run([kiosk, "ledger", "verify", "--db", k.db], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"the ledger after SIGTERM: {r.stdout}{r.stderr}")
        print("SIGTERM: exit 0, the ledger verifies")

        # 5. Touch: a scenario's taps are fingers on the letterboxed output.
        script = os.path.join(work, "touch.scenario")
        with open(script, "w") as f:
            f.write("tap attract.en\nexpect-screen home\ntap home.topup\nexpect-screen topup-card\n"
                    "tap nav.back\nexpect-screen home\n")
        t = Kiosk(kiosk, x, work, "touch", config, script)
        try:
            rc = t.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            t.stop()
            fail("the touch scenario did not end")
        if rc != 0:
            fail(f"touch on the letterboxed output: exit {rc}: {t.log()[-1500:]}")
        print("touch: a scenario's fingers hit attract.en, home.topup and nav.back on the letterboxed output")

        # 1, [display] scale: half size, centred; too large for the output: fitted, with a warning.
        for pct, name in ((50, "half"), (300, "too-large")):
            cfg = os.path.join(work, f"scale-{name}.ini")
            with open(cfg, "w") as f:
                f.write(f"[ui]\nwidth = {PAGE_W}\nheight = {PAGE_H}\n[display]\nscale = {pct / 100:.2f}\n")
            s = Kiosk(kiosk, x, work, f"scale-{name}", cfg)
            try:
                s.wait_log("service: ready")
                time.sleep(1)
                box, scale = page_box(pct)
                d = check_shows(grab(x), attract, box, f"scale-{name}")
                if pct == 300 and "does not fit" not in s.log():
                    fail("a scale too large for the output was fitted without a warning")
                print(f"[display] scale = {pct / 100:.2f}: page at {scale:.3f} in {box} (difference {d:.2f})")
            finally:
                s.stop()
    finally:
        if k:
            k.stop()
        xl.close()
        x.stop()
    print("ok: fit and letterbox, scale, no cursor, keys and close requests refused, mouse and touch, SIGTERM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
