"""A container: an engine instance whose processes run in U-mode on hvlab's shared kernel.

The container is an ``Instance`` (instance.py) like a VM: a state row, a G-stage map over its
guest-physical window (RAM_BASE .. RAM_BASE + its memory limit: the frames of frames.py),
a TLB, the same scheduler and stats.  Its hart runs one process at a time in U-mode (one
virtual CPU per container: a simplification; Linux would run a container's processes on any
core) with satp pointing at that process's page tables, and every exception returns to Python
(TRAP_VIA_MONITOR = 1, SIE = 0: no interrupt is ever delivered into a guest kernel, because
there is none).  ``handle_exit`` is where the shared kernel answers:

    ecall from U (cause 8)    a system call (kernel.py)
    page fault (12/13/15)     demand zero, copy-on-write, or SIGSEGV (the process dies)
    other exception           SIGILL / SIGBUS / SIGTRAP
    budget spent              a preemption point: the next runnable process (round robin)

When no process can run the hart runs the *idle task* (an ``ecall`` loop on the kernel's
trampoline page) and the instance is idle until an event (input, a timer) wakes it.
"""
import collections
import os
import time

import numpy as np

from .. import state as S
from ..devices.layout import RAM_BASE
from ..instance import Instance
from ..lifecycle import HALTED
from ..memory import OutOfMemory
from ..mmu import tlb_flush
from . import signal as sig
from .frames import FrameLimit, Frames
from .mm import PAGE, PROT_EXEC, PROT_READ, READ, TRAMPOLINE, WRITE, AddressSpace, EXEC
from .namespaces import Namespaces
from .proc import RUNNING, SLEEPING, STOPPED

TIME_DIV = 10                           # 100 MHz virtual hart, 10 MHz timebase (as VMs)
IDLE_NR = 2047                          # the idle task's private system call
SCHED_IDLE_PC = TRAMPOLINE + 16
# li a7, 139; ecall | li a7, 2047; ecall; j .-8 (the trampoline page's code)
TRAMPOLINE_CODE = np.array([0x08B00893, 0x00000073, 0, 0,
                            0x7FF00893, 0x00000073, 0xFFDFF06F], dtype=np.uint32)


# hv top's rows under a container (ppid, pages and syscalls added for it; defaulted, so
# a three-field ProcessView still works)
ProcessView = collections.namedtuple("ProcessView",
                                     "pid name state ppid pages syscalls cpu_insns",
                                     defaults=(0, 0, 0, 0))
_ImageName = collections.namedtuple("_ImageName", "name")


