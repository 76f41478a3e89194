#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Lists the dynamic symbols a library exports and checks them against its
public API: libzcbuf exports namespace zcbuf (its classes' type info and
vtables included) and nothing of zcbuf::internal; libgstzcbuf-1.0 exports
gst_zcbuf_* / gst_is_zcbuf_* functions and none of its private header's.

usage: exported_symbols.py libzcbuf|libgstzcbuf PATH"""
import re
import subprocess
import sys

RULES = {
    'libzcbuf': (
        [r'zcbuf::', r'(typeinfo|typeinfo name|vtable) for zcbuf::'],
        [r'zcbuf::internal::', r'(typeinfo|typeinfo name|vtable) for zcbuf::internal::'],
    ),
    'libgstzcbuf': (
        [r'gst_zcbuf_', r'gst_is_zcbuf_'],
        [r'gst_zcbuf_memory_install_functions', r'gst_zcbuf_memory_init_debug'],
    ),
}


def exported(path):
    out = subprocess.run(['nm', '-D', '--defined-only', '-C', path], check=True,
                         capture_output=True, text=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split(' ', 2)
        if len(parts) == 3:
            symbols.append(parts[2])
    return symbols


def main():
    kind, path = sys.argv[1], sys.argv[2]
    allowed, forbidden = RULES[kind]
    symbols = exported(path)
    bad = [s for s in symbols
           if not any(re.match(a, s) for a in allowed) or any(re.match(f, s) for f in forbidden)]
    print(f'{path}: {len(symbols)} exported symbols')
    for s in sorted(symbols):
        print('  ' + s)
    if not symbols:
        print('no symbols exported at all', file=sys.stderr)
        return 1
    if bad:
        print('exported beyond the public API:', file=sys.stderr)
        for s in sorted(bad):
            print('  ' + s, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
