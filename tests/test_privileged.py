"""Privileged behaviour of the hart, each expected value derived by hand from the RISC-V
privileged spec (ch. "Supervisor-Level ISA": sstatus, stvec, sip/sie, sepc, scause, stval,
satp, Sv32) and the unprivileged spec's Zicsr/counters chapters.

Budgets: run(n) executes at most n steps, an instruction or a trap taken into the guest being
one step each (so run(1) on a faulting instruction stops right after the trap entry, before
the handler is fetched).  Interrupts are taken between instructions and cost no step.
"""
import shutil
import threading
import time

import numpy as np
import pytest
from hart import BASE, DATA, DIV, SIZE, VM
from hypervisor.icache import written
from hypervisor.mmu import tlb_flush

from hypervisor.state import (
    ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, CNT_COUNTER, CNT_CSR_READ, CNT_CSR_WRITE,
    CNT_EXC_DELEGATED, CNT_EXC_MONITOR, CNT_GSTAGE, CNT_IRQ, CNT_MMIO, CNT_SBI, CNT_SFENCE,
    CNT_SRET, CNT_WFI, CYCLE, EXIT_ACCESS, EXIT_CAUSE, EXIT_GPA, EXIT_INSN, EXIT_PC, EXIT_TVAL,
    EXIT_VADDR, IDLE, INSTRET, PC, PRIV, PRIV_S, PRIV_U, RES_ADDR, RUN_BUDGET, RUN_CRASH,
    RUN_GSTAGE, RUN_IDLE, RUN_SBI, RUN_STOP, RUN_TRAP, SATP, SCAUSE, SCOUNTEREN, SEPC, SIE,
    SIP, SSTATUS, STVAL, STVEC, TIMECMP, TRAP_VIA_MONITOR, WALLCLOCK)
from test_isa import _assemble

ASM = []                                    # (word, assembly) of every word, re-assembled below


def W(asm, word):
    ASM.append((word, asm))
    return word


HANDLER = BASE + 0x800
INT = 1 << 31                               # scause: interrupt bit
# sstatus bits
SIE_, SPIE, SPP, SUM, MXR = 1 << 1, 1 << 5, 1 << 8, 1 << 18, 1 << 19
# sip / sie bits: supervisor software, timer, external
SSI, STI, SEI = 1 << 1, 1 << 5, 1 << 9
# causes
MISALIGNED_FETCH, FETCH_ACCESS, ILLEGAL, BREAKPOINT = 0, 1, 2, 3
LOAD_ACCESS, STORE_ACCESS, ECALL_U = 5, 7, 8
FETCH_PAGE, LOAD_PAGE, STORE_PAGE = 12, 13, 15
MMIO = 0x1000_0000                          # a guest-physical address outside RAM (a device)

NOP = W("nop", 0x00000013)
EBREAK = W("ebreak", 0x00100073)
ECALL = W("ecall", 0x00000073)
SRET = W("sret", 0x10200073)
WFI = W("wfi", 0x10500073)
LW = W("lw x3, 0(x1)", 0x0000A183)
SW = W("sw x2, 0(x1)", 0x0020A023)
JALR = W("jalr x0, 0(x1)", 0x00008067)
AMOADD = W("amoadd.w x3, x2, (x1)", 0x0020A1AF)
LR = W("lr.w x3, (x1)", 0x1000A1AF)
SC = W("sc.w x4, x2, (x1)", 0x1820A22F)
ADDI42 = W("addi x5, x0, 42", 0x02A00293)
SET_SSIP = W("csrrsi x0, sip, 2", 0x14416073)
JSELF = W("jal x0, .+0", 0x0000006F)


def machine(words=(), at=BASE, **kw):
    """A VM with ``words`` at ``at``, stvec = HANDLER and nops at the handler."""
    vm = VM(pc=at, **kw)
    vm[STVEC] = HANDLER
    vm.load(HANDLER, [NOP] * 64)
    vm.load(at, list(words))
    return vm


# ================================================================ trap entry and return

def test_exception_entry_from_s_mode():
    vm = machine([EBREAK])
    vm[SSTATUS] = SIE_
    assert vm.run(1) == RUN_BUDGET
    assert vm[SCAUSE] == BREAKPOINT and vm[SEPC] == BASE
    assert vm[STVAL] in (0, BASE)           # ebreak: stval is zero or the faulting pc
    assert vm[SSTATUS] == SPP | SPIE        # SPP = S, SPIE = old SIE, SIE cleared
    assert vm[PC] == HANDLER and vm[PRIV] == PRIV_S
    assert vm[INSTRET] == 0                 # a trapping instruction does not retire
    assert vm[CNT_EXC_DELEGATED] == 1


def test_exception_entry_from_u_mode():
    vm = machine([ECALL], priv=PRIV_U)
    vm[SSTATUS] = SPP                       # stale SPP: must become U
    assert vm.run(1) == RUN_BUDGET
    assert vm[SCAUSE] == ECALL_U and vm[SEPC] == BASE and vm[STVAL] == 0
    assert vm[SSTATUS] == 0                 # SPP = U, SPIE = old SIE (0), SIE = 0
    assert vm[PRIV] == PRIV_S and vm[PC] == HANDLER


def test_sret_to_u_mode():
    vm = machine([SRET])
    vm[SEPC], vm[SSTATUS] = BASE + 0x100, SPIE          # SPP = U
    assert vm.run(1) == RUN_BUDGET
    assert vm[PRIV] == PRIV_U and vm[PC] == BASE + 0x100
    assert vm[SSTATUS] == SIE_ | SPIE       # SIE = SPIE, SPIE = 1, SPP = U
    assert vm[CNT_SRET] == 1


def test_sret_to_s_mode():
    vm = machine([SRET])
    vm[SEPC], vm[SSTATUS] = BASE + 0x100, SPP | SIE_    # SPIE = 0
    assert vm.run(1) == RUN_BUDGET
    assert vm[PRIV] == PRIV_S and vm[PC] == BASE + 0x100
    assert vm[SSTATUS] == SPIE              # SIE = old SPIE (0), SPIE = 1, SPP = U


def test_ecall_from_u_mode_round_trip():
    """U: ecall -> S handler: sepc += 4; sret -> U continues after the ecall."""
    vm = machine([ECALL, W("addi x6, x0, 1", 0x00100313)], priv=PRIV_U)
    vm.load(HANDLER, [W("csrrs x5, sepc, x0", 0x141022F3), W("addi x5, x5, 4", 0x00428293),
                      W("csrrw x0, sepc, x5", 0x14129073), SRET])
    assert vm.run(6) == RUN_BUDGET          # trap + 4 handler instructions + addi
    assert vm.x(6) == 1 and vm[PRIV] == PRIV_U and vm[PC] == BASE + 8


