"""A virtual machine: one hart's state row, its G-stage map and TLB, its devices and console.

A VM is built from a guest image (loader.py) into guest-physical RAM made of host pages
(memory.py).  Its lifecycle:

    created --start--> running <--pause/resume--> paused
                          |
                          +--> halted (powered off: pass or fail with a code)
                          +--> crashed (unhandled trap, out of memory, ...: with a reason)
"""
from . import cpu, icache, monitor, sbi_fast
from . import state as S
from .devicetree import build_dtb, place as place_dtb
from .devices.finisher import Finisher
from .devices.layout import (FINISHER_BASE, FINISHER_SIZE, PLIC_BASE, PLIC_SIZE, RAM_BASE,
                             UART_BASE, UART_IRQ, UART_SIZE)
from .devices.plic import Plic
from .devices.uart import Uart
from .instance import Instance
from .memory import OutOfMemory
from .mmu import tlb_flush

from .lifecycle import CRASHED, CREATED, DONE, HALTED, PAUSED, RUNNING  # noqa: F401 (re-exported)
TIME_DIV = 10           # cycles per timebase tick: a 100 MHz virtual hart at 10 MHz timebase
ISAS = {"rv32imac": S.MISA_RV32IMAC, "rv32ima": S.MISA_RV32IMA}    # --isa: C on (default) or off
SEIP = 1 << 9


class BootError(Exception):
    """The VM cannot be booted as configured (one line for the user)."""


class InitrdTooLarge(BootError):
    """The --initrd file and the kernel do not both fit in the VM's RAM (one line)."""


class _Range:
    """A guest-physical range that the device tree must not cover (the initrd)."""
    def __init__(self, paddr, memsz):
        self.paddr, self.memsz = paddr, memsz


class VM(Instance):
    kind = "vm"
    handler = "the monitor"

    def __init__(self, engine, vm_id, name, image, mem, bootargs="", prealloc=False,
                 weight=1024, cap=None, trap_via_monitor=False, initrd=None, isa="rv32imac"):
        super().__init__(engine, vm_id, name, mem, weight, cap)
        self.isa = isa                  # a key of ISAS (the engine checked it)
        self.image = image
        # a bundled image's own command line (the manifest's "append", catalog.py) comes
        # first; the user's --append adds to it (for Linux a later key=value wins)
        self.bootargs = " ".join(a for a in (getattr(image, "bootargs", ""), bootargs) if a)
        self.initrd = initrd            # bytes of an initial ramdisk (--initrd), or None
        self.stop = sbi_fast.control_block()    # the stop flag and the SBI console ring
        self.prealloc = prealloc
        self.trap_via_monitor = trap_via_monitor
        self.reboot_pending = False     # the guest asked for a reset
        self._devices()
        self.boot()

    def handle_exit(self, code):
        return monitor.handle(self, code)

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
        self.boots += 1
        st[:] = 0
        st[S.PRIV] = S.PRIV_S
        st[S.RAM_BASE] = RAM_BASE
        st[S.RAM_SIZE] = self.mem
        st[S.TIME_DIV] = TIME_DIV
        st[S.TIMECMP] = -1
        st[S.RES_ADDR] = -1
        st[S.TRAP_VIA_MONITOR] = 1 if (self.trap_via_monitor or self.trace) else 0
        st[S.WALLCLOCK] = 1 if self.engine.wall_clock else 0
        st[S.MISA] = ISAS[self.isa]
        tlb_flush(self.tlb)
        icache.flush(self.tlb)
        if self.prealloc:
            self._prealloc()
        for seg in self.image.segments:
            # only the file's bytes: the rest of p_memsz (.bss) is RAM never touched yet, and
            # an untouched page reads as zero (a fresh host page is zeroed), so a huge .bss
            # costs nothing until the guest uses it
            if seg.data and not self.write_guest(seg.paddr, seg.data):
                raise OutOfMemory()
        initrd = self._place_initrd()
        dtb = build_dtb(RAM_BASE, self.mem, self.bootargs, initrd=initrd, isa=self.isa)
        taken = list(self.image.segments)   # the tree goes where neither image nor initrd is
        if initrd is not None:
            taken.append(_Range(initrd[0], initrd[1] - initrd[0]))
        dtb_addr = place_dtb(taken, RAM_BASE, self.mem, len(dtb))
        if dtb_addr is None:
            raise BootError(f"the device tree ({len(dtb)} bytes) does not fit in RAM beside "
                            f"the image: give the VM more memory or shorter bootargs")
        if not self.write_guest(dtb_addr, dtb):
            raise OutOfMemory()
        st[S.PC] = self.image.entry
        st[10] = 0                      # a0: hart id
        st[11] = dtb_addr               # a1: the device tree
        cpu.check(st, self.engine.memory.ram, self.gmap, self.tlb, self.stop)

    DTB_ROOM = 64 << 10                 # the top of RAM kept for the device tree

    def _place_initrd(self):
        """Copy the initrd to the highest page-aligned spot below the device tree, as QEMU
        and U-Boot do (far from the kernel, which unpacks it and frees its pages).  Returns
        (start, end) guest-physical, or None."""
        if not self.initrd:
            return None
        top = RAM_BASE + self.mem - self.DTB_ROOM
        start = (top - len(self.initrd)) & ~0xFFF
        kernel_end = max(s.paddr + s.memsz for s in self.image.segments)
        if start < kernel_end:
            raise InitrdTooLarge(f"{self.name}: the initrd ({len(self.initrd)} bytes) does not "
                                 f"fit in RAM beside the kernel: give the VM more --mem")
        if not self.write_guest(start, self.initrd):
            raise OutOfMemory()
        return start, start + len(self.initrd)

    def _prealloc(self):
        for i in range(self.gmap.size):
            self.map_page(i)

    # ---------------------------------------------------------------- console and devices
    def console_write(self, data):
        self.console.write(data)

    def has_input(self):
        return bool(self.uart.rx)

    def input_waiting(self):
        """Bytes typed at the console and not read yet."""
        return len(self.uart.rx)

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
        self.stop[sbi_fast.IO_RX] = len(self.uart.rx)   # SBI getchar answers -1 in the hart
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
