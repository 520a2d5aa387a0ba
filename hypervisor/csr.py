"""Trap-and-emulate of the sensitive SYSTEM instructions on a VM's virtual supervisor state.

In virtual S-mode every CSR access, sret, wfi and sfence.vma leaves the interpreter's inner loop
and is emulated here, in compiled code, on the VM's state row; each is counted as an exit.  In
virtual U-mode the same instructions raise illegal-instruction into the guest, as hardware does.
ecall from S-mode is an SBI call and goes out to the monitor (sbi.py).

CSR rules: privileged spec ch. 2 "Control and Status Registers" (csr[11:10] == 3 is read-only,
csr[9:8] is the lowest privilege that may access it) and the supervisor CSR sections of ch. 10.
"""
from .jit import callee

from .mmu import SSTATUS_MXR, SSTATUS_SUM, tlb_flush, tlb_flush_va
from .state import (CNT_COUNTER, CNT_CSR_READ, CNT_CSR_WRITE, CNT_SFENCE, CNT_SRET, CNT_WFI,
                    CYCLE, IDLE, INSTRET, MEGA_TLB, MISA, MISA_C, PRIV, PRIV_S, PRIV_U, RES_ADDR,
                    SATP, SCAUSE, SCOUNTEREN, SENVCFG, SEPC, SIE, SIP, SKIP_LIMIT, SSCRATCH,
                    SSTATUS, STVAL, STVEC, TIME_DIV, WALLCLOCK)
from .trap import NO_DEADLINE, SIP_SSIP, SSTATUS_SIE, SSTATUS_SPIE, SSTATUS_SPP, timer_update

# exec_system() results
SYS_OK = 0          # emulated; continue at the returned pc
SYS_ILLEGAL = 1     # illegal instruction (tval = the instruction word)
SYS_SBI = 2         # ecall from S-mode: the monitor answers it
SYS_EXCEPTION = 3   # ecall from U or ebreak: the returned value is the cause
SYS_IDLE = 4        # wfi with nothing pending and no timer armed: the VM sleeps

# CSR numbers (privileged spec, Table "Currently allocated RISC-V supervisor-level CSR addresses")
CSR_SSTATUS, CSR_SIE, CSR_STVEC, CSR_SCOUNTEREN, CSR_SENVCFG = 0x100, 0x104, 0x105, 0x106, 0x10A
CSR_SSCRATCH, CSR_SEPC, CSR_SCAUSE, CSR_STVAL, CSR_SIP = 0x140, 0x141, 0x142, 0x143, 0x144
CSR_SATP = 0x180
CSR_CYCLE, CSR_TIME, CSR_INSTRET = 0xC00, 0xC01, 0xC02
CSR_CYCLEH, CSR_TIMEH, CSR_INSTRETH = 0xC80, 0xC81, 0xC82

SSTATUS_WMASK = SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR
SIE_MASK = 0x222            # SSIE, STIE, SEIE
SATP_WMASK = 0x803FFFFF     # MODE and PPN; ASIDLEN = 0, so ASID bits read as zero (WARL)

# instruction words of the SYSTEM opcode without register fields
INSN_ECALL = 0x00000073     # ecall
INSN_EBREAK = 0x00100073    # ebreak
INSN_SRET = 0x10200073      # sret
INSN_WFI = 0x10500073       # wfi


@callee
def csr_read(st, csr):
    """Value of a CSR, or -1 when it does not exist for the guest."""
    if csr == CSR_SSTATUS:
        return st[SSTATUS]
    if csr == CSR_SIE:
        return st[SIE]
    if csr == CSR_STVEC:
        return st[STVEC]
    if csr == CSR_SCOUNTEREN:
        return st[SCOUNTEREN]
    if csr == CSR_SENVCFG:
        return st[SENVCFG]
    if csr == CSR_SSCRATCH:
        return st[SSCRATCH]
    if csr == CSR_SEPC:
        return st[SEPC]
    if csr == CSR_SCAUSE:
        return st[SCAUSE]
    if csr == CSR_STVAL:
        return st[STVAL]
    if csr == CSR_SIP:
        timer_update(st)
        return st[SIP]
    if csr == CSR_SATP:
        return st[SATP]
    if csr == CSR_CYCLE or csr == CSR_CYCLEH:
        v = st[CYCLE]
    elif csr == CSR_TIME or csr == CSR_TIMEH:
        v = st[CYCLE] // st[TIME_DIV]
    elif csr == CSR_INSTRET or csr == CSR_INSTRETH:
        v = st[INSTRET]
    else:
        return -1
    return (v >> 32) & 0xFFFFFFFF if csr >= CSR_CYCLEH else v & 0xFFFFFFFF


