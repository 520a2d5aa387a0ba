"""File-system calls (path names): openat, statx, mkdirat, unlinkat, renameat2, faccessat,
readlinkat, symlinkat, linkat, getcwd, chdir, fchdir, fchmodat, utimensat, truncate, statfs.

Paths resolve inside the container's root (vfs.Namei).  The first write to a file of an image
layer copies it up into the container's own tree (``copy_up``); image nodes never change.
Every process of a container runs as root (uid 0) inside it: permission bits are kept and
shown, exec bits are enforced, and /proc is read-only.
"""
import struct
import time

from .errno import (EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, ENOTEMPTY,
                    EPERM, ERANGE, EXDEV, SysError)
from .file import (O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY,
                   O_TRUNC, O_CLOEXEC, open_node)
from .syscalls import signed, syscall
from .vfs import MAXSYMLINKS, S_IFLNK, S_IFREG, Dir, Node

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = 0x100, 0x200, 0x400, 0x1000
STATX_BASIC = 0x7FF


def base_dir(p, dirfd, path):
    if path.startswith(b"/") or signed(dirfd) == AT_FDCWD:
        return p.cwd
    node = p.fds.get(signed(dirfd)).node
    if not node.is_dir:
        raise SysError(ENOTDIR)
    return node


def lookup(c, p, dirfd, path, follow=True):
    """(parent dir, last name, node or None) for ``path``; for a path naming a directory
    itself ('/', '.', 'a/..') parent and name are None."""
    namei = c.ns.namei
    base = base_dir(p, dirfd, path)
    for _ in range(MAXSYMLINKS):
        parent, name = namei.parent(base, path)
        if name is None:
            return None, None, parent
        node = parent.lookup(name)
        if node is not None and node.type == S_IFLNK and follow:
            base, path = parent, bytes(node.data)
            continue
        return parent, name, node
    raise SysError(ELOOP)


def path_arg(p, addr):
    path = p.mm.read_str(addr)
    if not path:
        raise SysError(ENOENT)
    return path


def node_at(c, p, dirfd, addr, flags=0):
    """The node a (dirfd, path, AT_* flags) triple names."""
    path = p.mm.read_str(addr) if addr else b""
    if not path:
        if flags & AT_EMPTY_PATH:
            if signed(dirfd) == AT_FDCWD:
                return p.cwd
            return p.fds.get(signed(dirfd)).node
        raise SysError(ENOENT)
    _, _, node = lookup(c, p, dirfd, path, not flags & AT_SYMLINK_NOFOLLOW)
    if node is None:
        raise SysError(ENOENT)
    return node


def copy_up(parent, name, node):
    """The container's own copy of an image file before its first change (overlayfs)."""
    if node.mount:
        raise SysError(EACCES)
    if not node.lower:
        return node
    new = node.copy()
    parent.entries[name] = new
    return new


def writable_dir(d):
    if isinstance(d, _ro_dirs()):
        raise SysError(EACCES)             # /proc is read-only
    return d


def _ro_dirs():
    from .procfs import PidDir, ProcRoot
    return (ProcRoot, PidDir)


@syscall("openat")
def sys_openat(c, p, dirfd, addr, flags, mode, *_):
    path = path_arg(p, addr)
    parent, name, node = lookup(c, p, dirfd, path, not flags & O_NOFOLLOW)
    if node is None:
        if not flags & O_CREAT:
            raise SysError(ENOENT)
        if path.endswith(b"/"):
            raise SysError(EISDIR)
        writable_dir(parent)
        node = Node(S_IFREG | (mode & 0o7777 & ~p.umask))
        parent.link(name, node)
    else:
        if flags & O_CREAT and flags & O_EXCL:
            raise SysError(EEXIST)
        if node.type == S_IFLNK:
            raise SysError(ELOOP)           # O_NOFOLLOW on a symlink
        if node.is_dir and (flags & O_ACCMODE != O_RDONLY or flags & O_TRUNC):
            raise SysError(EISDIR)
        if flags & O_DIRECTORY and not node.is_dir:
            raise SysError(ENOTDIR)
        wants_write = flags & O_ACCMODE != O_RDONLY or flags & O_TRUNC
        if wants_write and node.device is None and not flags & O_PATH:
            if parent is None:
                raise SysError(EISDIR)
            if node.mount:
                raise SysError(EACCES)
            node = copy_up(parent, name, node)
        if flags & O_TRUNC and node.type == S_IFREG and not flags & O_PATH:
            del node.data[:]
            node.mtime = time.time()
    if node.device == "tty":
        from .tty import TtyFile
        f = TtyFile(c.tty, flags)
    else:
        f = open_node(node, flags)
    return p.fds.install(f, cloexec=bool(flags & O_CLOEXEC))