@pytest.mark.parametrize("word, name", [(SRET, "sret"), (WFI, "wfi"),
                                        (W("sfence.vma x0, x0", 0x12000073), "sfence.vma"),
                                        (W("csrrs x3, sstatus, x0", 0x100021F3), "csrr sstatus"),
                                        (W("csrrs x3, sscratch, x0", 0x140021F3), "csrr sscratch")])
def test_supervisor_instructions_from_u_mode_are_illegal(word, name):
    vm = machine([word], priv=PRIV_U, x3=0x5A5A)
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (ILLEGAL, word, BASE)
    assert vm[PRIV] == PRIV_S and vm.x(3) == 0x5A5A


def test_vectored_stvec_exceptions_use_the_base():
    vm = machine([EBREAK])
    vm[STVEC] = HANDLER | 1
    assert vm.run(1) == RUN_BUDGET and vm[PC] == HANDLER


@pytest.mark.parametrize("pending, cause", [(SSI, 1), (STI, 5), (SEI, 9)])
def test_vectored_stvec_interrupts_use_base_plus_4_cause(pending, cause):
    vm = machine([NOP])
    vm[STVEC], vm[SSTATUS], vm[SIE] = HANDLER | 1, SIE_, pending
    if pending == STI:
        vm[TIMECMP] = 0                     # time 0 >= 0: the timer is due
    else:
        vm[SIP] = pending                   # SEIP from the monitor's PLIC; SSIP as if written
    assert vm.run(1) == RUN_BUDGET          # interrupt, then one nop in the vector
    assert vm[SCAUSE] == INT | cause and vm[SEPC] == BASE
    assert vm[PC] == HANDLER + 4 * cause + 4


def test_no_stvec_crashes_the_vm():
    vm = machine([EBREAK])
    vm[STVEC] = 0
    assert vm.run(10) == RUN_CRASH
    assert (vm[EXIT_CAUSE], vm[EXIT_PC]) == (BREAKPOINT, BASE)


def test_a_trap_storm_still_honours_the_budget():
    """stvec points at an illegal word: every trap traps again.  run() must still return."""
    vm = machine([0])
    vm.load(HANDLER, [0])
    timer = threading.Timer(5.0, lambda: vm.stop.__setitem__(0, 1))   # never hang the suite
    timer.start()
    try:
        code = vm.run(1000)
    finally:
        timer.cancel()
    assert code == RUN_BUDGET
    assert vm[SCAUSE] == ILLEGAL and vm[SEPC] == HANDLER and vm[PC] == HANDLER


# ================================================================ delegation on and off

def test_exceptions_are_delegated_to_the_guest_by_default():
    vm = machine([0xFFFFFFFF])
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[PC]) == (ILLEGAL, 0xFFFFFFFF, HANDLER)
    assert vm[CNT_EXC_DELEGATED] == 1


@pytest.mark.parametrize("word, priv, x1, cause, tval", [
    (0xFFFFFFFF, PRIV_S, 0, ILLEGAL, 0xFFFFFFFF),
    (ECALL, PRIV_U, 0, ECALL_U, 0),
    (W("lw x3, 1(x1)", 0x0010A183), PRIV_S, MMIO, LOAD_ACCESS, MMIO + 1),    # misaligned MMIO
    (JALR, PRIV_S, MMIO, FETCH_ACCESS, MMIO),
])
def test_trap_via_monitor(word, priv, x1, cause, tval):
    """TRAP_VIA_MONITOR = 1: the exception exits (RUN_TRAP) before any guest state changes."""
    vm = machine([word], priv=priv, x1=x1)
    vm[TRAP_VIA_MONITOR], vm[SSTATUS] = 1, SIE_
    assert vm.run(10) == RUN_TRAP
    pc = MMIO if word == JALR else BASE
    assert (vm[EXIT_CAUSE], vm[EXIT_TVAL], vm[EXIT_PC]) == (cause, tval, pc)
    assert vm[PC] == pc and vm[PRIV] == priv and vm[SSTATUS] == SIE_
    assert (vm[SCAUSE], vm[SEPC], vm[STVAL]) == (0, 0, 0)
    assert vm[CNT_EXC_DELEGATED] == 0


def test_trap_via_monitor_still_exits_for_sbi_and_takes_interrupts():
    vm = machine([NOP, ECALL])
    vm[TRAP_VIA_MONITOR] = 1
    assert vm.run(10) == RUN_SBI and vm[PC] == BASE + 4
    vm = machine([NOP])
    vm[TRAP_VIA_MONITOR], vm[SSTATUS], vm[SIE], vm[SIP] = 1, SIE_, SSI, SSI
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == INT | 1 and vm[CNT_IRQ] == 1


# ================================================================ interrupts and masking

def test_ssip_written_by_the_guest_is_taken_after_the_csr_instruction():
    vm = machine([SET_SSIP, NOP])
    vm[SSTATUS], vm[SIE] = SIE_, SSI
    assert vm.run(2) == RUN_BUDGET          # csrrsi, interrupt, one handler nop
    assert vm[SCAUSE] == INT | 1 and vm[SEPC] == BASE + 4 and vm[STVAL] == 0
    assert vm[SSTATUS] == SPP | SPIE and vm[PC] == HANDLER + 4
    assert vm[CNT_IRQ] == 1


def test_sstatus_sie_masks_interrupts_in_s_mode():
    vm = machine([SET_SSIP, NOP, NOP])
    vm[SIE] = SSI                           # sstatus.SIE = 0
    assert vm.run(2) == RUN_BUDGET
    assert vm[PC] == BASE + 8 and vm[SIP] & SSI and vm[CNT_IRQ] == 0
    vm[SSTATUS] = SIE_                      # unmask: taken before the next instruction
    assert vm.run(1) == RUN_BUDGET
    assert vm[SCAUSE] == INT | 1 and vm[SEPC] == BASE + 8


def test_sie_masks_interrupts():
    vm = machine([SET_SSIP, NOP])
    vm[SSTATUS], vm[SIE] = SIE_, STI | SEI  # SSIE = 0
    assert vm.run(2) == RUN_BUDGET and vm[PC] == BASE + 8 and vm[CNT_IRQ] == 0


