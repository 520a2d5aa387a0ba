"""epoll(7): an interest list of open files and the events ready on them (epoll_create1,
epoll_ctl, epoll_pwait, epoll_pwait2).

Man pages epoll(7), epoll_create(2), epoll_ctl(2), epoll_wait(2).  An epoll file holds
entries keyed, as Linux keys them, by (fd, open file): the events asked for and 64 bits of user
data, returned unchanged.  Readiness is the one ppoll and pselect use (sys_file.py): each open
file's ``poll()`` (readable, writable, hung up) and its wait queues; nothing is polled twice
over.  EPOLLERR and EPOLLHUP are always reported.  Level-triggered entries are reported
while ready; an EPOLLET (edge-triggered) entry only after a new event, which is a wake of one of
its file's wait queues since it was last reported (WaitQueue.wakes: Linux's ep_poll_callback is
such a wait-queue callback), or once after EPOLL_CTL_ADD/MOD if ready then; EPOLLONESHOT
disables an entry after one report until EPOLL_CTL_MOD.  Reported entries move to the end of
the list, so maxevents=1 takes turns (Linux re-queues them at the ready list's tail).  An entry
leaves the list when the last descriptor of its file is closed.

struct epoll_event is packed only on x86-64: on RISC-V it is 16 bytes (u32 events, 4 bytes
of padding, u64 data); the padding is never written (Linux puts the two fields one by one).
"""
import struct

from .errno import EBADF, EEXIST, EFAULT, EINVAL, ENOENT, ENOSPC, EPERM, SysError
from .file import O_CLOEXEC, O_PATH, O_RDWR, DevFile, OpenFile
from .mm import USER_TOP
from .net import Socket
from .pipe import PipeEnd
from .proc import Block
from .syscalls import signed, syscall
from .vfs import Node

EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP = 0x1, 0x2, 0x4, 0x8, 0x10
EPOLLRDNORM, EPOLLWRNORM, EPOLLRDHUP = 0x40, 0x100, 0x2000
EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET = 1 << 28, 1 << 29, 1 << 30, 1 << 31
EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3
EVENT_SIZE = 16
EP_MAX_EVENTS = 0x7FFF_FFFF // EVENT_SIZE      # INT_MAX / sizeof(struct epoll_event)
EP_MAX_NESTS = 4                                # fs/eventpoll.c: epoll files in epoll files
MAX_WATCHES = 1 << 16                           # a container's entries (max_user_watches)
ELOOP = 40


class Entry:
    __slots__ = ("fd", "file", "events", "data", "seen", "armed")

    def __init__(self, fd, file, events, data):
        self.fd, self.file = fd, file
        self.set(events, data)

    def set(self, events, data):
        self.events = (events & ~EPOLLWAKEUP) | EPOLLERR | EPOLLHUP
        self.data = data
        self.seen = wakes(self.file, self.events)
        self.armed = True               # reported once if ready now, even edge-triggered


def queues(f, events):
    """The wait queues woken when ``f``'s asked-for readiness may have changed."""
    r, w = bool(events & (EPOLLIN | EPOLLRDHUP | EPOLLRDNORM)), bool(events & EPOLLOUT)
    if isinstance(f, EpollFile):
        return [q for e in f.entries.values() for q in queues(e.file, e.events)]
    if hasattr(f, "wait_queues"):
        return f.wait_queues(r, w)
    if isinstance(f, Socket) and f.backlog is None and f.rx is not None:
        return [f.rx.readq] + ([f.tx.writeq] if w else [])
    q = f.wait_queue()
    return [q] if q is not None else []


def wakes(f, events):
    return tuple(q.wakes for q in queues(f, events))


def readiness(f):
    """``f.poll()`` as epoll bits (what Linux's pipe_poll and tcp_poll answer)."""
    if isinstance(f, EpollFile):
        return EPOLLIN if f.ready(1)[0] else 0
    r, w, hup = f.poll()
    mask = (EPOLLIN | EPOLLRDNORM if r else 0) | (EPOLLOUT | EPOLLWRNORM if w else 0)
    if hup:
        if isinstance(f, PipeEnd) and f.writable:
            mask |= EPOLLERR            # pipe(7): a write end with no reader left
        elif isinstance(f, Socket):
            mask |= EPOLLRDHUP          # the peer shut down writing (tcp_poll: RCV_SHUTDOWN)
            if f.tx is not None and f.tx.closed:
                mask |= EPOLLHUP        # both directions shut down
        else:
            mask |= EPOLLHUP
    return mask


