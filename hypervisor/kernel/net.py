"""Networking: AF_INET stream sockets inside the kernel, a loopback per container, user-defined
bridge networks between containers, and ports published on the host's loopback.

Network namespace (network_namespaces(7)): each container has its own interfaces: ``lo``
(127.0.0.1, seen by no other container) and, for each bridge network it joined, an address
on that network's subnet (172.18.N.0/24, N per network, .1 the bridge, members from .2).
Its listening sockets are in its own table, keyed by (address, port), so two containers can
both listen on port 80.  A connection is a pair of byte streams entirely inside hvlab: no
packet, no host socket, except for ``-p 127.0.0.1:HOSTPORT:PORT``, where a real host socket
accepts connections and copies bytes to and from a connection to the container's port.

Socket calls (socket(7), tcp(7) in their stream semantics): socket, socketpair, bind, listen,
accept/accept4, connect, getsockname, getpeername, sendto/recvfrom, sendmsg/recvmsg,
setsockopt/getsockopt, shutdown; read/write/poll work on sockets as on pipes.
"""
import ipaddress
import struct
import threading

from .errno import (EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, ECONNREFUSED, EINVAL,
                    EISCONN, ENOTCONN, EPIPE, EPROTONOSUPPORT, ESPIPE, SysError)
from .file import O_NONBLOCK, O_RDWR, OpenFile
from .proc import Block, WaitQueue
from .vfs import S_IFSOCK, Node

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
SOCK_STREAM, SOCK_DGRAM = 1, 2
SOCK_NONBLOCK, SOCK_CLOEXEC = 0o4000, 0o2000000
BUF = 256 * 1024
LOOPBACK = "127.0.0.1"


class Stream:
    """Bytes one way between two sockets (their send and receive buffers in one)."""

    def __init__(self):
        self.buf = bytearray()
        self.closed = False             # the writer shut down or closed: EOF after the bytes
        self.reader_gone = False        # the reader closed: writing is EPIPE
        self.readq = WaitQueue()
        self.writeq = WaitQueue()
        self.lock = threading.Lock()

    def put(self, data):
        with self.lock:
            n = min(len(data), BUF - len(self.buf))
            self.buf += data[:n]
        self.readq.wake()
        return n

    def take(self, n):
        with self.lock:
            data = bytes(self.buf[:n])
            del self.buf[:n]
        self.writeq.wake()
        return data

    def close(self):
        self.closed = True
        self.readq.wake()
        self.writeq.wake()


class Netns:
    """One container's network namespace: its addresses and listening sockets."""

    def __init__(self, container):
        self.container = container
        self.addrs = {LOOPBACK: "lo"}   # address -> interface / network name
        self.listeners = {}             # (address, port) -> Socket
        self.next_port = 40000


class Network:
    """A user-defined bridge network (`hv network create NAME`)."""

    def __init__(self, name, index):
        self.name = name
        self.subnet = ipaddress.ip_network(f"172.18.{index}.0/24")
        self.members = {}               # address -> container
        self.names = {}                 # container name -> address

    def join(self, c):
        used = set(self.members)
        for host in self.subnet.hosts():
            a = str(host)
            if a.endswith(".1") or a in used:
                continue
            self.members[a] = c
            self.names[c.name] = a
            c.netns.addrs[a] = self.name
            use_host_clock(c)
            return a
        raise SysError(EADDRNOTAVAIL)

    def leave(self, c):
        for a, m in list(self.members.items()):
            if m is c:
                del self.members[a]
        self.names.pop(c.name, None)


class Networks:
    """The kernel's table of bridge networks."""

    def __init__(self):
        self.nets = {}
        self.lock = threading.Lock()

    def create(self, name):
        with self.lock:
            if name in self.nets:
                raise ValueError(f"network with name {name} already exists")
            if len(self.nets) >= 200:
                raise ValueError("too many networks")
            self.nets[name] = Network(name, len(self.nets) + 1)
            return self.nets[name]

    def get(self, name):
        return self.nets.get(name)

    def route(self, src, addr):
        """The container that owns ``addr`` as seen from container ``src``, or None."""
        if addr.startswith("127."):
            return src
        for name in set(src.netns.addrs.values()) - {"lo"}:
            net = self.nets.get(name)
            if net is not None and addr in net.members:
                return net.members[addr]
        return None

    def hosts_file(self, c):
        lines = ["127.0.0.1\tlocalhost", f"127.0.1.1\t{c.ns.hostname.decode()}"]
        for name in sorted(set(c.netns.addrs.values()) - {"lo"}):
            net = self.nets.get(name)
            if net is not None:
                lines += [f"{a}\t{n}" for n, a in sorted(net.names.items())]
        return ("\n".join(lines) + "\n").encode()


def parse_sockaddr(raw):
    if len(raw) < 8:
        raise SysError(EINVAL)
    family, port = struct.unpack_from("<H", raw)[0], struct.unpack_from(">H", raw, 2)[0]
    if family != AF_INET:
        raise SysError(EAFNOSUPPORT)
    return str(ipaddress.IPv4Address(raw[4:8])), port


