#!/usr/bin/env python3
"""Draws the fees catalogue's entity icons (assets/icons/<entity>.png, 128 x 128 RGBA): a
rounded square in the entity's colour with a plain white pictogram, made of circles, boxes and
polygons, supersampled 4 x 4. Original drawings, Python's standard library only, so the icons
are ours to license (assets/icons/LICENSE). Run from anywhere: python3 make-icons.py."""
import math
import os
import struct
import zlib

SIZE = 128
SS = 4  # samples per pixel on each axis


def png(path, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


# Shapes: functions of (x, y) in 0..1 units, True inside.
def circle(cx, cy, r):
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def ring(cx, cy, r0, r1):
    return lambda x, y: r0 * r0 <= (x - cx) ** 2 + (y - cy) ** 2 <= r1 * r1


def box(x0, y0, x1, y1):
    return lambda x, y: x0 <= x <= x1 and y0 <= y <= y1


def rbox(x0, y0, x1, y1, r):
    def inside(x, y):
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        cx = min(max(x, x0 + r), x1 - r)
        cy = min(max(y, y0 + r), y1 - r)
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    return inside


def poly(*pts):
    def inside(x, y):
        n, c = len(pts), False
        for i in range(n):
            (xa, ya), (xb, yb) = pts[i], pts[(i + 1) % n]
            if (ya > y) != (yb > y) and x < (xb - xa) * (y - ya) / (yb - ya) + xa:
                c = not c
        return c
    return inside


def union(*fs):
    return lambda x, y: any(f(x, y) for f in fs)


def minus(a, *bs):
    return lambda x, y: a(x, y) and not any(b(x, y) for b in bs)


def star(cx, cy, r0, r1, n=5):
    pts = []
    for k in range(2 * n):
        r = r1 if k % 2 == 0 else r0
        a = -math.pi / 2 + k * math.pi / n
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return poly(*pts)


ICONS = {
    # A shield with a star.
    "police": ((0x1F, 0x3A, 0x93), minus(
        poly((0.5, 0.18), (0.78, 0.28), (0.76, 0.55), (0.5, 0.84), (0.24, 0.55), (0.22, 0.28)),
        star(0.5, 0.47, 0.07, 0.16))),
    # A lightning bolt beside a water drop.
    "dewa": ((0x00, 0x7A, 0x5E), union(
        poly((0.42, 0.16), (0.22, 0.52), (0.36, 0.52), (0.28, 0.84), (0.54, 0.42), (0.40, 0.42), (0.50, 0.16)),
        union(circle(0.68, 0.64, 0.13), poly((0.68, 0.30), (0.565, 0.58), (0.795, 0.58))))),
    # A car seen from the side.
    "rta": ((0xC8, 0x10, 0x2E), minus(union(
        rbox(0.16, 0.48, 0.84, 0.68, 0.05),
        poly((0.28, 0.49), (0.36, 0.32), (0.64, 0.32), (0.74, 0.49)),
        circle(0.32, 0.70, 0.09), circle(0.68, 0.70, 0.09)),
        box(0.385, 0.37, 0.485, 0.47), box(0.515, 0.37, 0.645, 0.47),
        circle(0.32, 0.70, 0.035), circle(0.68, 0.70, 0.035))),
    # A civic building with a dome and windows.
    "municipality": ((0x8C, 0x6D, 0x1F), minus(union(
        box(0.20, 0.44, 0.80, 0.80), circle(0.5, 0.44, 0.17), box(0.49, 0.18, 0.51, 0.28), box(0.16, 0.78, 0.84, 0.84)),
        box(0.27, 0.52, 0.35, 0.70), box(0.46, 0.52, 0.54, 0.70), box(0.65, 0.52, 0.73, 0.70))),
    # Scales of justice.
    "courts": ((0x5B, 0x2A, 0x86), union(
        box(0.485, 0.20, 0.515, 0.76), box(0.20, 0.28, 0.80, 0.31), poly((0.36, 0.82), (0.5, 0.72), (0.64, 0.82)),
        minus(circle(0.28, 0.50, 0.12), box(0.0, 0.0, 1.0, 0.50)), minus(circle(0.72, 0.50, 0.12), box(0.0, 0.0, 1.0, 0.50)),
        poly((0.275, 0.30), (0.29, 0.30), (0.19, 0.50), (0.175, 0.50)), poly((0.275, 0.30), (0.29, 0.30), (0.385, 0.50), (0.37, 0.50)),
        poly((0.715, 0.30), (0.73, 0.30), (0.825, 0.50), (0.81, 0.50)), poly((0.715, 0.30), (0.73, 0.30), (0.63, 0.50), (0.615, 0.50)))),
    # A passport with a globe.
    "gdrfa": ((0x0B, 0x6E, 0x99), minus(
        rbox(0.27, 0.16, 0.73, 0.84, 0.05),
        minus(ring(0.5, 0.44, 0.11, 0.14), box(0, 0, 0, 0)), box(0.36, 0.68, 0.64, 0.71),
        box(0.375, 0.43, 0.625, 0.45), poly((0.49, 0.30), (0.51, 0.30), (0.51, 0.58), (0.49, 0.58)))),
    # A house.
    "dld": ((0xB3, 0x5C, 0x00), minus(union(
        poly((0.5, 0.18), (0.84, 0.48), (0.16, 0.48)), box(0.25, 0.46, 0.75, 0.82)),
        box(0.44, 0.60, 0.56, 0.82), box(0.30, 0.54, 0.38, 0.62), box(0.62, 0.54, 0.70, 0.62))),
    # A coin with the letter e.
    "edirham": ((0x2E, 0x7D, 0x32), union(
        ring(0.5, 0.5, 0.30, 0.35),
        minus(ring(0.5, 0.5, 0.11, 0.17), box(0.56, 0.515, 0.70, 0.60)),
        box(0.34, 0.475, 0.66, 0.52))),
}


def draw(colour, glyph):
    bg = rbox(0.04, 0.04, 0.96, 0.96, 0.18)
    rows = []
    for py in range(SIZE):
        row = []
        for px in range(SIZE):
            n_bg = n_fg = 0
            for sy in range(SS):
                for sx in range(SS):
                    x = (px + (sx + 0.5) / SS) / SIZE
                    y = (py + (sy + 0.5) / SS) / SIZE
                    if bg(x, y):
                        n_bg += 1
                        if glyph(x, y):
                            n_fg += 1
            total = SS * SS
            if n_bg == 0:
                row += [0, 0, 0, 0]
                continue
            # White over the colour by the glyph's share of the covered samples; the coverage as
            # (straight, not premultiplied) alpha.
            f = n_fg / n_bg
            row += [round(c + (255 - c) * f) for c in colour] + [round(255 * n_bg / total)]
        rows.append(row)
    return rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, (colour, glyph) in sorted(ICONS.items()):
        png(os.path.join(here, name + ".png"), draw(colour, glyph))


if __name__ == "__main__":
    main()
