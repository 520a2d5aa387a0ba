"""Threads: clone(2) with CLONE_THREAD, a thread's exit, and which thread takes a signal.

musl's pthread_create calls clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID |
CLONE_DETACHED) with the new thread's stack and TLS (the tp register).  The new task shares
the caller's address space, file table (CLONE_FILES, else a copy), working directory and signal
handlers; it gets its own thread id from the PID namespace (getpid() is the process's, the
leader's; gettid() its own), its registers (a0 = 0, sp = the stack, tp = the TLS) and mask.
The threads of a container share its one virtual CPU: they run in turns, preempted as
processes are.

A thread that calls exit(2) ends alone: the kernel writes 0 to its clear_child_tid address and
wakes one futex waiter there (set_tid_address(2): how pthread_join learns of it), and its task
is reaped at once (threads have no zombie).  The last thread to end ends the process, with its
status, as exit_group(2) does for all of them; a fatal signal ends every thread.  If the leader
thread exits first, its task stays (as in Linux, where ps shows the process until its last
thread is gone) but never runs again.
"""
from .errno import EINVAL, SysError
from .proc import SLEEPING, ZOMBIE, Process

CLONE_VM, CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD = 0x100, 0x400, 0x800, 0x10000
CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID = 0x80000, 0x100000, 0x200000
CLONE_CHILD_SETTID = 0x1000000


def check_flags(flags):
    """clone(2), EINVAL: CLONE_THREAD needs CLONE_SIGHAND, and CLONE_SIGHAND needs CLONE_VM."""
    if flags & CLONE_THREAD and not flags & CLONE_SIGHAND or \
            flags & CLONE_SIGHAND and not flags & CLONE_VM:
        raise SysError(EINVAL)


def clone_thread(c, p, flags, stack, ptid, tls, ctid):
    """A new thread of ``p``'s process; its thread id."""
    leader = p.leader
    t = Process(c, c.new_pid(), parent=leader.parent)
    t.tgid, t.leader, t.group = leader.pid, leader, leader.group
    t.group.append(t)
    t.mm = p.mm
    t.fds = p.fds if flags & CLONE_FILES else p.fds.fork()
    t.cwd = p.cwd
    t.comm, t.cmdline = p.comm, p.cmdline
    t.pgid, t.sid, t.umask = p.pgid, p.sid, p.umask
    t.actions = p.actions                       # CLONE_SIGHAND: one table for all
    t.blocked = p.blocked
    t.start_ns = c.now_ns()
    regs = c.regs_of(p)
    t.regs[:] = regs
    t.regs[10] = 0                              # clone() returns 0 in the new thread
    t.regs[32] = (int(regs[32]) + 4) & 0xFFFFFFFF
    if stack:
        t.regs[2] = stack
    if flags & CLONE_SETTLS:
        t.regs[4] = tls                         # tp: its thread-local storage
    if flags & CLONE_CHILD_CLEARTID:
        t.clear_tid = ctid
    if flags & CLONE_PARENT_SETTID and ptid:
        p.mm.write_u32(ptid, t.pid)
    if flags & CLONE_CHILD_SETTID and ctid:
        p.mm.write_u32(ctid, t.pid)
    c.procs[t.pid] = t
    c.runq.append(t)
    return t.pid


def release_tid(c, t):
    """set_tid_address(2): at a thread's end, 0 at its clear_child_tid and FUTEX_WAKE 1."""
    if t.clear_tid and t.mm is not None:
        from .futex import wake
        try:
            t.mm.write_u32(t.clear_tid, 0)
        except SysError:
            return
        wake(c, t, t.clear_tid, 1)


def _off_cpu(c, t):
    for q in t.sleeping_on:
        q.waiters.discard(t)
    t.sleeping_on = []
    t.deadline = None
    if t in c.runq:
        c.runq.remove(t)
    if t is c.current:
        c._run_idle()


def end_thread(c, t):
    """One thread of a process that goes on (or is being ended) stops for good."""
    _off_cpu(c, t)
    if t in t.group:
        t.group.remove(t)
    release_tid(c, t)
    if t.fds is not None and all(o.fds is not t.fds for o in t.group):
        t.fds.close_all()
    if t is t.leader:                           # the process stays until its last thread
        t.thread_done = True
        t.state = SLEEPING
        return
    t.state = ZOMBIE
    t.mm = None
    c.procs.pop(t.pid, None)


def exit_thread(c, p, status):
    """exit(2): the calling thread ends; the process ends with it if it was the last."""
    from .exit import exit as exit_process
    if [t for t in p.group if t is not p]:
        end_thread(c, p)
    else:
        exit_process(c, p, status)


def end_others(c, p):
    """Every thread of ``p``'s process but ``p`` ends (exit_group, execve, a fatal signal)."""
    for t in list(p.group):
        if t is not p:
            end_thread(c, t)


def target(p, signo):
    """The thread that takes a signal sent to ``p``'s process (signal(7): any thread that
    does not block it; the one named if it can)."""
    from .signal import bit
    live = [t for t in p.group if t.state != ZOMBIE]
    if p in live and not p.blocked & bit(signo):
        return p
    for t in live:
        if not t.blocked & bit(signo):
            return t
    return p if p in live else (live[0] if live else p)
