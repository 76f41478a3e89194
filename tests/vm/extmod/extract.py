#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Extract single files from Debian's linux-source tarball.

usage: extract.py TARBALL OUTDIR MEMBER=NAME...

MEMBER is a path inside the kernel tree (e.g. scripts/checkpatch.pl); it is
written to OUTDIR/NAME. Nothing else is extracted.
"""

import os
import shutil
import subprocess
import sys
import tempfile


def main():
    tarball, outdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not os.path.exists(tarball):
        sys.exit('extract.py: %s is missing: apt-get install %s' %
                 (tarball, os.path.basename(tarball).split('.tar')[0]))
    top = os.path.basename(tarball).split('.tar')[0]
    pairs = [s.split('=', 1) for s in specs]
    with tempfile.TemporaryDirectory(dir=outdir) as tmp:
        subprocess.run(['tar', '-xf', tarball, '-C', tmp] +
                       [top + '/' + member for member, _ in pairs],
                       check=True)
        for member, name in pairs:
            shutil.move(os.path.join(tmp, top, member),
                        os.path.join(outdir, name))


main()
