#!/usr/bin/env python3
"""The root file system of hvlab's Linux, written twice from one list of entries:

    mkrootfs.py --busybox BB --links BUSYBOX.LINKS --programs DIR --skeleton DIR \\
                --cpio OUT.cpio --tar OUT.tar

* OUT.cpio: the initramfs built into the kernel (newc format, what the kernel unpacks;
  Documentation/driver-api/early-userspace/buffer-format.rst), with /dev/console and /init;
* OUT.tar: the same userland for containers and OCI images (no device nodes: a container
  runtime makes /dev).

Reproducible: entries sorted by path, every mtime SOURCE_DATE_EPOCH, owner 0:0, modes from the
table below (not from the checkout, whose permissions git does not keep), inode numbers
counted from 1 in path order.  A cpio writer is a few lines; the host's `cpio` would take the
mtimes and owners of the build tree.
"""
import argparse
import io
import os
import stat
import sys
import tarfile

DIRS = ["bin", "dev", "etc", "etc/init.d", "proc", "root", "run", "sbin", "sys", "tmp", "usr",
        "usr/bin", "usr/sbin", "var"]
MODES = {"etc/shadow": 0o600, "etc/init.d/rcS": 0o755, "tmp": 0o1777, "root": 0o700}


class Entry:
    def __init__(self, path, mode, data=b"", target=None, rdev=(0, 0)):
        self.path, self.mode, self.data, self.target, self.rdev = path, mode, data, target, rdev


def entries(busybox, links, programs, skeleton):
    out = {d: Entry(d, stat.S_IFDIR | MODES.get(d, 0o755)) for d in DIRS}
    with open(busybox, "rb") as f:
        out["bin/busybox"] = Entry("bin/busybox", stat.S_IFREG | 0o755, f.read())
    with open(links) as f:              # busybox.links: one absolute path per applet
        for line in f:
            path = line.strip().lstrip("/")
            if path and path != "bin/busybox":
                # relative, as `make install` makes them: usr/bin/awk -> ../../bin/busybox
                out[path] = Entry(path, stat.S_IFLNK | 0o777,
                                  target="../" * path.count("/") + "bin/busybox")
    out["init"] = Entry("init", stat.S_IFLNK | 0o777, target="bin/busybox")
    for name in sorted(os.listdir(programs)):
        with open(os.path.join(programs, name), "rb") as f:
            out[f"usr/bin/{name}"] = Entry(f"usr/bin/{name}", stat.S_IFREG | 0o755, f.read())
    for root, dirs, files in os.walk(skeleton):
        dirs.sort()
        for name in sorted(dirs):
            rel = os.path.relpath(os.path.join(root, name), skeleton)
            out.setdefault(rel, Entry(rel, stat.S_IFDIR | MODES.get(rel, 0o755)))
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(root, name), skeleton)
            with open(os.path.join(root, name), "rb") as f:
                out[rel] = Entry(rel, stat.S_IFREG | MODES.get(rel, 0o644), f.read())
    return [out[p] for p in sorted(out)]


def _newc(ino, e, mtime, name, body):
    fields = (ino, e.mode, 0, 0, 1 if not stat.S_ISDIR(e.mode) else 2, mtime, len(body),
              0, 0, e.rdev[0], e.rdev[1], len(name) + 1, 0)
    head = b"070701" + b"".join(b"%08X" % v for v in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + body + b"\0" * (-len(body) % 4)


def cpio(items, mtime, with_console=True):
    """newc archive of the entries (plus /dev/console for the kernel's first open)."""
    items = list(items)
    if with_console:
        items.append(Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)))
        items.sort(key=lambda e: e.path)
    out = io.BytesIO()
    for ino, e in enumerate(items, 1):
        body = e.target.encode() if e.target is not None else e.data
        out.write(_newc(ino, e, mtime, e.path, body))
    out.write(_newc(0, Entry("TRAILER!!!", 0), 0, "TRAILER!!!", b""))
    return out.getvalue() + b"\0" * (-out.tell() % 512)


def tar(items, mtime):
    """ustar archive of the entries: uid/gid 0 (root), sorted, fixed mtime."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for e in items:
            info = tarfile.TarInfo(e.path)
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "root", "root"
            info.mode = stat.S_IMODE(e.mode)
            if stat.S_ISDIR(e.mode):
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif stat.S_ISLNK(e.mode):
                info.type, info.linkname = tarfile.SYMTYPE, e.target
                t.addfile(info)
            else:
                info.size = len(e.data)
                t.addfile(info, io.BytesIO(e.data))
    return out.getvalue()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for opt in ("--busybox", "--links", "--programs", "--skeleton", "--cpio", "--tar"):
        p.add_argument(opt, required=True)
    args = p.parse_args(argv)
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    items = entries(args.busybox, args.links, args.programs, args.skeleton)
    for path, blob in ((args.cpio, cpio(items, mtime)), (args.tar, tar(items, mtime))):
        with open(path + ".tmp", "wb") as f:
            f.write(blob)
        os.replace(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
