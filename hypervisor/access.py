"""Loads, stores and atomics that the interpreter's inner loop leaves to this slow path.

The inner loop does aligned loads and stores that hit the TLB.  Everything else comes here,
one instruction at a time: TLB misses, misaligned accesses (emulated byte by byte, across pages
too, never silently aligned), device accesses (an exit to the monitor) and all of the A
extension (lr.w, sc.w, amo*.w).  Every byte is translated before any byte is written, so a fault
or exit leaves memory untouched and the instruction can simply be restarted.  Every byte
written is reported to the predecode cache (icache.code_written).

The LR/SC reservation is held on the *physical* address: the host index of the reserved word,
one-to-one with its guest-physical address, so a change of the guest's page tables between
lr.w and sc.w cannot make sc.w succeed on another page.  sc.w translates its address (and
faults) whether or not the reservation holds, as Spike does, so it raises the same exceptions
as a store: lr.w faults as a load, sc.w and the AMOs as stores (store/AMO access fault on a
device, which supports no atomics).
"""
import numpy as np
from .jit import callee

from .icache import code_written
from .mmu import T_ACCESS_FAULT, T_DEVICE, T_OK, T_PAGE_FAULT, host_index
from .state import (ACCESS_READ, ACCESS_WRITE, EXIT_ACCESS, EXIT_INSN, EXIT_PC, EXIT_TVAL,
                    EXIT_VADDR, RES_ADDR)
from .trap import (CAUSE_LOAD_ACCESS, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_PAGE, CAUSE_STORE_ACCESS,
                   CAUSE_STORE_MISALIGNED, CAUSE_STORE_PAGE)

# exec_mem() results
M_OK = 0            # done: the instruction retired
M_EXCEPTION = 1     # the returned value is the cause, EXIT_TVAL the faulting address
M_EXIT = 2          # the monitor must act (demand page or device): EXIT_* describe the access
M_ILLEGAL = 3       # reserved encoding

M32 = 0xFFFFFFFF
# funct5 values of sc.w and the amo*.w instructions, as a bit set
AMO_FUNCT5 = sum(1 << f for f in (0x00, 0x01, 0x03, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C))
MAX_BYTES = 4
# constants passed to helpers as typed values, not literals: one compiled version of each
# helper instead of one per literal argument (cold compile time)
I64 = np.int64
YES, NO = np.bool_(True), np.bool_(False)


@callee
def _fault(st, status, write, va):
    """Map a translate() failure to an exception cause (or M_EXIT for the monitor)."""
    st[EXIT_TVAL] = va
    if status == T_PAGE_FAULT:
        return M_EXCEPTION, CAUSE_STORE_PAGE if write else CAUSE_LOAD_PAGE
    if status == T_ACCESS_FAULT:
        return M_EXCEPTION, CAUSE_STORE_ACCESS if write else CAUSE_LOAD_ACCESS
    return M_EXIT, 0


@callee
def _locate(st, tlb, gmap, ram, va, size, write, hs, ins, pc, device_ok):
    """Translate each byte of [va, va+size) into hs.  Returns (M_OK, 0) or a failure."""
    access = ACCESS_WRITE if write else ACCESS_READ
    for i in range(size):
        a = (va + i) & M32
        status, h = host_index(st, tlb, gmap, ram, a, access)
        if status != T_OK:
            if status == T_DEVICE and not (device_ok and i == 0 and (va & (size - 1)) == 0):
                status = T_ACCESS_FAULT     # misaligned or atomic device access
            result, cause = _fault(st, status, write, a)
            if result == M_EXIT:
                st[EXIT_VADDR] = a
                st[EXIT_ACCESS] = access
                st[EXIT_INSN] = ins
                st[EXIT_PC] = pc
            return result, cause
        hs[i] = h
    return M_OK, 0


@callee
def _load(ram, hs, size):
    v = np.int64(0)
    for i in range(size):
        v |= np.int64(ram[hs[i]]) << (8 * i)
    return v


@callee
def _store(tlb, ram, hs, size, v):
    for i in range(size):
        ram[hs[i]] = (v >> (8 * i)) & 0xFF
        code_written(tlb, hs[i], I64(1))


@callee
def _sx(v, bits):
    sign = np.int64(1) << (bits - 1)
    return ((v ^ sign) - sign)