def pollable(f):
    """Linux refuses a file without a poll method (regular files, directories, /dev/null,
    /dev/zero, ...) with EPERM."""
    return type(f).poll is not OpenFile.poll and not isinstance(f, DevFile) \
        or isinstance(f, EpollFile)


class EpollFile(OpenFile):
    """An epoll instance ("anon_inode:[eventpoll]")."""
    seekable = False

    def __init__(self, container):
        super().__init__(Node(0o600), O_RDWR)
        self.container = container
        self.entries = {}               # (fd, OpenFile) -> Entry, in report order
        self.parents = set()            # the epoll files this one is an entry of

    def insert(self, key, f, events, data):
        c = self.container
        if c.epoll_watches >= MAX_WATCHES:
            raise SysError(ENOSPC)      # epoll_ctl(2): "the limit imposed by max_user_watches"
        c.epoll_watches += 1
        self.entries[key] = Entry(key[0], f, events, data)
        if isinstance(f, EpollFile):
            f.parents.add(self)

    def remove(self, key):
        e = self.entries.pop(key)
        self.container.epoll_watches -= 1
        if isinstance(e.file, EpollFile):
            e.file.parents.discard(self)

    def close(self):
        for key in list(self.entries):
            self.remove(key)

    def read(self, proc, n):
        raise SysError(EINVAL)

    def write(self, proc, data):
        raise SysError(EINVAL)

    def poll(self):
        return bool(self.ready(1)[0]), False, False

    def prune(self):
        for key in [k for k, e in self.entries.items() if e.file.refs <= 0]:
            self.remove(key)

    def ready(self, limit):
        """Up to ``limit`` (entry, events) ready now, and the (entry, wakes) looked at, to
        ``commit`` once they are delivered (nothing changes before)."""
        self.prune()
        out, scanned = [], []
        for e in list(self.entries.values()):
            if len(out) >= limit:
                break
            if not e.events & ~(EPOLLET | EPOLLONESHOT):
                continue                # a one-shot entry already reported
            seen = wakes(e.file, e.events)
            if e.events & EPOLLET and not (e.armed or seen != e.seen):
                continue
            scanned.append((e, seen))
            mask = readiness(e.file) & e.events
            if mask:
                out.append((e, mask))
        return out, scanned

    def commit(self, out, scanned):
        for e, seen in scanned:         # the events seen are used up (edge-triggered)
            e.seen, e.armed = seen, False
        for e, _ in out:
            if e.events & EPOLLONESHOT:
                e.events &= EPOLLET | EPOLLONESHOT
            key = (e.fd, e.file)
            if self.entries.get(key) is e:
                del self.entries[key]
                self.entries[key] = e

    def children(self):
        return [e.file for e in self.entries.values() if isinstance(e.file, EpollFile)]

    def reaches(self, target, depth=0):
        """Whether ``target`` is this epoll file or is reached through its entries."""
        return self is target or depth <= EP_MAX_NESTS and any(
            f.reaches(target, depth + 1) for f in self.children())

    def below(self, depth=0):
        """Epoll files in the longest chain of entries under this one."""
        if depth > EP_MAX_NESTS:
            return depth
        return max([1 + f.below(depth + 1) for f in self.children()], default=0)

    def above(self, depth=0):
        if depth > EP_MAX_NESTS:
            return depth
        return max([1 + p.above(depth + 1) for p in self.parents], default=0)


@syscall("epoll_create1")
def sys_epoll_create1(c, p, flags, *_):
    if flags & ~O_CLOEXEC:
        raise SysError(EINVAL)
    if not hasattr(c, "epoll_watches"):
        c.epoll_watches = 0             # the container's epoll entries, all instances
    return p.fds.install(EpollFile(c), bool(flags & O_CLOEXEC))