def test_u_mode_takes_interrupts_whatever_sstatus_sie():
    vm = machine([NOP], priv=PRIV_U)
    vm[SIE], vm[SIP] = SSI, SSI             # sstatus.SIE = 0
    assert vm.run(1) == RUN_BUDGET
    assert vm[SCAUSE] == INT | 1 and vm[SEPC] == BASE
    assert vm[PRIV] == PRIV_S and vm[SSTATUS] == 0      # SPP = U, SPIE = 0
    vm = machine([NOP], priv=PRIV_U)
    vm[SIP] = SSI                           # but sie still masks in U-mode
    assert vm.run(1) == RUN_BUDGET and vm[PC] == BASE + 4 and vm[PRIV] == PRIV_U


def test_timer_interrupt_fires_when_time_reaches_timecmp():
    """time = cycle // DIV: with timecmp 5, STIP rises after 5 * DIV instructions."""
    vm = machine([NOP] * 100)
    vm[SSTATUS], vm[SIE], vm[TIMECMP] = SIE_, STI, 5
    assert vm.run(60) == RUN_BUDGET
    assert vm[SCAUSE] == INT | 5 and vm[SEPC] == BASE + 4 * 5 * DIV
    assert vm[PC] == HANDLER + 4 * (60 - 5 * DIV)


def test_stip_is_visible_in_sip_and_not_writable():
    vm = machine([W("csrrc x0, sip, x2", 0x14413073), W("csrrs x3, sip, x0", 0x144021F3)],
                 x2=STI | SEI)
    vm[TIMECMP], vm[SIP] = 0, SEI           # timer due; external pending; both masked
    assert vm.run(2) == RUN_BUDGET
    assert vm.x(3) == STI | SEI             # sip.STIP and sip.SEIP are read-only in sip


def test_sip_writes_change_only_ssip():
    vm = machine([W("csrrw x0, sip, x1", 0x14409073), W("csrrs x3, sip, x0", 0x144021F3)],
                 x1=0xFFFFFFFF)
    assert vm.run(2) == RUN_BUDGET and vm.x(3) == SSI


def test_external_interrupt_from_the_monitor():
    vm = machine([NOP])
    vm[SSTATUS], vm[SIE], vm[SIP] = SIE_, SEI, SEI
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == INT | 9 and vm[SEPC] == BASE


def test_interrupt_priority_sei_ssi_sti():
    vm = machine([NOP])
    vm[SSTATUS], vm[SIE], vm[SIP], vm[TIMECMP] = SIE_, SSI | STI | SEI, SSI | SEI, 0
    causes = []
    for clear in (SEI, SSI):
        assert vm.run(1) == RUN_BUDGET
        causes.append(vm[SCAUSE] & ~INT)
        vm[SIP] &= ~clear                   # the handler acknowledged it
        vm[SSTATUS] |= SIE_
    assert vm.run(1) == RUN_BUDGET
    causes.append(vm[SCAUSE] & ~INT)
    assert causes == [9, 1, 5]


# ================================================================ Sv32

V, R, Wr, X, U, G, A, D = 1, 2, 4, 8, 16, 32, 64, 128
ROOT = BASE + 0x2_0000
CODE_VA = 0x0001_0000       # -> BASE
HVA = 0x0002_0000           # -> BASE + 0x2000, an S-mode handler page
DVA = 0x0040_0000           # -> DATA


class Pages:
    """Sv32 page tables built by hand in guest RAM: a root at ROOT, level-0 tables after it."""

    def __init__(self, vm):
        self.vm, self.next = vm, ROOT + 0x1000
        vm[SATP] = (1 << 31) | (ROOT >> 12)            # MODE = Sv32, ASID 0, root PPN

    def map(self, va, pa, flags):
        """A 4 KiB leaf; returns the guest-physical address of its PTE."""
        vm = self.vm
        l1 = ROOT + (va >> 22) * 4
        if not vm.r32(l1) & V:
            vm.w32(l1, ((self.next >> 12) << 10) | V)
            self.next += 0x1000
        pte = ((vm.r32(l1) >> 10) << 12) + ((va >> 12) & 0x3FF) * 4
        vm.w32(pte, ((pa >> 12) << 10) | flags)
        return pte

    def mega(self, va, pa, flags):
        """A 4 MiB leaf in the root table."""
        self.vm.w32(ROOT + (va >> 22) * 4, ((pa >> 12) << 10) | flags)
        return ROOT + (va >> 22) * 4


def paged(words, priv=PRIV_S, code_flags=None, **regs):
    """A VM with paging on, running ``words`` at CODE_VA in ``priv`` mode."""
    vm = VM(pc=CODE_VA, priv=priv, **regs)
    vm[STVEC] = HVA
    p = Pages(vm)
    if code_flags is None:
        code_flags = V | R | X | A | (U if priv == PRIV_U else 0)
    p.map(CODE_VA, BASE, code_flags)
    p.map(HVA, BASE + 0x2000, V | R | X | A)
    vm.load(BASE, list(words))
    vm.load(BASE + 0x2000, [NOP] * 16)
    return vm, p


