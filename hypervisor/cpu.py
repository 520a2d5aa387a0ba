"""The hart: an RV32IMAC + Zicsr + Zifencei interpreter compiled by numba.

``run()`` runs one VM for at most ``budget`` instructions and returns a RUN_* code (state.py).
It never raises and never touches a byte of host memory the VM's G-stage map does not give it.

Design (measured in shared/notes/hart-performance.md):
  * an *inner loop* that makes no calls: it reads the predecoded record (decode.py) of the
    instruction at pc from the current code page's slot of the predecode cache (icache.py),
    dispatches on its class with one flat switch, and does aligned loads and stores that hit
    the TLB;
  * every slow case (code page change, an instruction not decoded yet, TLB miss, misaligned or
    device access, a store to a page with decoded code, atomics, any SYSTEM instruction, an
    exception) leaves the inner loop with a reason *before* the instruction has any effect;
    the *outer loop* handles it in compiled code and re-enters;
  * one down-counter per instruction folds the budget, the timer deadline and the stop-flag poll.
Every write to a page with decoded instructions forgets the records it overlapped, so
self-modifying code runs the new bytes with or without fence.i.  With the C extension on
(misa.C, the default) instructions are 2-byte aligned and a 32-bit one may straddle two pages:
both halves are fetched through translation, each with its own faults.
"""
import numpy as np
from . import jit as _jit
from .jit import as_u16, as_u32, njit

from .access import M_EXCEPTION, M_EXIT, M_OK, exec_mem
from .csr import SYS_EXCEPTION, SYS_IDLE, SYS_OK, SYS_SBI, exec_system
from .decode import (BASE_CLASS, CC_ADD, CC_ADDI, CC_AND, CC_ANDI, CC_BEQ, CC_BNE, CC_JAL,
                     CC_JALR, CC_LUI, CC_LW, CC_OR, CC_SLLI, CC_SRAI, CC_SRLI, CC_SUB, CC_SW,
                     CC_XOR, C_ADD, C_ADDI, C_AMO, C_AND, C_ANDI, C_AUIPC, C_BEQ, C_BGE, C_BGEU,
                     C_BLT, C_BLTU, C_BNE, C_BRMIS, C_DECODE, C_DIV, C_DIVU, C_FENCE, C_FENCE_I,
                     C_JAL, C_JALR, C_JALR4, C_LB, C_LBU, C_LH, C_LHU, C_LUI, C_LW, C_MUL, C_MULH,
                     C_MULHSU, C_MULHU, C_OR, C_ORI, C_PAGE_END, C_REM, C_REMU, C_SB, C_SH, C_SLL,
                     C_SLLI, C_SLT, C_SLTI, C_SLTIU, C_SLTU, C_SRA, C_SRAI, C_SRL, C_SRLI, C_SUB,
                     C_SW, C_SYSTEM, C_XOR, C_XORI, decode, mem_insn)
from .icache import code_written, flush, scratch, slot_for
from .sbi_fast import fast_call
from .mmu import NO_PAGE, T_GSTAGE, T_OK, T_PAGE_FAULT, tlb_slot, translate
from .state import (ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, CNT_EXC_DELEGATED, CNT_IRQ, CNT_SBI,
                    CYCLE, EXIT_ACCESS, EXIT_CAUSE, EXIT_ILEN, EXIT_INSN, EXIT_PC, EXIT_TVAL,
                    EXIT_VADDR, ICACHE_MAX_SLOTS, ICACHE_SLOTS, IDLE, INSTRET, MISA, MISA_C,
                    MISA_RV32IMA, MISA_RV32IMAC, PC, RAM_BASE, RAM_SIZE, RES_ADDR, RUN_BUDGET,
                    RUN_CRASH, RUN_GSTAGE, RUN_IDLE, RUN_SBI, RUN_STOP, RUN_TRAP, STATE_SIZE,
                    TIME_DIV, TLB_ENTRIES, TLB_HASCODE, TLB_HOST_IDX, TRAP_VIA_MONITOR,
                    tlb_size)
