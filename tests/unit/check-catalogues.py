#!/usr/bin/env python3
"""The catalogue checks of `meson test` (i18n-catalogues): locales/*.po against the template,
the template against kiosk/core/i18n-strings.c, and both against the ids the code asks for.

Fails (exit 1, one line per fault) on: msgfmt --check errors, fuzzy or untranslated entries,
an empty msgstr, a bidi override (U+202A..U+202E) anywhere in a string, a placeholder ({name})
a msgstr adds or drops, an entry without msgctxt or with its msgctxt twice, an obsolete (#~)
entry, a PO entry the template lacks or the other way round, a stale kiosk.pot, an id the code
asks for that no catalogue has, and an id nothing in the code uses.

--self-test breaks copies of the catalogues one way at a time and checks each is caught.
"""
import argparse
import gettext
import os
import re
import shutil
import subprocess
import sys
import tempfile

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
BIDI_OVERRIDES = re.compile("[\u202a-\u202e]")
# The functions that take an id as a string literal, and the id argument's position:
# xgettext reads them as its keywords over kiosk/ (kiosk/core/i18n-strings.c excluded).
CODE_KEYWORDS = ["app_str:2", "app_str_in:3", "i18n_get:3", "i18n_nget:3",
                 "word:2", "caption:3", "sample:3"]
# The device table's rows (kiosk/kdev.c): [KDEV_X] = {"name", fault_name, fault_count, hardware, ...}.
KDEV_ROW = re.compile(r'\[KDEV_[A-Z0-9_]+\]\s*=\s*\{\s*"([a-z0-9-]+)"\s*,\s*\w+\s*,\s*\w+\s*,\s*(true|false)\b')


def built_ids(source_root):
    """The ids kiosk/app.c builds from a device and a fault name (kdev_notice_key, for the
    hardware devices of kiosk/kdev.c's table), as a pattern read from that table, so a device
    added there needs no edit here; test-i18n checks the built ids both ways."""
    path = os.path.join(source_root, "kiosk", "kdev.c")
    with open(path, encoding="utf-8") as f:
        rows = KDEV_ROW.findall(f.read())
    names = [name for name, hardware in rows if hardware == "true"]
    if not names:
        raise SystemExit(f"{path}: no hardware device found in the device table (its row shape changed?)")
    return re.compile(r"^status\.(" + "|".join(re.escape(n) for n in names) + r")\.")


class Entry:
    def __init__(self):
        self.ctx = None
        self.msgid = None
        self.plural = None
        self.msgstr = {}  # form index -> text
        self.flags = set()
        self.obsolete = False
        self.line = 0

    def key(self):
        return (self.ctx, self.msgid, self.plural)


