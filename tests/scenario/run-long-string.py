#!/usr/bin/env python3
"""A deliberately bad page must fail the scenario run (the page check, issue 9).

    run-long-string.py KIOSK SOURCE_DIR WORKDIR KEY REPEAT SCENARIO MESSAGE

Copies the catalogues into WORKDIR, makes the English string KEY REPEAT times as long (a
translation far longer than the screen has room for), runs SCENARIO headless on them and
requires exit 1 with MESSAGE on stderr: the page check names the screen and the widget.
"""
import os
import re
import shutil
import sys


def main():
    kiosk, source, work, key, repeat, scenario, message = sys.argv[1:8]
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
    os.execv(runner, [runner, kiosk, copy, os.path.join(work, 'run'), '1', message])


if __name__ == '__main__':
    main()
