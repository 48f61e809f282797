#!/usr/bin/env python3
"""
Generates kiosk/text/linebreak.c's class table (UAX #14) from the Unicode Character Database
installed by Debian's unicode-data package. Run by meson at build time:

    gen-linebreak-table.py --unicode-dir /usr/share/unicode --output linebreak-table.h

Reads LineBreak.txt, EastAsianWidth.txt, extracted/DerivedGeneralCategory.txt and
emoji/emoji-data.txt, and writes a C header with:
  - enum lb_class: the Line_Break classes after rule LB1 (AI, SG, XX -> AL; SA -> CM when
    its General_Category is Mn or Mc, else AL; CJ -> NS), with three classes split so that
    the rules need no second property lookup:
      OP_EA, CP_EA  OP and CP whose East_Asian_Width is F, W or H (excluded from LB30),
      ID_XP         Extended_Pictographic and unassigned (Cn) (LB30b: x EM), class ID;
  - a two-stage table lb_stage1[cp >> LB_SHIFT], lb_stage2[block << LB_SHIFT | low bits]
    covering U+0000..U+10FFFF (the caller maps anything above to AL);
  - LB_UNICODE_VERSION, the version of LineBreak.txt.

The rules in linebreak.c are those of UAX #14 for one Unicode version; the generator refuses
any other version of LineBreak.txt, so new data cannot silently meet old rules.
"""
import argparse
import os
import re
import sys

# The UAX #14 revision the rules in linebreak.c implement.
RULES_VERSION = "15.0"

# Resolved classes, in enum order (linebreak.c builds bit sets from them: at most 64).
CLASSES = [
    "BK", "CR", "LF", "NL", "SP", "ZW", "CM", "ZWJ", "WJ", "GL",
    "AL", "HL", "NU", "PR", "PO", "OP", "OP_EA", "CP", "CP_EA", "CL",
    "EX", "IS", "SY", "QU", "BA", "BB", "B2", "HY", "NS", "IN",
    "CB", "ID", "ID_XP", "EB", "EM", "H2", "H3", "JL", "JV", "JT",
    "RI",
]
# Line_Break values of the data file, before LB1.
RAW = set(CLASSES) - {"OP_EA", "CP_EA", "ID_XP"} | {"AI", "SG", "XX", "SA", "CJ"}
MAXCP = 0x110000
SHIFT = 7


def fail(msg):
    sys.exit("gen-linebreak-table: " + msg)


def version_of(path):
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    m = re.search(r"-(\d+\.\d+\.\d+)\.txt", first)
    return m.group(1) if m else None


