"""What the UI knows about the VMs: a sample of every VM's counters at each poll.

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
"""
import time

import numpy as np

from .. import state as S
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

    def add(self, t, host_ns, instret, exits):
        i = self.n % self.capacity
        for j in (i, i + self.capacity):
            self.t[j] = t
            self.host_ns[j] = host_ns
            self.instret[j] = instret
            self.exits[j] = exits
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


class Metrics:
    """One VM's figures at the latest poll (what the table and the panels show)."""
    __slots__ = ("cpu", "mips", "instructions", "exit_rate", "top_cause", "exit_totals",
                 "exit_rates", "alloc_bytes", "mem_bytes", "host_share", "status")

    def __init__(self):
        self.cpu = 0.0                  # fraction of one host core
        self.mips = 0.0
        self.instructions = 0
        self.exit_rate = 0.0            # exits per second, all causes
        self.top_cause = ""
        self.exit_totals = np.zeros(S.N_EXITS, dtype=np.int64)
        self.exit_rates = np.zeros(S.N_EXITS)
        self.alloc_bytes = 0
        self.mem_bytes = 0
        self.host_share = 0.0           # fraction of host memory this VM holds
        self.status = ""


class Sampler:
    def __init__(self, engine, clock=time.perf_counter, period=PERIOD, history=HISTORY):
        self.engine = engine
        self.clock = clock
        self.period = period
        self.capacity = int(round(history / period)) + 2
        self.rings = {}                 # vm id -> Ring
        self.metrics = {}               # vm id -> Metrics
        self.now = 0.0
        self.samples = 0
        self.earlier = {}               # vm id -> instructions retired before its restarts
        self.removed = 0                # instructions retired by VMs no longer listed

    def sample(self):
        """Read every VM's counters once and update the metrics.  Never blocks on a VM."""
        now = self.now = self.clock()
        self.samples += 1
        npages = self.engine.memory.npages
        seen = set()
        for vm in list(self.engine.vms.values()):
            seen.add(vm.id)
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
            ring.add(now, vm.host_ns, instret, exits)
            m = self.metrics.get(vm.id) or Metrics()
            self.metrics[vm.id] = m
            self._rates(ring, m)
            m.instructions = instret
            m.exit_totals = exits
            m.alloc_bytes = vm.pages * PAGE_SIZE
            m.mem_bytes = vm.mem
            m.host_share = vm.pages / npages
            m.status = vm.status
        for gone in set(self.rings) - seen:
            ring = self.rings.pop(gone)
            self.removed += self.earlier.pop(gone, 0) + int(ring.instret[ring._end() - 1])
            self.metrics.pop(gone, None)

    def instructions_total(self):
        """Instructions retired by every VM seen, across restarts (as of the last sample)."""
        return self.removed + sum(self.earlier.values()) + sum(
            m.instructions for m in self.metrics.values())

    def _rates(self, ring, m):
        k = int(round(RATE_WINDOW / self.period)) + 1
        t, host_ns, instret, exits = ring.last(k)
        dt = t[-1] - t[0] if len(t) > 1 else 0.0
        if dt <= 0:
            m.cpu = m.mips = m.exit_rate = 0.0
            m.exit_rates = np.zeros(S.N_EXITS)
            m.top_cause = ""
            return
        m.cpu = (host_ns[-1] - host_ns[0]) / 1e9 / dt
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


SHORT_CAUSE = {"csr_read": "csr_rd", "csr_write": "csr_wr", "exc_delegated": "exc_deleg",
               "exc_monitor": "exc_mon"}


def short_cause(name):
    return SHORT_CAUSE.get(name, name)