class Container(Instance):
    kind = "container"

    def __init__(self, kernel, engine, inst_id, name, mem, config, weight=1024, cap=None):
        super().__init__(engine, inst_id, name, mem, weight, cap)
        self.kernel = kernel
        self.config = config            # runtime.ContainerConfig
        self.frames = Frames(self)
        self.ram32 = engine.memory.ram.view(np.uint32)
        from .net import Netns
        self.netns = Netns(self)
        self.ns = Namespaces(self, config)
        self.procs = {}                 # pid -> Process (this container's PID namespace)
        self.runq = collections.deque()
        self.current = None
        self.next_pid = 1
        self.klog = []                  # the kernel's lines about this container (dmesg)
        self.syscall_counts = collections.Counter()
        self.missing = collections.Counter()
        self.syscalls = 0
        self.faults = 0
        self.first_insn_at = None
        self.first_output_at = None
        self.created_at = time.perf_counter()
        self.random = np.random.default_rng(int.from_bytes(os.urandom(8), "little"))
        self.init_status = None
        self.epoch_ns = time.time_ns()
        self.pending_wakes = collections.deque()    # wakes posted by any thread
        self.futexes = {}               # futex key -> its sleepers (futex.py)
        self.alarms = False
        self._setup_hart()
        self.trampoline = self.frames.alloc()
        t = self.frames.host(self.trampoline) >> 2
        self.ram32[t:t + TRAMPOLINE_CODE.size] = TRAMPOLINE_CODE
        self.idle_mm = AddressSpace(self.frames, self.ram32, self.tlb)
        self.frames.get(self.trampoline)
        self.idle_mm.add_vma(TRAMPOLINE, TRAMPOLINE + PAGE, PROT_READ | PROT_EXEC, "trampoline")
        self.idle_mm.map(TRAMPOLINE >> 12, self.trampoline, PROT_READ | PROT_EXEC)
        self._run_idle()
        self.tty = self.ns.make_tty()

    def _setup_hart(self):
        st = self.st
        st[:] = 0
        st[S.PRIV] = S.PRIV_U
        st[S.RAM_BASE] = RAM_BASE
        st[S.RAM_SIZE] = self.mem
        st[S.TIME_DIV] = TIME_DIV
        st[S.TIMECMP] = -1
        st[S.RES_ADDR] = -1
        st[S.TRAP_VIA_MONITOR] = 1      # every exception comes to the kernel
        st[S.SIE] = 0                   # and no interrupt goes into the (absent) guest kernel
        st[S.SCOUNTEREN] = 7            # rdcycle/rdtime/rdinstret allowed in U-mode, as Linux
        st[S.WALLCLOCK] = 1 if self.engine.wall_clock else 0
        self.insns_charged = 0          # st[INSTRET] when CPU time was last charged
        self._run_idle()

    # ---------------------------------------------------------------- time
    def now_ns(self):
        """The container's monotonic clock: its virtual time (instructions at 100 MHz plus
        time skipped while every process slept) or, with --wall-clock, host time."""
        if self.st[S.WALLCLOCK] and self.status == "running":
            self.engine.sync_wall_clock(self)
        return int(self.st[S.CYCLE]) * 10

    def random_bytes(self, n):
        return self.random.bytes(n)

    # ---------------------------------------------------------------- processes
    def new_pid(self):
        pid = self.next_pid
        self.next_pid += 1
        return pid

    def live_count(self):
        return sum(1 for p in self.procs.values())

    def log(self, text):
        line = f"[{self.now_ns() / 1e9:10.6f}] {text}"
        self.klog.append(line)
        del self.klog[:-200]
        self.kernel.log(self, text)

    def regs_of(self, p):
        """The live registers of ``p``: the hart's row while it is current."""
        return self.st[:33] if p is self.current else p.regs

    def switch_to(self, p):
        st = self.st
        cur = self.current
        if cur is p:
            return
        if cur is not None:
            cur.regs[:] = st[:33]
            if cur.mm is not None:
                cur.mm.active = False
        self.current = p
        st[:33] = p.regs
        st[S.SATP] = p.mm.satp
        p.mm.active = True
        self.idle_mm.active = False
        tlb_flush(self.tlb)             # ASIDLEN is 0: every switch flushes

    def _charge(self, p):
        """CPU time: the hart ran only ``current`` since the last exit (switches happen only
        while an exit is served), so the instructions retired since then are its; the idle
        task's are nobody's."""
        now = int(self.st[S.INSTRET])
        ran, self.insns_charged = now - self.insns_charged, now
        if p is not None and ran > 0:
            p.cpu_insns += ran
            p.leader.proc_insns += ran

    def _run_idle(self):
        cur = self.current
        if cur is not None:
            cur.regs[:] = self.st[:33]
            if cur.mm is not None:
                cur.mm.active = False
        self.current = None
        st = self.st
        if hasattr(self, "idle_mm"):
            st[S.SATP] = self.idle_mm.satp
            self.idle_mm.active = True
        st[S.PC] = SCHED_IDLE_PC
        tlb_flush(self.tlb)

    def wake_process(self, p):
        with self.lock:
            if p.state != SLEEPING or p.thread_done:
                return
            for q in p.sleeping_on:
                q.waiters.discard(p)
            p.sleeping_on = []
            p.deadline = None
            p.state = RUNNING
            self.runq.append(p)
            if self.idle:
                self.idle = False
                self.engine.wake(self)

    def post_wake(self, p):
        self.pending_wakes.append(p)
        if self.idle:
            self.idle = False
            self.engine.wake(self)

    def _take_wakes(self):
        while self.pending_wakes:
            self.wake_process(self.pending_wakes.popleft())

    def sleep(self, p, block):
        p.state = SLEEPING
        p.in_syscall = True
        p.sleeping_on = block.queues
        for q in block.queues:
            q.waiters.add(p)
        p.deadline = block.deadline

    def stop_process(self, p):
        """A stop signal stops the whole process: each of its threads."""
        for t in list(p.group) or [p]:
            t.state = STOPPED
            if t in self.runq:
                self.runq.remove(t)

    def continue_process(self, p):
        for t in list(p.group) or [p]:
            if t.state == STOPPED:
                t.state = RUNNING
                self.runq.append(t)

    # ---------------------------------------------------------------- exits of the hart
    def handle_exit(self, code):
        """Answer one exit; a bug of the kernel while serving this container ends this
        container only (one line in its log), never the engine or another instance."""
        try:
            return self._handle_exit(code)
        except Exception as exc:  # noqa: BLE001 - the wall around one container
            import traceback
            where = traceback.extract_tb(exc.__traceback__)[-1]
            self.log(f"kernel error: {type(exc).__name__}: {exc} "
                     f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
            self.crash(f"shared kernel error while serving it: {type(exc).__name__}: {exc}")
            return False

    def _handle_exit(self, code):
        st = self.st
        if self.done:
            return False
        if self.first_insn_at is None and int(st[S.INSTRET]) > 0:
            self.first_insn_at = time.perf_counter()
        p = self.current
        self._charge(p)
        if code == S.RUN_TRAP:
            st[S.CNT_EXC_MONITOR] += 1
            cause = int(st[S.EXIT_CAUSE])
            if cause == 8:
                if p is None:
                    return self._dispatch()         # the idle task's ecall
                self.kernel.syscall(self, p)
            elif cause in (12, 13, 15) and p is not None:
                self._page_fault(p, cause)
            elif p is not None:
                self._exception(p, cause)
        elif code == S.RUN_GSTAGE:
            st[S.CNT_GSTAGE] += 1
            gpa = int(st[S.EXIT_GPA])
            if self.in_ram(gpa):
                try:
                    self.map_page((gpa - RAM_BASE) // PAGE)
                except OutOfMemory:
                    self.oom(p)
            elif p is not None:
                self._exception(p, 5)
        elif code == S.RUN_BUDGET and p is not None and self.runq:
            self.runq.append(p)                      # preemption: round robin
            self._switch_next()
        elif code == S.RUN_CRASH:
            self.crash(f"hart crash: cause {int(st[S.EXIT_CAUSE])} at {int(st[S.EXIT_PC]):#x}")
        return self._dispatch()

    def _page_fault(self, p, cause):
        st = self.st
        va = int(st[S.EXIT_TVAL])
        access = {12: EXEC, 13: READ, 15: WRITE}[cause]
        self.faults += 1
        try:
            if p.mm.fault(va, access):
                return
        except (FrameLimit, OutOfMemory):
            self.oom(p)
            return
        p.fault_addr = va
        self.log(f"pid {p.pid} ({p.name()}): segmentation fault at {va:#010x} "
                 f"(pc {int(st[S.EXIT_PC]):#010x}): SIGSEGV")
        self.force_signal(p, sig.SIGSEGV, sig.siginfo(sig.SIGSEGV, 1, addr=va))

    def _exception(self, p, cause):
        signo = {2: sig.SIGILL, 3: sig.SIGTRAP, 0: sig.SIGBUS, 4: sig.SIGBUS, 6: sig.SIGBUS,
                 1: sig.SIGSEGV, 5: sig.SIGSEGV, 7: sig.SIGSEGV}.get(cause, sig.SIGILL)
        pc = int(self.st[S.EXIT_PC])
        self.log(f"pid {p.pid} ({p.name()}): exception {cause} at pc {pc:#010x}: "
                 f"{sig.NAMES[signo]}")
        self.force_signal(p, signo, sig.siginfo(signo, 1, addr=int(self.st[S.EXIT_TVAL])))

    def force_signal(self, p, signo, info=b""):
        """A fault's signal: if the process blocks or ignores it, it dies of it (Linux's
        force_sig_info)."""
        handler = sig.action(p, signo)[0]
        if handler == sig.SIG_IGN or p.blocked & sig.bit(signo):
            p.actions.pop(signo, None)
            p.blocked &= ~sig.bit(signo)
        p.fault_info = info
        self.kernel.signals.send(self, p, signo, fault=True)

    def oom(self, p):
        """The memory limit (or the host) is exhausted: kill the biggest process."""
        victims = [q for q in self.procs.values() if q.alive]
        if not victims:
            return
        victim = max(victims, key=lambda q: (q.rss_pages, q.pid))
        self.log(f"out of memory: killed process {victim.pid} ({victim.name()}), "
                 f"{victim.rss_pages} pages, limit {self.frames.count} pages")
        self.oom_kills = getattr(self, "oom_kills", 0) + 1
        self.kernel.signals.send(self, victim, sig.SIGKILL, forced=True)

    # ---------------------------------------------------------------- choosing who runs
    def _switch_next(self):
        while self.runq:
            q = self.runq.popleft()
            if q.state == RUNNING and q.alive:
                self.switch_to(q)
                return True
        return False

    def _timers(self):
        """Wake the sleepers whose deadline passed, fire due alarms; the next deadline."""
        sleepers = [q for q in self.procs.values() if q.state == SLEEPING and q.deadline]
        alarms = [q for q in self.procs.values() if q.alarm is not None] if self.alarms else []
        if not sleepers and not alarms:
            self.st[S.TIMECMP] = -1
            return None
        now = self.now_ns()
        for q in sleepers:
            if q.deadline <= now:
                self.wake_process(q)
        for q in alarms:
            if q.alarm <= now:
                q.alarm = None
                self.kernel.signals.send(self, q, sig.SIGALRM)
        left = [q.deadline for q in sleepers if q.state == SLEEPING and q.deadline] + \
            [q.alarm for q in alarms if q.alarm is not None and q.alive]
        return min(left) if left else None

    def _dispatch(self):
        """After an exit: make sure a runnable process (or the idle task) is on the hart, with
        its pending signals delivered.  False when the hart has nothing to run."""
        for _ in range(64):
            if self.done:
                return False
            self._take_wakes()
            earliest = self._timers()
            p = self.current
            if p is None or p.state != RUNNING:
                if not self._switch_next():
                    if earliest is not None and not self.st[S.WALLCLOCK]:
                        # every process sleeps on a timer: skip virtual time (as wfi does)
                        self.st[S.CYCLE] = max(int(self.st[S.CYCLE]), -(-earliest // 10))
                        continue
                    if self.current is not None or int(self.st[S.PC]) != SCHED_IDLE_PC:
                        self._run_idle()
                    if earliest is not None:
                        self.st[S.TIMECMP] = -(-earliest // 100)
                    self.idle = True
                    if self.pending_wakes:      # posted while deciding: do not sleep on it
                        self.idle = False
                        continue
                    return False
                p = self.current
            if self.kernel.signals.deliver(self, p) and p.state == RUNNING:
                return True
        return not self.done

    # ---------------------------------------------------------------- the end
    def init_exited(self, status):
        """PID 1 ended: every other process of its namespace is killed and the container
        stops with pid 1's status (docker: the exit code, or 128 + the signal)."""
        self.init_status = status
        for q in list(self.procs.values()):
            if q.alive:
                self.kernel.procs.exit(self, q, sig.SIGKILL, quiet=True)
        code = (status >> 8) & 0xFF if status & 0x7F == 0 else 128 + (status & 0x7F)
        with self.lock:
            self.exit_code = code
            self.reason = f"exited with {code}" if status & 0x7F == 0 else \
                f"killed by {sig.NAMES.get(status & 0x7F, status & 0x7F)}"
            self._end(HALTED)

    def _end(self, status):
        if not self.done:
            self.kernel.container_ended(self)
        super()._end(status)

    def send_input(self, data):
        with self.lock:
            self.tty.feed(data)

    def resize_terminal(self, rows, cols):
        """The size of the window its terminal is shown in (SIGWINCH when it changes)."""
        with self.lock:
            self.tty.resize(rows, cols)

    def close_input(self):
        with self.lock:
            self.tty.hangup_input()

    # ---------------------------------------------------------------- what hv top reads
    @property
    def image(self):
        """The image column (the TUI reads ``inst.image.name``, as for a VM)."""
        return _ImageName(self.config.image)

    @property
    def processes(self):
        """The container's processes as rows under it in hv top: pid, name, state (ps's
        letter), ppid, resident pages, system calls made (one row per process, its threads'
        calls summed, as ps shows processes)."""
        tasks = list(self.procs.values())
        return [ProcessView(q.pid, q.name(), q.state, q.parent.pid if q.parent else 0,
                            q.rss_pages, sum(t.syscalls for t in tasks if t.leader is q),
                            q.proc_insns)
                for q in tasks if q.leader is q]

    def stats(self):
        out = super().stats()
        tasks = list(self.procs.values())
        procs = [q for q in tasks if q.leader is q]
        out.update({
            "processes": len([q for q in procs if q.alive]),
            "threads": len([q for q in tasks if q.alive and not q.thread_done]),
            "process_list": [{"pid": q.pid, "ppid": q.parent.pid if q.parent else 0,
                              "state": q.state, "command": q.name(), "pages": q.rss_pages,
                              "syscalls": sum(t.syscalls for t in tasks if t.leader is q),
                              "cpu_insns": q.proc_insns,
                              "threads": len(q.group)} for q in procs],
            "syscalls": self.syscalls,
            "syscalls_by_name": {self.kernel.name_of(n): c
                                 for n, c in self.syscall_counts.most_common()},
            "missing_syscalls": {self.kernel.name_of(n): c for n, c in self.missing.most_common(10)},
            "page_faults": self.faults,
            "memory_limit": self.mem, "pids_limit": self.config.pids_limit,
            "image": self.config.image, "command": self.config.argv,
            "oom_kills": getattr(self, "oom_kills", 0),
            "memory_stat": self.memory_stat(),
        })
        return out

    def memory_stat(self):
        """Where the container's frames (its host pages) are, in pages, split as cgroup v2's
        memory.stat splits a cgroup's memory (Documentation/admin-guide/cgroup-v2.rst):
        ``file``, the page cache (its executables' read-only pages, frames.py: Cached in its
        /proc/meminfo); ``file_mapped``, the part of it some process maps; ``pagetables``,
        the Sv32 tables of its address spaces (mm.py; the idle one's included); ``anon``, the
        rest: the processes' own pages (stacks, data, heap, copies made by copy-on-write)
        and the kernel's trampoline page.  Read-only: lab 5 shows the split."""
        if not self.pages:              # ended: its pages are the host's again (release())
            return {"file": 0, "file_mapped": 0, "pagetables": 0, "anon": 0}
        fr = self.frames
        spaces = {id(t.mm): t.mm for t in list(self.procs.values()) if t.mm is not None}
        spaces[id(self.idle_mm)] = self.idle_mm
        tables = sum(1 + len(m.tables) for m in spaces.values())
        cached = len(fr.cache)
        return {"file": cached, "file_mapped": cached - fr.reclaimable, "pagetables": tables,
                "anon": fr.used - cached - tables}