from .trap import (CAUSE_BREAKPOINT, CAUSE_FETCH_ACCESS, CAUSE_FETCH_MISALIGNED,
                   CAUSE_FETCH_PAGE, CAUSE_ILLEGAL, INTERRUPT, pending_irq, trap_enter,
                   timer_update)

M32 = 0xFFFFFFFF
SIGN = 0x80000000
I64 = np.int64          # a constant argument passed as I64(c): one compiled version of the
EXEC = I64(ACCESS_EXEC)  # callee, not one per literal value (cold compile time)
CHECK_EVERY = 4096      # the stop flag is polled at least this often (instructions)

# why the inner loop stopped
R_NONE = 0      # the down-counter ran out
R_FETCH = 1     # pc left the cached code page
R_MEM = 2       # load/store the fast path cannot do, or an atomic
R_SYSTEM = 3    # SYSTEM opcode: ecall, ebreak, CSR, sret, wfi, sfence.vma
R_EXC = 4       # exception raised by the inner loop (cause, tval)
R_DECODE = 5    # the instruction at pc has no record yet
R_FENCE_I = 6   # fence.i: forget every decoded page
R_BRMIS = 7     # C off: a branch or jal whose target is not 4-byte aligned
R_ILLEGAL = 8   # an illegal instruction (its parcel or word in the record)
R_JALR_MIS = 9  # C off: jalr to a target that is not 4-byte aligned
R_JUMPED = 10   # a jump or taken branch out of the cached page (it retired: npc is its target)


