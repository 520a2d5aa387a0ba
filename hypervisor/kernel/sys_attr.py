"""File attribute calls: fchmodat, fchmod, fchownat, fchown, utimensat_time64, truncate64,
ftruncate64, statfs64, fstatfs64, mknodat (EPERM), sync/fsync (chmod(2), truncate(2)...).

A change to a file of an image layer copies it up first (sys_fs.copy_up): image nodes never
change.
"""
import struct
import time

from .errno import EACCES, EBADF, EINVAL, EISDIR, ENOENT, EPERM, SysError
from .sys_fs import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, copy_up, lookup, node_at, path_arg
from .syscalls import signed, syscall
from .vfs import S_IFMT, S_IFREG


def _changeable(c, p, dirfd, addr, flags):
    path = p.mm.read_str(addr) if addr else b""
    if not path and flags & AT_EMPTY_PATH or not addr:
        return p.fds.get(signed(dirfd)).node if signed(dirfd) != AT_FDCWD else p.cwd
    parent, name, node = lookup(c, p, dirfd, path, not flags & AT_SYMLINK_NOFOLLOW)
    if node is None:
        raise SysError(ENOENT)
    return copy_up(parent, name, node) if parent is not None else node


@syscall("fchmodat")
def sys_fchmodat(c, p, dirfd, addr, mode, *_):
    node = _changeable(c, p, dirfd, addr, 0)
    if node.mount or node.lower:
        raise SysError(EACCES)
    node.mode = (node.mode & S_IFMT) | (mode & 0o7777)
    return 0


@syscall("fchmod")
def sys_fchmod(c, p, fd, mode, *_):
    node = p.fds.get(signed(fd)).node
    if node.lower or node.mount:
        raise SysError(EACCES)
    node.mode = (node.mode & S_IFMT) | (mode & 0o7777)
    return 0


@syscall("fchownat")
def sys_fchownat(c, p, dirfd, addr, uid, gid, flags, *_):
    node = _changeable(c, p, dirfd, addr, flags)
    if node.mount:
        raise SysError(EACCES)
    if signed(uid) != -1:
        node.uid = uid
    if signed(gid) != -1:
        node.gid = gid
    return 0


@syscall("fchown")
def sys_fchown(c, p, fd, uid, gid, *_):
    p.fds.get(signed(fd))
    return 0


@syscall("utimensat_time64")
def sys_utimensat(c, p, dirfd, addr, times, flags, *_):
    node = _changeable(c, p, dirfd, addr, flags)
    if node.mount:
        raise SysError(EACCES)
    t = time.time()
    if times:
        sec, nsec = struct.unpack("<qq", p.mm.read(times + 16, 16))
        if nsec not in (0x3FFFFFFE, 0x3FFFFFFF):    # UTIME_OMIT, UTIME_NOW
            t = sec + nsec / 1e9
    node.mtime = t
    return 0


@syscall("truncate64")
def sys_truncate(c, p, addr, lo, hi, *_):
    length = lo | (hi << 32)
    parent, name, node = lookup(c, p, AT_FDCWD, path_arg(p, addr))
    if node is None:
        raise SysError(ENOENT)
    if node.is_dir:
        raise SysError(EISDIR)
    node = copy_up(parent, name, node)
    _resize(node, length)
    return 0


def _resize(node, length):
    if node.type != S_IFREG:
        raise SysError(EINVAL)
    if length < 0 or length > 1 << 30:
        raise SysError(EINVAL)
    if length < len(node.data):
        del node.data[length:]
    else:
        node.data.extend(bytes(length - len(node.data)))


@syscall("ftruncate64")
def sys_ftruncate(c, p, fd, lo, hi, *_):
    f = p.fds.get(signed(fd))
    if not f.writable:
        raise SysError(EINVAL if f.readable else EBADF)
    _resize(f.node, lo | (hi << 32))
    return 0


def _statfs(p, buf):
    # struct statfs64: type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen, frsize
    p.mm.write(buf, struct.pack("<IIQQQQQQIII", 0x794C7630, 4096, 65536, 32768, 32768, 65536,
                                32768, 0, 255, 4096, 0).ljust(84, b"\0"))
    return 0


@syscall("statfs64")
def sys_statfs(c, p, addr, size, buf, *_):
    node_at(c, p, AT_FDCWD, addr)
    return _statfs(p, buf)


@syscall("fstatfs64")
def sys_fstatfs(c, p, fd, size, buf, *_):
    p.fds.get(signed(fd))
    return _statfs(p, buf)


@syscall("mknodat")
def sys_mknodat(c, p, *_):
    raise SysError(EPERM)


@syscall("sync", "syncfs", "fsync", "fdatasync")
def sys_sync(c, p, *_):
    return 0
