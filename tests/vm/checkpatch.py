#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run the kernel's checkpatch.pl on whole files, one TAP case per file.

usage: checkpatch.py CHECKPATCH [--strict] FILE... [-- FILE...]

Files before "--" are checked with --strict (CHECK level included), files
after it at the default level (the uapi header, where BIT() does not exist).
Any error, warning or check fails the file's case.
"""

import subprocess
import sys


def main():
    checkpatch, rest = sys.argv[1], sys.argv[2:]
    strict = False
    if rest and rest[0] == '--strict':
        strict = True
        rest = rest[1:]
    groups = [(strict, [])]
    for arg in rest:
        if arg == '--':
            groups.append((False, []))
        else:
            groups[-1][1].append(arg)
    cases = [(s, f) for s, files in groups for f in files]
    print('1..%d' % len(cases))
    if checkpatch.startswith('missing:'):
        for n, (_, f) in enumerate(cases, 1):
            print('not ok %d - checkpatch %s' % (n, f))
        print('# %s is not installed: apt-get install linux-source-6.1 '
              '(scripts/debian-packages.txt lists it)' %
              checkpatch.split(':', 1)[1])
        return 1
    failed = 0
    for n, (s, f) in enumerate(cases, 1):
        cmd = ['perl', checkpatch, '--no-tree', '--terse', '--show-types',
               '--color=never', '-f', f]
        if s:
            cmd.insert(2, '--strict')
        res = subprocess.run(cmd, capture_output=True, text=True)
        problems = [line for line in res.stdout.splitlines()
                    if ': ERROR:' in line or ': WARNING:' in line or
                    ': CHECK:' in line]
        ok = res.returncode == 0 and not problems
        print('%s %d - checkpatch%s %s' % ('ok' if ok else 'not ok', n,
                                           ' --strict' if s else '', f))
        if not ok:
            failed += 1
            for line in (problems or res.stdout.splitlines() +
                         res.stderr.splitlines()):
                print('# ' + line)
    return 1 if failed else 0


sys.exit(main())