@njit(cache=True, nogil=True, no_rewrites=True)
def _run(st, ram, gmap, tlb, budget, stop):
    ram16 = as_u16(ram)                 # ram.view(np.uint16) without numba's view (jit.py):
    ram32 = as_u32(ram)                 # less to compile, fewer spills here (bench/README.md)
    hs = tlb[TLB_HOST_IDX:TLB_HOST_IDX + 4]     # host indices of a slow access's bytes
    st[RES_ADDR] = -1                   # a switch to another VM breaks the reservation
    st[IDLE] = 0
    st[0] = 0                           # x0 (never written by the hart: rd = x0 goes to X_SINK)
    if st[MISA] == 0:
        st[MISA] = MISA_RV32IMAC        # not set by the caller: the default ISA
    cext = (st[MISA] & MISA_C) != 0
    amask = 1 if cext else 3            # IALIGN 16 or 32: the low pc bits that must be zero
    scr = scratch(tlb)                  # where a page-straddling instruction's record goes
    pc = st[PC]
    left = budget
    fbase = NO_PAGE                     # guest-virtual base of the cached code page
    fadd = 0                            # its host addend: host index = pc + fadd
    rdelta = 0                          # index in tlb of the record of pc: pc // 2 + rdelta
    straddle = False                    # running a page-straddling instruction from scratch
    code = RUN_BUDGET
    rec = 0
    count = 0
    resume = False                      # go back into the inner loop without the checks below
    while True:
        # ---------------- outer loop: stop flag, budget, timer, interrupts ----------------
        pc &= M32                       # pc + 4 past 0xFFFFFFFC wraps to 0 (XLEN = 32): the
        if resume and count > 0:        # inner loop leaves it unmasked, sepc and st[PC] must not
            resume = False              # a TLB refill or an emulated access changed nothing
        else:                           # that an interrupt, the timer or the budget depend on
            resume = False
            if straddle:
                fbase = NO_PAGE         # a straddling instruction is fetched afresh each time
            if stop[0] != 0:
                code = RUN_STOP
                break
            if left <= 0:
                code = RUN_BUDGET
                break
            wait = timer_update(st)
            irq = pending_irq(st)
            if irq >= 0:
                npc = trap_enter(st, tlb, INTERRUPT | irq, I64(0), pc)
                if npc < 0:
                    code = RUN_CRASH
                    break
                st[CNT_IRQ] += 1
                pc = npc
                fbase = NO_PAGE
                continue
            count = min(left, CHECK_EVERY)
            if 0 < wait < count:
                count = wait
        n = count
        reason = R_NONE
        # ---------------- inner loop: one instruction per iteration, no calls ----------------
        # Straight-line code stops at the sentinel after the page (C_PAGE_END); a jump or taken
        # branch out of the page retires, then leaves (R_FETCH) to look its target up.
        if ((pc - fbase) >> 12) != 0:
            reason = R_FETCH            # pc is not in the cached page: nothing runs
        else:
            while count > 0:
                rec = tlb[np.uint64((pc >> 1) + rdelta)]
                lo = np.uint32(rec)                 # the fields (decode.py), unsigned: no
                cls = lo & 127                      # wraparound test on the indices
                rd = np.uint64((lo >> 8) & 127)
                rs1 = np.uint64((lo >> 16) & 31)
                rs2 = np.uint64((lo >> 24) & 31)
                imm = rec >> 32
                npc = pc + 4                        # (a compressed twin: pc + 2) not read
                # from the record, which would chain each pc to the load of the record before
                # one flat switch on the record's class
                if cls == C_ADDI:                       # addi (c.addi, c.li, c.mv-like forms...)
                    st[rd] = (st[rs1] + imm) & M32
                elif cls == CC_ADDI:                    # its compressed twin
                    npc = pc + 2
                    st[rd] = (st[rs1] + imm) & M32
                elif cls == C_LW:                       # lw
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)  # tlb_slot
                    if tlb[e] != (va >> 12) or va & 3:
                        reason = R_MEM
                        break
                    st[rd] = np.int64(ram32[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(2)])
                elif cls == CC_LW:                      # its compressed twin
                    npc = pc + 2
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)  # tlb_slot
                    if tlb[e] != (va >> 12) or va & 3:
                        reason = R_MEM
                        break
                    st[rd] = np.int64(ram32[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(2)])
                elif cls == C_SW:                       # sw
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e + np.uint64(1)] != (va >> 12) or va & 3:
                        reason = R_MEM                  # (a page with code: tag | TLB_HASCODE)
                        break
                    ram32[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(2)] = st[rs2]
                elif cls == CC_SW:                      # its compressed twin
                    npc = pc + 2
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e + np.uint64(1)] != (va >> 12) or va & 3:
                        reason = R_MEM                  # (a page with code: tag | TLB_HASCODE)
                        break
                    ram32[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(2)] = st[rs2]
                elif cls == C_BNE:                      # bne
                    if st[rs1] != st[rs2]:
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == CC_BNE:                     # its compressed twin
                    npc = pc + 2
                    if st[rs1] != st[rs2]:
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == C_BEQ:                      # beq
                    if st[rs1] == st[rs2]:
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == CC_BEQ:                     # its compressed twin
                    npc = pc + 2
                    if st[rs1] == st[rs2]:
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == C_ADD:                      # add
                    st[rd] = (st[rs1] + st[rs2]) & M32
                elif cls == CC_ADD:                     # its compressed twin
                    npc = pc + 2
                    st[rd] = (st[rs1] + st[rs2]) & M32
                elif cls == C_BLT:                      # blt (signed: flip the sign bits)
                    if (st[rs1] ^ SIGN) < (st[rs2] ^ SIGN):
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == C_BGE:                      # bge
                    if (st[rs1] ^ SIGN) >= (st[rs2] ^ SIGN):
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == C_BLTU:                     # bltu
                    if st[rs1] < st[rs2]:
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == C_BGEU:                     # bgeu
                    if st[rs1] >= st[rs2]:
                        npc = (pc + imm) & M32
                        if ((npc - fbase) >> 12) != 0:
                            reason = R_JUMPED
                            break
                elif cls == C_ANDI:                     # andi
                    st[rd] = st[rs1] & imm
                elif cls == CC_ANDI:                    # its compressed twin
                    npc = pc + 2
                    st[rd] = st[rs1] & imm
                elif cls == C_SLLI:                     # slli
                    st[rd] = (st[rs1] << imm) & M32
                elif cls == CC_SLLI:                    # its compressed twin
                    npc = pc + 2
                    st[rd] = (st[rs1] << imm) & M32
                elif cls == C_SRLI:                     # srli
                    st[rd] = st[rs1] >> imm
                elif cls == CC_SRLI:                    # its compressed twin
                    npc = pc + 2
                    st[rd] = st[rs1] >> imm
                elif cls == C_SRAI:                     # srai
                    st[rd] = (((st[rs1] ^ SIGN) - SIGN) >> imm) & M32
                elif cls == CC_SRAI:                    # its compressed twin
                    npc = pc + 2
                    st[rd] = (((st[rs1] ^ SIGN) - SIGN) >> imm) & M32
                elif cls == C_LBU:                      # lbu
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e] != (va >> 12):
                        reason = R_MEM
                        break
                    st[rd] = np.int64(ram[np.uint64(va + tlb[e + np.uint64(3)])])
                elif cls == C_LB:                       # lb
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e] != (va >> 12):
                        reason = R_MEM
                        break
                    st[rd] = ((np.int64(ram[np.uint64(va + tlb[e + np.uint64(3)])]) ^ 0x80) - 0x80) \
                        & M32
                elif cls == C_LHU:                      # lhu
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e] != (va >> 12) or va & 1:
                        reason = R_MEM
                        break
                    st[rd] = np.int64(ram16[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(1)])
                elif cls == C_LH:                       # lh
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e] != (va >> 12) or va & 1:
                        reason = R_MEM
                        break
                    v = np.int64(ram16[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(1)])
                    st[rd] = ((v ^ 0x8000) - 0x8000) & M32
                elif cls == C_SB:                       # sb
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e + np.uint64(1)] != (va >> 12):
                        reason = R_MEM
                        break
                    ram[np.uint64(va + tlb[e + np.uint64(3)])] = st[rs2] & 0xFF
                elif cls == C_SH:                       # sh
                    va = (st[rs1] + imm) & M32
                    e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                    if tlb[e + np.uint64(1)] != (va >> 12) or va & 1:
                        reason = R_MEM
                        break
                    ram16[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(1)] = st[rs2] & 0xFFFF
                elif cls == C_LUI:                      # lui
                    st[rd] = imm & M32
                elif cls == CC_LUI:                     # its compressed twin
                    npc = pc + 2
                    st[rd] = imm & M32
                elif cls == C_AUIPC:                    # auipc
                    st[rd] = (pc + imm) & M32
                elif cls == C_JAL:                      # jal (c.j, c.jal)
                    st[rd] = npc & M32
                    npc = (pc + imm) & M32
                    if ((npc - fbase) >> 12) != 0:
                        reason = R_JUMPED
                        break
                elif cls == CC_JAL:                     # its compressed twin
                    npc = pc + 2
                    st[rd] = npc & M32
                    npc = (pc + imm) & M32
                    if ((npc - fbase) >> 12) != 0:
                        reason = R_JUMPED
                        break
                elif cls == C_JALR:                     # jalr (c.jr, c.jalr): target bit 0 cleared
                    t = (st[rs1] + imm) & (M32 - 1)
                    st[rd] = npc & M32
                    npc = t
                    if ((npc - fbase) >> 12) != 0:
                        reason = R_JUMPED
                        break
                elif cls == CC_JALR:                    # its compressed twin
                    npc = pc + 2
                    t = (st[rs1] + imm) & (M32 - 1)
                    st[rd] = npc & M32
                    npc = t
                    if ((npc - fbase) >> 12) != 0:
                        reason = R_JUMPED
                        break
                elif cls == C_SUB:                      # sub
                    st[rd] = (st[rs1] - st[rs2]) & M32
                elif cls == CC_SUB:                     # its compressed twin
                    npc = pc + 2
                    st[rd] = (st[rs1] - st[rs2]) & M32
                elif cls == C_MUL:                      # mul
                    st[rd] = (((st[rs1] ^ SIGN) - SIGN) * ((st[rs2] ^ SIGN) - SIGN)) & M32
                elif cls == C_XORI:                     # xori
                    st[rd] = (st[rs1] ^ imm) & M32
                elif cls == C_ORI:                      # ori
                    st[rd] = (st[rs1] | imm) & M32
                elif cls == C_SLTI:                     # slti
                    st[rd] = 1 if ((st[rs1] ^ SIGN) - SIGN) < imm else 0
                elif cls == C_SLTIU:                    # sltiu (imm sign-extended, then unsigned)
                    st[rd] = 1 if st[rs1] < (imm & M32) else 0
                elif cls == C_SLL:                      # sll
                    st[rd] = (st[rs1] << (st[rs2] & 31)) & M32
                elif cls == C_SLT:                      # slt
                    st[rd] = 1 if (st[rs1] ^ SIGN) < (st[rs2] ^ SIGN) else 0
                elif cls == C_SLTU:                     # sltu
                    st[rd] = 1 if st[rs1] < st[rs2] else 0
                elif cls == C_XOR:                      # xor
                    st[rd] = st[rs1] ^ st[rs2]
                elif cls == CC_XOR:                     # its compressed twin
                    npc = pc + 2
                    st[rd] = st[rs1] ^ st[rs2]
                elif cls == C_SRL:                      # srl
                    st[rd] = st[rs1] >> (st[rs2] & 31)
                elif cls == C_SRA:                      # sra
                    st[rd] = (((st[rs1] ^ SIGN) - SIGN) >> (st[rs2] & 31)) & M32
                elif cls == C_OR:                       # or
                    st[rd] = st[rs1] | st[rs2]
                elif cls == CC_OR:                      # its compressed twin
                    npc = pc + 2
                    st[rd] = st[rs1] | st[rs2]
                elif cls == C_AND:                      # and
                    st[rd] = st[rs1] & st[rs2]
                elif cls == CC_AND:                     # its compressed twin
                    npc = pc + 2
                    st[rd] = st[rs1] & st[rs2]
                elif cls == C_MULH:                     # mulh
                    st[rd] = ((((st[rs1] ^ SIGN) - SIGN) * ((st[rs2] ^ SIGN) - SIGN)) >> 32) & M32
                elif cls == C_MULHSU:                   # mulhsu
                    st[rd] = ((((st[rs1] ^ SIGN) - SIGN) * st[rs2]) >> 32) & M32
                elif cls == C_MULHU:                    # mulhu (64-bit unsigned product)
                    st[rd] = np.int64((np.uint64(st[rs1]) * np.uint64(st[rs2])) >> np.uint64(32))
                elif cls == C_DIV:                      # div (round toward zero)
                    sa = (st[rs1] ^ SIGN) - SIGN
                    sb = (st[rs2] ^ SIGN) - SIGN
                    if sb == 0:
                        st[rd] = M32
                    elif sa == -SIGN and sb == -1:
                        st[rd] = SIGN                   # overflow: the dividend
                    else:
                        q = abs(sa) // abs(sb)
                        st[rd] = (-q if (sa < 0) != (sb < 0) else q) & M32
                elif cls == C_DIVU:                     # divu
                    b = st[rs2]
                    st[rd] = M32 if b == 0 else st[rs1] // b
                elif cls == C_REM:                      # rem (sign of the dividend)
                    sa = (st[rs1] ^ SIGN) - SIGN
                    sb = (st[rs2] ^ SIGN) - SIGN
                    if sb == 0:
                        st[rd] = sa & M32
                    elif sa == -SIGN and sb == -1:
                        st[rd] = 0
                    else:
                        r = abs(sa) % abs(sb)
                        st[rd] = (-r if sa < 0 else r) & M32
                elif cls == C_REMU:                     # remu
                    a = st[rs1]
                    b = st[rs2]
                    st[rd] = a if b == 0 else a % b
                elif cls == C_JALR4:                    # jalr with C off: the target must be
                    t = (st[rs1] + imm) & (M32 - 1)     # 4-byte aligned
                    if t & 2:
                        reason = R_JALR_MIS
                        break
                    st[rd] = npc & M32
                    npc = t
                    if ((npc - fbase) >> 12) != 0:
                        reason = R_JUMPED
                        break
                elif cls == C_FENCE:                    # fence: one hart, memory is coherent
                    pass
                elif cls == C_DECODE:                   # not decoded yet
                    reason = R_DECODE
                    break
                elif cls == C_PAGE_END:                 # straight-line code ran off the page
                    reason = R_FETCH
                    break
                elif cls == C_FENCE_I:                  # fence.i
                    reason = R_FENCE_I
                    break
                elif cls == C_SYSTEM:                   # SYSTEM  1110011: trap and emulate
                    reason = R_SYSTEM
                    break
                elif cls == C_AMO:                      # AMO  0101111
                    reason = R_MEM
                    break
                elif cls == C_BRMIS:                    # C off: misaligned target if taken
                    reason = R_BRMIS
                    break
                else:                                   # C_ILLEGAL: the parcel or word in stval
                    reason = R_ILLEGAL
                    break
                pc = npc
                count -= 1
        # ---------------- outer loop: account, then handle why the inner loop stopped --------
        if reason == R_JUMPED:                      # the jump retired: count it; the target
            count -= 1                              # is fetched when the next instruction runs
            pc = npc
            reason = R_NONE
            resume = True
        done = n - count
        left -= done
        st[CYCLE] += done
        st[INSTRET] += done
        if reason == R_NONE:
            continue
        cls = BASE_CLASS[rec & 127]                 # the stopped instruction's fields
        rs1 = np.uint64((rec >> 16) & 31)
        rs2 = np.uint64((rec >> 24) & 31)
        imm = rec >> 32
        ilen = (rec >> 29) & 7
        retired = False
        status = 0
        cause = CAUSE_ILLEGAL
        tval = 0
        if reason == R_ILLEGAL:
            reason = R_EXC
            tval = imm & M32
        elif reason == R_JALR_MIS:
            reason = R_EXC
            cause = CAUSE_FETCH_MISALIGNED
            tval = (st[rs1] + imm) & (M32 - 1)
        if reason == R_DECODE and not straddle:
            off = pc - fbase
            h = np.uint64(pc + fadd) >> np.uint64(1)
            p0 = np.int64(ram16[h])
            if (p0 & 3) != 3 or off != 4094:       # within the page: decode it, run it
                if (p0 & 3) == 3:
                    p0 |= np.int64(ram16[h + np.uint64(1)]) << 16
                tlb[np.uint64((pc >> 1) + rdelta)] = decode(p0, cext)
                resume = True
                continue
            # a 32-bit instruction straddling two pages: its second half through translation
            va2 = (pc + 2) & M32
            e = tlb_slot(va2 >> 12)
            status = T_OK if tlb[e + 2] == va2 >> 12 else translate(st, tlb, gmap, ram, va2,
                                                                      EXEC)
            if status == T_OK:
                p0 |= np.int64(ram16[np.uint64(va2 + tlb[e + 3]) >> np.uint64(1)]) << 16
                tlb[scr] = decode(p0, cext)     # run from the scratch slot, just this once
                fbase = pc
                rdelta = scr - (pc >> 1)
                straddle = True
                resume = True
                continue
            if status == T_GSTAGE:
                st[EXIT_VADDR] = va2
                st[EXIT_ACCESS] = ACCESS_EXEC
                st[EXIT_INSN] = 0
                st[EXIT_PC] = pc
                code = RUN_GSTAGE
                break
            reason = R_EXC                          # the fault is the second half's: stval
            cause = CAUSE_FETCH_PAGE if status == T_PAGE_FAULT else CAUSE_FETCH_ACCESS
            tval = va2                              # is its address, sepc the instruction's
        elif reason == R_FETCH or reason == R_DECODE:
            pc &= M32
            if pc & amask:
                reason = R_EXC
                cause = CAUSE_FETCH_MISALIGNED
                tval = pc
            else:
                e = tlb_slot(pc >> 12)
                status = T_OK if tlb[e + 2] == pc >> 12 else translate(st, tlb, gmap, ram, pc,
                                                                        EXEC)
                if status == T_OK:
                    fbase = pc & ~0xFFF
                    fadd = tlb[e + 3]
                    rdelta = slot_for(tlb, (fbase + fadd) >> 12) - (fbase >> 1)
                    straddle = False
                    resume = True
                    continue
                if status == T_GSTAGE:
                    st[EXIT_VADDR] = pc
                    st[EXIT_ACCESS] = ACCESS_EXEC
                    st[EXIT_INSN] = 0
                    st[EXIT_PC] = pc
                    code = RUN_GSTAGE
                    break
                reason = R_EXC
                cause = CAUSE_FETCH_PAGE if status == T_PAGE_FAULT else CAUSE_FETCH_ACCESS
                tval = pc
        elif reason == R_MEM:
            ins = imm & M32                         # an AMO's record holds its word
            if cls != C_AMO:                        # a load or store the inner loop left
                ins = mem_insn(rec)
                va = (st[rs1] + imm) & M32
                size = 1 if cls == C_LB or cls == C_LBU or cls == C_SB else (
                    2 if cls == C_LH or cls == C_LHU or cls == C_SH else 4)
                store = cls == C_SB or cls == C_SH or cls == C_SW
                if (va & (size - 1)) == 0:
                    vpn = va >> 12
                    e = tlb_slot(vpn)
                    if store and tlb[e + 1] == vpn | TLB_HASCODE:
                        h = np.uint64(va + tlb[e + 3])  # a store to a page with decoded code:
                        v = st[rs2]                     # store, then forget what it overwrote
                        if size == 4:
                            ram32[h >> np.uint64(2)] = v & M32
                        elif size == 2:
                            ram16[h >> np.uint64(1)] = v & 0xFFFF
                        else:
                            ram[h] = v & 0xFF
                        code_written(tlb, np.int64(h), size)
                        retired = True
                        npc = pc + ilen
                    elif translate(st, tlb, gmap, ram, va,
                                   ACCESS_WRITE if store else ACCESS_READ) == T_OK:
                        resume = True               # a TLB miss: refilled, the inner loop
                        continue                    # does it (or comes back, TLB_HASCODE)
            if not retired:
                status, c = exec_mem(st, tlb, gmap, ram, ins, pc, hs)
                if status == M_OK:
                    retired = True
                    npc = pc + ilen
                elif status == M_EXIT:
                    st[EXIT_ILEN] = ilen
                    code = RUN_GSTAGE
                    break
                else:
                    reason = R_EXC
                    cause = c if status == M_EXCEPTION else CAUSE_ILLEGAL
                    tval = st[EXIT_TVAL] if status == M_EXCEPTION else ins
        elif reason == R_SYSTEM:
            fbase = NO_PAGE                         # satp, sret and sfence change translation
            ins = imm & M32
            status, v = exec_system(st, tlb, ins, pc)
            if status == SYS_OK or status == SYS_IDLE:
                retired = True
                npc = v
            elif status == SYS_SBI and fast_call(st, ram, gmap, stop):
                st[CNT_SBI] += 1                    # sbi_fast.py: answered here, no exit
                retired = True
                npc = pc + 4
            elif status == SYS_SBI:
                st[CNT_SBI] += 1
                st[EXIT_INSN] = ins
                st[EXIT_PC] = pc
                st[EXIT_ILEN] = 4
                code = RUN_SBI
                break
            elif status == SYS_EXCEPTION:
                reason = R_EXC
                cause = v
                tval = pc if v == CAUSE_BREAKPOINT else 0
            else:
                reason = R_EXC
                cause = CAUSE_ILLEGAL
                tval = ins
        elif reason == R_FENCE_I:
            flush(tlb)                              # every decoded page, decoded again
            fbase = NO_PAGE
            retired = True
            npc = pc + ilen
        elif reason == R_BRMIS:
            f3 = (rec >> 8) & 127                   # (the record keeps funct3 in rd's place)
            a = st[rs1]
            b = st[rs2]
            if f3 == 0:
                taken = a == b
            elif f3 == 1:
                taken = a != b
            elif f3 == 4:
                taken = (a ^ SIGN) < (b ^ SIGN)
            elif f3 == 5:
                taken = (a ^ SIGN) >= (b ^ SIGN)
            elif f3 == 6:
                taken = a < b
            elif f3 == 7:
                taken = a >= b
            else:
                taken = True                        # jal
            if taken:
                reason = R_EXC
                cause = CAUSE_FETCH_MISALIGNED
                tval = (pc + imm) & M32
            else:
                retired = True
                npc = pc + 4
        if retired:
            left -= 1
            count -= 1
            st[CYCLE] += 1
            st[INSTRET] += 1
            pc = npc
            if status == SYS_IDLE and reason == R_SYSTEM:
                code = RUN_IDLE
                break
            resume = reason == R_MEM            # a CSR write may have unmasked an interrupt
            continue
        # an exception: to the guest's stvec, or to the monitor when it asked for them all
        if st[TRAP_VIA_MONITOR] != 0:
            st[EXIT_CAUSE] = cause
            st[EXIT_TVAL] = tval
            st[EXIT_PC] = pc
            code = RUN_TRAP
            break
        npc = trap_enter(st, tlb, cause, tval, pc)
        if npc < 0:
            code = RUN_CRASH
            break
        st[CNT_EXC_DELEGATED] += 1
        left -= 1                                   # a trap is a step of the budget: a handler
        pc = npc                                    # that traps again (a trap storm) must not
        fbase = NO_PAGE                             # keep run() from returning
    st[PC] = pc & M32                   # (wfi at 0xFFFFFFFC idles with pc + 4 unmasked)
    return code


