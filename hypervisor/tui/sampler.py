"""What the UI knows about the VMs: a sample of every VM's counters at each poll, and one
snapshot of everything the screen shows, so that every panel draws the same moment.

At each poll (every 100 ms) the sampler copies, for every VM, the wall time, the host time the
scheduler charged to it (``vm.host_ns``), the instructions retired (``st[INSTRET]``) and the
twelve exit counters (``st[COUNTERS:COUNTERS+N_EXITS]``).  Rates are deltas between samples:

    CPU %   host_ns delta / wall delta over the last second (one host core = 100 %)
    MIPS    INSTRET delta / wall delta over the last second
    exits/s exit-counter deltas over the last second, by cause
    trap timeline: the exit-counter deltas of each 100 ms interval, laid out in time

The hart records no timestamp per exit (that would cost in its hot loop), so the timeline's
resolution is the poll interval: an honest "how many exits of each cause in each 100 ms".

A minute of samples is kept per VM in a ring whose window is always one contiguous slice.

A container (kernel/container.py) is an instance like a VM, so it has all of the above; its
exits are its system calls and page faults (each one exit to the shared kernel), so the
sampler also keeps what matters for it: system calls and page faults per second, the calls
by name (total and rate over the last second), the missing ones (answered -ENOSYS), and its
processes, each with its resident memory and its system calls per second.  The counters are
read with one C-level copy each (``dict(counter)``), which a worker thread cannot tear.

Each poll also makes a Snapshot: every instance's figures and state (status, pages, weight,
cap, pc, ...) and a copy of the host's page owners.  The table, the memory map, the sparklines,
the exits panel and the title all draw from that one snapshot, never from the live instances,
so they cannot disagree (a worker may change an instance between two widgets' reads).
"""
import collections
import time

import numpy as np

from .. import state as S
from ..exitcauses import EXIT_CAUSES
from ..lifecycle import RUNNING
from ..memory import PAGE_SIZE

PERIOD = 0.1            # seconds between polls
HISTORY = 60.0          # seconds of history kept (CPU sparklines)
RATE_WINDOW = 1.0       # "over the last second"


