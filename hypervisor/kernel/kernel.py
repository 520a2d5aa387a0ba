"""The shared kernel: one per engine, serving the system calls of every container on it.

gVisor's design on hvlab's hart: a container's process runs in U-mode, its ``ecall`` is an
exit to Python (container.py), and this kernel answers it with Linux semantics for the
RISC-V rv32 ABI (syscall(2): a7 = number, a0..a5 = arguments, the result or -errno in a0,
execution resumes after the ``ecall``).  The numbers are asm-generic's (sysnames.py); the
handlers live in sys_*.py and are found through the table of syscalls.py.  An unknown call
returns -ENOSYS and is counted per number (stats, hv top).

All containers of an engine share this one kernel object, as the processes of a host share
its kernel: so ``inject_bug`` (the labs' fault-injection switch) makes *the kernel* fail, and
every container on it goes down at once, while VMs, each with its own kernel, run on.
"""
import sys
import threading

from .. import state as S
from . import exit as exit_ops
from . import signal as signal_ops
from . import syscalls
from .errno import ENOMEM, ENOSYS, SysError
from .frames import FrameLimit
from .proc import Block
from .sysnames import NAMES
from ..memory import OutOfMemory

M32 = 0xFFFFFFFF
NORETURN = syscalls.NORETURN


class KernelPanic(Exception):
    """The shared kernel failed: every container on it stops."""


class Kernel:
    def __init__(self, engine):
        self.engine = engine
        self.table = syscalls.load()
        self.signals = signal_ops
        self.procs = exit_ops
        self.containers = {}            # id -> Container
        from .net import Networks
        self.networks = Networks()      # user-defined bridge networks
        self.bug_after = None           # inject_bug: system calls left before the panic
        self.panicked = None
        self.log_lines = []             # the kernel log (dmesg): every container's lines
        self.lock = threading.RLock()
        self.verbose = False

    @staticmethod
    def of(engine):
        """The engine's one shared kernel (made on first use)."""
        k = getattr(engine, "kernel", None)
        if k is None:
            k = engine.kernel = Kernel(engine)
        return k

    def name_of(self, nr):
        return NAMES.get(nr, f"syscall_{nr}")

    def log(self, container, text):
        line = f"{container.name}: {text}"
        self.log_lines.append(line)
        del self.log_lines[:-1000]
        if self.verbose:
            print(f"hv kernel: {line}", file=sys.stderr)

    # ---------------------------------------------------------------- the system call entry
    def syscall(self, c, p):
        st = c.st
        nr = int(st[17])
        c.syscalls += 1
        p.syscalls += 1
        c.syscall_counts[nr] += 1
        if self.bug_after is not None:
            self.bug_after -= 1
            if self.bug_after < 0:
                self.panic(f"injected kernel bug (in {self.name_of(nr)} of {c.name})")
                return
        handler = self.table.get(nr)
        if handler is None:
            c.missing[nr] += 1
            if c.missing[nr] == 1:
                c.log(f"pid {p.pid} ({p.name()}): system call {nr} ({self.name_of(nr)}) "
                      f"is not implemented: ENOSYS")
            result = -ENOSYS
        else:
            try:
                result = handler(c, p, int(st[10]), int(st[11]), int(st[12]), int(st[13]),
                                 int(st[14]), int(st[15]))
            except SysError as exc:
                if exc.why:
                    c.log(f"pid {p.pid} ({p.name()}): {self.name_of(nr)}: {exc.why}")
                result = -exc.errno
            except Block as b:
                c.sleep(p, b)       # pc stays on the ecall: it runs again when woken
                return
            except (FrameLimit, OutOfMemory):
                c.oom(p)
                result = -ENOMEM
        if result is NORETURN or p is not c.current:
            return
        p.in_syscall = False
        st[10] = result & M32
        st[S.PC] = (int(st[S.PC]) + 4) & M32
        st[S.INSTRET] += 1

    # ---------------------------------------------------------------- containers
    def add(self, c):
        with self.lock:
            self.containers[c.id] = c

    def container_ended(self, c):
        with self.lock:
            self.containers.pop(c.id, None)
            for net in self.networks.nets.values():
                net.leave(c)
            for s in list(c.netns.listeners.values()):
                s.close()
            for stop in getattr(c, "published", ()):
                stop()

    def inject_bug(self, after=0):
        """The fault-injection switch: the shared kernel fails after ``after`` more system
        calls (of any container), taking every container down."""
        self.bug_after = int(after)

    def panic(self, why):
        self.panicked = why
        self.bug_after = None
        with self.lock:
            victims = list(self.containers.values())
        for c in victims:
            c.log(f"kernel panic: {why}")
            c.crash(f"shared kernel panic: {why}")
        self.containers.clear()
