#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What an application developer meets after `ninja install`: installs the
# build into a scratch DESTDIR, checks where the files went, builds a C
# application (examples/zcbuf-appsrc.c) and a C++ one against the installed
# .pc files only, and runs them with GStreamer finding the installed plugin.
# Nothing of the build tree is on any path the programs use.
#
#   install-and-use.sh BUILD_DIR SOURCE_DIR PREFIX LIBDIR INCLUDEDIR
set -euo pipefail
build=$1 source=$2 prefix=$3 libdir=$4 includedir=$5

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "install-and-use: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null

root=$dest$prefix
lib=$root/$libdir
inc=$root/$includedir
plugin_dir=$lib/gstreamer-1.0
[ -d "$plugin_dir" ] && [ "$prefix" = /usr ] && \
	[ "$plugin_dir" != "$dest/usr/lib/x86_64-linux-gnu/gstreamer-1.0" ] && \
	fail "with --prefix=/usr the plugin must go where Debian's GStreamer looks"

# The layout README.md's Install section describes.
for f in "$plugin_dir/libgstzcbuf.so" "$lib/libzcbuf.so" "$lib/libgstzcbuf-1.0.so" \
	"$lib/pkgconfig/libzcbuf.pc" "$lib/pkgconfig/gstreamer-zcbuf-1.0.pc" \
	"$inc/zcbuf/buffer.h" "$inc/zcbuf/uapi/linux/zcbuf.h" \
	"$inc/gstreamer-1.0/gst/zcbuf/gstzcbuf.h"; do
	[ -e "$f" ] || fail "not installed: ${f#"$dest"}"
done
[ ! -e "$inc/linux/zcbuf.h" ] || fail "the uapi header is in linux-libc-dev's include/linux"
[ ! -e "$inc/gstreamer-1.0/gst/zcbuf/gstzcbufmemory.hpp" ] ||
	fail "the plugin's C++ header gstzcbufmemory.hpp is installed"
echo "ok: the installed layout"

# Our .pc files, pointed at the scratch prefix (the system's stay as they are).
pcdir=$dest/pkgconfig
mkdir "$pcdir"
for pc in "$lib"/pkgconfig/*.pc; do
	sed "s|^prefix=.*|prefix=$root|" "$pc" >"$pcdir/$(basename "$pc")"
done
export PKG_CONFIG_PATH=$pcdir

# A C application with the C API only.
# shellcheck disable=SC2046 # pkg-config's words are meant to split
cc -o "$dest/zcbuf-appsrc" "$source/examples/zcbuf-appsrc.c" \
	$(pkg-config --cflags --libs gstreamer-zcbuf-1.0 gstreamer-app-1.0) ||
	fail "examples/zcbuf-appsrc.c does not build against the installed .pc files"
echo "ok: a C application builds against gstreamer-zcbuf-1.0.pc"

# A C++ one using libzcbuf and the C API together, in the standard
# libzcbuf.pc names.
std=$(pkg-config --variable=cxx_std libzcbuf)
[ -n "$std" ] || fail "libzcbuf.pc names no C++ standard"
cat >"$dest/use.cpp" <<'EOF'
#include <gst/zcbuf/gstzcbuf.h>
#include <zcbuf/zcbuf.h>
#include <linux/zcbuf.h>
int main()
{
	gst_init(nullptr, nullptr);
	auto backend = zcbuf::openBackend("memfd");
	if (!backend)
		return 1;
	auto buffer = zcbuf::Buffer::create(backend.value(), 4096, "installed");
	if (!buffer->allocate())
		return 2;
	GError *error = nullptr;
	GstMemory *memory = gst_zcbuf_allocator_import_fd(buffer->fd().value(), 4096, &error);
	bool ok = memory && gst_is_zcbuf_memory(memory);
	if (memory)
		gst_memory_unref(memory);
	g_clear_error(&error);
	return ok ? 0 : 3;
}
EOF
# shellcheck disable=SC2046
c++ -std="$std" -o "$dest/use" "$dest/use.cpp" \
	$(pkg-config --cflags --libs gstreamer-zcbuf-1.0 libzcbuf) ||
	fail "a C++ program does not build against the installed headers (-std=$std)"
echo "ok: a C++ application builds with -std=$std"

# Run them from the install: the libraries from LIBDIR, the plugin from its
# installed folder, a registry of their own.
export LD_LIBRARY_PATH=$lib
export GST_PLUGIN_PATH_1_0=$plugin_dir
export GST_REGISTRY_1_0=$dest/registry.bin
unset GST_PLUGIN_PATH
"$dest/use" || fail "the C++ program failed from the install"
"$dest/zcbuf-appsrc" 10 memfd >"$dest/appsrc.log" 2>&1 ||
	{ cat "$dest/appsrc.log" >&2; fail "zcbuf-appsrc failed from the install"; }
echo "ok: both run on the installed libraries"
where=$(gst-inspect-1.0 zcbuf | sed -n 's/^ *Filename *//p')
[ "$where" = "$plugin_dir/libgstzcbuf.so" ] ||
	fail "GStreamer found the plugin at '$where', not at the installed one"
echo "ok: GStreamer loads the installed plugin"

if [ -e "$lib/girepository-1.0/GstZcbuf-1.0.typelib" ]; then
	GI_TYPELIB_PATH=$lib/girepository-1.0 /usr/bin/python3 -c "
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstZcbuf', '1.0')
from gi.repository import Gst, GstZcbuf
Gst.init(None)
assert GstZcbuf.BufferPool.new(None) is not None
" || fail "Python cannot use the installed GstZcbuf-1.0 typelib"
	echo "ok: Python uses the installed typelib"
fi
