"""What every instance the engine runs has in common: a VM (vm.py) or a container (kernel/).

An instance is one hart's worth of work for the scheduler: an int64 state row, a G-stage map
from its guest-physical pages to host pages, a TLB, a stop flag, a console, a lifecycle status
and the scheduler's bookkeeping.  VMs and containers take their pages from the same host
memory, are picked by the same scheduler and report the same stats layout; they differ only in
who answers the exits the hart cannot finish by itself (``handle_exit``): the monitor for a VM,
hvlab's shared kernel for a container.

    created --start--> running <--pause/resume--> paused
                          +--> halted (ended: pass or fail with a code)
                          +--> crashed (with a reason)
"""
import threading

import numpy as np

from . import state as S
from .console import Console
from .devices.layout import RAM_BASE
from .lifecycle import CRASHED, CREATED, DONE, HALTED
from . import icache
from .memory import PAGE_SIZE
from .mmu import tlb_flush


class Instance:
    kind = "instance"               # "vm" or "container": the kind column of hv top and stats
    handler = "hvlab"               # who answers its exits, for crash messages ("the monitor")

    def __init__(self, engine, inst_id, name, mem, weight=1024, cap=None):
        self.engine = engine
        self.id = inst_id
        self.name = name
        self.mem = mem                  # bytes of guest-physical RAM (its G-stage map's reach)
        self.weight = weight
        self.cap = cap                  # fraction of one host core, or None
        self.st = engine.state_row(inst_id)
        self.gmap = np.full(mem // PAGE_SIZE, -1, dtype=np.int32)
        self.tlb = icache.new_tlb(mem // PAGE_SIZE)     # the TLB and the predecode cache
        self.stop = np.zeros(1, dtype=np.int64)
        self.console = Console()
        self.lock = threading.RLock()
        self.status = CREATED
        self.reason = ""
        self.exit_code = None           # 0 pass, else the failure code
        self.pages = 0                  # host pages allocated to this instance now
        self.peak_pages = 0             # the most it ever had
        self.host_ns = 0                # host time spent running it
        self.trace = None               # a file to log exits to (--trace)
        self.idle = False
        # One hart is run by exactly one thread at a time: whoever runs it (a worker, step(),
        # restart(), the release of its pages) first claims it by setting on_cpu under the
        # scheduler's lock (Engine.claim / Engine.unclaim), and whoever holds the claim frees
        # its pages when it ended meanwhile (release_pending).
        self.on_cpu = False
        self.claim_queue = []           # threads waiting for the claim, served in turn
        self.release_pending = False    # ended: its pages go back when the claim is let go
        self.removed = False            # taken out of engine.vms: it can never run again
        self.boots = 0                  # how many times it was booted (restarts count)
        self.limited = False            # stopped by --max-insns
        self.killed = False             # ended by kill() (the user, hv top, a runtime)
        self.timed_out = False          # still running when its run's --timeout expired
        self.started = 0.0
        self.vruntime = 0.0             # scheduler: host seconds run, scaled by 1024 / weight
        self.tokens = 0.0               # scheduler: CPU seconds a capped instance may still use
        self.token_time = 0.0

    # ---------------------------------------------------------------- what a kind provides
    def handle_exit(self, code):
        """Answer the RUN_* code the hart returned (state.py).  True: it may go on running."""
        raise NotImplementedError

    # ---------------------------------------------------------------- guest-physical memory
    def map_page(self, index):
        """Back guest-physical RAM page ``index`` with a fresh host page (demand allocation).
        Raises memory.OutOfMemory when the host has none left."""
        if self.gmap[index] < 0:
            self.gmap[index] = page = self.engine.memory.alloc(self.id)
            icache.forget_page(self.tlb, page)  # a page that joins the VM has no code of its own
            self.pages += 1
            self.peak_pages = max(self.peak_pages, self.pages)
        return int(self.gmap[index])

    def back_pages(self, gpa, n):
        """Give guest-physical [gpa, gpa + n) in RAM its host pages now (before a side effect
        that must not happen half-way).  Raises memory.OutOfMemory."""
        if n > 0:
            first, last = (gpa - RAM_BASE) // PAGE_SIZE, (gpa + n - 1 - RAM_BASE) // PAGE_SIZE
            for index in range(first, last + 1):
                self.map_page(index)

    def in_ram(self, gpa, n=1):
        return RAM_BASE <= gpa and gpa + n <= RAM_BASE + self.mem

    def read_guest(self, gpa, n):
        """n bytes of guest-physical memory (pages never touched read as zero); None outside RAM."""
        if not self.in_ram(gpa, n):
            return None
        out = bytearray()
        while n > 0:
            off = gpa - RAM_BASE
            chunk = min(n, PAGE_SIZE - (off & 0xFFF))
            hp = self.gmap[off // PAGE_SIZE]
            if hp < 0:
                out += bytes(chunk)
            else:
                h = int(hp) * PAGE_SIZE + (off & 0xFFF)
                out += self.engine.memory.ram[h:h + chunk].tobytes()
            gpa, n = gpa + chunk, n - chunk
        return bytes(out)

    def write_guest(self, gpa, data):
        """Copy bytes into guest-physical RAM, allocating pages; False outside RAM."""
        if not self.in_ram(gpa, len(data)):
            return False
        ram = self.engine.memory.ram
        pos = 0
        while pos < len(data):
            off = gpa + pos - RAM_BASE
            chunk = min(len(data) - pos, PAGE_SIZE - (off & 0xFFF))
            h = self.map_page(off // PAGE_SIZE) * PAGE_SIZE + (off & 0xFFF)
            ram[h:h + chunk] = np.frombuffer(data, dtype=np.uint8, count=chunk, offset=pos)
            icache.forget_page(self.tlb, h // PAGE_SIZE)   # decoded instructions are stale
            pos += chunk
        return True

    def release(self):
        """Give every host page back (zeroed) and empty the G-stage map."""
        pages = self.gmap[self.gmap >= 0]
        self.gmap[:] = -1
        tlb_flush(self.tlb)             # G-stage change: cached translations are stale
        icache.flush(self.tlb)          # and so are decoded pages (they change owner)
        self.engine.memory.free(pages)
        self.pages = 0

    # ---------------------------------------------------------------- lifecycle
    def crash(self, reason):
        with self.lock:
            self.reason = reason
            self.exit_code = None
            self._end(CRASHED)

    def _end(self, status):
        if self.status in DONE:
            return
        self.release_pending = True     # set first: Engine.wait() waits for the pages too
        self.status = status
        self.stop[0] = 1
        self.engine.vm_ended(self)

    @property
    def done(self):
        return self.status in DONE

    @property
    def outcome(self):
        """The state in words, the same in hv run, hv demo, hv top and the API: created,
        running, paused, passed, failed (code N), crashed: REASON, killed, timed out,
        stopped by --max-insns."""
        if self.timed_out:
            return "timed out"
        if self.limited:
            return "stopped by --max-insns"
        if self.killed:
            return "killed"
        if self.status == CRASHED:
            return f"crashed: {self.reason}" if self.reason else "crashed"
        if self.status == HALTED:
            return "passed" if self.exit_code == 0 else f"failed (code {self.exit_code})"
        return self.status

    def stats(self):
        """One layout for every kind (hv run --stats, hv top, the labs)."""
        st = self.st
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "status": self.status,
            "outcome": self.outcome, "reason": self.reason,
            "instructions": int(st[S.INSTRET]), "cycles": int(st[S.CYCLE]),
            "host_seconds": self.host_ns / 1e9,
            "exits": {n: int(st[S.COUNTERS + i]) for i, n in enumerate(S.EXIT_NAMES)},
            "pages_reserved": self.mem // PAGE_SIZE, "pages_allocated": self.pages,
            "pages_peak": self.peak_pages,
            "console_bytes": self.console.total, "weight": self.weight, "cap": self.cap,
            "pc": int(st[S.PC]), "priv": "S" if st[S.PRIV] == S.PRIV_S else "U",
        }