def check(st, ram, gmap, tlb, stop):
    """Raise ValueError unless the arrays are what the compiled kernel assumes: it tests no
    bounds of its own beyond the guest's RAM, so these shapes are part of the wall between VMs.
    The monitor checks a VM's arrays once, when it boots, then calls run_checked()."""
    if st.dtype != np.int64 or st.shape != (STATE_SIZE,) or not st.flags.c_contiguous:
        raise ValueError("state must be a contiguous int64 row of STATE_SIZE")
    if ram.dtype != np.uint8 or ram.ndim != 1 or ram.size % 4096 or not ram.flags.c_contiguous:
        raise ValueError("host memory must be a contiguous uint8 array of whole pages")
    if st[RAM_BASE] & 0xFFF or st[RAM_SIZE] <= 0 or st[RAM_SIZE] & 0xFFF or st[TIME_DIV] < 1:
        raise ValueError("RAM base and size must be whole pages, TIME_DIV >= 1")
    if gmap.dtype != np.int32 or gmap.ndim != 1 or gmap.size < st[RAM_SIZE] >> 12:
        raise ValueError("G-stage map must be int32 with one entry per RAM page")
    slots = int(tlb[ICACHE_SLOTS]) if tlb.dtype == np.int64 and tlb.size > ICACHE_SLOTS else 0
    if (tlb.dtype != np.int64 or tlb.ndim != 1 or not 0 < slots <= ICACHE_MAX_SLOTS
            or slots & (slots - 1) or tlb.size != tlb_size(slots) or not tlb.flags.c_contiguous):
        raise ValueError("TLB must be an int64 array made by icache.new_tlb()")
    if st[MISA] not in (0, MISA_RV32IMA, MISA_RV32IMAC):
        raise ValueError("misa must be rv32ima or rv32imac (state.MISA_RV32IMA[C])")
    if stop.ndim != 1 or stop.size < 1:
        raise ValueError("stop must be a 1-D array")


