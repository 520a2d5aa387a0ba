"""Futexes (futex(2)): the one system call pthread mutexes, condition variables, semaphores and
pthread_join sleep and wake through.  rv32 has only futex_time64 (number 422).

A futex is a 32-bit word of user memory.  FUTEX_WAIT sleeps while the word still holds the
value the caller saw (else EAGAIN at once, so no wake-up between the check and the sleep is
lost: the check and the sleep are one step under the container's lock); FUTEX_WAKE wakes up to
N of its sleepers, oldest first, and returns how many.  The key of a futex is (address space,
address) for a private mapping (the FUTEX_PRIVATE_FLAG case, and what Linux does for private
memory without it) and (frame, offset) in a MAP_SHARED mapping, so processes sharing that
memory meet on one futex.  Also: FUTEX_WAIT_BITSET / FUTEX_WAKE_BITSET (absolute timeouts,
CLOCK_MONOTONIC or with FUTEX_CLOCK_REALTIME), FUTEX_REQUEUE and FUTEX_CMP_REQUEUE.

A sleeping call is run again when its task is woken (proc.py); the task's ``timer_state``
remembers the wait, so the second run returns 0 when a FUTEX_WAKE chose it, -ETIMEDOUT past its
deadline, and sleeps on otherwise.  A signal interrupts it with EINTR (signal.deliver).
"""
import struct

from .errno import EAGAIN, EINVAL, ENOSYS, ETIMEDOUT, SysError
from .proc import Block
from .syscalls import signed, syscall

FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE = 0, 1, 3, 4
FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 9, 10
FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256
ALL_BITS = 0xFFFFFFFF
M32 = 0xFFFFFFFF


class Waiters:
    """A futex's sleepers in arrival order (what proc.WaitQueue users see: add, discard)."""

    def __init__(self):
        self.order = {}

    def add(self, p):
        self.order[p] = None

    def discard(self, p):
        self.order.pop(p, None)

    def __iter__(self):
        return iter(list(self.order))

    def __len__(self):
        return len(self.order)


class FutexQueue:
    def __init__(self):
        self.waiters = Waiters()


class FutexWait:
    """What a task sleeping in FUTEX_WAIT waits for, across the restarts of the call."""

    __slots__ = ("key", "deadline", "bitset", "woken")

    def __init__(self, key, deadline, bitset):
        self.key, self.deadline, self.bitset, self.woken = key, deadline, bitset, False


def key_of(p, uaddr):
    """A futex's identity; EINVAL unless the word is aligned, EFAULT unless it is mapped."""
    if uaddr & 3:
        raise SysError(EINVAL)
    v = p.mm.find(uaddr)
    if v is not None and v.kind == "shared":
        p.mm.read(uaddr, 4)                     # fault it in
        return ("frame", p.mm.pages[uaddr >> 12][0], uaddr & 0xFFF)
    return ("mm", id(p.mm), uaddr)


def queue(c, key, make=False):
    q = c.futexes.get(key)
    if q is None and make:
        q = c.futexes[key] = FutexQueue()
    return q


def _drop_if_empty(c, key):
    q = c.futexes.get(key)
    if q is not None and not len(q.waiters):
        del c.futexes[key]


def wake(c, p, uaddr, n, bitset=ALL_BITS):
    """Wake up to ``n`` tasks waiting on the futex at ``uaddr`` (of ``p``'s memory)."""
    try:
        key = key_of(p, uaddr)
    except SysError:
        return 0
    q = queue(c, key)
    woken = 0
    for t in (q.waiters if q is not None else ()):
        if woken >= n:
            break
        w = t.timer_state
        if isinstance(w, FutexWait) and w.bitset & bitset:
            q.waiters.discard(t)
            w.woken = True
            c.wake_process(t)
            woken += 1
    _drop_if_empty(c, key)
    return woken


def _deadline(c, p, timeout, cmd, op):
    """The container-clock deadline (ns) of a timeout, or None for none."""
    if not timeout:
        return None
    sec, nsec = struct.unpack("<qq", p.mm.read(timeout, 16))
    if sec < 0 or not 0 <= nsec < 10**9:
        raise SysError(EINVAL)
    t = sec * 10**9 + nsec
    if cmd == FUTEX_WAIT:                       # relative (CLOCK_MONOTONIC)
        return c.now_ns() + t
    from .sys_time import CLOCK_MONOTONIC, CLOCK_REALTIME, clock_ns
    clock = CLOCK_REALTIME if op & FUTEX_CLOCK_REALTIME else CLOCK_MONOTONIC
    return c.now_ns() + max(0, t - clock_ns(c, clock))


def wait(c, p, uaddr, val, timeout, cmd, op, bitset):
    w = p.timer_state
    if isinstance(w, FutexWait):                # the call runs again after a sleep
        if w.woken or w.deadline is not None and c.now_ns() >= w.deadline:
            p.timer_state = None
            if w.woken:
                return 0
            raise SysError(ETIMEDOUT)
        raise Block(queue(c, w.key, make=True), deadline=w.deadline)
    if bitset == 0:
        raise SysError(EINVAL)
    key = key_of(p, uaddr)
    if p.mm.read_u32(uaddr) != val & M32:
        raise SysError(EAGAIN)
    deadline = _deadline(c, p, timeout, cmd, op)
    if deadline is not None and c.now_ns() >= deadline:
        raise SysError(ETIMEDOUT)
    p.timer_state = FutexWait(key, deadline, bitset)
    raise Block(queue(c, key, make=True), deadline=deadline)


def requeue(c, p, uaddr, n_wake, n_move, uaddr2, cmp=None):
    key, key2 = key_of(p, uaddr), key_of(p, uaddr2)
    if cmp is not None and p.mm.read_u32(uaddr) != cmp & M32:
        raise SysError(EAGAIN)
    woken = wake(c, p, uaddr, n_wake)
    q, moved = queue(c, key), 0
    if q is not None and n_move > 0 and key2 != key:
        q2 = queue(c, key2, make=True)
        for t in q.waiters:
            if moved >= n_move:
                break
            q.waiters.discard(t)
            q2.waiters.add(t)
            t.sleeping_on = [q2 if s is q else s for s in t.sleeping_on]
            t.timer_state.key = key2
            moved += 1
        _drop_if_empty(c, key)
    return woken + moved if cmp is not None else woken


@syscall("futex_time64")
def sys_futex(c, p, uaddr, op, val, timeout, uaddr2, val3, *_):
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    if op & FUTEX_CLOCK_REALTIME and cmd not in (FUTEX_WAIT_BITSET, FUTEX_WAIT):
        raise SysError(ENOSYS)
    if cmd == FUTEX_WAIT:
        return wait(c, p, uaddr, val, timeout, cmd, op, ALL_BITS)
    if cmd == FUTEX_WAIT_BITSET:
        return wait(c, p, uaddr, val, timeout, cmd, op, val3 & M32)
    if cmd == FUTEX_WAKE:
        key_of(p, uaddr)
        return wake(c, p, uaddr, max(0, signed(val)))
    if cmd == FUTEX_WAKE_BITSET:
        if val3 & M32 == 0:
            raise SysError(EINVAL)
        key_of(p, uaddr)
        return wake(c, p, uaddr, max(0, signed(val)), val3 & M32)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        if signed(val) < 0 or signed(timeout) < 0:
            raise SysError(EINVAL)
        return requeue(c, p, uaddr, signed(val), signed(timeout), uaddr2,
                       val3 if cmd == FUTEX_CMP_REQUEUE else None)
    raise SysError(ENOSYS, f"futex operation {cmd} is not implemented")
