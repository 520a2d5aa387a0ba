"""File-descriptor calls: read, write, readv, writev, pread64, pwrite64, lseek, close, dup,
dup3, fcntl64, ioctl, pipe2, getdents64, sendfile64, ppoll_time64, pselect6_time64.

Lengths are bounded before anything is copied (a wild length is EFAULT at the first page not
mapped, never a host allocation of that size), and every buffer goes through the process's
page tables (mm.py).
"""
import struct

from .errno import EBADF, EINVAL, ENOTDIR, ESPIPE, SysError
from .file import NOFILE, DirFile, O_CLOEXEC, O_NONBLOCK
from . import epoll
from .pipe import make_pipe
from .proc import Block
from .syscalls import signed, syscall

MAX_IO = 1 << 20                        # one call moves at most 1 MiB (Linux: MAX_RW_COUNT)
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
F_GETLK, F_SETLK, F_SETLKW, F_DUPFD_CLOEXEC = 12, 13, 14, 1030
FD_CLOEXEC = 1


def _readable(p, fd):
    f = p.fds.get(signed(fd))
    if not f.readable:
        raise SysError(EBADF)
    return f


def _writable(p, fd):
    f = p.fds.get(signed(fd))
    if not f.writable:
        raise SysError(EBADF)
    return f


@syscall("read")
def sys_read(c, p, fd, buf, count, *_):
    f = _readable(p, fd)
    count = min(count, MAX_IO)
    if count and not 0 <= buf < 0x8000_0000:
        from .errno import EFAULT
        raise SysError(EFAULT)
    data = f.read(p, count)
    p.mm.write(buf, data)
    return len(data)


@syscall("write")
def sys_write(c, p, fd, buf, count, *_):
    f = _writable(p, fd)
    data = p.mm.read(buf, min(count, MAX_IO))
    return f.write(p, data) if data or not count else 0


def _iov(p, iov, n):
    if signed(n) < 0 or n > 1024:
        raise SysError(EINVAL)
    raw = p.mm.read(iov, 8 * n)
    return [struct.unpack_from("<II", raw, 8 * i) for i in range(n)]


@syscall("readv")
def sys_readv(c, p, fd, iov, n, *_):
    f = _readable(p, fd)
    total = 0
    for base, length in _iov(p, iov, n):
        if not length:
            continue
        try:
            data = f.read(p, min(length, MAX_IO))
        except Block:
            if total:
                return total
            raise
        p.mm.write(base, data)
        total += len(data)
        if len(data) < length:
            break
    return total


@syscall("writev")
def sys_writev(c, p, fd, iov, n, *_):
    f = _writable(p, fd)
    vecs = _iov(p, iov, n)
    data = b"".join(p.mm.read(base, min(length, MAX_IO)) for base, length in vecs)
    return f.write(p, data) if data else 0


@syscall("pread64")
def sys_pread(c, p, fd, buf, count, lo, hi, _):
    f = _readable(p, fd)
    if not f.seekable or f.node.is_dir:
        raise SysError(ESPIPE)
    off = lo | (hi << 32)
    data = f.pread(min(count, MAX_IO), off)
    p.mm.write(buf, data)
    return len(data)


@syscall("pwrite64")
def sys_pwrite(c, p, fd, buf, count, lo, hi, _):
    f = _writable(p, fd)
    if not f.seekable:
        raise SysError(ESPIPE)
    data = p.mm.read(buf, min(count, MAX_IO))
    f.pwrite(data, lo | (hi << 32))
    return len(data)


@syscall("_llseek")
def sys_llseek(c, p, fd, hi, lo, result, whence, *_):
    f = p.fds.get(signed(fd))
    if not f.seekable:
        raise SysError(ESPIPE)
    off = (hi << 32) | lo
    if off >= 1 << 63:
        off -= 1 << 64
    pos = f.seek(off, whence)
    p.mm.write(result, struct.pack("<q", pos))
    return 0


@syscall("close")
def sys_close(c, p, fd, *_):
    p.fds.close(signed(fd))
    return 0


@syscall("dup")
def sys_dup(c, p, fd, *_):
    return p.fds.install(p.fds.get(signed(fd)))


@syscall("dup3")
def sys_dup3(c, p, old, new, flags, *_):
    if old == new or flags & ~O_CLOEXEC or not 0 <= signed(new) < NOFILE:
        # dup(2): "EBADF newfd is out of the allowed range for file descriptors (see
        # RLIMIT_NOFILE)" (was EMFILE past the limit)
        raise SysError(EINVAL if old == new or flags & ~O_CLOEXEC else EBADF)
    return p.fds.install(p.fds.get(signed(old)), bool(flags & O_CLOEXEC), fd=new)


@syscall("fcntl64")
def sys_fcntl(c, p, fd, cmd, arg, *_):
    fd = signed(fd)
    f = p.fds.get(fd)
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        if not 0 <= signed(arg) < NOFILE:   # fcntl(2): "EINVAL ... arg is negative or is
            raise SysError(EINVAL)          # greater than the maximum allowable value"
        return p.fds.install(f, cmd == F_DUPFD_CLOEXEC, lowest=arg)
    if cmd == F_GETFD:
        return FD_CLOEXEC if p.fds.fds[fd][1] else 0
    if cmd == F_SETFD:
        p.fds.fds[fd][1] = bool(arg & FD_CLOEXEC)
        return 0
    if cmd == F_GETFL:
        return f.flags & ~O_CLOEXEC
    if cmd == F_SETFL:
        f.flags = (f.flags & ~O_NONBLOCK) | (arg & O_NONBLOCK)
        return 0
    if cmd in (F_GETLK, F_SETLK, F_SETLKW):
        if cmd == F_GETLK:                       # never locked by another process
            p.mm.write(arg, struct.pack("<h", 2))   # F_UNLCK
        return 0
    raise SysError(EINVAL)


