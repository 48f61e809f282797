#!/usr/bin/env python3
"""Runs a scenario that must pass at another logical screen size (ui.width, ui.height).

    run-at-size.py KIOSK SCENARIO WORKDIR WIDTHxHEIGHT

Copies SCENARIO into WORKDIR with its configuration (NAME.ini beside it, if any) and the files
an earlier run left (NAME.out/, see run-scenario.sh) plus a [ui] section for the size, and
requires exit 0: the page check the runner applies to every page is
what can fail at a small screen (issue 9: the smallest size accepted must be one the layouts
work at).
"""
import os
import shutil
import sys


def main():
    kiosk, scenario, work, size = sys.argv[1:5]
    width, height = size.split('x')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    copy = os.path.join(work, os.path.basename(scenario))
    shutil.copyfile(scenario, copy)
    # Files an earlier run left (NAME.out/ beside the scenario, see run-scenario.sh) come too.
    seed = scenario[:-len('.scenario')] + '.out'
    if os.path.isdir(seed):
        shutil.copytree(seed, copy[:-len('.scenario')] + '.out')
    config = ''
    own = scenario[:-len('.scenario')] + '.ini'
    if os.path.exists(own):
        with open(own, encoding='utf-8') as f:
            config = f.read()
        if '[ui]' in config:
            sys.exit(f'FAIL: {own} has its own [ui] section; give it a size there instead')
    with open(copy[:-len('.scenario')] + '.ini', 'w', encoding='utf-8') as f:
        f.write(config + f'\n[ui]\nwidth = {width}\nheight = {height}\n')
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'run-scenario.sh')
    os.execv(runner, [runner, kiosk, copy, os.path.join(work, 'run'), '0'])


if __name__ == '__main__':
    main()
