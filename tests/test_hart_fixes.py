"""Regression tests for the hart's part of issue 9, item 8 (guest-visible correctness).

Each of these failed on the hart before its fix (run against the tree before this change):
  * far timer deadlines: a deadline 2**40 ticks or more ahead never fired (timer_update treated
    it as "off"), so a wfi waiting for it idled for ever;
  * the LR/SC reservation was held on the virtual address: after a satp switch or a PTE change
    and sfence.vma, sc.w at the same virtual address succeeded on another physical page;
  * sc.w to a device without a reservation "failed" quietly instead of raising the store/AMO
    access fault that docs/guest-abi.md promises for any SC or AMO on a device.
(The 16-bit parcel in stval of an illegal compressed encoding is tested in test_rvc.py.)
"""
import pytest
from hart import BASE, DATA, DIV, VM
from test_privileged import (DVA, HVA, INT, LR, NOP, ROOT, SC, SIE_, STI, STORE_ACCESS,
                             LOAD_ACCESS, MMIO, WFI, A, D, Pages, R, V, Wr, machine, paged)

from hypervisor.state import (CYCLE, INSTRET, RUN_BUDGET, RUN_IDLE, SATP, SCAUSE, SEPC, SIE,
                              SIP, SSTATUS, STVAL, TIMECMP)

SFENCE = 0x12000073                             # sfence.vma x0, x0
CSRW_SATP_X8 = 0x18041073                       # csrrw x0, satp, x8
SW_X6_X7 = 0x0063A023                           # sw x6, 0(x7)


@pytest.mark.parametrize("ahead", [1 << 40, (1 << 40) + 12345, 1 << 50, (1 << 58) // DIV])
def test_far_timer_deadline_fires_when_time_reaches_it(ahead):
    """wfi skips virtual time to any deadline in the future, however far: the interrupt is
    taken with time == the deadline."""
    vm = machine([WFI])
    vm[SSTATUS], vm[SIE], vm[TIMECMP] = SIE_, STI, ahead
    assert vm.run(2) == RUN_BUDGET              # wfi, then the timer interrupt (a handler nop)
    assert vm[SCAUSE] == INT | 5 and vm[SEPC] == BASE + 4
    assert vm[CYCLE] // DIV == ahead


def test_far_deadline_fires_by_counting_too():
    """No wfi: the hart counts down to a deadline 2**40 ticks ahead of a clock already past
    2**40, and takes the interrupt at exactly that instruction."""
    vm = machine([NOP] * 64)
    now = (1 << 41) * DIV
    vm[CYCLE], vm[TIMECMP] = now, (1 << 41) + 3          # 3 ticks = 30 instructions ahead
    vm[SSTATUS], vm[SIE] = SIE_, STI
    assert vm.run(40) == RUN_BUDGET
    assert vm[SCAUSE] == INT | 5 and vm[SEPC] == BASE + 4 * 3 * DIV


def test_deadline_whose_cycle_count_overflows_64_bits():
    """timecmp * TIME_DIV past 2**63: already due when time is past it, never an overflow."""
    vm = machine([NOP] * 4)
    vm[CYCLE], vm[TIMECMP] = (1 << 62) + 5, (1 << 62) // DIV
    vm[SSTATUS], vm[SIE] = SIE_, STI
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == INT | 5
    vm = machine([WFI])                          # far beyond any run: wfi idles, no overflow
    vm[SIE], vm[TIMECMP] = STI, (1 << 63) - 1
    assert vm.run(2) == RUN_IDLE and vm[SIP] & STI == 0


# ---------------------------------------------------------------- LR/SC on physical addresses
def test_sc_fails_after_the_virtual_page_is_remapped():
    """lr.w at DVA (-> DATA); the guest rewrites DVA's PTE to DATA + 4 KiB and runs
    sfence.vma; sc.w at DVA: the reservation was on DATA's word, so sc.w fails and neither
    page changes."""
    ptva = 0x0080_0000                          # where the guest sees its page table
    vm, p = paged([LR, SW_X6_X7, SFENCE, SC], x1=DVA, x2=0x22)
    pte = p.map(DVA, DATA, V | R | Wr | A | D)
    p.map(ptva, pte & ~0xFFF, V | R | Wr | A | D)
    vm[7], vm[6] = ptva + (pte & 0xFFF), (((DATA + 0x1000) >> 12) << 10) | V | R | Wr | A | D
    vm.w32(DATA, 0x11)
    vm.w32(DATA + 0x1000, 0x33)
    assert vm.run(4) == RUN_BUDGET and vm[SCAUSE] == 0 and vm.r32(pte) == vm.x(6)
    assert vm.x(3) == 0x11                      # lr.w read DATA
    assert vm.x(4) == 1 and vm.r32(DATA) == 0x11 and vm.r32(DATA + 0x1000) == 0x33


def test_sc_fails_after_a_satp_switch():
    """The same through a switch to another root table that maps DVA elsewhere."""
    vm, p = paged([LR, CSRW_SATP_X8, SFENCE, SC], x1=DVA, x2=0x22)
    p.map(DVA, DATA, V | R | Wr | A | D)
    root2 = ROOT + 0x8000                        # a second address space: a copy of the
    for i in range(1024):                        # first root, DVA's table replaced
        vm.w32(root2 + 4 * i, vm.r32(ROOT + 4 * i))
    l0 = root2 + 0x1000
    vm.w32(root2 + (DVA >> 22) * 4, ((l0 >> 12) << 10) | V)
    vm.w32(l0 + ((DVA >> 12) & 0x3FF) * 4, (((DATA + 0x1000) >> 12) << 10) | V | R | Wr | A | D)
    vm[8] = (1 << 31) | (root2 >> 12)
    vm.w32(DATA, 0x11)
    vm.w32(DATA + 0x1000, 0x33)
    assert vm.run(4) == RUN_BUDGET and vm[SCAUSE] == 0 and vm[SATP] == vm.x(8)
    assert vm.x(4) == 1 and vm.r32(DATA + 0x1000) == 0x33 and vm.r32(DATA) == 0x11


def test_sc_succeeds_through_another_mapping_of_the_reserved_word():
    """Two virtual pages of one physical page: lr.w through one, sc.w through the other."""
    other = DVA + 0x5000
    vm, p = paged([LR, 0x1822A22F], x1=DVA, x5=other, x2=0x22)     # sc.w x4, x2, (x5)
    p.map(DVA, DATA, V | R | Wr | A | D)
    p.map(other, DATA, V | R | Wr | A | D)
    vm.w32(DATA, 0x11)
    assert vm.run(2) == RUN_BUDGET and vm[SCAUSE] == 0
    assert vm.x(4) == 0 and vm.r32(DATA) == 0x22


# ---------------------------------------------------------------- LR/SC and AMOs on a device
@pytest.mark.parametrize("word, cause", [
    (LR, LOAD_ACCESS),                          # lr.w is a load: load access fault
    (SC, STORE_ACCESS),                         # sc.w, held or not: store/AMO access fault
    (0x0820A1AF, STORE_ACCESS),                 # amoswap.w x3, x2, (x1)
])
def test_atomics_on_a_device_fault_as_documented(word, cause):
    vm = machine([word], x1=MMIO, x3=0x5A5A, x4=0x5A5A)
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (cause, MMIO, BASE)
    assert (vm.x(3), vm.x(4), vm[INSTRET]) == (0x5A5A, 0x5A5A, 0)