LOAD, STORE, EXEC, AMO = "load", "store", "exec", "amo"
PERMS = [
    # priv    leaf flags     sstatus    access  allowed
    (PRIV_S, V | R,          0,         LOAD,   True),
    (PRIV_S, V | R,          0,         STORE,  False),
    (PRIV_S, V | R,          0,         AMO,    False),
    (PRIV_S, V | R,          0,         EXEC,   False),
    (PRIV_S, V | R | Wr,     0,         LOAD,   True),
    (PRIV_S, V | R | Wr,     0,         STORE,  True),
    (PRIV_S, V | R | Wr,     0,         AMO,    True),
    (PRIV_S, V | X,          0,         LOAD,   False),
    (PRIV_S, V | X,          MXR,       LOAD,   True),      # MXR: executable is readable
    (PRIV_S, V | X,          MXR,       STORE,  False),
    (PRIV_S, V | X,          0,         EXEC,   True),
    (PRIV_S, V | R | X,      0,         EXEC,   True),
    (PRIV_S, V | U | R | Wr, 0,         LOAD,   False),     # U page, SUM = 0
    (PRIV_S, V | U | R | Wr, 0,         STORE,  False),
    (PRIV_S, V | U | R | Wr, SUM,       LOAD,   True),
    (PRIV_S, V | U | R | Wr, SUM,       STORE,  True),
    (PRIV_S, V | U | R | Wr | X, SUM,   EXEC,   False),     # S never executes U pages
    (PRIV_S, V | U | X,      SUM | MXR, LOAD,   True),
    (PRIV_S, V | U | X,      MXR,       LOAD,   False),
    (PRIV_U, V | U | R,      0,         LOAD,   True),
    (PRIV_U, V | U | R,      0,         STORE,  False),
    (PRIV_U, V | U | R,      0,         EXEC,   False),
    (PRIV_U, V | U | R | Wr, 0,         STORE,  True),
    (PRIV_U, V | U | X,      0,         EXEC,   True),
    (PRIV_U, V | U | X,      0,         LOAD,   False),
    (PRIV_U, V | U | X,      MXR,       LOAD,   True),
    (PRIV_U, V | R | Wr,     0,         LOAD,   False),     # not a U page
    (PRIV_U, V | R | Wr,     SUM,       LOAD,   False),     # SUM is for S-mode only
    (PRIV_U, V | R | Wr,     SUM,       STORE,  False),
    (PRIV_U, V | R | Wr | X, 0,         EXEC,   False),
    (PRIV_S, R | Wr | X,     0,         LOAD,   False),     # V = 0
    (PRIV_S, R | Wr | X,     0,         STORE,  False),
    (PRIV_S, R | Wr | X,     0,         EXEC,   False),
    (PRIV_S, V | Wr,         0,         LOAD,   False),     # W without R: reserved
    (PRIV_S, V | Wr,         0,         STORE,  False),
    (PRIV_S, V | Wr | X,     MXR,       LOAD,   False),
    (PRIV_S, V | Wr | X,     0,         EXEC,   False),
    (PRIV_S, V,              0,         LOAD,   False),     # a pointer at the last level
]
INSN = {LOAD: (LW, LOAD_PAGE), STORE: (SW, STORE_PAGE), EXEC: (JALR, FETCH_PAGE),
        AMO: (AMOADD, STORE_PAGE)}


def _flags(f):
    return "".join(n for b, n in ((V, "V"), (U, "U"), (R, "R"), (Wr, "W"), (X, "X")) if f & b)



@pytest.mark.parametrize("priv, flags, status, access, allowed", PERMS, ids=[
    f"{'SU'[p == PRIV_U]}-{_flags(f)}-{'SUM' if s & SUM else ''}{'MXR' if s & MXR else ''}-{a}"
    for p, f, s, a, _ in PERMS])
def test_sv32_permissions(priv, flags, status, access, allowed):
    word, cause = INSN[access]
    vm, p = paged([word, NOP], priv=priv, x1=DVA + 8, x2=0xCAFEBABE, x3=0x5A5A)
    vm[SSTATUS] = status
    p.map(DVA, DATA, flags | A | D)
    vm.w32(DATA + 8, ADDI42)
    assert vm.run(2) == RUN_BUDGET
    if allowed:
        assert vm[SCAUSE] == 0 and vm[PRIV] == priv
        if access == LOAD:
            assert vm.x(3) == ADDI42
        elif access == STORE:
            assert vm.r32(DATA + 8) == 0xCAFEBABE
        elif access == AMO:
            assert vm.x(3) == ADDI42 and vm.r32(DATA + 8) == (ADDI42 + 0xCAFEBABE) & 0xFFFFFFFF
        else:
            assert vm.x(5) == 42 and vm[PC] == DVA + 12
    else:
        assert vm[SCAUSE] == cause and vm[STVAL] == DVA + 8
        assert vm[SEPC] == (DVA + 8 if access == EXEC else CODE_VA)
        assert vm[PRIV] == PRIV_S and vm[SSTATUS] & SPP == (SPP if priv == PRIV_S else 0)
        assert vm.x(3) == 0x5A5A and vm.r32(DATA + 8) == ADDI42


def test_accessed_and_dirty_bits_are_set_by_the_hart():
    vm, p = paged([LW, SW, NOP], code_flags=V | R | X, x1=DVA, x2=7)
    data_pte = p.map(DVA, DATA, V | R | Wr)
    root_entry = vm.r32(ROOT + (DVA >> 22) * 4)
    code_pte = ROOT + 0x1000 + ((CODE_VA >> 12) & 0x3FF) * 4
    assert vm.run(1) == RUN_BUDGET
    assert vm.r32(data_pte) & (A | D) == A              # read: accessed, not dirty
    assert vm.r32(code_pte) & (A | D) == A              # fetched: accessed
    assert vm.run(1) == RUN_BUDGET                      # the store, after a cached read
    assert vm.r32(data_pte) & (A | D) == A | D
    assert vm.r32(ROOT + (DVA >> 22) * 4) == root_entry  # non-leaf PTE untouched


@pytest.mark.parametrize("word, bits", [(AMOADD, A | D), (LR, A)], ids=["amo", "lr"])
def test_atomics_set_accessed_and_dirty_bits(word, bits):
    vm, p = paged([word], x1=DVA, x2=1)
    data_pte = p.map(DVA, DATA, V | R | Wr)
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == 0
    assert vm.r32(data_pte) & (A | D) == bits


def test_a_faulting_access_sets_no_bits():
    vm, p = paged([SW], x1=DVA, x2=7)
    data_pte = p.map(DVA, DATA, V | R)
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == STORE_PAGE
    assert vm.r32(data_pte) == ((DATA >> 12) << 10) | V | R


def test_megapage():
    vm, p = paged([LW, SW], x1=0x0080_0000 + 0x1_0008, x2=0x77)
    leaf = p.mega(0x0080_0000, BASE, V | R | Wr)        # 4 MiB at 0x80000000 (aligned)
    vm.w32(DATA + 8, 0x12345678)
    assert vm.run(2) == RUN_BUDGET and vm[SCAUSE] == 0
    assert vm.x(3) == 0x12345678 and vm.r32(DATA + 8) == 0x77
    assert vm.r32(leaf) & (A | D) == A | D


def test_misaligned_megapage_faults():
    """A leaf at level 1 whose PPN[0] is not zero is a misaligned superpage: page fault."""
    vm, p = paged([LW], x1=0x00C0_0010, x3=0x5A5A)
    p.mega(0x00C0_0000, BASE + 0x1000, V | R | Wr | A | D)
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm.x(3)) == (LOAD_PAGE, 0x00C0_0010, 0x5A5A)