def sockaddr(addr, port):
    return struct.pack("<H", AF_INET) + struct.pack(">H", port) + \
        ipaddress.IPv4Address(addr).packed + bytes(8)


class Socket(OpenFile):
    """An AF_INET stream socket."""
    seekable = False

    def __init__(self, container, flags=O_RDWR):
        super().__init__(Node(S_IFSOCK | 0o777), flags | O_RDWR)
        self.container = container
        self.local = None               # (addr, port)
        self.peer = None
        self.rx = self.tx = None        # Streams once connected
        self.backlog = None             # a listening socket's queue of accepted Sockets
        self.acceptq = WaitQueue()
        self.options = {}

    # -- setting up
    def bind(self, addr, port):
        ns = self.container.netns
        if self.local is not None:
            raise SysError(EINVAL)
        if addr != "0.0.0.0" and addr not in ns.addrs:
            raise SysError(EADDRNOTAVAIL)
        if port == 0:
            port = self._ephemeral()
        if (addr, port) in ns.listeners or ("0.0.0.0", port) in ns.listeners:
            raise SysError(EADDRINUSE)
        self.local = (addr, port)

    def _ephemeral(self):
        ns = self.container.netns
        ns.next_port = ns.next_port + 1 if ns.next_port < 60999 else 40000
        return ns.next_port

    def listen(self):
        if self.local is None:
            self.bind("0.0.0.0", 0)
        if self.backlog is None:
            if self.local in self.container.netns.listeners:
                raise SysError(EADDRINUSE)
            self.container.netns.listeners[self.local] = self
            self.backlog = []

    def connect(self, proc, addr, port):
        if self.rx is not None:
            raise SysError(EISCONN)
        kernel = self.container.kernel
        target = kernel.networks.route(self.container, addr)
        lst = None
        if target is not None and not target.done:
            tns = target.netns
            lst = tns.listeners.get((addr, port)) or tns.listeners.get(("0.0.0.0", port))
        if lst is None or lst.backlog is None:
            raise SysError(ECONNREFUSED)
        if self.local is None:
            src = LOOPBACK if addr.startswith("127.") else next(
                (a for a, n in self.container.netns.addrs.items() if n != "lo"), LOOPBACK)
            self.local = (src, self._ephemeral())
        server = Socket(target)
        server.local, server.peer = (addr, port), self.local
        self.peer = (addr, port)
        a, b = Stream(), Stream()
        self.tx, self.rx = a, b
        server.rx, server.tx = a, b
        lst.backlog.append(server)
        lst.acceptq.wake()
        return 0

    def accept(self, proc):
        if self.backlog is None:
            raise SysError(EINVAL)
        if not self.backlog:
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            raise Block(self.acceptq)
        return self.backlog.pop(0)

    # -- data
    def read(self, proc, n):
        if self.rx is None:
            raise SysError(ENOTCONN)
        if not self.rx.buf:
            if self.rx.closed:
                return b""
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            raise Block(self.rx.readq)
        return self.rx.take(n)

    def write(self, proc, data):
        if self.tx is None:
            raise SysError(ENOTCONN)
        if self.tx.closed or self.tx.reader_gone:
            self.container.kernel.signals.send(self.container, proc, 13)
            raise SysError(EPIPE)
        n = self.tx.put(data)
        if n == 0:
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            raise Block(self.tx.writeq)
        return n

    def seek(self, off, whence):
        raise SysError(ESPIPE)

    def poll(self):
        if self.backlog is not None:
            return bool(self.backlog), False, False
        if self.rx is None:
            return False, False, False
        return bool(self.rx.buf) or self.rx.closed, len(self.tx.buf) < BUF, self.rx.closed

    def wait_queue(self):
        if self.backlog is not None:
            return self.acceptq
        return self.rx.readq if self.rx is not None else None

    def shutdown(self, how):
        if self.rx is None:
            raise SysError(ENOTCONN)
        if how in (1, 2):
            self.tx.close()
        if how in (0, 2):
            self.rx.reader_gone = True

    def close(self):
        if self.backlog is not None:
            ns = self.container.netns
            if ns.listeners.get(self.local) is self:
                del ns.listeners[self.local]
            for s in self.backlog:
                s.close()
            self.backlog = []
        if self.tx is not None:
            self.tx.close()
        if self.rx is not None:
            self.rx.reader_gone = True
            self.rx.writeq.wake()


def new_socket(c, family, kind, proto):
    if family not in (AF_INET,):
        raise SysError(EAFNOSUPPORT)
    if kind & 0xF != SOCK_STREAM or proto not in (0, 6):
        raise SysError(EPROTONOSUPPORT)
    use_host_clock(c)
    return Socket(c, O_NONBLOCK if kind & SOCK_NONBLOCK else 0)


def use_host_clock(c):
    """A container that talks to others cannot skip its clock ahead while it waits (its
    peers, other containers or host clients, keep their own time): from its first socket on,
    its time follows the host clock, as --wall-clock does (max of instruction and host time)."""
    from .. import state as S
    c.st[S.WALLCLOCK] = 1               # the scheduler syncs it at each slice