class Ring:
    """The last ``capacity`` samples of one VM: wall time, host ns, instret, exit counters.

    Each sample is written twice (at i and i + capacity) so the newest k samples are always
    ``arr[end - k:end]``, a view with no copying."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.n = 0
        self.t = np.zeros(2 * capacity)
        self.host_ns = np.zeros(2 * capacity, dtype=np.int64)
        self.instret = np.zeros(2 * capacity, dtype=np.int64)
        self.exits = np.zeros((2 * capacity, S.N_EXITS), dtype=np.int64)
        self.kernel = np.zeros((2 * capacity, 2), dtype=np.int64)   # a container's calls, faults

    def add(self, t, host_ns, instret, exits, kernel=(0, 0)):
        i = self.n % self.capacity
        for j in (i, i + self.capacity):
            self.t[j] = t
            self.host_ns[j] = host_ns
            self.instret[j] = instret
            self.exits[j] = exits
            self.kernel[j] = kernel
        self.n += 1

    def clear(self):
        self.n = 0

    def __len__(self):
        return min(self.n, self.capacity)

    def _end(self):
        return (self.n - 1) % self.capacity + self.capacity + 1

    def last(self, k):
        """(t, host_ns, instret, exits) of the newest k samples, oldest first (views)."""
        k = min(k, len(self))
        end = self._end()
        s = slice(end - k, end)
        return self.t[s], self.host_ns[s], self.instret[s], self.exits[s]


def state_words(inst):
    """(word, detail) for an instance: ``Instance.outcome`` (passed, failed (code N), crashed,
    killed, timed out, stopped by --max-insns, or its status), with ``idle`` for a running
    instance waiting in wfi.  The detail says how it ended when the word does not: a crash's
    reason, or how a guest powered off ("test finisher", "SRST shutdown")."""
    outcome = inst.outcome
    if outcome.startswith("crashed"):
        return "crashed", inst.reason
    if outcome == "running" and inst.idle:
        return "idle", ""
    redundant = inst.killed or inst.limited or inst.timed_out or not inst.done
    return outcome, "" if redundant else inst.reason


PROCESS_STATES = {"R": "running", "S": "sleeping", "T": "stopped", "Z": "zombie"}


class Child:
    """A row under an instance in the table: one of a container's processes (read from
    ``inst.processes``: objects with ``pid``, ``name``, ``state`` and, if they have them,
    ``ppid``, ``pages``, ``syscalls`` and ``cpu_insns``).  ``depth`` is its depth in the
    process tree; ``mips`` and ``cpu`` (a fraction of a host core: the instance's, shared by
    the instructions each process ran) are set by the sampler."""
    __slots__ = ("key", "pid", "ppid", "name", "state", "pages", "syscalls", "rate", "depth",
                 "insns", "mips", "cpu")

    def __init__(self, parent_id, proc):
        self.pid = int(getattr(proc, "pid", 0))
        self.key = f"{parent_id}/{self.pid}"
        self.ppid = int(getattr(proc, "ppid", 0) or 0)
        self.name = str(getattr(proc, "name", ""))
        state = str(getattr(proc, "state", ""))
        self.state = PROCESS_STATES.get(state, state)
        self.pages = int(getattr(proc, "pages", 0) or 0)
        self.syscalls = int(getattr(proc, "syscalls", 0) or 0)
        self.insns = int(getattr(proc, "cpu_insns", 0) or 0)
        self.rate = 0.0                 # system calls per second (set by the sampler)
        self.mips = self.cpu = 0.0
        self.depth = 0


def process_tree(children):
    """The processes in tree order (each under its parent, siblings by pid), with depths."""
    by_pid = {c.pid: c for c in children}
    kids = collections.defaultdict(list)
    roots = []
    for c in sorted(children, key=lambda c: c.pid):
        (kids[c.ppid] if c.ppid in by_pid and c.ppid != c.pid else roots).append(c)
    out, stack = [], [(c, 0) for c in reversed(roots)]
    while stack:
        c, depth = stack.pop()
        c.depth = depth
        out.append(c)
        stack += [(k, depth + 1) for k in reversed(kids.pop(c.pid, ()))]
    return out


class VMSample:
    """One instance as the UI shows it at one poll: its figures (from the sampler's rings) and
    its state (copied from the instance).  Every panel draws from these, so they agree."""
    __slots__ = ("id", "name", "kind", "image", "status", "word", "detail", "outcome", "done",
                 "idle", "cpu", "mips", "instructions", "exit_rate", "top_cause", "exit_totals",
                 "exit_rates", "pages", "mem", "host_share", "weight", "cap", "pc", "priv",
                 "children", "syscalls", "syscall_rate", "faults", "fault_rate", "calls",
                 "missing", "pid", "process", "nprocs", "command", "child_rates",
                 "child_mips")

    def __init__(self, inst_id):
        self.id = inst_id
        self.cpu = 0.0                  # fraction of one host core over the last second
        self.mips = 0.0
        self.instructions = 0
        self.exit_rate = 0.0            # exits per second, all causes
        self.top_cause = ""
        self.exit_totals = np.zeros(S.N_EXITS, dtype=np.int64)
        self.exit_rates = np.zeros(S.N_EXITS)
        # a container's: its system calls and page faults (totals and per second), the calls
        # by name and the missing ones [(name, total, per second)], busiest first
        self.syscalls = self.faults = 0
        self.syscall_rate = self.fault_rate = 0.0
        self.calls, self.missing = [], []
        self.child_rates = {}           # pid -> system calls per second
        self.child_mips = {}            # pid -> its instructions per second / 10**6
        self.children = ()
        self.nprocs = 0

    def read_state(self, inst, npages):
        self.name = inst.name
        self.kind = inst.kind
        image = getattr(inst, "image", None)
        self.image = getattr(image, "name", "") or ""
        self.status = inst.status
        self.word, self.detail = state_words(inst)
        self.outcome = inst.outcome
        self.done = inst.done
        self.idle = bool(inst.idle)
        self.pages = inst.pages
        self.mem = inst.mem
        self.host_share = inst.pages / npages
        self.weight = inst.weight
        self.cap = inst.cap
        st = inst.st
        self.pc = int(st[S.PC])
        self.priv = "S" if st[S.PRIV] == S.PRIV_S else "U"
        current = getattr(inst, "current", None)        # a container's process on the hart
        self.pid = getattr(current, "pid", None)
        self.process = current.name() if current is not None else ""
        config = getattr(inst, "config", None)
        self.command = " ".join(getattr(config, "argv", None) or ())
        try:
            procs = list(getattr(inst, "processes", None) or ())
        except (AttributeError, RuntimeError):          # torn by a worker: keep the last
            return
        children = [Child(inst.id, p) for p in procs]
        for c in children:
            c.rate = self.child_rates.get(c.pid, 0.0)
            c.mips = self.child_mips.get(c.pid, 0.0)
            # the instance's share of a core, divided as the instructions were
            c.cpu = self.cpu * min(1.0, c.mips / self.mips) if self.mips > 0 else 0.0
        self.children = tuple(process_tree(children))
        self.nprocs = sum(1 for c in children if c.state != "zombie")

    @property
    def alloc_bytes(self):
        return self.pages * PAGE_SIZE


CallSample = collections.namedtuple("CallSample",
                                    "t syscalls faults by_nr missing by_pid insns_by_pid")


class Snapshot:
    """Everything the screen shows at one moment: every instance (in the engine's order) and
    the host's memory.  Made by Sampler.sample() at each poll; Sampler.restate() re-reads the
    states (after a key) but not the counters, so the figures stay those of the last poll."""

    def __init__(self, t):
        self.t = t
        self.vms = {}                   # id -> VMSample
        self.npages = 0
        self.free_pages = 0
        self.owner = None               # a copy of engine.memory.owner

    @property
    def running(self):
        return sum(1 for v in self.vms.values() if v.status == RUNNING and not v.idle)

    @property
    def idle(self):
        return sum(1 for v in self.vms.values() if v.status == RUNNING and v.idle)


class Sampler:
    def __init__(self, engine, clock=time.perf_counter, period=PERIOD, history=HISTORY):
        self.engine = engine
        self.clock = clock
        self.period = period
        self.capacity = int(round(history / period)) + 2
        self.rings = {}                 # vm id -> Ring
        self.now = 0.0
        self.samples = 0
        self.earlier = {}               # vm id -> instructions retired before its restarts
        self.removed = 0                # instructions retired by VMs no longer listed
        self.snapshot = Snapshot(0.0)
        self.calls = {}                 # container id -> deque of CallSample, the last second

    @property
    def metrics(self):
        """id -> VMSample of the current snapshot."""
        return self.snapshot.vms

    def sample(self):
        """Read every VM's counters once, add them to the rings and make a new snapshot.
        Never blocks on a VM.  Returns the snapshot."""
        now = self.now = self.clock()
        self.samples += 1
        snap = Snapshot(now)
        for vm in list(self.engine.vms.values()):
            st = vm.st
            exits = st[S.COUNTERS:S.COUNTERS + S.N_EXITS].copy()
            instret = int(st[S.INSTRET])
            ring = self.rings.get(vm.id)
            if ring is None:
                ring = self.rings[vm.id] = Ring(self.capacity)
            elif len(ring) and instret < ring.instret[ring._end() - 1]:
                # restarted: its counters began again at zero
                last = int(ring.instret[ring._end() - 1])
                self.earlier[vm.id] = self.earlier.get(vm.id, 0) + last
                ring.clear()
            kernel = (int(getattr(vm, "syscalls", 0)), int(getattr(vm, "faults", 0))) \
                if vm.kind == "container" else (0, 0)
            ring.add(now, vm.host_ns, instret, exits, kernel)
            m = snap.vms[vm.id] = VMSample(vm.id)
            self._rates(ring, m)
            m.instructions = instret
            m.exit_totals = exits
            if vm.kind == "container":
                self._kernel_figures(vm, m, now)
        for gone in set(self.rings) - set(snap.vms):
            self.calls.pop(gone, None)
            ring = self.rings.pop(gone)
            self.removed += self.earlier.pop(gone, 0) + int(ring.instret[ring._end() - 1])
        self.snapshot = snap
        self._read_states(snap)
        return snap

    def _kernel_figures(self, c, m, now):
        """A container's system calls, page faults, calls by name, missing calls and its
        processes' calls, with their rates over the last second (like every other rate)."""
        try:
            procs = list(c.processes)
            sample = CallSample(now, int(c.syscalls), int(c.faults), dict(c.syscall_counts),
                                dict(c.missing), {p.pid: int(getattr(p, "syscalls", 0))
                                                  for p in procs},
                                {p.pid: int(getattr(p, "cpu_insns", 0)) for p in procs})
        except (AttributeError, RuntimeError):          # torn by a worker: no figures now
            return
        k = int(round(RATE_WINDOW / self.period)) + 1
        hist = self.calls.get(c.id)
        if hist is None or (hist and sample.syscalls < hist[-1].syscalls):
            hist = self.calls[c.id] = collections.deque(maxlen=k)    # new, or restarted
        hist.append(sample)
        old = hist[0]
        dt = sample.t - old.t
        m.syscalls, m.faults = sample.syscalls, sample.faults
        name = c.kernel.name_of

        def per_s(now_n, then_n):
            return (now_n - then_n) / dt if dt > 0 else 0.0
        m.syscall_rate = per_s(sample.syscalls, old.syscalls)
        m.fault_rate = per_s(sample.faults, old.faults)
        m.calls = sorted(((name(nr), n, per_s(n, old.by_nr.get(nr, 0)))
                          for nr, n in sample.by_nr.items()),
                         key=lambda x: (-x[2], -x[1], x[0]))
        m.missing = sorted(((name(nr), n, per_s(n, old.missing.get(nr, 0)))
                            for nr, n in sample.missing.items()),
                           key=lambda x: (-x[1], -x[2], x[0]))
        m.child_rates = {pid: per_s(n, old.by_pid.get(pid, n))
                         for pid, n in sample.by_pid.items()}
        # a process new in this window: counted from 0 (its whole life is inside it)
        m.child_mips = {pid: per_s(n, old.insns_by_pid.get(pid, 0)) / 1e6
                        for pid, n in sample.insns_by_pid.items()}

    def restate(self):
        """Re-read every instance's state (status, pages, weight, cap, ...) and the host's
        memory into the current snapshot, keeping its figures: what a key changed shows at
        once, in every panel alike.  Instances created since the last poll join with no figures
        yet; removed ones leave."""
        snap = self.snapshot
        vms = {}
        for vm in list(self.engine.vms.values()):
            vms[vm.id] = snap.vms.get(vm.id) or VMSample(vm.id)
        snap.vms = vms
        self._read_states(snap)
        return snap

    def _read_states(self, snap):
        mem = self.engine.memory
        snap.npages = mem.npages
        for vm in list(self.engine.vms.values()):
            m = snap.vms.get(vm.id)
            if m is not None:
                m.read_state(vm, mem.npages)
        snap.owner = mem.owner.copy()           # a snapshot: workers allocate meanwhile
        snap.free_pages = mem.free_pages

    def instructions_total(self):
        """Instructions retired by every VM seen, across restarts (as of the last sample)."""
        return self.removed + sum(self.earlier.values()) + sum(
            m.instructions for m in self.snapshot.vms.values())

    def _rates(self, ring, m):
        k = int(round(RATE_WINDOW / self.period)) + 1
        t, host_ns, instret, exits = ring.last(k)
        dt = t[-1] - t[0] if len(t) > 1 else 0.0
        if dt <= 0:
            return
        # The scheduler charges host time when a slice ends, in lumps (a slice runs on past
        # its 4 ms until the hart's current batch of instructions is done), so a window can
        # catch a little more than its length.  One VM is one hart: it cannot use more than
        # one core, so the excess is a sampling artefact and is clipped.
        m.cpu = min(1.0, max(0.0, (host_ns[-1] - host_ns[0]) / 1e9 / dt))
        m.mips = (instret[-1] - instret[0]) / 1e6 / dt
        m.exit_rates = (exits[-1] - exits[0]) / dt
        m.exit_rate = float(m.exit_rates.sum())
        m.top_cause = S.EXIT_NAMES[int(np.argmax(m.exit_rates))] if m.exit_rate > 0 else ""

    # ------------------------------------------------------------------ series for the widgets
    def cpu_series(self, vm_id, seconds=HISTORY):
        """CPU fraction of each poll interval over the last ``seconds``, oldest first."""
        ring = self.rings.get(vm_id)
        if ring is None or len(ring) < 2:
            return np.zeros(0)
        t, host_ns, _, _ = ring.last(int(round(seconds / self.period)) + 1)
        dt = np.diff(t)
        dt[dt <= 0] = np.inf
        return np.clip(np.diff(host_ns) / 1e9 / dt, 0.0, 1.0)

    def kernel_deltas(self, vm_id, intervals):
        """A container's system calls and page faults in each of the last ``intervals`` poll
        intervals: shape (intervals, 2), as exit_deltas."""
        out = np.zeros((intervals, 2), dtype=np.int64)
        ring = self.rings.get(vm_id)
        if ring is None or len(ring) < 2:
            return out
        k = min(intervals + 1, len(ring))
        end = ring._end()
        d = np.maximum(np.diff(ring.kernel[end - k:end], axis=0), 0)
        out[intervals - len(d):] = d
        return out

    def exit_deltas(self, vm_id, intervals):
        """Exits by cause in each of the last ``intervals`` poll intervals: an array of shape
        (intervals, N_EXITS), oldest first, zero-padded on the left when history is short."""
        out = np.zeros((intervals, S.N_EXITS), dtype=np.int64)
        ring = self.rings.get(vm_id)
        if ring is None or len(ring) < 2:
            return out
        _, _, _, exits = ring.last(intervals + 1)
        d = np.maximum(np.diff(exits, axis=0), 0)
        out[intervals - len(d):] = d
        return out


# ---------------------------------------------------------------------- formatting
def fmt_count(n):
    """1234 -> '1234', 12345 -> '12.3k', 1.5e9 -> '1.50G'."""
    n = float(n)
    if abs(n) < 10_000:
        return f"{n:.0f}"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            v = n / scale
            return f"{v:.3g}{unit}" if v < 1000 else f"{v:.0f}{unit}"
    return f"{n:.0f}"


def fmt_bytes(n):
    """Bytes as 0, 4K, 1.2M, 64M, 1.5G (powers of 1024)."""
    if n <= 0:
        return "0"
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= scale:
            v = n / scale
            return f"{v:.1f}{unit}" if v < 10 and v != int(v) else f"{v:.0f}{unit}"
    return f"{n}B"


def short_cause(name):
    """The short label of an exit cause (exitcauses.py), for narrow columns."""
    return EXIT_CAUSES[name][0] if name in EXIT_CAUSES else name
