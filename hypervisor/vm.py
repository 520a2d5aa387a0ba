"""A virtual machine: one hart's state row, its G-stage map and TLB, its devices and console.

A VM is built from a guest image (loader.py) into guest-physical RAM made of host pages
(memory.py).  Its lifecycle:

    created --start--> running <--pause/resume--> paused
                          |
                          +--> halted (powered off: pass or fail with a code)
                          +--> crashed (unhandled trap, out of memory, ...: with a reason)
"""
import threading

import numpy as np

from . import cpu
from . import state as S
from .devicetree import build_dtb
from .console import Console
from .devices.finisher import Finisher
from .devices.layout import (FINISHER_BASE, FINISHER_SIZE, PLIC_BASE, PLIC_SIZE, RAM_BASE,
                             UART_BASE, UART_IRQ, UART_SIZE)
from .devices.plic import Plic
from .devices.uart import Uart
from .memory import PAGE_SIZE, OutOfMemory
from .mmu import tlb_flush

from .lifecycle import CRASHED, CREATED, DONE, HALTED, PAUSED, RUNNING  # noqa: F401 (re-exported)
TIME_DIV = 10           # cycles per timebase tick: a 100 MHz virtual hart at 10 MHz timebase
SEIP = 1 << 9


class VM:
    def __init__(self, engine, vm_id, name, image, mem, bootargs="", prealloc=False,
                 weight=1024, cap=None, trap_via_monitor=False):
        self.engine = engine
        self.id = vm_id
        self.name = name
        self.image = image
        self.mem = mem
        self.bootargs = bootargs
        self.prealloc = prealloc
        self.weight = weight
        self.cap = cap                  # fraction of one host core, or None
        self.trap_via_monitor = trap_via_monitor
        self.st = engine.state_row(vm_id)
        self.gmap = np.full(mem // PAGE_SIZE, -1, dtype=np.int32)
        self.tlb = np.full(S.TLB_SIZE, -1, dtype=np.int64)
        self.stop = np.zeros(1, dtype=np.int64)
        self.console = Console()
        self.lock = threading.RLock()
        self.status = CREATED
        self.reason = ""
        self.exit_code = None           # 0 pass, else the failure code
        self.pages = 0                  # host pages allocated to this VM now
        self.peak_pages = 0             # the most it ever had
        self.host_ns = 0                # host time spent running this VM
        self.trace = None               # a file to log monitor exits to (--trace)
        self.idle = False
        self.on_cpu = False             # a worker thread is running it now
        self.release_pending = False    # ended while on a host core: free its pages after
        self.reboot_pending = False     # the guest asked for a reset
        self.limited = False            # stopped by --max-insns
        self.started = 0.0
        self.vruntime = 0.0             # scheduler: host seconds run, scaled by 1024 / weight
        self.tokens = 0.0               # scheduler: CPU seconds a capped VM may still use
        self.token_time = 0.0
        self._devices()
        self.boot()

    # ---------------------------------------------------------------- building and booting
    def _devices(self):
        self.uart = Uart(self.console_write)
        self.plic = Plic()
        self.plic.connect(UART_IRQ, self.uart.irq)
        self.finisher = Finisher(lambda kind, code: self.power_off(kind, code, "test finisher"))
        self.devices = ((UART_BASE, UART_SIZE, self.uart), (PLIC_BASE, PLIC_SIZE, self.plic),
                        (FINISHER_BASE, FINISHER_SIZE, self.finisher))

    def boot(self):
        """Load the image and the device tree, and set the hart at the entry point (S-mode,
        paging off, a0 = hart id, a1 = device tree).  Used by create and restart."""
        st = self.st
        st[:] = 0
        st[S.PRIV] = S.PRIV_S
        st[S.RAM_BASE] = RAM_BASE
        st[S.RAM_SIZE] = self.mem
        st[S.TIME_DIV] = TIME_DIV
        st[S.TIMECMP] = -1
        st[S.RES_ADDR] = -1
        st[S.TRAP_VIA_MONITOR] = 1 if (self.trap_via_monitor or self.trace) else 0
        st[S.WALLCLOCK] = 1 if self.engine.wall_clock else 0
        tlb_flush(self.tlb)
        if self.prealloc:
            self._prealloc()
        for seg in self.image.segments:
            if not self.write_guest(seg.paddr, seg.data + bytes(seg.memsz - len(seg.data))):
                raise OutOfMemory()
        dtb = build_dtb(RAM_BASE, self.mem, self.bootargs)
        dtb_addr = (RAM_BASE + self.mem - len(dtb)) & ~0xFFF
        if not self.write_guest(dtb_addr, dtb):
            raise OutOfMemory()
        st[S.PC] = self.image.entry
        st[10] = 0                      # a0: hart id
        st[11] = dtb_addr               # a1: the device tree
        cpu.check(st, self.engine.memory.ram, self.gmap, self.tlb, self.stop)

    def _prealloc(self):
        for i in range(self.gmap.size):
            self.map_page(i)

    def release(self):
        """Give every host page back (zeroed) and empty the G-stage map."""
        pages = self.gmap[self.gmap >= 0]
        self.gmap[:] = -1
        tlb_flush(self.tlb)             # G-stage change: cached translations are stale
        self.engine.memory.free(pages)
        self.pages = 0

    # ---------------------------------------------------------------- guest memory
    def map_page(self, index):
        """Back guest-physical RAM page ``index`` with a fresh host page (demand allocation)."""
        if self.gmap[index] < 0:
            self.gmap[index] = self.engine.memory.alloc(self.id)
            self.pages += 1
            self.peak_pages = max(self.peak_pages, self.pages)
        return int(self.gmap[index])

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
            pos += chunk
        return True

    # ---------------------------------------------------------------- console and devices
    def console_write(self, data):
        self.console.write(data)

    def has_input(self):
        return bool(self.uart.rx)

    def console_read(self, n):
        out = bytearray()
        while self.uart.rx and len(out) < n:
            out.append(self.uart.rx.popleft())
        self.update_irq()
        return bytes(out)

    def send_input(self, data):
        """Bytes typed at the VM's console arrive at its UART (and may raise an interrupt)."""
        self.uart.feed(data)
        self.update_irq()

    def update_irq(self):
        """Drive the guest's SEIP from the PLIC; an interrupt wakes a VM idle in wfi."""
        if self.plic.seip():
            self.st[S.SIP] |= SEIP
            if self.idle:
                self.idle = False
                self.engine.wake(self)
        else:
            self.st[S.SIP] &= ~SEIP

    def device_at(self, gpa):
        for base, size, dev in self.devices:
            if base <= gpa < base + size:
                return dev, gpa - base
        return None, 0

    # ---------------------------------------------------------------- lifecycle
    def power_off(self, kind, code, how):
        """The guest asked to stop: 'pass', 'fail' (with a code) or 'reset'."""
        with self.lock:
            if kind == "reset":
                self.engine.request_restart(self)
                return
            self.exit_code = 0 if kind == "pass" else (code or 1)
            self.reason = how if kind == "pass" else f"{how}: failure code {code:#x}"
            self._end(HALTED)

    def crash(self, reason):
        with self.lock:
            self.reason = reason
            self.exit_code = None
            self._end(CRASHED)

    def _end(self, status):
        if self.status in DONE:
            return
        self.status = status
        self.stop[0] = 1
        self.engine.vm_ended(self)

    @property
    def done(self):
        return self.status in DONE

    def stats(self):
        st = self.st
        return {
            "id": self.id, "name": self.name, "status": self.status, "reason": self.reason,
            "instructions": int(st[S.INSTRET]), "cycles": int(st[S.CYCLE]),
            "host_seconds": self.host_ns / 1e9,
            "exits": {n: int(st[S.COUNTERS + i]) for i, n in enumerate(S.EXIT_NAMES)},
            "pages_reserved": self.mem // PAGE_SIZE, "pages_allocated": self.pages,
            "pages_peak": self.peak_pages,
            "console_bytes": self.console.total, "weight": self.weight, "cap": self.cap,
            "pc": int(st[S.PC]), "priv": "S" if st[S.PRIV] == S.PRIV_S else "U",
        }
