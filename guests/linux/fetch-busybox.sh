#!/bin/sh
# Fetch BusyBox's Debian source package into $1 (default: build/linux/busybox).
# `apt-get source` needs a deb-src entry: if the machine has none, one is added, copied from
# the machine's own Debian entry (same mirror, suites and keyring), at most once.
set -eu
dest=${1:-build/linux}
mkdir -p "$dest"
if ! apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -q '^Sources$'; then
    src=/etc/apt/sources.list.d/hvlab-deb-src.sources
    if [ ! -e "$src" ]; then
        deb=/etc/apt/sources.list.d/debian.sources
        [ -r "$deb" ] || { echo "fetch-busybox: no $deb to copy a deb-src entry from" >&2; exit 1; }
        # the deb822 stanzas of the Debian archive, with Types: deb-src
        sed -e 's/^Types:.*/Types: deb-src/' "$deb" >"$src.tmp"
        mv "$src.tmp" "$src"
    fi
    apt-get update -qq
fi
cd "$dest"
ls -d busybox-*/ >/dev/null 2>&1 || apt-get source -qq busybox
