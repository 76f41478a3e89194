#!/usr/bin/env bash
# Sets a fresh Debian 12 machine up for zcbuf: installs what is missing from
# scripts/debian-packages.txt (as root), then configures and builds with
# Meson into ./build (or $ZCBUF_BUILD_DIR). Both README commands start here.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZCBUF_BUILD_DIR:-$root/build}

mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$root/scripts/debian-packages.txt")
missing=()
for package in "${wanted[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$package")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "zcbuf: these packages are missing; run as root to install them: ${missing[*]}" >&2
		exit 1
	fi
	echo "zcbuf: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root"
fi
ninja -C "$build"
