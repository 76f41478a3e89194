#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""plugin-subset OUTDIR SYSTEM_PLUGIN_DIR PLUGIN...

Makes OUTDIR a folder of symlinks to the named system GStreamer plugins.
GStreamer tests in the guest use it as GST_PLUGIN_SYSTEM_PATH_1_0: scanning
every system plugin takes ~15 s per boot under TCG, a few plugins well
under one. A plugin that is missing is an error, not a smaller subset."""
import os
import sys

out, system, plugins = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
for name in os.listdir(out):
    os.unlink(os.path.join(out, name))
for plugin in plugins:
    source = os.path.join(system, 'libgst%s.so' % plugin)
    if not os.path.exists(source):
        sys.exit('plugin-subset: %s is missing' % source)
    os.symlink(source, os.path.join(out, os.path.basename(source)))
