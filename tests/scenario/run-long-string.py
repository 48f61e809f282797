#!/usr/bin/env python3
"""Long catalogue strings: laid out when there is room, a failed run when there is not (issue 9).

    run-long-string.py KIOSK SOURCE_DIR WORKDIR KEY REPEAT SCENARIO EXPECTED_EXIT [MESSAGE]

Compiles the catalogues into WORKDIR with the English string KEY REPEAT times as long (a
translation longer than planned), runs SCENARIO headless on them (KIOSK_LOCALEDIR) and requires
EXPECTED_EXIT:
0 when the page reflows to hold it, 1 with MESSAGE on stderr when the page check finds a
deliberately bad page (it names the screen and the widget).
"""
import os
import re
import shutil
import subprocess
import sys


def main():
    kiosk, source, work, key, repeat, scenario, expected = sys.argv[1:8]
    message = sys.argv[8:9]
    shutil.rmtree(work, ignore_errors=True)
    locales = os.path.join(work, 'locale')
    msgfmt = shutil.which('msgfmt')
    if not msgfmt:
        sys.exit('FAIL: msgfmt not found (Debian: gettext)')
    for lang in ('ar', 'en'):
        with open(os.path.join(source, 'locales', lang + '.po'), encoding='utf-8') as f:
            text = f.read()
        if lang == 'en':
            # The entry's msgstr, on one line or continued over several.
            pattern = re.compile(r'^(msgctxt "' + re.escape(key) + r'"\nmsgid (?:".*"\n)+)msgstr ((?:".*"\n)+)', re.M)
            m = pattern.search(text)
            if not m:
                sys.exit(f'FAIL: no id {key} in en.po')
            value = ''.join(re.findall(r'"(.*)"', m.group(2)))
            longer = ' '.join([value] * int(repeat))
            text = text[:m.start()] + m.group(1) + f'msgstr "{longer}"\n' + text[m.end():]
        lc = os.path.join(locales, lang, 'LC_MESSAGES')
        os.makedirs(lc)
        po = os.path.join(work, lang + '.po')
        with open(po, 'w', encoding='utf-8') as f:
            f.write(text)
        subprocess.run([msgfmt, '-o', os.path.join(lc, 'kiosk.mo'), po], check=True)
    os.environ['KIOSK_LOCALEDIR'] = locales
    copy = os.path.join(work, os.path.basename(scenario))
    shutil.copyfile(scenario, copy)
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'run-scenario.sh')
    os.execv(runner, [runner, kiosk, copy, os.path.join(work, 'run'), expected] + message)


if __name__ == '__main__':
    main()