def run(st, ram, gmap, tlb, budget, stop):
    """Run one VM for at most ``budget`` instructions; returns a RUN_* code (state.py).

    st: the VM's int64 state row; ram: the host's uint8 memory (all VMs); gmap: the VM's int32
    G-stage map (host page of each guest-physical RAM page, -1 = none); tlb: the VM's TLB and
    predecode cache (icache.new_tlb); stop: an integer array whose element 0, when non-zero, stops the hart within
    CHECK_EVERY instructions.  The arguments are checked here so the compiled kernel need not."""
    check(st, ram, gmap, tlb, stop)
    if budget < 0:
        raise ValueError("budget must be >= 0")
    return _run(st, ram, gmap, tlb, int(budget), stop)


# for callers that ran check() on these very arrays (the scheduler, once per boot): an exit
# that returns to Python costs ~7 us, and the checks were a third of it
run_checked = _run


def _hart_modules():
    """The source files compiled into the hart: its jitted functions and the constants
    (state.py) they freeze in."""
    import sys
    from . import access, csr, decode, icache, jit, mmu, rvc, sbi_fast, state, trap
    return [access, csr, decode, icache, jit, mmu, rvc, sbi_fast, state, trap,
            sys.modules[__name__]]


_jit.drop_stale(_hart_modules())      # an edit of any of them recompiles all (jit.drop_stale)
