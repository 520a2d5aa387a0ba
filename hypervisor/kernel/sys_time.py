"""Time calls: clock_gettime64, clock_getres_time64, clock_nanosleep_time64, times,
setitimer/getitimer (clock_gettime(2), clock_nanosleep(2)).

A container's clocks run on its own time: virtual time (its instructions at 100 MHz, skipping
ahead while every process sleeps, as a VM's wfi does) or, with --wall-clock, the host's.
CLOCK_REALTIME is the host's time of day when the container started plus that clock.
"""
import struct

from .errno import EINVAL, SysError
from .proc import Block
from .syscalls import syscall

CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
TIMER_ABSTIME = 1


def clock_ns(c, clock):
    if clock < 0 or clock > 11 or clock in (10,):
        raise SysError(EINVAL)
    mono = c.now_ns()
    if clock in (0, 8, 11):                 # REALTIME, REALTIME_ALARM, TAI
        return int(c.epoch_ns + mono)
    if clock in (2, 3):                     # CPU time of the process / thread (10 ns each)
        p = c.current
        if p is None:
            return 0
        return (p.leader.proc_insns if clock == 2 else p.cpu_insns) * 10
    return mono


@syscall("clock_gettime64")
def sys_clock_gettime(c, p, clock, ts, *_):
    t = clock_ns(c, clock)
    p.mm.write(ts, struct.pack("<qq", t // 10**9, t % 10**9))
    return 0


@syscall("clock_getres_time64")
def sys_clock_getres(c, p, clock, ts, *_):
    clock_ns(c, clock)
    if ts:
        p.mm.write(ts, struct.pack("<qq", 0, 100))
    return 0


@syscall("clock_nanosleep_time64")
def sys_clock_nanosleep(c, p, clock, flags, req, rem, *_):
    if p.timer_state is None:
        sec, nsec = struct.unpack("<qq", p.mm.read(req, 16))
        if sec < 0 or not 0 <= nsec < 10**9:
            raise SysError(EINVAL)
        now = clock_ns(c, clock)
        target = sec * 10**9 + nsec
        if flags & TIMER_ABSTIME:
            target -= now
        p.timer_state = c.now_ns() + max(0, target)
    deadline = p.timer_state
    if c.now_ns() >= deadline:
        p.timer_state = None
        return 0
    raise Block(deadline=deadline)


@syscall("times")
def sys_times(c, p, buf, *_):
    ticks = c.now_ns() // 10**7
    if buf:                                 # clock ticks of USER_HZ 100: 10**6 instructions
        me, kids = p.leader.proc_insns // 1_000_000, p.leader.child_insns // 1_000_000
        p.mm.write(buf, struct.pack("<iiii", me, 0, kids, 0))
    return ticks & 0xFFFFFFFF


@syscall("getitimer")
def sys_getitimer(c, p, which, value, *_):
    p.mm.write(value, bytes(16))
    return 0


@syscall("setitimer")
def sys_setitimer(c, p, which, new, old, *_):
    """ITIMER_REAL only (what alarm(3) uses): SIGALRM when it expires."""
    if which != 0:
        raise SysError(EINVAL)
    if old:
        p.mm.write(old, bytes(16))
    isec, iusec, sec, usec = struct.unpack("<iiii", p.mm.read(new, 16))
    p.alarm = c.now_ns() + sec * 10**9 + usec * 1000 if sec or usec else None
    c.alarms = True
    return 0