@pytest.mark.parametrize("word, cause", [(W("lw x3, 6(x1)", 0x0060A183), LOAD_PAGE),
                                         (W("sw x2, 6(x1)", 0x0020A323), STORE_PAGE)])
def test_page_fault_reports_the_faulting_address(word, cause):
    vm, p = paged([word], x1=0x0050_0000)               # nothing mapped there
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (cause, 0x0050_0006, CODE_VA)


def test_misaligned_access_within_a_page_works_under_paging():
    vm, p = paged([W("lw x3, 1(x1)", 0x0010A183)], x1=DVA)
    p.map(DVA, DATA, V | R | A)
    vm.load(DATA, [0x44332211, 0x88776655])
    assert vm.run(1) == RUN_BUDGET and vm.x(3) == 0x55443322


@pytest.mark.parametrize("word, cause", [(LW, LOAD_PAGE), (SW, STORE_PAGE)])
def test_misaligned_access_into_an_unmapped_page(word, cause):
    """stval holds "the virtual address of the portion of the access that caused the fault";
    the part in the mapped page is not written (the hart makes such accesses restartable)."""
    vm, p = paged([word], x1=DVA + 0xFFE, x2=0x11223344, x3=0x5A5A)
    p.map(DVA, DATA, V | R | Wr | A | D)                # DVA + 0x1000 is not mapped
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL]) == (cause, DVA + 0x1000)
    assert vm.x(3) == 0x5A5A and vm.bytes(DATA + 0xFFC, 4) == bytes(4)


def test_sfence_vma_makes_a_changed_pte_visible():
    vm, p = paged([LW, W("sfence.vma x0, x0", 0x12000073), LW], x1=DVA)
    pte = p.map(DVA, DATA, V | R | A)
    vm.w32(DATA, 111)
    vm.w32(DATA + 0x1000, 222)
    assert vm.run(1) == RUN_BUDGET and vm.x(3) == 111
    vm.w32(pte, (((DATA + 0x1000) >> 12) << 10) | V | R | A)   # remapped behind the TLB
    assert vm.run(2) == RUN_BUDGET and vm.x(3) == 222


def test_satp_write_turns_paging_on():
    vm = VM(x8=(1 << 31) | (ROOT >> 12), x2=DVA)
    vm[STVEC] = HANDLER
    p = Pages(vm)
    vm[SATP] = 0                                        # tables built, paging still off
    p.map(BASE, BASE, V | R | X | A)                    # the code page, identity-mapped
    p.map(DVA, DATA, V | R | A)
    vm.load(BASE, [W("csrrw x0, satp, x8", 0x18041073), W("lw x3, 0(x2)", 0x00012183)])
    vm.w32(DATA, 0xABCD)
    assert vm.run(2) == RUN_BUDGET and vm[SCAUSE] == 0 and vm.x(3) == 0xABCD


@pytest.mark.parametrize("leaf, bit", [(V | U | R, SUM), (V | X, MXR)], ids=["SUM", "MXR"])
def test_clearing_sum_or_mxr_takes_effect_at_once(leaf, bit):
    vm, p = paged([LW, W("csrrc x0, sstatus, x2", 0x10013073), LW], x1=DVA, x2=bit)
    vm[SSTATUS] = bit
    p.map(DVA, DATA, leaf | A)
    assert vm.run(2) == RUN_BUDGET and vm[SCAUSE] == 0  # allowed, and cached in the TLB
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[SEPC]) == (LOAD_PAGE, CODE_VA + 8)


def test_s_page_read_in_s_mode_is_not_readable_after_sret_to_u():
    vm, p = paged([LW, SRET], x1=DVA)
    p.map(DVA, DATA, V | R | A)                         # supervisor page
    p.map(0x0003_0000, BASE + 0x3000, V | U | R | X | A)
    vm.load(BASE + 0x3000, [W("lw x4, 0(x1)", 0x0000A203)])
    vm[SEPC] = 0x0003_0000                              # SPP = U
    vm.w32(DATA, 99)
    assert vm.run(3) == RUN_BUDGET
    assert vm.x(3) == 99 and vm.x(4) == 0
    assert (vm[SCAUSE], vm[SEPC], vm[STVAL]) == (LOAD_PAGE, 0x0003_0000, DVA)


def test_u_page_read_in_u_mode_is_not_readable_by_s_without_sum():
    vm, p = paged([LW, ECALL], priv=PRIV_U, x1=DVA)
    p.map(DVA, DATA, V | U | R | A)
    vm.load(BASE + 0x2000, [W("lw x4, 0(x1)", 0x0000A203)])     # the S-mode handler
    vm.w32(DATA, 99)
    assert vm.run(3) == RUN_BUDGET                      # lw, ecall trap, lw fault trap
    assert vm.x(3) == 99 and vm.x(4) == 0
    assert (vm[SCAUSE], vm[SEPC], vm[STVAL]) == (LOAD_PAGE, HVA, DVA)


def test_pc_wraps_to_zero_at_the_top_of_the_address_space():
    vm, p = paged([])
    p.map(0xFFFF_F000, BASE + 0x3000, V | R | X | A)
    vm.load(BASE + 0x3FFC, [NOP])
    vm[PC] = 0xFFFF_FFFC
    assert vm.run(1) == RUN_BUDGET and vm[PC] == 0
    vm[PC], vm[CYCLE], vm[TIMECMP] = 0xFFFF_FFFC, 5 * DIV - 1, 5    # timer due right after it
    vm[SSTATUS], vm[SIE] = SIE_, STI
    assert vm.run(10) == RUN_BUDGET
    assert vm[SCAUSE] == INT | 5 and vm[SEPC] == 0
    vm.load(BASE + 0x3FFC, [WFI])
    vm[PC], vm[PRIV], vm[TIMECMP] = 0xFFFF_FFFC, PRIV_S, -1
    assert vm.run(10) == RUN_IDLE and vm[PC] == 0


def test_page_table_outside_ram_is_an_access_fault():
    vm, p = paged([LW], x1=DVA)
    vm.w32(ROOT + (DVA >> 22) * 4, ((MMIO >> 12) << 10) | V)   # level-0 table in a device
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL]) == (LOAD_ACCESS, DVA)


