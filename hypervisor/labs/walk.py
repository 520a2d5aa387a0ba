"""Address translation done by hand, in Python, from a VM's memory: what the hart does in
mmu.py, spelled out step by step for a student to follow (and for lab 2 to print).

    guest virtual --(stage 1: the guest's satp and Sv32 page tables)--> guest-physical
                  --(stage 2: the monitor's G-stage map, one entry per 4 KiB page)--> host offset

Stage 1 follows the privileged spec, section "Virtual Address Translation Process" (4.3.2 in
the 2021 edition): satp.PPN names the root table; VPN[1] picks its PTE; a PTE with R or X set
is a leaf, otherwise it points at the next table, where VPN[0] picks the leaf; a leaf found at
level 1 is a 4 MiB megapage whose PPN[0] must be zero.  Sv32 physical addresses have 34 bits.
Permission and A/D bits are reported, not enforced: this walk says where an address leads.

It reads guest memory with ``Instance.read_guest`` and the G-stage map ``Instance.gmap``, and
never asks the hart: the tests check it against page tables written by hand.
"""
from dataclasses import dataclass, field

from ..devices.layout import RAM_BASE

PAGE = 4096
PTE_BITS = ("V", "R", "W", "X", "U", "G", "A", "D")


def pte_flags(pte):
    return " ".join(name for i, name in enumerate(PTE_BITS) if pte >> i & 1) or "none"


def pte_ppn(pte):
    """PPN[1] (bits 31:20) and PPN[0] (bits 19:10) together: a 22-bit page number."""
    return (pte >> 10) & 0x3FFFFF


@dataclass
class Walk:
    va: int
    steps: list = field(default_factory=list)      # (what, text) in order
    gpa: int = None                 # guest-physical address, or None if the walk failed
    fault: str = ""                 # why it failed
    ptes_read: int = 0
    megapage: bool = False
    guest_page: int = None          # index into the G-stage map
    host_page: int = None
    host_offset: int = None         # byte index into the host array (engine.memory.ram)
    owner: int = None               # engine.memory.owner[host_page]

    def step(self, what, text):
        self.steps.append((what, text))

    def text(self):
        return "\n".join(f"{what:<10} {text}" for what, text in self.steps)


def read_word(vm, gpa):
    data = vm.read_guest(gpa, 4)
    return None if data is None else int.from_bytes(data, "little")


def stage1(read, satp, va, walk=None):
    """The Sv32 walk of ``va`` under ``satp`` with ``read(gpa) -> int | None`` (None: outside
    RAM).  Returns a Walk with the guest-physical address or the fault."""
    w = walk or Walk(va)
    vpn = ((va >> 22) & 0x3FF, (va >> 12) & 0x3FF)
    w.step("va", f"{va:#010x} = VPN[1] {vpn[0]:#05x} | VPN[0] {vpn[1]:#05x} | offset "
                 f"{va & 0xFFF:#05x}")
    if not satp >> 31:
        w.gpa = va
        w.step("satp", f"{satp:#010x}: MODE Bare, paging off: guest-physical = virtual")
        return w
    a = (satp & 0x3FFFFF) * PAGE
    w.step("satp", f"{satp:#010x}: MODE Sv32, ASID {(satp >> 22) & 0x1FF}, root table at "
                   f"guest-physical {a:#x} (PPN {satp & 0x3FFFFF:#x} x 4096)")
    for level in (1, 0):
        name = "root PTE" if level == 1 else "leaf PTE"
        pte_addr = a + vpn[1 - level] * 4
        pte = read(pte_addr)
        w.ptes_read += 1
        where = f"{a:#x} + 4 x VPN[{level}] = {pte_addr:#x}"
        if pte is None:
            w.fault = f"the PTE's address {pte_addr:#x} is outside RAM: access fault"
            w.step(name, f"at {where}: outside RAM -> access fault")
            return w
        leaf = pte & 0b1010 != 0            # R or X
        if not pte & 1 or (pte & 0b0110) == 0b0100:
            w.fault = "PTE not valid (V = 0, or W without R): page fault"
            w.step(name, f"at {where}: {pte:#010x} ({pte_flags(pte)}) -> page fault")
            return w
        if leaf:
            ppn = pte_ppn(pte)
            if level == 1:
                w.megapage = True
                if ppn & 0x3FF:
                    w.fault = "megapage with PPN[0] != 0 (misaligned): page fault"
                    w.step(name, f"at {where}: {pte:#010x} -> misaligned megapage, page fault")
                    return w
                w.gpa = (ppn << 12) | (va & 0x3FFFFF)
                w.step("leaf", f"at {where}: {pte:#010x} ({pte_flags(pte)}): a leaf at level "
                               f"1, a 4 MiB megapage at {ppn << 12:#x}")
                w.step("gpa", f"{ppn << 12:#x} + (va & 0x3fffff = {va & 0x3FFFFF:#x}) = "
                              f"{w.gpa:#x}")
            else:
                w.gpa = (ppn << 12) | (va & 0xFFF)
                w.step(name, f"at {where}: {pte:#010x} ({pte_flags(pte)}): leaf, page at "
                             f"{ppn << 12:#x} (PPN {ppn:#x})")
                w.step("gpa", f"{ppn << 12:#x} + offset {va & 0xFFF:#x} = {w.gpa:#x}")
            return w
        if level == 0:
            w.fault = "a pointer PTE at the last level: page fault"
            w.step(name, f"at {where}: {pte:#010x} not a leaf at level 0 -> page fault")
            return w
        a = pte_ppn(pte) * PAGE
        w.step(name, f"at {where}: {pte:#010x} ({pte_flags(pte)}): not a leaf, next table at "
                     f"{a:#x}")
    return w


def stage2(vm, w):
    """The G-stage map: guest-physical page -> host page -> byte offset in the host array."""
    gpa = w.gpa
    if gpa is None:
        return w
    if not vm.in_ram(gpa):
        w.fault = f"guest-physical {gpa:#x} is not RAM (a device or a hole): no host page"
        w.step("g-stage", w.fault)
        return w
    index = (gpa - RAM_BASE) // PAGE
    w.guest_page = index
    host = int(vm.gmap[index])
    if host < 0:
        w.fault = "not backed yet: the first touch will exit to the monitor (demand paging)"
        w.step("g-stage", f"guest page ({gpa:#x} - {RAM_BASE:#x}) / 4096 = {index:#x} -> "
                          f"{w.fault}")
        return w
    w.host_page = host
    w.host_offset = host * PAGE + (gpa & 0xFFF)
    w.owner = int(vm.engine.memory.owner[host])
    w.step("g-stage", f"guest page ({gpa:#x} - {RAM_BASE:#x}) / 4096 = {index:#x} -> host page "
                      f"{host} (owner: VM {w.owner})")
    w.step("host", f"host offset {host} x 4096 + {gpa & 0xFFF:#x} = {w.host_offset:#x} in the "
                   f"host array")
    return w


def translate(vm, va, satp=None):
    """Both stages for a VM, from its own satp unless one is given."""
    from .. import state as S
    satp = int(vm.st[S.SATP]) if satp is None else satp
    w = stage1(lambda gpa: read_word(vm, gpa), satp, va)
    return stage2(vm, w)
