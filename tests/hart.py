"""A tiny harness for the hart tests: one VM with a fresh state, guest RAM mapped one-to-one
onto a host array, and helpers to load words, run, and read registers and memory back.

    vm = VM(x1=5)                       # registers by number: x1..x31
    vm.load(BASE, [0x002081B3])         # add x3, x1, x2
    assert vm.run(1) == RUN_BUDGET
    assert vm.x(3) == 5
"""
import numpy as np

from hypervisor.cpu import run
from hypervisor.icache import new_tlb, written
from hypervisor.state import (MISA, MISA_RV32IMA, MISA_RV32IMAC, PC, PRIV, PRIV_S, RAM_BASE,
                              RAM_SIZE, RES_ADDR, STATE_SIZE, TIME_DIV, TIMECMP)

BASE = 0x8000_0000          # guest-physical base of RAM, where code is loaded by default
SIZE = 64 * 4096            # 256 KiB of guest RAM
DATA = BASE + 0x1_0000      # a data area, 16 pages into RAM
DIV = 10                    # cycles per timebase tick


class VM:
    def __init__(self, pc=BASE, priv=PRIV_S, ram_size=SIZE, rvc=True, **regs):
        self.st = np.zeros(STATE_SIZE, np.int64)
        self.ram = np.zeros(ram_size, np.uint8)                     # host memory: this VM only
        self.gmap = np.arange(ram_size >> 12, dtype=np.int32)      # guest page i -> host page i
        self.tlb = new_tlb(ram_size >> 12)
        self.stop = np.zeros(1, np.int64)
        st = self.st
        st[RAM_BASE], st[RAM_SIZE] = BASE, ram_size
        st[TIME_DIV], st[TIMECMP], st[RES_ADDR] = DIV, -1, -1
        st[PRIV], st[PC] = priv, pc
        st[MISA] = MISA_RV32IMAC if rvc else MISA_RV32IMA           # C on (the default) or off
        for name, v in regs.items():                                # x1=..., x31=...
            st[int(name[1:])] = v & 0xFFFF_FFFF

    def run(self, budget):
        return run(self.st, self.ram, self.gmap, self.tlb, budget, self.stop)

    def x(self, i):
        return int(self.st[i])

    def __getitem__(self, index):                                  # vm[SCAUSE], vm[PC], ...
        return int(self.st[index])

    def __setitem__(self, index, v):
        self.st[index] = v

    # guest-physical memory (little-endian), through the identity G-stage map
    def _off(self, gpa, n):
        off = gpa - BASE
        assert 0 <= off and off + n <= self.ram.size, hex(gpa)
        return off

    def load(self, gpa, words):
        for i, w in enumerate(words):
            self.w32(gpa + 4 * i, w)

    def load16(self, gpa, parcels):
        """16-bit parcels (compressed instructions, or halves of 32-bit ones) from ``gpa``."""
        for i, p in enumerate(parcels):
            self.w16(gpa + 2 * i, p)

    def w16(self, gpa, v):
        off = self._off(gpa, 2)
        self.ram[off:off + 2] = np.frombuffer((v & 0xFFFF).to_bytes(2, "little"), np.uint8)
        written(self.tlb, off, 2)      # as the monitor does: decoded copies are stale

    def w8(self, gpa, v):
        self.ram[self._off(gpa, 1)] = v & 0xFF
        written(self.tlb, self._off(gpa, 1), 1)

    def w32(self, gpa, v):
        off = self._off(gpa, 4)
        self.ram[off:off + 4] = np.frombuffer((v & 0xFFFF_FFFF).to_bytes(4, "little"), np.uint8)
        written(self.tlb, off, 4)

    def r8(self, gpa):
        return int(self.ram[self._off(gpa, 1)])

    def r32(self, gpa):
        off = self._off(gpa, 4)
        return int.from_bytes(self.ram[off:off + 4].tobytes(), "little")

    def bytes(self, gpa, n):
        off = self._off(gpa, n)
        return self.ram[off:off + n].tobytes()