def unquote(s):
    s = s.strip()
    if not (s.startswith('"') and s.endswith('"')):
        raise ValueError("not a quoted string: " + s)
    out, i, body = [], 0, s[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_po(path):
    """Entries of a PO/POT file, header included (msgid "")."""
    entries, cur, field = [], Entry(), None

    def flush():
        nonlocal cur
        if cur.msgid is not None:
            entries.append(cur)
        cur = Entry()

    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            obsolete = line.startswith("#~")
            if obsolete:
                line = line[2:].strip()
            if not line.strip():
                flush()
                field = None
                continue
            if line.startswith("#,"):
                if cur.msgid is not None and field is not None:
                    flush()
                cur.flags |= {f.strip() for f in line[2:].split(",")}
                continue
            if line.startswith("#"):
                continue
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
            if m:
                name, index, text = m.group(1), m.group(2), unquote(m.group(3))
                if name in ("msgctxt", "msgid") and cur.msgid is not None and field not in (None, "msgctxt"):
                    flush()
                if cur.line == 0:
                    cur.line = no
                cur.obsolete = cur.obsolete or obsolete
                if name == "msgctxt":
                    cur.ctx, field = text, "msgctxt"
                elif name == "msgid":
                    cur.msgid, field = text, "msgid"
                elif name == "msgid_plural":
                    cur.plural, field = text, "msgid_plural"
                else:
                    field = int(index) if index is not None else 0
                    cur.msgstr[field] = text
                continue
            if line.startswith('"'):
                text = unquote(line)
                if field == "msgctxt":
                    cur.ctx += text
                elif field == "msgid":
                    cur.msgid += text
                elif field == "msgid_plural":
                    cur.plural += text
                elif isinstance(field, int):
                    cur.msgstr[field] += text
                continue
            raise ValueError(f"{path}:{no}: cannot read: {line}")
    flush()
    return entries


def header_field(entries, name):
    for e in entries:
        if e.msgid == "" and e.ctx is None:
            for line in e.msgstr.get(0, "").split("\n"):
                if line.startswith(name + ":"):
                    return line[len(name) + 1:].strip()
    return None


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


def check_po(path, msgfmt, errors):
    name = os.path.basename(path)
    run = subprocess.run([msgfmt, "--check", "--statistics", "-o", os.devnull, path],
                         capture_output=True, text=True)
    report = (run.stdout + run.stderr).strip()
    if run.returncode != 0:
        errors.append(f"{name}: msgfmt --check failed: {report}")
    if re.search(r"\d+ fuzzy", report):
        errors.append(f"{name}: fuzzy entries (review them, then drop the fuzzy mark): {report}")
    if re.search(r"\d+ untranslated", report):
        errors.append(f"{name}: untranslated entries: {report}")

    entries = parse_po(path)
    forms_of = None
    rule = header_field(entries, "Plural-Forms")
    if rule:
        m = re.search(r"plural=([^;]+);?", rule)
        try:
            plural = gettext.c2py(m.group(1)) if m else None
            forms_of = {}
            for n in range(0, 1000):
                forms_of.setdefault(plural(n), set()).add(n)
        except (ValueError, AttributeError):
            errors.append(f"{name}: Plural-Forms cannot be read: {rule}")
    seen = {}
    for e in entries:
        where = f"{name}:{e.line}"
        if e.msgid == "" and e.ctx is None:
            continue
        label = e.ctx if e.ctx is not None else e.msgid
        if e.obsolete:
            errors.append(f"{where}: '{label}' is obsolete (#~), an unused entry: delete it")
            continue
        if e.ctx is None:
            errors.append(f"{where}: '{e.msgid}' has no msgctxt: every entry is named by its id")
            continue
        if e.ctx in seen:
            errors.append(f"{where}: id '{e.ctx}' twice (also line {seen[e.ctx]})")
        seen[e.ctx] = e.line
        if "fuzzy" in e.flags:
            errors.append(f"{where}: '{e.ctx}' is fuzzy")
        for text in [e.msgid, e.plural or ""] + list(e.msgstr.values()):
            if BIDI_OVERRIDES.search(text):
                errors.append(f"{where}: '{e.ctx}' holds a bidi override (U+202A..U+202E); "
                              "use an isolate (U+2066..U+2069)")
                break
        for i, text in sorted(e.msgstr.items()):
            if not text:
                errors.append(f"{where}: '{e.ctx}' has an empty msgstr" + (f"[{i}]" if e.plural else ""))
        if e.plural is None:
            if e.msgstr.get(0) and placeholders(e.msgstr[0]) != placeholders(e.msgid):
                errors.append(f"{where}: '{e.ctx}' has placeholders {placeholders(e.msgstr[0])}, "
                              f"the source {placeholders(e.msgid)}")
            continue
        source = set(placeholders(e.msgid)) | set(placeholders(e.plural))
        for i, text in sorted(e.msgstr.items()):
            got = placeholders(text)
            # A form chosen by one number only ("two notes") may leave the count out.
            single = forms_of is not None and len(forms_of.get(i, ())) == 1
            if not set(got) <= source or (not single and got != placeholders(e.plural)):
                errors.append(f"{where}: '{e.ctx}' msgstr[{i}] has placeholders {got}, "
                              f"the source {placeholders(e.plural)}")
    return {e.key() for e in entries if not e.obsolete and not (e.msgid == "" and e.ctx is None)}


def template_entries(path):
    return {e.key() for e in parse_po(path) if not (e.msgid == "" and e.ctx is None)}


def xgettext(xgettext_bin, source_root, files, args):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.pot")
        run = subprocess.run([xgettext_bin, "-o", out, "-D", source_root, "--from-code=UTF-8"] + args + files,
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("xgettext failed: " + run.stderr)
        return template_entries(out) if os.path.exists(out) else set()


def literals(source_root, files):
    found = set()
    for rel in files:
        with open(os.path.join(source_root, rel), encoding="utf-8") as f:
            found |= set(re.findall(r'"((?:[^"\\\n]|\\.)*)"', f.read()))
    return found


def code_files(source_root, extra):
    files = []
    for dirpath, _, names in os.walk(os.path.join(source_root, "kiosk")):
        for n in sorted(names):
            rel = os.path.relpath(os.path.join(dirpath, n), source_root)
            if n.endswith(".c") and rel != os.path.join("kiosk", "core", "i18n-strings.c"):
                files.append(rel)
    return sorted(files) + extra


def check(source_root, po_dir, msgfmt, xgettext_bin, pot_args, extra_sources=()):
    errors = []
    pot = os.path.join(po_dir, "kiosk.pot")
    with open(os.path.join(source_root, "locales", "LINGUAS"), encoding="utf-8") as f:
        langs = [w for line in f if not line.startswith("#") for w in line.split()]
    with open(os.path.join(source_root, "locales", "POTFILES"), encoding="utf-8") as f:
        potfiles = [line.strip() for line in f if line.strip() and not line.startswith("#")]

    template = template_entries(pot)
    fresh = xgettext(xgettext_bin, source_root, potfiles, pot_args)
    for k in sorted(fresh - template, key=str):
        errors.append(f"kiosk.pot is stale: lacks '{k[0]}' ({k[1]!r}); run `ninja -C build kiosk-pot`")
    for k in sorted(template - fresh, key=str):
        errors.append(f"kiosk.pot is stale: '{k[0]}' ({k[1]!r}) is not in {potfiles[0]}; "
                      "run `ninja -C build kiosk-pot`")

    ids = {k[0] for k in template}
    for lang in langs:
        have = check_po(os.path.join(po_dir, lang + ".po"), msgfmt, errors)
        for k in sorted(template - have, key=str):
            changed = [h for h in have if h[0] == k[0]]
            why = " (its English source changed: `ninja -C build kiosk-update-po`, then review)" if changed else ""
            errors.append(f"{lang}.po: missing '{k[0]}'{why}")
        for k in sorted(have - template, key=str):
            if k[0] not in ids:
                errors.append(f"{lang}.po: '{k[0]}' is not in kiosk.pot, an unused entry")

    sources = code_files(source_root, list(extra_sources))
    keyword_args = ["-k"] + ["--keyword=" + k for k in CODE_KEYWORDS]
    asked = {k[1] for k in xgettext(xgettext_bin, source_root, sources, keyword_args)}
    for i in sorted(asked - ids):
        errors.append(f"the code asks for '{i}', which no catalogue has (add it to kiosk/core/i18n-strings.c)")
    used = literals(source_root, sources)
    built = built_ids(source_root)
    for i in sorted(ids):
        if i not in used and not built.match(i):
            errors.append(f"'{i}' is used nowhere in kiosk/: an unused entry")
    return errors


def self_test(args, pot_args):
    """Each way a catalogue can be wrong, on a copy, must be caught with its own message."""
    src_locales = os.path.join(args.source_root, "locales")
    ar = open(os.path.join(src_locales, "ar.po"), encoding="utf-8").read()
    en = open(os.path.join(src_locales, "en.po"), encoding="utf-8").read()
    pot = open(os.path.join(src_locales, "kiosk.pot"), encoding="utf-8").read()
    amount = 'msgctxt "receipt.money"\nmsgid "AED {amount}"\nmsgstr "{amount} د.إ"\n'
    topup = 'msgctxt "home.topup"\nmsgid "Top up card"\nmsgstr "شحن البطاقة"\n'
    few = 'msgstr[3] "{count} أوراق نقدية"'
    extra = 'msgctxt "home.unused"\nmsgid "Unused"\nmsgstr "غير مستخدم"\n\n'
    cases = [
        ("duplicate entry", "ar", lambda s: s.replace(topup, topup + "\n" + topup), "msgfmt --check failed"),
        ("same id twice", "ar", lambda s: s.replace(topup, topup + "\n" + topup.replace("Top up card", "Top up")),
         "id 'home.topup' twice"),
        ("empty msgstr", "ar", lambda s: s.replace(topup, topup.replace("شحن البطاقة", "")),
         "untranslated entries"),
        ("empty plural form", "ar", lambda s: s.replace(few, 'msgstr[3] ""'),
         "'receipt.notes.count' has an empty msgstr[3]"),
        ("fuzzy", "ar", lambda s: s.replace(topup, "#, fuzzy\n" + topup), "fuzzy entries"),
        ("bidi override RLO", "ar", lambda s: s.replace(amount, amount.replace('msgstr "', 'msgstr "\u202e')),
         "'receipt.money' holds a bidi override"),
        ("bidi override LRE", "en", lambda s: s.replace('msgstr "AED {amount}"', 'msgstr "\u202aAED {amount}"'),
         "'receipt.money' holds a bidi override"),
        ("placeholder dropped", "ar", lambda s: s.replace(amount, amount.replace('"{amount} د.إ"', '"د.إ"')),
         "'receipt.money' has placeholders []"),
        ("placeholder renamed", "en", lambda s: s.replace('msgstr "AED {amount}"', 'msgstr "AED {sum}"'),
         "'receipt.money' has placeholders ['{sum}']"),
        ("plural count dropped", "ar", lambda s: s.replace(few, 'msgstr[3] "أوراق نقدية"'),
         "'receipt.notes.count' msgstr[3] has placeholders []"),
        ("id missing", "ar", lambda s: s.replace(topup + "\n", ""), "ar.po: missing 'home.topup'"),
        ("English changed, Arabic not merged", "ar",
         lambda s: s.replace(topup, topup.replace("Top up card", "Top up a card")),
         "ar.po: missing 'home.topup' (its English source changed"),
        ("unused entry", "ar", lambda s: s.replace(topup, extra + topup), "'home.unused' is not in kiosk.pot"),
        ("obsolete entry", "en", lambda s: s + '\n#~ msgctxt "home.gone"\n#~ msgid "Gone"\n#~ msgstr "Gone"\n',
         "'home.gone' is obsolete"),
        ("no msgctxt", "en", lambda s: s + '\nmsgid "Loose"\nmsgstr "Loose"\n', "'Loose' has no msgctxt"),
        ("stale template", "pot", lambda s: s.replace('msgid "Top up card"', 'msgid "Top up the card"'),
         "kiosk.pot is stale"),
        ("unused id", "all", lambda s: s.replace(topup.split("msgstr")[0], extra.split("msgstr")[0]
                                                 + 'msgstr "x"\n\n' + topup.split("msgstr")[0]),
         "'home.unused' is used nowhere"),
        # Only the hardware devices' notices are built: the store's are literals, so an unused
        # one is caught (kdev.c's table: store is not hardware).
        ("unused store notice", "all", lambda s: s.replace(topup.split("msgstr")[0], extra.split("msgstr")[0]
                                                           .replace("home.unused", "status.store.unused")
                                                           + 'msgstr "x"\n\n' + topup.split("msgstr")[0]),
         "'status.store.unused' is used nowhere"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        def write(ar_text, en_text, pot_text):
            for n, t in (("ar.po", ar_text), ("en.po", en_text), ("kiosk.pot", pot_text)):
                with open(os.path.join(tmp, n), "w", encoding="utf-8") as f:
                    f.write(t)

        write(ar, en, pot)
        clean = check(args.source_root, tmp, args.msgfmt, args.xgettext, pot_args)
        if clean:
            print("self-test: the unedited catalogues fail:\n  " + "\n  ".join(clean))
            return 1
        for what, target, edit, expect in cases:
            a, e, p = ar, en, pot
            if target in ("ar", "all"):
                a = edit(ar)
            if target in ("en", "all"):
                e = edit(en)
            if target in ("pot", "all"):
                p = edit(pot).replace('msgstr "x"', 'msgstr ""') if target == "all" else edit(pot)
            if (a, e, p) == (ar, en, pot):
                print(f"self-test: {what}: the edit changed nothing")
                failures += 1
                continue
            write(a, e, p)
            got = check(args.source_root, tmp, args.msgfmt, args.xgettext, pot_args)
            if not any(expect in g for g in got):
                print(f"self-test: {what}: not caught (wanted \"{expect}\"), got:\n  " + "\n  ".join(got))
                failures += 1
            else:
                print(f"ok: {what}: {next(g for g in got if expect in g)}")
        # An id the code asks for that no catalogue has.
        write(ar, en, pot)
        probe = os.path.join(tmp, "probe.c")
        with open(probe, "w", encoding="utf-8") as f:
            f.write('void probe(void) { app_str(app, "home.no_such_tile"); }\n')
        got = check(args.source_root, tmp, args.msgfmt, args.xgettext, pot_args, [os.path.relpath(probe, args.source_root)])
        if not any("asks for 'home.no_such_tile'" in g for g in got):
            print("self-test: an id the code asks for is not caught:\n  " + "\n  ".join(got))
            failures += 1
        else:
            print("ok: id asked by the code, missing: " + got[0])
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--msgfmt", default="msgfmt")
    ap.add_argument("--xgettext", default="xgettext")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("pot_args", nargs="*", help="xgettext's arguments for kiosk.pot (locales/meson.build)")
    args = ap.parse_args()
    pot_args = [a for a in args.pot_args if not a.startswith("--package-version")]
    if args.self_test:
        return self_test(args, pot_args)
    errors = check(args.source_root, os.path.join(args.source_root, "locales"), args.msgfmt, args.xgettext,
                   pot_args)
    for e in errors:
        print(e)
    if not errors:
        print("catalogues: every check passed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
