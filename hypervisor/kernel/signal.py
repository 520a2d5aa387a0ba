"""Signals (signal(7)): sending, default actions, and delivery to a handler on the user stack.

A handler runs on a frame the kernel writes below the process's sp, laid out as Linux's
riscv ``struct rt_sigframe`` (arch/riscv/kernel/signal.c): a siginfo (128 bytes), then a
ucontext whose mcontext holds pc and x1..x31 at offset 160 and the signal mask at offset 20.
RISC-V Linux returns from a handler through a trampoline (the vDSO's rt_sigreturn), so ra
points at the kernel's trampoline page, mapped in every address space: ``li a7, 139; ecall``.
"""
import struct

from .errno import EINTR

SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1 = range(1, 11)
SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGSTOP = range(11, 20)
SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH = range(20, 29)
SIGIO, SIGPWR, SIGSYS = 29, 30, 31
NSIG = 64
SIG_DFL, SIG_IGN = 0, 1
SA_NOCLDSTOP, SA_NOCLDWAIT, SA_SIGINFO, SA_ONSTACK = 1, 2, 4, 0x08000000
SA_RESTART, SA_NODEFER, SA_RESETHAND = 0x10000000, 0x40000000, 0x80000000

NAMES = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
         7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
         13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 17: "SIGCHLD", 18: "SIGCONT",
         19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 31: "SIGSYS"}
IGNORE = {SIGCHLD, SIGCONT, SIGURG, SIGWINCH}
STOP = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU}
CORE = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS}
UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))

FRAME_SIZE = 128 + 160 + 33 * 4 + 528   # siginfo + ucontext up to mcontext + regs + fp area
UC = 128                                # ucontext's offset in the frame
MCONTEXT = UC + 160
SIGRETURN_NR = 139


def bit(sig):
    return 1 << (sig - 1)


def action(proc, sig):
    return proc.actions.get(sig, (SIG_DFL, 0, 0))


def ignored(proc, sig):
    handler = action(proc, sig)[0]
    return handler == SIG_IGN or handler == SIG_DFL and sig in IGNORE


def deliverable(proc):
    """The lowest-numbered pending signal not blocked, or 0."""
    ready = proc.pending & ~(proc.blocked & ~UNBLOCKABLE)
    if not ready:
        return 0
    return (ready & -ready).bit_length()


def frame_regs(regs, sig, handler, info_addr, uc_addr, sp, trampoline):
    regs[1] = trampoline                # ra: return through rt_sigreturn
    regs[2] = sp
    regs[10], regs[11], regs[12] = sig, info_addr, uc_addr
    regs[32] = handler


def build_frame(mm, regs, sig, mask, info):
    """Write the rt_sigframe below regs' sp; returns the frame's address."""
    sp = (int(regs[2]) - FRAME_SIZE) & ~15
    words = [int(regs[32])] + [int(regs[i]) & 0xFFFFFFFF for i in range(1, 32)]
    uc = struct.pack("<IIIII", 0, 0, 0, 2, 0) + struct.pack("<Q", mask) + bytes(160 - 28)
    frame = info.ljust(128, b"\0") + uc + struct.pack("<32I", *words)
    mm.write(sp, frame + bytes(FRAME_SIZE - len(frame)))
    return sp


def restore_frame(mm, regs):
    """rt_sigreturn(2): registers and mask back from the frame at sp.  Returns the mask."""
    sp = int(regs[2])
    mask = struct.unpack("<Q", mm.read(sp + UC + 20, 8))[0]
    words = struct.unpack("<32I", mm.read(sp + MCONTEXT, 128))
    regs[32] = words[0]
    for i in range(1, 32):
        regs[i] = words[i]
    return mask


def siginfo(sig, code=0, addr=None, pid=0, status=0):
    if addr is not None:
        return struct.pack("<iiiI", sig, 0, code, addr & 0xFFFFFFFF)
    return struct.pack("<iiiiii", sig, 0, code, pid, 0, status)


