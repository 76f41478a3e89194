#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build out-of-tree kernel modules without writing into the source tree.

usage: build-module.py --kdir KDIR --work WORKDIR [--src SRCDIR]
                       --output NAME.ko [--output NAME.ko ...] [--strict]
                       SOURCE[=RELPATH]...

Copies each SOURCE to RELPATH under WORKDIR (default: its path relative to
SRCDIR when it lies there, else its name), runs Kbuild there (with --strict: W=1, warnings as errors; for our
own code, not for code copied from the kernel), and copies each
module named by an --output from WORKDIR to that path. Kbuild's output is
shown only when the build fails.
"""

import argparse
import os
import shutil
import subprocess
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--kdir', required=True)
    p.add_argument('--src')
    p.add_argument('--work', required=True)
    p.add_argument('--output', action='append', required=True)
    p.add_argument('--strict', action='store_true')
    p.add_argument('sources', nargs='+')
    a = p.parse_args()

    if not os.path.isdir(a.kdir):
        sys.exit('build-module: no kernel build directory %s '
                 '(install the matching linux-headers package)' % a.kdir)
    work = os.path.realpath(a.work)
    os.makedirs(work, exist_ok=True)
    for s in a.sources:
        path, _, rel = s.partition('=')
        if not rel and a.src:
            rel = os.path.relpath(os.path.realpath(path),
                                  os.path.realpath(a.src))
            if rel.startswith('..'):
                rel = ''
        rel = rel or os.path.basename(path)
        if rel.startswith('..') or os.path.isabs(rel):
            sys.exit('build-module: %s lands outside the work directory' % s)
        dst = os.path.join(work, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # copy2 keeps the mtime, so make rebuilds only what changed
        shutil.copy2(path, dst)

    strict = ['W=1', 'KCFLAGS=-Werror'] if a.strict else []
    res = subprocess.run(['make', '-C', a.kdir, 'M=' + work] + strict +
                         ['modules'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if res.returncode:
        sys.stdout.write(res.stdout)
        sys.exit('build-module: make failed with status %d' % res.returncode)
    for out in a.output:
        shutil.copy2(os.path.join(work, os.path.basename(out)), out)


main()
