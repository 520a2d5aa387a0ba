#!/bin/sh
# Build hvlab's Linux guest from packages only: `make -C guests linux` runs this.
#
#   linux/build.sh OUT BUILD
#
#   OUT/linux.Image   Linux 6.1 (Debian's linux-source-6.1) for rv32, the initramfs built in
#   OUT/userland.tar  the same root file system as a tar, for containers and OCI images
#
# BUILD keeps the unpacked sources and objects, so a second run rebuilds only what changed.
# Needs: linux-source-6.1 and gcc-riscv64-linux-gnu (apt), ziglang (pip, the [build] extra),
# and `apt-get source busybox` (fetch-busybox.sh adds the deb-src entry it needs).
#
# Reproducible: the same packages give the same bytes.  Fixed: SOURCE_DATE_EPOCH (BusyBox's
# banner, every mtime in the cpio and tar), KBUILD_BUILD_TIMESTAMP/USER/HOST/VERSION (the
# kernel's version string), TZ and locale; source paths are mapped away (-ffile-prefix-map),
# zig's caches live in BUILD and leave no path in the stripped binaries.
set -eu

OUT=$(realpath "${1:?usage: build.sh OUT BUILD}")
mkdir -p "${2:?usage: build.sh OUT BUILD}"
BUILD=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
CROSS=riscv64-linux-gnu-

export SOURCE_DATE_EPOCH=1735689600                  # 2025-01-01 00:00:00 UTC
export KBUILD_BUILD_TIMESTAMP="Wed Jan  1 00:00:00 UTC 2025"
export KBUILD_BUILD_USER=hvlab KBUILD_BUILD_HOST=hvlab KBUILD_BUILD_VERSION=1
export TZ=UTC LC_ALL=C
export ZIG_GLOBAL_CACHE_DIR="$BUILD/zig-cache" ZIG_LOCAL_CACHE_DIR="$BUILD/zig-cache"
export PYTHON

need() { command -v "$1" >/dev/null 2>&1 || { echo "build.sh: $1 not found ($2)" >&2; exit 1; }; }
need ${CROSS}gcc "apt-get install gcc-riscv64-linux-gnu"
need bc "apt-get install bc"
need flex "apt-get install flex"
need bison "apt-get install bison"
"$PYTHON" -m ziglang version >/dev/null 2>&1 || { echo "build.sh: no zig: pip install ziglang" >&2; exit 1; }
LINUX_TAR=/usr/src/linux-source-6.1.tar.xz
[ -r $LINUX_TAR ] || { echo "build.sh: no $LINUX_TAR (apt-get install linux-source-6.1)" >&2; exit 1; }
step() { echo "build.sh: $*" >&2; }

# ---- sources ----------------------------------------------------------------------------------
KSRC=$BUILD/linux-source-6.1
if [ ! -e "$KSRC/.hvlab-unpacked" ]; then
    step "unpacking $LINUX_TAR"
    rm -rf "$KSRC"
    tar -C "$BUILD" -xf $LINUX_TAR
    touch "$KSRC/.hvlab-unpacked"
fi
sh "$HERE/fetch-busybox.sh" "$BUILD"
BBSRC=$(ls -d "$BUILD"/busybox-*/ | head -1)
BBSRC=${BBSRC%/}
if [ ! -e "$BBSRC/.hvlab-patched" ]; then
    patch -d "$BBSRC" -p1 -s <"$HERE/busybox-globals.patch"
    touch "$BBSRC/.hvlab-patched"
fi

# ---- BusyBox ----------------------------------------------------------------------------------
BBOBJ=$BUILD/busybox-obj
BBMAKE="make -C $BBSRC O=$BBOBJ CC=$HERE/zigcc HOSTCC=gcc STRIP=${CROSS}strip -s"
mkdir -p "$BBOBJ"
if [ ! -e "$BBOBJ/.config" ] || [ "$HERE/busybox.config" -nt "$BBOBJ/.config" ]; then
    step "configuring BusyBox ($(basename "$BBSRC"))"
    $BBMAKE defconfig >/dev/null
    "$PYTHON" "$HERE/kconfig.py" merge "$BBOBJ/.config" "$HERE/busybox.config" \
        BUSYBOX_SRC="$BBSRC"
    yes '' | $BBMAKE oldconfig >/dev/null
    "$PYTHON" "$HERE/kconfig.py" check "$BBOBJ/.config" "$HERE/busybox.config" \
        BUSYBOX_SRC="$BBSRC"
fi
step "building BusyBox"
$BBMAKE -j"$JOBS" busybox >"$BUILD/busybox.log" 2>&1 || { tail -30 "$BUILD/busybox.log"; exit 1; }
$BBMAKE busybox.links >/dev/null

# ---- the project's programs -----------------------------------------------------------------
PROGS=$BUILD/programs
mkdir -p "$PROGS"
for src in "$HERE"/programs/*.c; do
    name=$(basename "$src" .c)
    if [ ! -e "$PROGS/$name" ] || [ "$src" -nt "$PROGS/$name" ]; then
        step "compiling $name"
        "$HERE/zigcc" -static -O2 -s -Wall -Wextra -Werror -ffile-prefix-map="$HERE/=" \
            -o "$PROGS/$name" "$src"
    fi
done

# ---- root file system: the kernel's initramfs and the containers' tar --------------------------
step "writing the root file system"
"$PYTHON" "$HERE/mkrootfs.py" --busybox "$BBOBJ/busybox" --links "$BBOBJ/busybox.links" \
    --programs "$PROGS" --skeleton "$HERE/rootfs" --cpio "$BUILD/rootfs.cpio" \
    --tar "$BUILD/userland.tar"

# ---- the kernel -------------------------------------------------------------------------------
KOBJ=$BUILD/linux-obj
KMAKE="make -C $KSRC O=$KOBJ ARCH=riscv CROSS_COMPILE=$CROSS -s"
mkdir -p "$KOBJ"
if [ ! -e "$KOBJ/.config" ] || [ "$HERE/kernel.config" -nt "$KOBJ/.config" ]; then
    step "configuring Linux: tinyconfig + kernel.config"
    $KMAKE tinyconfig >/dev/null
    "$PYTHON" "$HERE/kconfig.py" merge "$KOBJ/.config" "$HERE/kernel.config" \
        rootfs.cpio="$BUILD/rootfs.cpio"
    $KMAKE olddefconfig >/dev/null
    "$PYTHON" "$HERE/kconfig.py" check "$KOBJ/.config" "$HERE/kernel.config" \
        rootfs.cpio="$BUILD/rootfs.cpio"
fi
step "building Linux ($JOBS jobs)"
$KMAKE -j"$JOBS" Image >"$BUILD/linux.log" 2>&1 || { tail -30 "$BUILD/linux.log"; exit 1; }

mkdir -p "$OUT"
cp "$KOBJ/arch/riscv/boot/Image" "$OUT/linux.Image"
cp "$BUILD/userland.tar" "$OUT/userland.tar"
step "done: $OUT/linux.Image ($(wc -c <"$OUT/linux.Image") bytes)," \
     "$OUT/userland.tar ($(wc -c <"$OUT/userland.tar") bytes)"
