"""Process exit and wait (exit(2), waitid(2)): zombies, SIGCHLD, reparenting to pid 1.

A process that ends keeps its pid and exit status as a zombie until its parent waits for it;
its children go to pid 1 (the container's init, PID namespace semantics).  When pid 1 itself
ends, the container ends and every other process of its namespace is killed.
"""
import struct

from . import signal as sig
from .errno import ECHILD, EINVAL, SysError
from .proc import RUNNING, STOPPED, ZOMBIE, Block

P_ALL, P_PID, P_PGID = 0, 1, 2
WNOHANG, WSTOPPED, WEXITED, WCONTINUED, WNOWAIT = 1, 2, 4, 8, 0x01000000
CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED = 1, 2, 3, 5, 6


def exit(c, p, status, quiet=False):
    """End the process of ``p``, every thread of it (exit_group(2), a fatal signal), with a
    wait(2) status word (code << 8, or the signal number).  A thread's own exit(2) is
    threads.exit_thread."""
    from .threads import end_others, end_thread
    leader = p.leader
    if not leader.alive or not p.alive:
        return
    end_others(c, p)
    if p is not leader:                 # the last thread was not the leader: it goes, and
        end_thread(c, p)                # the process ends as its leader
        p = leader
    p.group.clear()
    for q in p.sleeping_on:
        q.waiters.discard(p)
    p.sleeping_on = []
    if p in c.runq:
        c.runq.remove(p)
    p.fds.close_all()
    if p is c.current:
        c._run_idle()
    if p.mm is not None:
        p.mm.destroy()
        p.mm = None
    p.state = ZOMBIE
    p.exit_status = status
    if status & 0x7F and not quiet and status & 0x7F != sig.SIGKILL:
        c.log(f"pid {p.pid} ({p.name()}) killed by {sig.NAMES.get(status & 0x7F, status)}")
    init = c.procs.get(1)
    for child in p.children:
        child.parent = init if init is not None and init is not p else None
        if child.parent is not None:
            init.children.append(child)
            if child.state == ZOMBIE:
                notify_parent(c, child)
    p.children = []
    if p.pid == 1:
        c.init_exited(status)
        return
    notify_parent(c, p)


def notify_parent(c, p):
    parent = p.parent
    if parent is None or not parent.alive:
        if p.state == ZOMBIE:
            c.procs.pop(p.pid, None)
        return
    handler, flags, _ = sig.action(parent, sig.SIGCHLD)
    if p.state == ZOMBIE and (handler == sig.SIG_IGN or flags & sig.SA_NOCLDWAIT):
        reap(c, p)                      # nobody will wait: no zombie (wait(2), NOTES)
    elif p.state != STOPPED or not flags & sig.SA_NOCLDSTOP:
        sig.send(c, parent, sig.SIGCHLD)
    parent.child_event.wake()


def reap(c, p):
    c.procs.pop(p.pid, None)
    if p.parent is not None and p in p.parent.children:
        p.parent.children.remove(p)
        # getrusage(2) RUSAGE_CHILDREN, times(2) tms_cutime: the children waited for, and
        # what they had waited for in turn
        p.parent.leader.child_insns += p.proc_insns + p.child_insns


def rusage_bytes(insns):
    """The kernel's struct rusage on rv32 (72 bytes: ru_utime and ru_stime as two longs each,
    then 14 longs; musl's getrusage and wait4 widen the times): user time from
    ``insns``, no system time (the shared kernel's work is not the guest's), maxrss 0."""
    us = insns // 100                   # 100 instructions per microsecond of virtual time
    return struct.pack("<iiii", min(us // 10**6, 0x7FFFFFFF), us % 10**6, 0, 0) + bytes(56)


def _matches(child, idtype, ident):
    if idtype == P_ALL:
        return True
    if idtype == P_PID:
        return child.pid == ident
    return child.pgid == ident


def waitid(c, p, idtype, ident, infop, options, rusage):
    """waitid(2) (musl's wait4/waitpid on rv32 are made of it)."""
    if idtype not in (P_ALL, P_PID, P_PGID) or not options & (WEXITED | WSTOPPED | WCONTINUED) \
            or options & ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT):
        raise SysError(EINVAL)
    if idtype == P_PGID and ident == 0:
        ident = p.pgid
    p = p.leader                        # any thread waits for the process's children
    kids = [k for k in p.children if _matches(k, idtype, ident)]
    if not kids:
        raise SysError(ECHILD)
    for k in kids:
        info = None
        if k.state == ZOMBIE and options & WEXITED:
            st = k.exit_status
            if st & 0x7F:
                info = (CLD_DUMPED if st & 0x80 else CLD_KILLED, st & 0x7F)
            else:
                info = (CLD_EXITED, (st >> 8) & 0xFF)
            if not options & WNOWAIT:
                reap(c, k)
        elif k.state == STOPPED and options & WSTOPPED and not k.stop_reported:
            info = (CLD_STOPPED, getattr(k, "stop_sig", sig.SIGSTOP))
            k.stop_reported = options & WNOWAIT == 0
        elif k.state == RUNNING and options & WCONTINUED and not k.cont_reported:
            info = (CLD_CONTINUED, sig.SIGCONT)
            k.cont_reported = options & WNOWAIT == 0
        if info is not None:
            if infop:
                p.mm.write(infop, struct.pack("<iiiiii", sig.SIGCHLD, 0, info[0], k.pid, 0,
                                              info[1]).ljust(128, b"\0"))
            if rusage:                  # wait4's: the child's own and its children's
                p.mm.write(rusage, rusage_bytes(k.proc_insns + k.child_insns))
            return 0
    if options & WNOHANG:
        if infop:
            p.mm.write(infop, bytes(128))
        return 0
    raise Block(p.child_event)