def statx_bytes(node, dev=0x801):
    t = node.mtime
    sec, nsec = int(t), int((t - int(t)) * 1e9)
    ts = struct.pack("<qIi", sec, nsec, 0)
    size = node.size
    head = struct.pack("<IIQIIIHHQQQQ", STATX_BASIC, 4096, 0, node.nlink, node.uid, node.gid,
                       node.mode, 0, node.ino, size, (size + 511) // 512, 0)
    tail = struct.pack("<IIII", node.rdev >> 8, node.rdev & 0xFF, dev >> 8, dev & 0xFF)
    return (head + ts * 4 + tail).ljust(256, b"\0")


@syscall("statx")
def sys_statx(c, p, dirfd, addr, flags, mask, buf, *_):
    node = node_at(c, p, dirfd, addr, flags)
    if getattr(p.fds.fds.get(signed(dirfd), [None])[0], "pipe", None) is not None \
            and flags & AT_EMPTY_PATH and not (p.mm.read_str(addr) if addr else b""):
        node = p.fds.get(signed(dirfd)).node
    p.mm.write(buf, statx_bytes(node))
    return 0


@syscall("mkdirat")
def sys_mkdirat(c, p, dirfd, addr, mode, *_):
    path = path_arg(p, addr)
    parent, name, node = lookup(c, p, dirfd, path.rstrip(b"/") or b"/", False)
    if node is not None or parent is None:
        raise SysError(EEXIST)
    writable_dir(parent)
    parent.link(name, Dir(mode & 0o7777 & ~p.umask))
    return 0


@syscall("unlinkat")
def sys_unlinkat(c, p, dirfd, addr, flags, *_):
    path = path_arg(p, addr)
    parent, name, node = lookup(c, p, dirfd, path.rstrip(b"/") or b"/", False)
    if parent is None:
        raise SysError(EBUSY_OR_INVAL(path))
    if node is None:
        raise SysError(ENOENT)
    writable_dir(parent)
    if node.mount:
        raise SysError(EACCES)
    if flags & AT_REMOVEDIR:
        if not node.is_dir:
            raise SysError(ENOTDIR)
        if node.entries:
            raise SysError(ENOTEMPTY)
    elif node.is_dir:
        raise SysError(EISDIR)
    parent.unlink(name)
    return 0


def EBUSY_OR_INVAL(path):
    from .errno import EBUSY
    return EBUSY if path.strip(b"/") == b"" else EINVAL


@syscall("renameat2")
def sys_renameat2(c, p, olddirfd, oldaddr, newdirfd, newaddr, flags, *_):
    if flags & ~1:                              # only RENAME_NOREPLACE
        raise SysError(EINVAL)
    oldp, oldn, node = lookup(c, p, olddirfd, path_arg(p, oldaddr).rstrip(b"/") or b"/", False)
    newp, newn, target = lookup(c, p, newdirfd, path_arg(p, newaddr).rstrip(b"/") or b"/",
                                False)
    if node is None:
        raise SysError(ENOENT)
    if oldp is None or newp is None:
        raise SysError(EINVAL)
    if node.mount or (target is not None and target.mount):
        raise SysError(EXDEV)
    writable_dir(oldp)
    writable_dir(newp)
    if node.is_dir:                             # not into itself
        d = newp
        while True:
            if d is node:
                raise SysError(EINVAL)
            if d.parent is d:
                break
            d = d.parent
    if target is not None:
        if target is node:
            return 0
        if flags & 1:
            raise SysError(EEXIST)
        if node.is_dir and not target.is_dir:
            raise SysError(ENOTDIR)
        if target.is_dir and not node.is_dir:
            raise SysError(EISDIR)
        if target.is_dir and target.entries:
            raise SysError(ENOTEMPTY)
        newp.unlink(newn)
    oldp.entries.pop(oldn)
    newp.link(newn, node)
    return 0


@syscall("faccessat", "faccessat2")
def sys_faccessat(c, p, dirfd, addr, mode, flags=0, *_):
    node = node_at(c, p, dirfd, addr, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    if mode & 1 and not node.is_dir and not node.mode & 0o111:
        raise SysError(EACCES)                  # X_OK: root needs one x bit
    if mode & 2 and (node.mount and node.device is None):
        raise SysError(EACCES)
    return 0


@syscall("readlinkat")
def sys_readlinkat(c, p, dirfd, addr, buf, size, *_):
    if signed(size) <= 0:
        raise SysError(EINVAL)
    node = node_at(c, p, dirfd, addr, AT_SYMLINK_NOFOLLOW)
    if node.type != S_IFLNK:
        raise SysError(EINVAL)
    data = bytes(node.data)[:size]
    p.mm.write(buf, data)
    return len(data)


@syscall("symlinkat")
def sys_symlinkat(c, p, target_addr, dirfd, addr, *_):
    target = p.mm.read_str(target_addr)
    if not target:
        raise SysError(ENOENT)
    parent, name, node = lookup(c, p, dirfd, path_arg(p, addr), False)
    if node is not None or parent is None:
        raise SysError(EEXIST)
    writable_dir(parent)
    parent.link(name, Node(S_IFLNK | 0o777, target))
    return 0


@syscall("linkat")
def sys_linkat(c, p, olddirfd, oldaddr, newdirfd, newaddr, flags, *_):
    node = node_at(c, p, olddirfd, oldaddr, (flags & AT_EMPTY_PATH) |
                   (0 if flags & AT_SYMLINK_FOLLOW else AT_SYMLINK_NOFOLLOW))
    if node.is_dir:
        raise SysError(EPERM)
    if node.mount:
        raise SysError(EXDEV)
    parent, name, target = lookup(c, p, newdirfd, path_arg(p, newaddr), False)
    if target is not None or parent is None:
        raise SysError(EEXIST)
    writable_dir(parent)
    parent.link(name, node)
    node.nlink += 1
    return 0


@syscall("getcwd")
def sys_getcwd(c, p, buf, size, *_):
    path = c.ns.namei.path_of(p.cwd)
    if path is None:
        raise SysError(ENOENT)
    if len(path) + 1 > size:
        raise SysError(ERANGE)
    p.mm.write(buf, path + b"\0")
    return len(path) + 1


@syscall("chdir")
def sys_chdir(c, p, addr, *_):
    node = node_at(c, p, AT_FDCWD, addr)
    if not node.is_dir:
        raise SysError(ENOTDIR)
    p.cwd = node
    return 0


@syscall("fchdir")
def sys_fchdir(c, p, fd, *_):
    node = p.fds.get(signed(fd)).node
    if not node.is_dir:
        raise SysError(ENOTDIR)
    p.cwd = node
    return 0


@syscall("chroot")
def sys_chroot(c, p, *_):
    raise SysError(EPERM)
