#!/usr/bin/env python3
"""Two or more kiosk builds to their first frame in a window, paired by round on one Xvfb
(README: Benchmarks, "What each change did"):
    bench/ab-window.py ROUNDS KIOSK [KIOSK...]
Each run: `KIOSK --windowed --simulate --startup-report F` on a fresh Xvfb of 1080x1920 (its
database kept from a warm-up run, as bench/appliance.sh does); as soon as F is written, the
CPU the process has used (/proc/PID/task/*/schedstat, every thread) and the wall time from
just before the exec to the reported first frame (CLOCK_MONOTONIC) are read, then the kiosk
is stopped. CPU to the first frame holds still on a loaded machine where wall time does not.
The order alternates by round. Prints per build the medians and each against the first's.
A KIOSK may carry environment in front: "env X=1 build/kiosk/kiosk"."""
import glob, os, shutil, statistics, subprocess, sys, tempfile, time

if len(sys.argv) < 3:
    sys.exit("usage: bench/ab-window.py ROUNDS KIOSK [KIOSK...]")
if not shutil.which("Xvfb"):
    sys.exit("bench: no Xvfb (apt-get install xvfb)")
rounds, bins = int(sys.argv[1]), sys.argv[2:]
work = tempfile.mkdtemp()
rfd, wfd = os.pipe()
xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-nolisten", "tcp", "-screen", "0", "1080x1920x24"],
                        pass_fds=[wfd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(wfd)
display = ":" + os.read(rfd, 64).decode().strip()
env = dict(os.environ, DISPLAY=display, WAYLAND_DISPLAY="")
report = os.path.join(work, "report")


def run(i):
    try:
        os.unlink(report)
    except FileNotFoundError:
        pass
    t0 = time.monotonic_ns()
    p = subprocess.Popen(bins[i].split() + ["--windowed", "--simulate", "--db", os.path.join(work, f"k{i}.db"),
                                             "--startup-report", report], env=env, stderr=subprocess.DEVNULL)
    text = ""
    deadline = time.monotonic() + 30
    while not text.endswith("\n"):
        if p.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"bench: {bins[i]} reported no first frame (exit {p.returncode})")
        try:
            with open(report) as f:
                text = f.read()
        except FileNotFoundError:
            pass
        time.sleep(0.0005)
    cpu = 0
    for path in glob.glob(f"/proc/{p.pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                cpu += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    # A kiosk started by `env` is the same process: env execs it.
    first = int(text.split()[1])
    p.terminate()
    p.wait()
    return cpu / 1e6, (first - t0) / 1e6


try:
    for i in range(len(bins)):
        run(i)  # warm-up: each database exists, the files are cached
    res = [([], []) for _ in bins]
    for r in range(rounds):
        order = range(len(bins)) if r % 2 == 0 else reversed(range(len(bins)))
        for i in order:
            c, w = run(i)
            res[i][0].append(c)
            res[i][1].append(w)
    c0, w0 = statistics.median(res[0][0]), statistics.median(res[0][1])
    for i, b in enumerate(bins):
        c, w = statistics.median(res[i][0]), statistics.median(res[i][1])
        print(f"{b}: CPU to first frame median {c:.1f} ms ({c / c0:.2f}), wall median {w:.1f} ms ({w / w0:.2f}), "
              f"{rounds} runs")
finally:
    xvfb.terminate()
    xvfb.wait()
    shutil.rmtree(work)
