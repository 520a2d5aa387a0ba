"""Processes: pids, parents and children, sleeping and waking, exit and wait.

A ``Process`` is one task, as in Linux: a process of one thread, or one thread of a process
(clone(2) with CLONE_THREAD, threads.py).  Its pid is its thread id; ``tgid`` is the process's
pid (its leader's), ``leader`` the leader and ``group`` the list of the process's live threads,
shared by all of them.  The threads of a process share its address space (mm.py), file table
(file.py), working directory and signal handlers (signal.py); each has its own registers (saved
x0..x31 and pc while it is not on the hart), signal mask, pending signals and sleep.  The
threads of a container take turns on its one virtual CPU.  States as ps(1) shows them: R
runnable, S sleeping in a system call, T stopped, Z exited and not yet waited for.

Blocking calls raise ``Block``: the process sleeps on a wait queue (and/or until a deadline)
with its pc still at the ``ecall``; when it is woken it runs that ``ecall`` again, so the call
simply tries once more (Linux's -ERESTARTSYS, without the bookkeeping).
"""
import numpy as np

RUNNING, SLEEPING, STOPPED, ZOMBIE = "R", "S", "T", "Z"


class Block(Exception):
    """Raised by a system call that must wait: on ``queues`` (a list) and/or ``deadline``
    (container clock, ns)."""

    def __init__(self, *queues, deadline=None):
        super().__init__()
        self.queues = [q for q in queues if q is not None]
        self.deadline = deadline


class WaitQueue:
    def __init__(self):
        self.waiters = set()
        self.wakes = 0                  # wakes so far: a "new event" for edge-triggered epoll

    def wake(self):
        """Wake every waiter.  Safe from any thread: the waiter's container takes the wake
        at its next exit (a socket write in one container wakes a reader in another
        without taking two containers' locks)."""
        self.wakes += 1                 # (a lost race still changes the count: that is enough)
        for p in list(self.waiters):
            p.container.post_wake(p)


class Process:
    def __init__(self, container, pid, parent=None):
        self.container = container
        self.pid = pid
        self.parent = parent
        self.children = []
        self.state = RUNNING
        self.regs = np.zeros(33, dtype=np.int64)    # x0..x31, pc while off the hart
        self.mm = None
        self.fds = None
        self.cwd = None
        self.comm = b""
        self.cmdline = []
        self.pgid = self.sid = pid
        self.tgid, self.leader, self.group = pid, self, [self]      # a thread group of one
        self.thread_done = False        # the leader's own thread has exited (others run on)
        self.umask = 0o022
        self.exit_status = 0            # wait(2) status word once a zombie
        self.clear_tid = 0              # set_tid_address(2)
        self.sleeping_on = []           # wait queues
        self.deadline = None            # a timed sleep's end (container clock, ns)
        self.in_syscall = False         # asleep in a system call (restarted when woken)
        self.timer_state = None         # nanosleep's deadline across restarts
        self.child_event = WaitQueue()  # a child exited or stopped (wait4/waitid sleep here)
        self.stop_reported = True
        self.cont_reported = True
        # signals
        self.actions = {}               # signo -> (handler, flags, mask)
        self.blocked = 0                # signal mask
        self.pending = 0
        self.fault_addr = 0
        self.start_ns = 0
        self.syscalls = 0
        # CPU time, counted in instructions (the hart's virtual 100 MHz: 100 per microsecond)
        self.cpu_insns = 0              # this task's (CLOCK_THREAD_CPUTIME_ID, RUSAGE_THREAD)
        self.proc_insns = 0             # the leader's: every thread's, dead ones' too
        self.child_insns = 0            # the leader's: reaped children's, with theirs (cutime)
        self.alarm = None

    @property
    def alive(self):
        return self.state != ZOMBIE

    @property
    def rss_pages(self):
        return len(self.mm.pages) if self.mm is not None else 0

    def name(self):
        return self.comm.decode("utf-8", "replace")


def wait_status_exit(code):
    return (code & 0xFF) << 8


def wait_status_signal(sig, core=False):
    return (sig & 0x7F) | (0x80 if core else 0)
