"""Signal calls: kill, tkill, tgkill, rt_sigaction, rt_sigprocmask, rt_sigreturn,
rt_sigsuspend, rt_sigpending, sigaltstack (signal(7), rt_sigaction(2)).

kill(2) reaches only processes of the caller's PID namespace: pid 1 is the container's init,
-1 means every process of the container but the caller, -PGRP a process group in it.
"""
import struct

from . import signal as sig
from .errno import EINVAL, EPERM, ESRCH, SysError
from .proc import Block
from .syscalls import NORETURN, signed, syscall


def _check(signo):
    if not 0 <= signo <= sig.NSIG:
        raise SysError(EINVAL)


@syscall("kill")
def sys_kill(c, p, pid, signo, *_):
    pid, signo = signed(pid), signed(signo)
    _check(signo)
    if pid > 0:
        targets = [c.procs.get(pid)]
        if targets[0] is None or not targets[0].alive:
            raise SysError(ESRCH)
    elif pid == -1:
        targets = [q for q in c.procs.values() if q is not p and q.pid != 1 and q.alive]
    else:
        group = p.pgid if pid == 0 else -pid
        targets = [q for q in c.procs.values() if q.pgid == group and q.alive]
        if not targets:
            raise SysError(ESRCH)
    for q in targets:
        if q.pid == 1 and signo in (sig.SIGKILL, sig.SIGSTOP) and q is not p and False:
            raise SysError(EPERM)
        sig.send(c, q, signo)
    return 0


@syscall("tkill")
def sys_tkill(c, p, tid, signo, *_):
    return sys_kill(c, p, tid if signed(tid) > 0 else 0x7FFFFFFF, signo)


@syscall("tgkill")
def sys_tgkill(c, p, tgid, tid, signo, *_):
    if signed(tid) <= 0 or signed(tgid) <= 0:
        raise SysError(EINVAL)
    return sys_kill(c, p, tid, signo)


@syscall("rt_sigaction")
def sys_rt_sigaction(c, p, signo, act, oact, size, *_):
    if size != 8 or not 1 <= signo <= sig.NSIG:
        raise SysError(EINVAL)
    if act and signo in (sig.SIGKILL, sig.SIGSTOP):
        raise SysError(EINVAL)
    old = sig.action(p, signo)
    if act:
        handler, flags, lo, hi = struct.unpack("<IIII", p.mm.read(act, 16))
        mask = (lo | (hi << 32)) & ~sig.UNBLOCKABLE
        if handler == sig.SIG_DFL:
            p.actions.pop(signo, None)
        else:
            p.actions[signo] = (handler, flags, mask)
        if handler == sig.SIG_IGN or handler == sig.SIG_DFL and signo in sig.IGNORE:
            p.pending &= ~sig.bit(signo)      # ignoring a pending signal discards it
    if oact:
        p.mm.write(oact, struct.pack("<IIQ", old[0], old[1], old[2]))
    return 0


SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2


@syscall("rt_sigprocmask")
def sys_rt_sigprocmask(c, p, how, new, old, size, *_):
    if size != 8:
        raise SysError(EINVAL)
    prev = p.blocked
    if new:
        m = struct.unpack("<Q", p.mm.read(new, 8))[0]
        if how == SIG_BLOCK:
            p.blocked |= m
        elif how == SIG_UNBLOCK:
            p.blocked &= ~m
        elif how == SIG_SETMASK:
            p.blocked = m
        else:
            raise SysError(EINVAL)
        p.blocked &= ~sig.UNBLOCKABLE
    if old:
        p.mm.write(old, struct.pack("<Q", prev))
    return 0


@syscall("rt_sigpending")
def sys_rt_sigpending(c, p, addr, size, *_):
    p.mm.write(addr, struct.pack("<Q", p.pending & p.blocked))
    return 0


@syscall("rt_sigreturn")
def sys_rt_sigreturn(c, p, *_):
    regs = c.regs_of(p)
    try:
        p.blocked = sig.restore_frame(p.mm, regs) & ~sig.UNBLOCKABLE
    except SysError:
        c.log(f"pid {p.pid} ({p.name()}): rt_sigreturn with a bad frame: SIGSEGV")
        c.force_signal(p, sig.SIGSEGV)
    return NORETURN


@syscall("rt_sigsuspend")
def sys_rt_sigsuspend(c, p, mask, size, *_):
    """Sleep with a temporary mask until a signal is delivered; always ends in -EINTR.
    signal.deliver puts the mask from before the call into the handler's frame."""
    if size != 8:
        raise SysError(EINVAL)
    if p.timer_state is None:
        new = struct.unpack("<Q", p.mm.read(mask, 8))[0] & ~sig.UNBLOCKABLE
        p.timer_state = ("suspend", p.blocked)
        p.blocked = new
    raise Block()


@syscall("sigaltstack")
def sys_sigaltstack(c, p, new, old, *_):
    if old:
        p.mm.write(old, struct.pack("<IiI", 0, 2, 0))   # SS_DISABLE
    return 0


@syscall("rt_sigtimedwait_time64")
def sys_rt_sigtimedwait(c, p, setp, info, tmo, size, *_):
    want = struct.unpack("<Q", p.mm.read(setp, 8))[0]
    ready = p.pending & want
    if ready:
        s = (ready & -ready).bit_length()
        p.pending &= ~sig.bit(s)
        if info:
            p.mm.write(info, sig.siginfo(s).ljust(128, b"\0"))
        return s
    raise Block(None)
