"""Open files: open file descriptions (open(2) "open file description"), and fd tables.

An ``OpenFile`` is what a file descriptor points to: a node, a position and the open flags,
shared by dup(2) and fork(2).  Kinds: a regular file, a directory (getdents64), a character
device (/dev/null, zero, full, random, urandom), and, in pipe.py and tty.py, pipes and the
terminal.  Each ``read``/``write`` either completes, raises SysError, or raises ``Block`` (the
process sleeps on a wait queue and the call is made again when it wakes: proc.py).
"""
import struct

from .errno import EBADF, EINVAL, EISDIR, EMFILE, ENOSPC, ENOTDIR, ENOTTY, SysError
from .vfs import DT, S_IFMT, S_IFREG, Dir

O_ACCMODE, O_RDONLY, O_WRONLY, O_RDWR = 3, 0, 1, 2
O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND, O_NONBLOCK = 0o100, 0o200, 0o400, 0o1000, 0o2000, 0o4000
O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH = 0o200000, 0o400000, 0o2000000, 0o10000000
NOFILE = 1024                           # RLIMIT_NOFILE


class OpenFile:
    seekable = True

    def __init__(self, node, flags):
        self.node = node
        self.flags = flags
        self.pos = 0
        self.refs = 0

    @property
    def readable(self):
        return self.flags & O_ACCMODE in (O_RDONLY, O_RDWR) and not self.flags & O_PATH

    @property
    def writable(self):
        return self.flags & O_ACCMODE in (O_WRONLY, O_RDWR) and not self.flags & O_PATH

    def read(self, proc, n):
        node = self.node
        if node.is_dir:
            raise SysError(EISDIR)
        data = bytes(node.data[self.pos:self.pos + n])
        self.pos += len(data)
        return data

    def pread(self, n, off):
        return bytes(self.node.data[off:off + n])

    def write(self, proc, data):
        node = self.node
        if self.flags & O_APPEND:
            self.pos = len(node.data)
        self.pos = self.pwrite(data, self.pos)
        return len(data)

    def pwrite(self, data, off):
        buf = self.node.data
        if len(buf) < off:
            buf.extend(bytes(off - len(buf)))
        buf[off:off + len(data)] = data
        self.node.mtime = _now()
        return off + len(data)

    def seek(self, off, whence):
        if whence == 0:
            new = off
        elif whence == 1:
            new = self.pos + off
        elif whence == 2:
            new = self.node.size + off
        else:
            raise SysError(EINVAL)
        if new < 0:
            raise SysError(EINVAL)
        self.pos = new
        return new

    def ioctl(self, proc, req, arg):
        raise SysError(ENOTTY)

    def poll(self):
        """(readable now, writable now, hung up)"""
        return True, True, False

    def wait_queue(self):
        return None

    def close(self):
        pass


class DirFile(OpenFile):
    """A directory opened for getdents64(2)."""

    def read(self, proc, n):
        raise SysError(EISDIR)

    def getdents(self, n, namei=None):
        d = self.node
        names = [b".", b".."] + d.names()
        out = bytearray()
        while self.pos < len(names):
            name = names[self.pos]
            node = d if name == b"." else (d.parent if name == b".." else d.lookup(name))
            if node is None:
                self.pos += 1
                continue
            reclen = (19 + len(name) + 1 + 7) & ~7
            if len(out) + reclen > n:
                break
            rec = struct.pack("<QqHB", node.ino, self.pos + 1, reclen, DT.get(node.type, 0))
            out += rec + name + bytes(reclen - len(rec) - len(name))
            self.pos += 1
        if not out and self.pos < len(names):
            raise SysError(EINVAL)          # the buffer cannot hold one entry
        return bytes(out)

    def write(self, proc, data):
        raise SysError(EISDIR)


class DevFile(OpenFile):
    """/dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom (mem(4), random(4))."""
    seekable = False

    def read(self, proc, n):
        dev = self.node.device
        if dev == "null":
            return b""
        if dev in ("random", "urandom"):
            return proc.container.random_bytes(min(n, 1 << 20))
        return bytes(min(n, 1 << 20))

    def write(self, proc, data):
        if self.node.device == "full":
            raise SysError(ENOSPC)
        return len(data)

    def seek(self, off, whence):
        return 0


def open_node(node, flags):
    if flags & O_PATH:
        return OpenFile(node, flags)
    if node.device is not None:
        return DevFile(node, flags)
    if isinstance(node, Dir):
        return DirFile(node, flags)
    if flags & O_DIRECTORY:
        raise SysError(ENOTDIR)
    if node.type != S_IFREG and node.type & S_IFMT:
        return OpenFile(node, flags)
    return OpenFile(node, flags)


class FdTable:
    """A process's file descriptors: fd -> [OpenFile, close-on-exec]."""

    def __init__(self):
        self.fds = {}

    def get(self, fd):
        e = self.fds.get(fd)
        if e is None:
            raise SysError(EBADF)
        return e[0]

    def install(self, f, cloexec=False, lowest=0, fd=None):
        if fd is None:
            fd = lowest
            while fd in self.fds:
                fd += 1
        if fd >= NOFILE:
            raise SysError(EMFILE)
        if fd in self.fds:
            self.close(fd)
        f.refs += 1
        self.fds[fd] = [f, cloexec]
        return fd

    def close(self, fd):
        e = self.fds.pop(fd, None)
        if e is None:
            raise SysError(EBADF)
        e[0].refs -= 1
        if e[0].refs == 0:
            e[0].close()

    def fork(self):
        t = FdTable()
        for fd, (f, ce) in self.fds.items():
            f.refs += 1
            t.fds[fd] = [f, ce]
        return t

    def close_on_exec(self):
        for fd in [fd for fd, (_, ce) in self.fds.items() if ce]:
            self.close(fd)

    def close_all(self):
        for fd in list(self.fds):
            self.close(fd)


def _now():
    import time
    return time.time()