@syscall("epoll_ctl")
def sys_epoll_ctl(c, p, epfd, op, fd, event, *_):
    # the order of fs/eventpoll.c's do_epoll_ctl: copy the event, then the two files
    if op != EPOLL_CTL_DEL:
        events, data = struct.unpack("<I4xQ", p.mm.read(event, EVENT_SIZE))
    ep, f = p.fds.get(signed(epfd)), p.fds.get(signed(fd))
    if f.flags & O_PATH or ep.flags & O_PATH:
        raise SysError(EBADF)
    if not pollable(f):
        raise SysError(EPERM)
    if ep is f or not isinstance(ep, EpollFile):
        raise SysError(EINVAL)
    if op != EPOLL_CTL_DEL and events & EPOLLEXCLUSIVE and (
            op == EPOLL_CTL_MOD or isinstance(f, EpollFile) or events & ~(
                EPOLLEXCLUSIVE | EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP |
                EPOLLET | EPOLLRDNORM | EPOLLWRNORM)):
        raise SysError(EINVAL)
    ep.prune()
    key = (signed(fd), f)
    e = ep.entries.get(key)
    if op == EPOLL_CTL_ADD:
        if e is not None:
            raise SysError(EEXIST)
        if isinstance(f, EpollFile) and (
                f.reaches(ep) or ep.above() + 1 + f.below() > EP_MAX_NESTS):
            raise SysError(ELOOP)       # a loop, or a chain of more than 5 epoll files
        ep.insert(key, f, events, data)
    elif op == EPOLL_CTL_DEL:
        if e is None:
            raise SysError(ENOENT)
        ep.remove(key)
    elif op == EPOLL_CTL_MOD:
        if e is None:
            raise SysError(ENOENT)
        if e.events & EPOLLEXCLUSIVE:
            raise SysError(EINVAL)
        e.set(events, data)
    else:
        raise SysError(EINVAL)
    return 0


def _sigmask(p, sigmask, size):
    """Checked as Linux's set_user_sigmask checks it; the mask itself is not applied while the
    call sleeps (as ppoll_time64 and pselect6_time64 here)."""
    if sigmask:
        if size != 8:
            raise SysError(EINVAL)
        p.mm.read(sigmask, 8)


class EpollWait:
    """An epoll_pwait's deadline across restarts (a tuple in timer_state means sigsuspend)."""
    __slots__ = ("deadline",)

    def __init__(self, deadline):
        self.deadline = deadline


def _wait(c, p, epfd, events, maxevents, timeout_ns, sigmask):
    """``timeout_ns``: a function giving the relative timeout in ns (None: forever), called
    once the arguments are checked and only on the first try (the deadline is kept in
    ``p.timer_state`` across restarts, and dropped when the call ends, in error too: a
    restart may fail, e.g. another thread closed the epoll file)."""
    try:
        _sigmask(p, *sigmask)           # first, as Linux's do_epoll_pwait
        return _try_wait(c, p, epfd, events, maxevents, timeout_ns)
    except SysError:
        if isinstance(p.timer_state, EpollWait):
            p.timer_state = None
        raise


def _try_wait(c, p, epfd, events, maxevents, timeout_ns):
    maxevents = signed(maxevents)
    if not 0 < maxevents <= EP_MAX_EVENTS:
        raise SysError(EINVAL)
    if not events + maxevents * EVENT_SIZE <= USER_TOP:    # access_ok()
        raise SysError(EFAULT)
    ep = p.fds.get(signed(epfd))
    if ep.flags & O_PATH:
        raise SysError(EBADF)
    if not isinstance(ep, EpollFile):
        raise SysError(EINVAL)
    if not isinstance(p.timer_state, EpollWait):
        ns = timeout_ns()
        p.timer_state = EpollWait(None if ns is None else c.now_ns() + ns)
    deadline = p.timer_state.deadline
    out, scanned = ep.ready(maxevents)
    if out or (deadline is not None and c.now_ns() >= deadline):
        p.timer_state = None
        for i, (e, mask) in enumerate(out):     # EFAULT before anything is used up
            p.mm.write(events + EVENT_SIZE * i, struct.pack("<I", mask))
            p.mm.write(events + EVENT_SIZE * i + 8, struct.pack("<Q", e.data))
        ep.commit(out, scanned)
        return len(out)
    ep.commit([], scanned)              # edge-triggered events seen but not asked for
    raise Block(*queues(ep, EPOLLIN), deadline=deadline)


@syscall("epoll_pwait")
def sys_epoll_pwait(c, p, epfd, events, maxevents, timeout, sigmask, size):
    ms = signed(timeout)
    return _wait(c, p, epfd, events, maxevents, lambda: ms * 10**6 if ms >= 0 else None,
                 (sigmask, size))


@syscall("epoll_pwait2")
def sys_epoll_pwait2(c, p, epfd, events, maxevents, timeout, sigmask, size):
    def ns():
        if not timeout:
            return None
        sec, nsec = struct.unpack("<qq", p.mm.read(timeout, 16))
        if sec < 0 or not 0 <= nsec < 10**9:
            raise SysError(EINVAL)
        return sec * 10**9 + nsec
    return _wait(c, p, epfd, events, maxevents, ns, (sigmask, size))