@callee
def csr_write(st, tlb, csr, v):
    """Write a CSR's writable fields (WARL: other bits keep their legal values)."""
    if csr == CSR_SSTATUS:
        old = st[SSTATUS]
        st[SSTATUS] = (old & ~SSTATUS_WMASK) | (v & SSTATUS_WMASK)
        if ((old ^ v) & (SSTATUS_SUM | SSTATUS_MXR)) != 0:
            tlb_flush(tlb)      # cached permissions depend on SUM and MXR
    elif csr == CSR_SIE:
        st[SIE] = v & SIE_MASK
    elif csr == CSR_STVEC:
        st[STVEC] = v & ~2      # modes 0 (direct) and 1 (vectored); >= 2 are reserved
    elif csr == CSR_SCOUNTEREN:
        st[SCOUNTEREN] = v & 7  # CY, TM, IR
    elif csr == CSR_SENVCFG:
        st[SENVCFG] = v & 1     # FIOM
    elif csr == CSR_SSCRATCH:
        st[SSCRATCH] = v
    elif csr == CSR_SEPC:
        st[SEPC] = v & (~1 if (st[MISA] & MISA_C) != 0 else ~3)   # IALIGN = 16 or 32
    elif csr == CSR_SCAUSE:
        st[SCAUSE] = v
    elif csr == CSR_STVAL:
        st[STVAL] = v
    elif csr == CSR_SIP:
        st[SIP] = (st[SIP] & ~SIP_SSIP) | (v & SIP_SSIP)   # only SSIP is writable from S
    elif csr == CSR_SATP:
        st[SATP] = v & SATP_WMASK
        tlb_flush(tlb)
        st[MEGA_TLB] = 0


@callee
def _exec_csr(st, tlb, ins):
    """csrrw/csrrs/csrrc and their immediate forms.  Returns SYS_OK or SYS_ILLEGAL."""
    f3 = (ins >> 12) & 7
    rd = (ins >> 7) & 31
    rs1 = (ins >> 15) & 31
    csr = ins >> 20
    src = rs1 if f3 >= 5 else st[rs1]           # uimm or register
    op = f3 & 3                                 # 1 = rw, 2 = rs, 3 = rc
    reads = op != 1 or rd != 0                  # csrrw with rd = x0 does not read
    writes = op == 1 or rs1 != 0                # csrrs/c with rs1 (or uimm) = 0 do not write
    if writes and (csr >> 10) == 3:
        return SYS_ILLEGAL                      # read-only CSR
    if st[PRIV] == PRIV_U:
        # U-mode may only read the counters that scounteren allows (mcounteren is all ones)
        if (csr >> 8) != 0xC or (csr & 0x7F) > 2 or ((st[SCOUNTEREN] >> (csr & 3)) & 1) == 0:
            return SYS_ILLEGAL
        st[CNT_COUNTER] += 1
    elif ((csr >> 8) & 3) > PRIV_S:
        return SYS_ILLEGAL                      # hypervisor and machine CSRs
    old = csr_read(st, csr)
    if old < 0:
        return SYS_ILLEGAL
    if writes:
        if op == 1:
            v = src
        elif op == 2:
            v = old | src
        else:
            v = old & ~src
        csr_write(st, tlb, csr, v & 0xFFFFFFFF)
    if st[PRIV] == PRIV_S:
        st[CNT_CSR_WRITE if writes else CNT_CSR_READ] += 1
    if rd != 0 and reads:
        st[rd] = old
    return SYS_OK


