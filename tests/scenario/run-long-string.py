#!/usr/bin/env python3
"""Long catalogue strings: laid out when there is room, a failed run when there is not (issue 9).

    run-long-string.py KIOSK SOURCE_DIR WORKDIR KEY REPEAT SCENARIO EXPECTED_EXIT [MESSAGE]

Copies the catalogues into WORKDIR, makes the English string KEY REPEAT times as long (a
translation longer than planned), runs SCENARIO headless on them and requires EXPECTED_EXIT:
0 when the page reflows to hold it, 1 with MESSAGE on stderr when the page check finds a
deliberately bad page (it names the screen and the widget).
"""
import os
import re
import shutil
import sys


def main():
    kiosk, source, work, key, repeat, scenario, expected = sys.argv[1:8]
    message = sys.argv[8:9]
    shutil.rmtree(work, ignore_errors=True)
    locales = os.path.join(work, 'data', 'locales')
    os.makedirs(locales)
    for lang in ('ar', 'en'):
        with open(os.path.join(source, 'locales', lang + '.ini'), encoding='utf-8') as f:
            text = f.read()
        if lang == 'en':
            pattern = re.compile('^' + re.escape(key) + r' = (.*)$', re.M)
            if not pattern.search(text):
                sys.exit(f'FAIL: no key {key} in en.ini')
            text = pattern.sub(lambda m: f'{key} = ' + ' '.join([m.group(1)] * int(repeat)), text, count=1)
        with open(os.path.join(locales, lang + '.ini'), 'w', encoding='utf-8') as f:
            f.write(text)
    copy = os.path.join(work, os.path.basename(scenario))
    shutil.copyfile(scenario, copy)
    with open(copy[:-len('.scenario')] + '.ini', 'w', encoding='utf-8') as f:
        f.write(f'[paths]\ndata_dir = {os.path.join(work, "data")}\n')
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'run-scenario.sh')
    os.execv(runner, [runner, kiosk, copy, os.path.join(work, 'run'), expected] + message)


if __name__ == '__main__':
    main()
