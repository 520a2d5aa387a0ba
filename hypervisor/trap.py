"""Trap entry into the guest's virtual S-mode, supervisor interrupts and the virtual timer.

Privileged spec, "Supervisor Trap Vector Base Address (stvec)", "Supervisor Status (sstatus)"
and "Supervisor Interrupt (sip and sie) Registers".  Every guest trap is taken in virtual S-mode:
the guest kernel's own stvec handles it, as the H extension's delegation (hedeleg/hideleg) does.
"""
from .jit import callee, njit

from .mmu import tlb_flush
from .state import (CYCLE, EXIT_CAUSE, EXIT_PC, EXIT_TVAL, PRIV, PRIV_S, RES_ADDR, SATP, SCAUSE,
                    SEPC, SIE, SIP, SSTATUS, STVAL, STVEC, TIME_DIV, TIMECMP)

# exception causes (privileged spec, Table "Supervisor cause register (scause) values")
CAUSE_FETCH_MISALIGNED = 0
CAUSE_FETCH_ACCESS = 1
CAUSE_ILLEGAL = 2
CAUSE_BREAKPOINT = 3
CAUSE_LOAD_MISALIGNED = 4
CAUSE_LOAD_ACCESS = 5
CAUSE_STORE_MISALIGNED = 6
CAUSE_STORE_ACCESS = 7
CAUSE_ECALL_U = 8
CAUSE_ECALL_S = 9
CAUSE_FETCH_PAGE = 12
CAUSE_LOAD_PAGE = 13
CAUSE_STORE_PAGE = 15
INTERRUPT = 1 << 31

# interrupt numbers: supervisor software, timer, external
IRQ_SSI = 1
IRQ_STI = 5
IRQ_SEI = 9
SIP_SSIP = 1 << IRQ_SSI
SIP_STIP = 1 << IRQ_STI
SIP_SEIP = 1 << IRQ_SEI

SSTATUS_SIE = 1 << 1
SSTATUS_SPIE = 1 << 5
SSTATUS_SPP = 1 << 8

NO_DEADLINE = 1 << 62   # cycles: "the timer is off" (or its deadline lies past 2**62 cycles,
                        # 1,400 years at 100 MHz, which no run reaches)


@njit(cache=True, nogil=True, no_rewrites=True)
def trap_enter(st, tlb, cause, tval, pc):
    """Take a trap into virtual S-mode.  Returns the handler's pc, or -1 when the guest has no
    trap vector (stvec = 0) or the vector itself faults: the VM crashes (EXIT_* say why)."""
    base = st[STVEC] & ~3
    if base == 0 or (cause == CAUSE_FETCH_ACCESS or cause == CAUSE_FETCH_PAGE) and pc == base:
        st[EXIT_CAUSE] = cause
        st[EXIT_TVAL] = tval
        st[EXIT_PC] = pc
        return -1
    st[SCAUSE] = cause
    st[SEPC] = pc
    st[STVAL] = tval
    s = st[SSTATUS]
    s = (s & ~SSTATUS_SPP) | (SSTATUS_SPP if st[PRIV] == PRIV_S else 0)
    s = (s & ~SSTATUS_SPIE) | (SSTATUS_SPIE if (s & SSTATUS_SIE) != 0 else 0)
    st[SSTATUS] = s & ~SSTATUS_SIE
    if st[PRIV] != PRIV_S:
        st[PRIV] = PRIV_S
        if (st[SATP] >> 31) != 0:
            tlb_flush(tlb)          # U-bit permissions differ between S and U
    st[RES_ADDR] = -1               # any trap breaks an LR/SC reservation
    if (cause & INTERRUPT) != 0 and (st[STVEC] & 3) == 1:
        return base + 4 * (cause & 0x3FF)   # vectored mode, interrupts only
    return base


@callee
def timer_update(st):
    """STIP mirrors time >= timecmp (SBI TIME set_timer semantics).  Returns the number of
    cycles until the timer fires, NO_DEADLINE when it is not armed, 0 when it is due."""
    cmp = st[TIMECMP]
    if cmp < 0:
        st[SIP] &= ~SIP_STIP
        return NO_DEADLINE
    div = st[TIME_DIV]
    if st[CYCLE] // div >= cmp:         # compared in ticks: cmp * div may not fit in 64 bits
        st[SIP] |= SIP_STIP
        return 0
    st[SIP] &= ~SIP_STIP
    if cmp >= NO_DEADLINE // div:
        return NO_DEADLINE
    return cmp * div - st[CYCLE]        # > 0 and < 2**62: no overflow


@callee
def pending_irq(st):
    """The interrupt to take now, or -1.  Enabled when in U-mode or when sstatus.SIE is set;
    priority SEI > SSI > STI (privileged spec, "Supervisor Interrupt Registers")."""
    pend = st[SIP] & st[SIE]
    if pend == 0:
        return -1
    if st[PRIV] == PRIV_S and (st[SSTATUS] & SSTATUS_SIE) == 0:
        return -1
    if (pend & SIP_SEIP) != 0:
        return IRQ_SEI
    if (pend & SIP_SSIP) != 0:
        return IRQ_SSI
    if (pend & SIP_STIP) != 0:
        return IRQ_STI
    return -1