def test_page_table_in_an_unmapped_guest_page_exits_to_the_monitor():
    vm, p = paged([LW], x1=DVA + 8)
    pte = p.map(DVA, DATA, V | R | A)
    vm.gmap[(pte - BASE) >> 12] = -1
    assert vm.run(1) == RUN_GSTAGE
    assert (vm[EXIT_GPA], vm[EXIT_VADDR], vm[EXIT_ACCESS]) == (pte, DVA + 8, ACCESS_READ)
    assert vm[PC] == CODE_VA


# ================================================================ G-stage, devices, isolation

@pytest.mark.parametrize("word, access", [(LW, ACCESS_READ), (SW, ACCESS_WRITE)])
def test_unmapped_guest_page_exits_and_restarts(word, access):
    vm = machine([word], x1=DATA + 8, x2=0x55, x3=0x5A5A)
    page = (DATA - BASE) >> 12
    vm.gmap[page] = -1
    vm.w32(DATA + 8, 0x66)
    assert vm.run(5) == RUN_GSTAGE
    assert (vm[EXIT_GPA], vm[EXIT_VADDR], vm[EXIT_ACCESS]) == (DATA + 8, DATA + 8, access)
    assert (vm[EXIT_PC], vm[EXIT_INSN], vm[PC], vm[INSTRET]) == (BASE, word, BASE, 0)
    assert vm.x(3) == 0x5A5A
    vm.gmap[page] = page                                # the monitor maps it ...
    tlb_flush(vm.tlb)                                   # ... and flushes the TLB
    assert vm.run(1) == RUN_BUDGET
    assert (vm.x(3) if word == LW else vm.r32(DATA + 8)) == (0x66 if word == LW else 0x55)


def test_fetch_from_an_unmapped_guest_page_exits():
    vm = machine([JALR], x1=DATA)
    vm.gmap[(DATA - BASE) >> 12] = -1
    assert vm.run(5) == RUN_GSTAGE
    assert (vm[EXIT_GPA], vm[EXIT_ACCESS], vm[PC]) == (DATA, ACCESS_EXEC, DATA)


@pytest.mark.parametrize("word, access", [(LW, ACCESS_READ), (SW, ACCESS_WRITE)])
def test_device_access_exits_to_the_monitor(word, access):
    vm = machine([word], x1=MMIO + 4, x2=0x41)
    assert vm.run(5) == RUN_GSTAGE
    assert (vm[EXIT_GPA], vm[EXIT_VADDR], vm[EXIT_ACCESS]) == (MMIO + 4, MMIO + 4, access)
    assert (vm[EXIT_INSN], vm[EXIT_PC], vm[PC]) == (word, BASE, BASE)


@pytest.mark.parametrize("word, x1, cause", [
    (W("lw x3, 1(x1)", 0x0010A183), MMIO, LOAD_ACCESS),        # misaligned device access
    (W("sw x2, 3(x1)", 0x0020A1A3), MMIO, STORE_ACCESS),
    (AMOADD, MMIO, STORE_ACCESS),                               # no atomics on devices
    (LR, MMIO, LOAD_ACCESS),
])
def test_device_accesses_that_fault(word, x1, cause):
    vm = machine([word], x1=x1)
    assert vm.run(1) == RUN_BUDGET
    offset = {0x0010A183: 1, 0x0020A1A3: 3}.get(word, 0)
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (cause, MMIO + offset, BASE)


def test_fetch_outside_ram_is_an_instruction_access_fault():
    vm = machine([JALR], x1=MMIO)
    assert vm.run(2) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (FETCH_ACCESS, MMIO, MMIO)


def test_guest_cannot_touch_host_memory_around_its_pages():
    """Guest RAM sits between two guard pages of the host array; nothing reaches them."""
    vm = VM()
    pages = SIZE >> 12
    vm.ram = np.full(SIZE + 2 * 4096, 0xAA, np.uint8)
    vm.ram[4096:4096 + SIZE] = 0
    vm.gmap = np.arange(1, pages + 1, dtype=np.int32)   # guest page i -> host page i + 1
    vm[STVEC] = HANDLER
    code = 4096                                          # host index of BASE
    last = BASE + SIZE - 4
    for word, x1, want in [(SW, last + 2, STORE_ACCESS),      # crosses the end of RAM
                           (SW, last + 4, RUN_GSTAGE),         # just past RAM: a device
                           (SW, BASE - 4, RUN_GSTAGE),         # just below RAM
                           (AMOADD, last + 4, STORE_ACCESS),
                           (W("lw x3, 1(x1)", 0x0010A183), last, LOAD_ACCESS),
                           (SW, last, 0)]:                     # the last word: allowed
        vm.ram[code:code + 4] = np.frombuffer(word.to_bytes(4, "little"), np.uint8)
        written(vm.tlb, code, 4)                         # the decoded copy is stale
        vm[PC], vm[1], vm[2], vm[SCAUSE] = BASE, x1, 0xDDDDDDDD, 0
        code_ = vm.run(1)
        assert (code_ if want == RUN_GSTAGE else vm[SCAUSE]) == want
    assert vm.ram[4096 + SIZE - 4:4096 + SIZE].tolist() == [0xDD] * 4
    assert (vm.ram[:4096] == 0xAA).all() and (vm.ram[4096 + SIZE:] == 0xAA).all()


def test_running_off_the_end_of_ram_is_an_instruction_access_fault():
    vm = machine([NOP], at=BASE + SIZE - 4)
    assert vm.run(2) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (FETCH_ACCESS, BASE + SIZE, BASE + SIZE)


# ================================================================ misaligned control transfer

@pytest.mark.parametrize("word, x1, target", [
    (W("jal x1, .+2", 0x002000EF), 0x5A5A, BASE + 2),
    (W("beq x0, x0, .+6", 0x00000363), 0x5A5A, BASE + 6),
    (W("jalr x1, 0(x1)", 0x000080E7), BASE + 0x102, BASE + 0x102),
])
def test_misaligned_jump_target(word, x1, target):
    """Instruction-address-misaligned on the jump itself (C off: IALIGN = 32), rd not written."""
    vm = machine([word], x1=x1, rvc=False)
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (MISALIGNED_FETCH, target, BASE)
    assert vm.x(1) == x1


@pytest.mark.parametrize("word, x1, target, link", [
    (0x002000EF, 0x5A5A, BASE + 2, BASE + 4),              # jal x1, .+2
    (0x00000363, 0x5A5A, BASE + 6, 0x5A5A),                # beq x0, x0, .+6
    (0x000080E7, BASE + 0x102, BASE + 0x102, BASE + 4),    # jalr x1, 0(x1)
])
def test_2_byte_aligned_jump_target_with_c(word, x1, target, link):
    """With C (IALIGN = 16) the same jumps are legal: pc = the target, x1 = the link."""
    vm = machine([word], x1=x1)
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[PC], vm.x(1)) == (0, target, link)


