#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run the kernel's scripts/kernel-doc on whole files, one TAP case per file.

usage: kernel-doc.py KERNEL_DOC FILE...

Each file is checked with -none -Werror: every kernel-doc comment (/**) must
describe its function's or structure's parameters and members, and any
warning fails the file's case.
"""

import subprocess
import sys


def main():
    kernel_doc, files = sys.argv[1], sys.argv[2:]
    print('1..%d' % len(files))
    if kernel_doc.startswith('missing:'):
        for n, f in enumerate(files, 1):
            print('not ok %d - kernel-doc %s' % (n, f))
        print('# %s is not installed: apt-get install linux-source-6.1 '
              '(scripts/debian-packages.txt lists it)' %
              kernel_doc.split(':', 1)[1])
        return 1
    failed = 0
    for n, f in enumerate(files, 1):
        res = subprocess.run(['perl', kernel_doc, '-none', '-Werror', f],
                             capture_output=True, text=True)
        out = (res.stdout + res.stderr).strip()
        ok = res.returncode == 0 and 'warning' not in out
        failed += not ok
        print('%s %d - kernel-doc %s' % ('ok' if ok else 'not ok', n, f))
        for line in out.splitlines():
            print('# ' + line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