def records(path):
    """Yields (first, last, value) for each data line of a UCD file."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = [x.strip() for x in line.split(";")]
            r = fields[0].split("..")
            first = int(r[0], 16)
            last = int(r[1], 16) if len(r) > 1 else first
            yield first, last, fields[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--unicode-dir", default="/usr/share/unicode")
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    d = args.unicode_dir

    lb_path = os.path.join(d, "LineBreak.txt")
    files = {
        "LineBreak.txt": lb_path,
        "EastAsianWidth.txt": os.path.join(d, "EastAsianWidth.txt"),
        "DerivedGeneralCategory.txt": os.path.join(d, "extracted", "DerivedGeneralCategory.txt"),
        "emoji-data.txt": os.path.join(d, "emoji", "emoji-data.txt"),
    }
    for name, path in files.items():
        if not os.path.isfile(path):
            fail(f"{path} not found (Debian package unicode-data)")
    version = version_of(lb_path)
    if not version:
        fail(f"{lb_path}: no version in its first line")
    if not version.startswith(RULES_VERSION + "."):
        fail(f"{lb_path} is Unicode {version}, but linebreak.c implements the UAX #14 rules "
             f"of Unicode {RULES_VERSION}: update the rules (and this check) for the new version")
    for name in ("EastAsianWidth.txt", "DerivedGeneralCategory.txt"):
        v = version_of(files[name])
        if v != version:
            fail(f"{files[name]} is Unicode {v}, LineBreak.txt is {version}")

    # Defaults of unlisted code points, from LineBreak.txt's header (explicit lines override).
    lb = ["XX"] * MAXCP
    for first, last, val in ((0x3400, 0x4DBF, "ID"), (0x4E00, 0x9FFF, "ID"),
                             (0xF900, 0xFAFF, "ID"), (0x20000, 0x2FFFD, "ID"),
                             (0x30000, 0x3FFFD, "ID"), (0x1F000, 0x1FAFF, "ID"),
                             (0x1FC00, 0x1FFFD, "ID"), (0x20A0, 0x20CF, "PR")):
        lb[first:last + 1] = [val] * (last - first + 1)
    for first, last, val in records(lb_path):
        if val not in RAW:
            fail(f"unknown Line_Break value {val} at U+{first:04X}: a new Unicode version?")
        lb[first:last + 1] = [val] * (last - first + 1)

    gc = ["Cn"] * MAXCP
    for first, last, val in records(files["DerivedGeneralCategory.txt"]):
        gc[first:last + 1] = [val] * (last - first + 1)

    eaw_fwh = bytearray(MAXCP)
    for first, last, val in records(files["EastAsianWidth.txt"]):
        if val in ("F", "W", "H"):
            eaw_fwh[first:last + 1] = b"\1" * (last - first + 1)

    extpict = bytearray(MAXCP)
    for first, last, val in records(files["emoji-data.txt"]):
        if val == "Extended_Pictographic":
            extpict[first:last + 1] = b"\1" * (last - first + 1)

    index = {c: i for i, c in enumerate(CLASSES)}
    cls = bytearray(MAXCP)
    for cp in range(MAXCP):
        v = lb[cp]
        if v in ("AI", "SG", "XX"):  # LB1
            v = "AL"
        elif v == "SA":
            v = "CM" if gc[cp] in ("Mn", "Mc") else "AL"
        elif v == "CJ":
            v = "NS"
        if v in ("OP", "CP") and eaw_fwh[cp]:
            v += "_EA"
        if extpict[cp] and gc[cp] == "Cn":
            if v != "ID":
                fail(f"U+{cp:04X} is Extended_Pictographic and unassigned but {v}, not ID")
            v = "ID_XP"
        cls[cp] = index[v]

    # Two stages: unique blocks of 1 << SHIFT code points.
    size = 1 << SHIFT
    blocks, stage1 = {}, []
    for b in range(MAXCP >> SHIFT):
        blk = bytes(cls[b * size:(b + 1) * size])
        if blk not in blocks:
            blocks[blk] = len(blocks)
        stage1.append(blocks[blk])
    s1type = "uint8_t" if len(blocks) <= 256 else "uint16_t"

    out = []
    out.append("/* Generated by kiosk/text/gen-linebreak-table.py from the Unicode "
               f"{version} data in {d}: do not edit. */")
    out.append("#pragma once\n#include <stdint.h>\n")
    out.append(f'#define LB_UNICODE_VERSION "{version}"')
    out.append(f"#define LB_SHIFT {SHIFT}")
    out.append(f"#define LB_MAXCP 0x{MAXCP:X}\n")
    out.append("enum lb_class {")
    for c in CLASSES:
        out.append(f"\tLB_{c},")
    out.append("\tLB_NCLASSES\n};\n")
    out.append(f"_Static_assert(LB_NCLASSES < 64, \"classes fit a 64-bit set\");\n")
    out.append(f"static const {s1type} lb_stage1[{len(stage1)}] = {{")
    for i in range(0, len(stage1), 16):
        out.append("\t" + ", ".join(str(x) for x in stage1[i:i + 16]) + ",")
    out.append("};\n")
    out.append(f"static const uint8_t lb_stage2[{len(blocks) * size}] = {{")
    for blk in blocks:  # dicts keep insertion order: block n is the n-th inserted
        for i in range(0, size, 32):
            out.append("\t" + ",".join(str(x) for x in blk[i:i + 32]) + ",")
    out.append("};")
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