def test_not_taken_branch_to_a_misaligned_target_does_not_trap():
    vm = machine([W("bne x0, x0, .+6", 0x00001363)])
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == 0 and vm[PC] == BASE + 4


def test_jalr_clears_bit_0_of_the_target():
    vm = machine([W("jalr x1, 0(x1)", 0x000080E7)], x1=BASE + 0x101)
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == 0 and vm[PC] == BASE + 0x100


# ================================================================ self-modifying code

@pytest.mark.parametrize("fence", [W("fence.i", 0x0000100F), NOP], ids=["fence.i", "no-fence"])
def test_self_modifying_code_runs_the_new_bytes(fence):
    vm = machine([W("sw x2, 8(x1)", 0x0020A423), fence, W("addi x5, x0, 1", 0x00100293)],
                 x1=BASE, x2=ADDI42)
    assert vm.run(3) == RUN_BUDGET and vm.x(5) == 42


def test_code_already_run_then_rewritten_runs_the_new_bytes():
    vm = machine([W("addi x5, x5, 1", 0x00128293), SW, W("fence.i", 0x0000100F),
                  W("jal x0, .-12", 0xFF5FF06F)],
                 x1=BASE, x2=W("addi x5, x5, 100", 0x06428293))
    assert vm.run(5) == RUN_BUDGET              # addi +1, sw, fence.i, jal, addi +100
    assert vm.x(5) == 101


# ================================================================ LR/SC reservation

def test_reservation_is_lost_across_a_trap():
    vm = machine([LR, 0], x1=DATA, x2=0x22)
    vm.load(HANDLER, [SC])
    vm.w32(DATA, 0x11)
    assert vm.run(3) == RUN_BUDGET              # lr, illegal-instruction trap, sc
    assert vm[SCAUSE] == ILLEGAL and vm.x(3) == 0x11
    assert vm.x(4) != 0 and vm.r32(DATA) == 0x11


def test_reservation_is_lost_across_an_interrupt():
    vm = machine([LR, SET_SSIP], x1=DATA, x2=0x22)
    vm[SSTATUS], vm[SIE] = SIE_, SSI
    vm.load(HANDLER, [SC])
    vm.w32(DATA, 0x11)
    assert vm.run(3) == RUN_BUDGET              # lr, csrrsi, interrupt, sc
    assert vm[SCAUSE] == INT | 1 and vm.x(4) != 0 and vm.r32(DATA) == 0x11


def test_reservation_is_lost_across_runs():
    vm = machine([LR, SC], x1=DATA, x2=0x22)
    assert vm.run(1) == RUN_BUDGET and vm[RES_ADDR] == DATA - BASE    # its host index
    assert vm.run(1) == RUN_BUDGET              # another VM may have run in between
    assert vm.x(4) != 0 and vm.r32(DATA) == 0


# ================================================================ CSRs and counters

@pytest.mark.parametrize("word, ok", [
    (W("csrrw x0, cycle, x1", 0xC0009073), False),      # csr[11:10] = 3: read-only
    (W("csrrwi x0, time, 0", 0xC0105073), False),       # csrrw always writes
    (W("csrrci x3, instret, 1", 0xC020F1F3), False),
    (W("csrrsi x3, instret, 0", 0xC02061F3), True),     # uimm 0: no write, legal
    (W("csrrs x3, cycle, x0", 0xC00021F3), True),
])
def test_read_only_csr_writes_are_illegal(word, ok):
    vm = machine([NOP, word], x1=5, x3=0x5A5A)
    assert vm.run(2) == RUN_BUDGET
    if ok:
        assert vm[SCAUSE] == 0 and vm.x(3) == 1         # one instruction retired before it
    else:
        assert (vm[SCAUSE], vm[STVAL], vm.x(3)) == (ILLEGAL, word, 0x5A5A)


@pytest.mark.parametrize("write, read, value", [
    (W("csrrw x0, sstatus, x1", 0x10009073), W("csrrs x3, sstatus, x0", 0x100021F3),
     SIE_ | SPIE | SPP | SUM | MXR),                    # FS/XS/VS/UBE/SD read as zero
    (W("csrrw x0, sie, x1", 0x10409073), W("csrrs x3, sie, x0", 0x104021F3), SSI | STI | SEI),
    (W("csrrw x0, sepc, x1", 0x14109073), W("csrrs x3, sepc, x0", 0x141021F3), 0xFFFFFFFE),
    ("no-C", W("csrrs x3, sepc, x0", 0x141021F3), 0xFFFFFFFC),   # IALIGN 32: sepc[1:0] = 0
])
def test_csr_write_all_ones_reads_back_the_legal_bits(write, read, value):
    rvc = write != "no-C"
    write = write if rvc else 0x14109073                # csrrw x0, sepc, x1
    vm = machine([write, read], x1=0xFFFFFFFF, rvc=rvc)
    assert vm.run(2) == RUN_BUDGET and vm[SCAUSE] == 0 and vm.x(3) == value


RDCYCLE = W("csrrs x3, cycle, x0", 0xC00021F3)
RDTIME = W("csrrs x3, time, x0", 0xC01021F3)
RDINSTRET = W("csrrs x3, instret, x0", 0xC02021F3)


def test_counters_count_retired_instructions_and_time():
    vm = machine([NOP] * 5 + [RDINSTRET, W("addi x4, x3, 0", 0x00018213), RDCYCLE,
                              W("addi x5, x3, 0", 0x00018293), RDTIME])
    vm[CYCLE] = 1000
    assert vm.run(10) == RUN_BUDGET
    assert vm.x(4) == 5                                 # instret: the 5 nops
    assert vm.x(5) == 1000 + 7                          # one cycle per instruction
    assert vm.x(3) == (1000 + 9) // DIV                 # time = cycle // TIME_DIV


