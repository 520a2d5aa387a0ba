"""Socket calls (socket(2), bind(2), listen(2), accept(2), connect(2), ...): net.py does the
work; here the arguments are read from and written to the process's memory."""
import struct

from . import net
from .errno import EINVAL, ENOTSOCK, SysError
from .file import O_NONBLOCK
from .syscalls import signed, syscall
from .sys_file import MAX_IO


def _sock(p, fd):
    f = p.fds.get(signed(fd))
    if not isinstance(f, net.Socket):
        raise SysError(ENOTSOCK)
    return f


def _addr(p, addr, length):
    if length < 8 or length > 128:
        raise SysError(EINVAL)
    return net.parse_sockaddr(p.mm.read(addr, length))


def _put_addr(p, addr, lenp, where):
    if not addr:
        return
    have = p.mm.read_u32(lenp)
    raw = net.sockaddr(*where)
    p.mm.write(addr, raw[:have])
    p.mm.write_u32(lenp, len(raw))


@syscall("socket")
def sys_socket(c, p, family, kind, proto, *_):
    s = net.new_socket(c, family, kind, proto)
    return p.fds.install(s, cloexec=bool(kind & net.SOCK_CLOEXEC))


@syscall("bind")
def sys_bind(c, p, fd, addr, length, *_):
    _sock(p, fd).bind(*_addr(p, addr, length))
    return 0


@syscall("listen")
def sys_listen(c, p, fd, backlog, *_):
    _sock(p, fd).listen()
    return 0


@syscall("accept", "accept4")
def sys_accept(c, p, fd, addr, lenp, flags=0, *_):
    s = _sock(p, fd)
    if flags & ~(net.SOCK_CLOEXEC | net.SOCK_NONBLOCK):
        raise SysError(EINVAL)
    conn = s.accept(p)
    if flags & net.SOCK_NONBLOCK:
        conn.flags |= O_NONBLOCK
    newfd = p.fds.install(conn, cloexec=bool(flags & net.SOCK_CLOEXEC))
    _put_addr(p, addr, lenp, conn.peer)
    return newfd


@syscall("connect")
def sys_connect(c, p, fd, addr, length, *_):
    return _sock(p, fd).connect(p, *_addr(p, addr, length))


@syscall("getsockname")
def sys_getsockname(c, p, fd, addr, lenp, *_):
    s = _sock(p, fd)
    _put_addr(p, addr, lenp, s.local or ("0.0.0.0", 0))
    return 0


@syscall("getpeername")
def sys_getpeername(c, p, fd, addr, lenp, *_):
    s = _sock(p, fd)
    if s.peer is None:
        from .errno import ENOTCONN
        raise SysError(ENOTCONN)
    _put_addr(p, addr, lenp, s.peer)
    return 0


@syscall("sendto")
def sys_sendto(c, p, fd, buf, length, flags, addr, alen):
    s = _sock(p, fd)
    return s.write(p, p.mm.read(buf, min(length, MAX_IO)))


@syscall("recvfrom")
def sys_recvfrom(c, p, fd, buf, length, flags, addr, lenp):
    s = _sock(p, fd)
    data = s.read(p, min(length, MAX_IO))
    p.mm.write(buf, data)
    if addr and s.peer:
        _put_addr(p, addr, lenp, s.peer)
    return len(data)


def _msghdr(p, msg):
    name, namelen, iov, iovlen, control, controllen, flags = struct.unpack(
        "<IIIIIII", p.mm.read(msg, 28))
    from .sys_file import _iov
    return _iov(p, iov, iovlen)


@syscall("sendmsg")
def sys_sendmsg(c, p, fd, msg, flags, *_):
    s = _sock(p, fd)
    data = b"".join(p.mm.read(b, min(n, MAX_IO)) for b, n in _msghdr(p, msg))
    return s.write(p, data) if data else 0


@syscall("recvmsg")
def sys_recvmsg(c, p, fd, msg, flags, *_):
    s = _sock(p, fd)
    vecs = _msghdr(p, msg)
    total = sum(n for _, n in vecs)
    data = s.read(p, min(total, MAX_IO))
    pos = 0
    for b, n in vecs:
        chunk = data[pos:pos + n]
        p.mm.write(b, chunk)
        pos += len(chunk)
    return len(data)


@syscall("setsockopt")
def sys_setsockopt(c, p, fd, level, name, val, length, *_):
    _sock(p, fd).options[(level, name)] = p.mm.read(val, min(length, 64)) if val else b""
    return 0


@syscall("getsockopt")
def sys_getsockopt(c, p, fd, level, name, val, lenp, *_):
    s = _sock(p, fd)
    value = 0
    if (level, name) == (1, 3):         # SO_TYPE
        value = net.SOCK_STREAM
    elif (level, name) == (1, 4):       # SO_ERROR
        value = 0
    else:
        raw = s.options.get((level, name), b"\0\0\0\0")
        value = int.from_bytes(raw[:4].ljust(4, b"\0"), "little")
    p.mm.write(val, struct.pack("<i", value))
    p.mm.write_u32(lenp, 4)
    return 0


@syscall("shutdown")
def sys_shutdown(c, p, fd, how, *_):
    if how > 2:
        raise SysError(EINVAL)
    _sock(p, fd).shutdown(how)
    return 0
