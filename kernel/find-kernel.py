#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print the newest kernel version under /lib/modules that has both a build
directory (headers) and a /boot/vmlinuz image, or nothing."""

import os
import re


def version_key(v):
    return [int(x) if x.isdigit() else x for x in re.split(r'(\d+)', v)]


def main():
    try:
        versions = os.listdir('/lib/modules')
    except OSError:
        return
    usable = [v for v in versions
              if os.path.isdir(os.path.join('/lib/modules', v, 'build')) and
              os.path.exists('/boot/vmlinuz-' + v)]
    if usable:
        print(sorted(usable, key=version_key)[-1])


main()