@pytest.mark.parametrize("word, state, value", [
    (W("csrrs x3, cycleh, x0", 0xC80021F3), CYCLE, (3 << 32) | 7),
    (W("csrrs x3, instreth, x0", 0xC82021F3), INSTRET, (4 << 32) | 7),
    (W("csrrs x3, timeh, x0", 0xC81021F3), CYCLE, DIV * ((2 << 32) | 5)),
])
def test_counter_high_halves(word, state, value):
    vm = machine([word])
    vm[state] = value
    assert vm.run(1) == RUN_BUDGET
    assert vm.x(3) == (value // (DIV if word == 0xC81021F3 else 1)) >> 32


@pytest.mark.parametrize("scounteren", [0, 1, 2, 4, 7])
@pytest.mark.parametrize("word, bit", [(RDCYCLE, 1), (RDTIME, 2), (RDINSTRET, 4)],
                         ids=["cycle", "time", "instret"])
def test_scounteren_gates_u_mode_counter_reads(word, bit, scounteren):
    vm = machine([word], priv=PRIV_U, x3=0x5A5A)
    vm[SCOUNTEREN] = scounteren
    assert vm.run(1) == RUN_BUDGET
    if scounteren & bit:
        assert vm[SCAUSE] == 0 and vm.x(3) == 0 and vm[PRIV] == PRIV_U
        assert vm[CNT_COUNTER] == 1
    else:
        assert (vm[SCAUSE], vm[STVAL], vm.x(3)) == (ILLEGAL, word, 0x5A5A)


def test_s_mode_reads_counters_whatever_scounteren():
    vm = machine([RDTIME])
    vm[SCOUNTEREN], vm[CYCLE] = 0, 10 * DIV
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == 0 and vm.x(3) == 10


# ================================================================ wfi and the virtual timer

def test_wfi_with_nothing_armed_idles():
    vm = machine([WFI])
    assert vm.run(100) == RUN_IDLE
    assert vm[PC] == BASE + 4 and vm[IDLE] == 1 and vm[CNT_WFI] == 1


def test_wfi_skips_virtual_time_to_the_timer():
    vm = machine([WFI])
    vm[SSTATUS], vm[SIE], vm[TIMECMP] = SIE_, STI, 100
    t0 = time.perf_counter()
    assert vm.run(2) == RUN_BUDGET              # wfi, timer interrupt, one handler nop
    assert time.perf_counter() - t0 < 1.0
    assert vm[SCAUSE] == INT | 5 and vm[SEPC] == BASE + 4
    assert vm[CYCLE] // DIV == 100 and vm[INSTRET] == 2


def test_wfi_wakes_with_interrupts_disabled_in_sstatus():
    """wfi resumes on an interrupt pending and enabled in sie, whatever sstatus.SIE."""
    vm = machine([WFI, NOP])
    vm[SIE], vm[TIMECMP] = STI, 100
    assert vm.run(2) == RUN_BUDGET
    assert vm[PC] == BASE + 8 and vm[CNT_IRQ] == 0 and vm[SIP] & STI
    vm = machine([WFI, NOP])
    vm[SIE], vm[SIP] = SSI, SSI                 # already pending: wfi is a nop
    assert vm.run(2) == RUN_BUDGET and vm[PC] == BASE + 8


def test_wfi_in_wall_clock_mode_sleeps():
    vm = machine([WFI])
    vm[SIE], vm[TIMECMP], vm[WALLCLOCK] = STI, 100, 1
    assert vm.run(10) == RUN_IDLE and vm[CYCLE] < 100 * DIV


# ================================================================ exit counters, stop, budget

def test_exit_counters_per_cause():
    vm = machine([W("csrrs x3, sscratch, x0", 0x140021F3),     # csr_read
                  W("csrrw x0, sscratch, x1", 0x14009073),     # csr_write
                  W("sfence.vma x0, x0", 0x12000073),          # sfence
                  WFI,                                          # wfi (SSIP pending: no sleep)
                  EBREAK,                                       # exc_delegated
                  ECALL],                                       # sbi
                 x6=BASE + 20)
    vm.load(HANDLER, [W("csrrw x0, sepc, x6", 0x14131073), SRET])  # csr_write, sret
    vm[SIE], vm[SIP] = SSI, SSI                                  # pending, masked by SIE = 0
    assert vm.run(100) == RUN_SBI and vm[PC] == BASE + 20
    counts = {CNT_CSR_READ: 1, CNT_CSR_WRITE: 2, CNT_SRET: 1, CNT_WFI: 1, CNT_SFENCE: 1,
              CNT_SBI: 1, CNT_EXC_DELEGATED: 1, CNT_IRQ: 0, CNT_COUNTER: 0, CNT_GSTAGE: 0,
              CNT_MMIO: 0, CNT_EXC_MONITOR: 0}
    assert {k: vm[k] for k in counts} == counts


def test_stop_flag_set_before_running():
    vm = machine([NOP])
    vm.stop[0] = 1
    assert vm.run(100) == RUN_STOP and vm[PC] == BASE and vm[INSTRET] == 0


def test_stop_flag_raised_by_another_thread():
    vm = machine([JSELF])
    threading.Timer(0.2, lambda: vm.stop.__setitem__(0, 1)).start()
    assert vm.run(10**15) == RUN_STOP
    assert vm[PC] == BASE and vm[INSTRET] > 0


@pytest.mark.parametrize("budget", [1, 1000, 4096, 4097, 10_000])
def test_budget_is_exact(budget):
    vm = machine([JSELF])
    assert vm.run(budget) == RUN_BUDGET
    assert vm[INSTRET] == budget and vm[CYCLE] == budget and vm[PC] == BASE


def test_budget_is_exact_across_emulated_instructions():
    vm = machine([W("csrrs x3, sscratch, x0", 0x140021F3), W("jal x0, .-4", 0xFFDFF06F)])
    assert vm.run(1001) == RUN_BUDGET          # 501 csrr and 500 jal
    assert vm[INSTRET] == 1001 and vm[PC] == BASE + 4 and vm[CNT_CSR_READ] == 501


def test_registers_stay_32_bit_and_x0_zero_after_every_exit():
    vm = machine([W("lui x0, 0x12345", 0x12345037), W("addi x1, x0, -1", 0xFFF00093), ECALL])
    assert vm.run(10) == RUN_SBI
    assert vm.x(0) == 0 and vm.x(1) == 0xFFFFFFFF
    assert all(0 <= vm.x(i) <= 0xFFFFFFFF for i in range(32))


@pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-as"), reason="no RISC-V assembler")
def test_encodings_match_the_assembler():
    got = _assemble([a for _, a in ASM], "rv32ima_zicsr_zifencei")
    assert [f"{w:08x} {a}" for w, a in ASM] == [f"{g:08x} {a}" for g, (_, a) in zip(got, ASM)]
