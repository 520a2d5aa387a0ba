"""An image's root file system as an initramfs: a cpio archive in the "newc" format, the one
the Linux kernel unpacks at boot (Documentation/driver-api/early-userspace/buffer-format.rst;
usr/gen_init_cpio.c writes the same).

Each entry: the 6-byte magic "070701", thirteen 8-digit hex fields (ino, mode, uid, gid, nlink,
mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize with its NUL, check = 0),
the name and a NUL padded to a multiple of 4 bytes, then the data padded to 4.  A symlink's
data is its target.  Hard links share an inode number; the data goes with the last name, as
GNU cpio writes it (the kernel's unpacker links the names and keeps the data either way).
The archive ends with an entry named "TRAILER!!!".

Entries come from the union view (whiteouts already applied), parents first, names sorted, inode
numbers in that order, so the same image always gives the same bytes.
"""
import stat

from .union import view

MAGIC = b"070701"
_KIND = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "symlink": stat.S_IFLNK,
         "fifo": stat.S_IFIFO}


def _pad(n):
    return b"\0" * (-n % 4)


def header(ino, mode, uid, gid, nlink, mtime, filesize, name):
    fields = (ino, mode, uid, gid, nlink, mtime, filesize, 0, 0, 0, 0, len(name) + 1, 0)
    head = MAGIC + b"".join(b"%08X" % (f & 0xFFFFFFFF) for f in fields)
    return head + name + b"\0" + _pad(len(head) + len(name) + 1)


def pack(union, out, exclude=()):
    """Write `union` as newc cpio to the binary file `out`; returns the number of entries."""
    entries = [(p, n) for p, n in union.walk() if "/" + p not in exclude]
    inodes, names = {}, {}
    for path, node in entries:
        inodes.setdefault(id(node), len(inodes) + 1)
        names.setdefault(id(node), []).append(path)
    subdirs = {}
    for path, node in entries:
        if node.kind == "dir":
            parent = path.rpartition("/")[0]
            subdirs[parent] = subdirs.get(parent, 0) + 1
    for path, node in entries:
        name = path.encode("utf-8", "surrogateescape")
        if node.kind == "dir":
            nlink, data = 2 + subdirs.get(path, 0), b""
        elif node.kind == "symlink":
            nlink, data = 1, node.link.encode("utf-8", "surrogateescape")
        else:
            links = names[id(node)]
            nlink = len(links)
            data = union.read(node) if node.kind == "file" and path == links[-1] else b""
        mode = _KIND[node.kind] | (node.mode & 0o7777)
        out.write(header(inodes[id(node)], mode, node.uid, node.gid, nlink, node.mtime,
                         len(data), name))
        out.write(data + _pad(len(data)))
    out.write(header(0, 0, 0, 0, 1, 0, 0, b"TRAILER!!!"))
    return len(entries)


def write_image_cpio(image, path, exclude=()):
    """Pack an Image's root file system into the cpio file `path`; (entries, bytes)."""
    with view(image) as u, open(path, "wb") as out:
        count = pack(u, out, exclude)
        return count, out.tell()