@callee
def _amo(f5, old, src):
    """The new memory value of amo<op>.w (A extension, "Atomic Memory Operations")."""
    if f5 == 0x01:      # amoswap.w
        return src
    if f5 == 0x00:      # amoadd.w
        return (old + src) & M32
    if f5 == 0x04:      # amoxor.w
        return old ^ src
    if f5 == 0x0C:      # amoand.w
        return old & src
    if f5 == 0x08:      # amoor.w
        return old | src
    so, ss = _sx(old, I64(32)), _sx(src, I64(32))
    if f5 == 0x10:      # amomin.w
        return old if so < ss else src
    if f5 == 0x14:      # amomax.w
        return old if so > ss else src
    if f5 == 0x18:      # amominu.w
        return old if old < src else src
    return old if old > src else src    # 0x1C amomaxu.w


@callee
def exec_atomic(st, tlb, gmap, ram, ins, pc, hs):
    """lr.w / sc.w / amo*.w (opcode 0101111, funct3 010)."""
    f5 = ins >> 27
    rd = (ins >> 7) & 31
    rs2 = (ins >> 20) & 31
    va = st[(ins >> 15) & 31]
    valid = ((AMO_FUNCT5 >> f5) & 1) != 0 or (f5 == 0x02 and rs2 == 0)
    if ((ins >> 12) & 7) != 2 or not valid:
        return M_ILLEGAL, 0
    if f5 == 0x02:                               # lr.w
        if va & 3:
            st[EXIT_TVAL] = va
            return M_EXCEPTION, CAUSE_LOAD_MISALIGNED
        r, cause = _locate(st, tlb, gmap, ram, va, I64(4), NO, hs, ins, pc, NO)
        if r != M_OK:
            return r, cause
        v = _load(ram, hs, I64(4))
        if rd != 0:
            st[rd] = v
        st[RES_ADDR] = hs[0]                     # the physical word (aligned: one page)
        return M_OK, 0
    if va & 3:
        st[EXIT_TVAL] = va
        return M_EXCEPTION, CAUSE_STORE_MISALIGNED
    r, cause = _locate(st, tlb, gmap, ram, va, I64(4), YES, hs, ins, pc, NO)
    if r != M_OK:
        return r, cause
    if f5 == 0x03:                               # sc.w: fails unless the reservation holds
        held = st[RES_ADDR] == hs[0]
        st[RES_ADDR] = -1
        if held:
            _store(tlb, ram, hs, I64(4), st[rs2])
        if rd != 0:
            st[rd] = 0 if held else 1
        return M_OK, 0
    old = _load(ram, hs, I64(4))
    _store(tlb, ram, hs, I64(4), _amo(f5, old, st[rs2]))
    if rd != 0:
        st[rd] = old
    return M_OK, 0


@callee
def load_store_operand(st, ins):
    """(virtual address, size in bytes, is a store) of lb/lh/lw/lbu/lhu/sb/sh/sw (opcodes
    0000011, 0100011), or size 0 for a reserved funct3 or any other opcode."""
    f3 = (ins >> 12) & 7
    op = ins & 0x7F
    if op == 0x03:
        if f3 == 3 or f3 >= 6:
            return 0, 0, False
        imm = _sx(ins, I64(32)) >> 20
    elif op == 0x23:
        if f3 > 2:
            return 0, 0, False
        imm = ((_sx(ins, I64(32)) >> 20) & ~31) | ((ins >> 7) & 31)
    else:
        return 0, 0, False
    return (st[(ins >> 15) & 31] + imm) & M32, 1 << (f3 & 3), op == 0x23


@callee
def exec_mem(st, tlb, gmap, ram, ins, pc, hs):
    """A load, store or atomic the inner loop could not do.  Returns (M_*, cause)."""
    if (ins & 0x7F) == 0x2F:
        return exec_atomic(st, tlb, gmap, ram, ins, pc, hs)
    va, size, store = load_store_operand(st, ins)
    if size == 0:
        return M_ILLEGAL, 0
    r, cause = _locate(st, tlb, gmap, ram, va, size, store, hs, ins, pc, YES)
    if r != M_OK:
        return r, cause
    if store:                                    # sb sh sw
        _store(tlb, ram, hs, size, st[(ins >> 20) & 31])
        return M_OK, 0
    v = _load(ram, hs, size)                     # lb lh lw lbu lhu
    if ((ins >> 12) & 4) == 0 and size < 4:
        v = _sx(v, 8 * size) & M32
    rd = (ins >> 7) & 31
    if rd != 0:
        st[rd] = v
    return M_OK, 0