# ---------------------------------------------------------------- sending and delivering
def send(c, p, signo, forced=False, fault=False):
    """kill(2) of one process: queue ``signo`` (0 only checks) and wake the process if it
    must act on it now.  SIGKILL ends it at once; SIGSTOP/SIGCONT stop and continue it.

    A PID namespace's init gets only the signals it has a handler for (pid_namespaces(7)):
    from inside the namespace nothing else reaches it, not even SIGKILL; from outside (the
    runtime: ``forced``) SIGKILL and SIGSTOP do; a fault's signal (``fault``) always does."""
    from .exit import exit as do_exit, notify_parent
    if not p.alive or signo == 0:
        return
    if p.pid == 1 and not fault and action(p, signo)[0] == SIG_DFL and \
            not (forced and signo in (SIGKILL, SIGSTOP)):
        return
    if signo == SIGKILL:
        do_exit(c, p, signo)
        return
    if signo == SIGCONT:
        p.pending &= ~sum(bit(s) for s in STOP)
        if p.state == "T":
            c.continue_process(p)
            p.cont_reported = False
            notify_parent(c, p)
    elif signo in STOP:
        p.pending &= ~bit(SIGCONT)
    if ignored(p, signo) and not p.blocked & bit(signo) and signo != SIGCONT:
        return
    if ignored(p, signo) and signo == SIGCONT:
        return
    p.pending |= bit(signo)
    if not p.blocked & bit(signo) and p.state == "S":
        c.wake_process(p)


def send_group(c, pgrp, signo):
    for p in list(c.procs.values()):
        if p.pgid == pgrp and p.alive:
            send(c, p, signo)


def deliver(c, p):
    """Act on ``p``'s pending signals before it returns to user mode (``p`` is on the hart).
    False when it can no longer run (it died or stopped)."""
    from .exit import exit as do_exit, notify_parent
    while True:
        s = deliverable(p)
        if not s:
            return True
        p.pending &= ~bit(s)
        handler, flags, mask = action(p, s)
        if handler == SIG_IGN or handler == SIG_DFL and s in IGNORE:
            continue
        if handler == SIG_DFL:
            if s in STOP:
                c.stop_process(p)
                p.stop_reported = False
                p.stop_sig = s
                notify_parent(c, p)
                return False
            do_exit(c, p, s | (0x80 if s in CORE else 0))
            return False
        regs = c.regs_of(p)
        old_mask = p.blocked
        suspend = isinstance(p.timer_state, tuple)
        if suspend:                     # rt_sigsuspend: the frame gets the mask from before
            old_mask = p.timer_state[1]
        if p.in_syscall:
            p.timer_state = None                # a sleeping call interrupted (signal(7), "Interruption
            p.in_syscall = False        # of system calls and library functions by handlers")
            if not flags & SA_RESTART or suspend:     # sigsuspend never restarts
                regs[10] = (-EINTR) & 0xFFFFFFFF
                regs[32] = (int(regs[32]) + 4) & 0xFFFFFFFF
        info = getattr(p, "fault_info", b"") or siginfo(s)
        p.fault_info = b""
        try:
            sp = build_frame(p.mm, regs, s, old_mask, info)
        except Exception:               # no room for the frame: die of SIGSEGV (Linux too)
            c.log(f"pid {p.pid} ({p.name()}): bad stack for a {NAMES.get(s, s)} handler")
            do_exit(c, p, SIGSEGV | 0x80)
            return False
        from .mm import TRAMPOLINE
        frame_regs(regs, s, handler, sp, sp + UC, sp, TRAMPOLINE)
        p.blocked |= mask | (0 if flags & SA_NODEFER else bit(s))
        p.blocked &= ~UNBLOCKABLE
        if flags & SA_RESETHAND:
            p.actions.pop(s, None)
        return True
