#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print the path of a statically linked busybox (busybox-static), or
nothing: the guest's initramfs has no libraries for a dynamic one."""

import shutil
import struct

PT_INTERP = 3


def is_static_elf(path):
    with open(path, 'rb') as f:
        head = f.read(64)
        if head[:4] != b'\x7fELF' or head[4] != 2:
            return False
        phoff, = struct.unpack_from('<Q', head, 32)
        phentsize, phnum = struct.unpack_from('<HH', head, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack('<I', f.read(4))[0] == PT_INTERP:
                return False
    return True


for candidate in ('/bin/busybox', shutil.which('busybox')):
    if candidate and is_static_elf(candidate):
        print(candidate)
        break