@syscall("ioctl")
def sys_ioctl(c, p, fd, req, arg, *_):
    f = p.fds.get(signed(fd))
    if req == 0x5421:                           # FIONBIO
        on = p.mm.read_u32(arg)
        f.flags = (f.flags | O_NONBLOCK) if on else (f.flags & ~O_NONBLOCK)
        return 0
    if req == 0x5451 or req == 0x5450:          # FIOCLEX / FIONCLEX
        p.fds.fds[signed(fd)][1] = req == 0x5451
        return 0
    return f.ioctl(p, req, arg)


@syscall("pipe2")
def sys_pipe2(c, p, fds, flags, *_):
    if flags & ~(O_CLOEXEC | O_NONBLOCK):
        raise SysError(EINVAL)
    p.mm.check_range(fds, 8)
    r, w = make_pipe(flags)
    a = p.fds.install(r, bool(flags & O_CLOEXEC))
    b = p.fds.install(w, bool(flags & O_CLOEXEC))
    try:
        p.mm.write(fds, struct.pack("<ii", a, b))
    except SysError:
        p.fds.close(a)
        p.fds.close(b)
        raise
    return 0


@syscall("getdents64")
def sys_getdents64(c, p, fd, buf, count, *_):
    f = p.fds.get(signed(fd))
    if not isinstance(f, DirFile):
        raise SysError(ENOTDIR)
    data = f.getdents(min(count, MAX_IO))
    p.mm.write(buf, data)
    return len(data)


@syscall("sendfile64")
def sys_sendfile(c, p, out_fd, in_fd, offp, count, *_):
    src, dst = _readable(p, in_fd), _writable(p, out_fd)
    if offp:
        off = struct.unpack("<q", p.mm.read(offp, 8))[0]
        data = src.pread(min(count, MAX_IO), off)
        p.mm.write(offp, struct.pack("<q", off + len(data)))
    else:
        data = src.read(p, min(count, MAX_IO))
    return dst.write(p, data) if data else 0


POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 1, 2, 4, 8, 16, 32
POLLRDNORM, POLLWRNORM = 0x40, 0x100
# select(2)'s three sets as fs/select.c reads poll bits: readable also at hang-up or error
# (a read then returns 0 or the error), writable also at error (a write then fails)
SELECT_SETS = (POLLIN | POLLRDNORM | POLLHUP | POLLERR, POLLOUT | POLLWRNORM | POLLERR, POLLPRI)


def _timeout(c, p, addr):
    """A timespec64 pointer as an absolute deadline (None: forever), kept across restarts."""
    if not addr:
        return None
    if p.timer_state is None:
        sec, nsec = struct.unpack("<qq", p.mm.read(addr, 16))
        if sec < 0 or not 0 <= nsec < 10**9:
            raise SysError(EINVAL)
        p.timer_state = c.now_ns() + sec * 10**9 + nsec
    return p.timer_state


@syscall("ppoll_time64")
def sys_ppoll(c, p, fds, nfds, tmo, sigmask, *_):
    if nfds > 1024:
        raise SysError(EINVAL)
    raw = p.mm.read(fds, 8 * nfds)
    out, ready, queues = bytearray(raw), 0, []
    for i in range(nfds):
        fd, events, _ = struct.unpack_from("<ihh", raw, 8 * i)
        rev = 0
        if fd >= 0:
            e = p.fds.fds.get(fd)
            if e is None:
                rev = POLLNVAL
            else:
                # the poll bits are epoll's (epoll.readiness: what Linux's pipe_poll and
                # tcp_poll answer); POLLERR and POLLHUP are reported unasked (poll(2))
                rev = epoll.readiness(e[0]) & ((events & 0xFFFF) | POLLERR | POLLHUP)
                queues += epoll.queues(e[0], events | POLLERR | POLLHUP)
        struct.pack_into("<h", out, 8 * i + 6, rev)
        ready += rev != 0
    deadline = _timeout(c, p, tmo)
    if ready or (deadline is not None and c.now_ns() >= deadline):
        p.timer_state = None
        p.mm.write(fds, bytes(out))
        return ready
    raise Block(*queues, deadline=deadline)


@syscall("pselect6_time64")
def sys_pselect(c, p, n, rfds, wfds, efds, tmo, sigmask):
    if signed(n) < 0 or n > 1024:
        raise SysError(EINVAL)
    size = (n + 31) // 32 * 4
    sets = [bytearray(p.mm.read(a, size)) if a else None for a in (rfds, wfds, efds)]
    res = [bytearray(size) for _ in range(3)]
    ready, queues = 0, []
    for fd in range(n):
        byte, bitv = fd // 8, 1 << (fd % 8)
        want = [s is not None and s[byte] & bitv for s in sets]
        if not any(want):
            continue
        e = p.fds.fds.get(fd)
        if e is None:
            raise SysError(EBADF)
        mask = epoll.readiness(e[0])
        queues += epoll.queues(e[0], (POLLIN if want[0] else 0) | (POLLOUT if want[1] else 0))
        for k, bits in enumerate(SELECT_SETS):
            if want[k] and mask & bits:
                res[k][byte] |= bitv
                ready += 1
    deadline = _timeout(c, p, tmo)
    if ready or (deadline is not None and c.now_ns() >= deadline):
        p.timer_state = None
        for a, r in zip((rfds, wfds, efds), res):
            if a:
                p.mm.write(a, bytes(r))
        return ready
    raise Block(*queues, deadline=deadline)