@callee
def exec_system(st, tlb, ins, pc):
    """Emulate one SYSTEM-opcode instruction.  Returns (SYS_*, next pc or exception cause)."""
    f3 = (ins >> 12) & 7
    if f3 != 0:
        if f3 == 4:
            return SYS_ILLEGAL, 0               # hypervisor loads/stores: not here
        if _exec_csr(st, tlb, ins) != SYS_OK:
            return SYS_ILLEGAL, 0
        return SYS_OK, pc + 4
    if ins == INSN_ECALL:
        if st[PRIV] == PRIV_S:
            return SYS_SBI, 0
        return SYS_EXCEPTION, 8                 # environment call from U-mode
    if ins == INSN_EBREAK:
        return SYS_EXCEPTION, 3                 # breakpoint
    if st[PRIV] == PRIV_U:
        return SYS_ILLEGAL, 0                   # sret, wfi, sfence.vma from U-mode
    if ins == INSN_SRET:
        st[CNT_SRET] += 1
        s = st[SSTATUS]
        new_priv = PRIV_S if (s & SSTATUS_SPP) != 0 else PRIV_U
        s = (s & ~SSTATUS_SIE) | (SSTATUS_SIE if (s & SSTATUS_SPIE) != 0 else 0)
        st[SSTATUS] = (s | SSTATUS_SPIE) & ~SSTATUS_SPP
        if new_priv != st[PRIV]:
            st[PRIV] = new_priv
            if (st[SATP] >> 31) != 0:
                tlb_flush(tlb)
        st[RES_ADDR] = -1
        return SYS_OK, st[SEPC]
    if ins == INSN_WFI:
        st[CNT_WFI] += 1
        return _wfi(st, pc)
    if (ins & 0xFE007FFF) == 0x12000073:        # sfence.vma rs1, rs2 (funct7 0001001, rd = 0)
        st[CNT_SFENCE] += 1
        rs1 = (ins >> 15) & 31
        if rs1 != 0:
            tlb_flush_va(st, tlb, st[rs1])      # one page (Linux: set_pte, fixmap, ...)
        else:
            tlb_flush(tlb)                      # every address
            st[MEGA_TLB] = 0
        return SYS_OK, pc + 4
    return SYS_ILLEGAL, 0                       # mret, dret, hfence, unknown encodings


@callee
def _wfi(st, pc):
    """wfi: nothing to wait for when an interrupt is pending (even if masked: the spec resumes
    on pending & enabled in sie).  With the timer armed, virtual time skips to its deadline, so
    an idle VM costs no host time and runs stay reproducible.  Otherwise (or in wall-clock
    mode) the VM sleeps until the monitor raises an interrupt (UART input, the host clock).

    A skip that would take the guest's clock past SKIP_LIMIT (kept by the scheduler a little
    ahead of the host clock) is not made now: the VM waits in host time and runs this wfi again
    when the host has caught up.  The guest cannot tell: this wfi is not retired (the counts
    the caller adds for it are taken off first) and every register is as it was, so the guest
    sees the same instructions, times and exits however often that happens, and an idle Linux
    no longer runs its periodic work back to back on a whole host core."""
    wait = timer_update(st)
    if (st[SIP] & st[SIE]) != 0:
        return SYS_OK, pc + 4
    if wait < NO_DEADLINE and (st[SIE] & (1 << 5)) != 0 and st[WALLCLOCK] == 0:
        if st[SKIP_LIMIT] > 0 and st[CYCLE] + wait > st[SKIP_LIMIT]:
            st[CYCLE] -= 1              # cpu.py retires SYS_IDLE's instruction: undo it here
            st[INSTRET] -= 1
            st[CNT_WFI] -= 1            # counted again when it runs
            st[IDLE] = 1
            return SYS_IDLE, pc         # the same wfi, again, after the wait
        st[CYCLE] += wait
        timer_update(st)
        return SYS_OK, pc + 4
    st[IDLE] = 1
    return SYS_IDLE, pc + 4
