"""The hart: an RV32IMA + Zicsr + Zifencei interpreter compiled by numba.

``run()`` runs one VM for at most ``budget`` instructions and returns a RUN_* code (state.py).
It never raises and never touches a byte of host memory the VM's G-stage map does not give it.

Design (measured in shared/notes/hart-performance.md):
  * an *inner loop* that makes no calls: it fetches from a cached code page, looks the
    instruction's class up in a 1024-entry table (opcode, funct3) and dispatches with one flat
    switch, and does aligned loads and stores that hit the TLB;
  * every slow case (code page change, TLB miss, misaligned or device access, atomics, any
    SYSTEM instruction, an exception) leaves the inner loop with a reason *before* the
    instruction has any effect; the *outer loop* handles it in compiled code and re-enters;
  * one down-counter per instruction folds the budget, the timer deadline and the stop-flag poll.
Instructions are decoded from memory every time (no predecode cache), so self-modifying code
runs the new bytes with or without fence.i.
"""
import numpy as np
from .jit import njit

from .access import M_EXCEPTION, M_EXIT, M_OK, exec_mem, load_store_operand
from .csr import SYS_EXCEPTION, SYS_IDLE, SYS_OK, SYS_SBI, exec_system
from .sbi_fast import fast_call
from .mmu import NO_PAGE, T_GSTAGE, T_OK, T_PAGE_FAULT, tlb_slot, translate
from .state import (ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, CNT_EXC_DELEGATED, CNT_IRQ, CNT_SBI,
                    CYCLE, EXIT_ACCESS, EXIT_CAUSE, EXIT_INSN, EXIT_PC, EXIT_TVAL, EXIT_VADDR,
                    IDLE, INSTRET, PC, RAM_BASE, RAM_SIZE, RES_ADDR, RUN_BUDGET, RUN_CRASH,
                    RUN_GSTAGE, RUN_IDLE, RUN_SBI, RUN_STOP, RUN_TRAP, STATE_SIZE, TIME_DIV,
                    TLB_ENTRIES, TLB_SIZE, TRAP_VIA_MONITOR)
from .trap import (CAUSE_BREAKPOINT, CAUSE_FETCH_ACCESS, CAUSE_FETCH_MISALIGNED,
                   CAUSE_FETCH_PAGE, CAUSE_ILLEGAL, INTERRUPT, pending_irq, trap_enter,
                   timer_update)

M32 = 0xFFFFFFFF
SIGN = 0x80000000
CHECK_EVERY = 4096      # the stop flag is polled at least this often (instructions)

# why the inner loop stopped
R_NONE = 0      # the down-counter ran out
R_FETCH = 1     # pc left the cached code page
R_MEM = 2       # load/store the fast path cannot do, or an atomic
R_SYSTEM = 3    # SYSTEM opcode: ecall, ebreak, CSR, sret, wfi, sfence.vma
R_EXC = 4       # exception raised by the inner loop (cause, tval)


# ---- the decode table: instruction class of each (opcode, funct3) ------------------------------
(C_ILLEGAL, C_LUI, C_AUIPC, C_JAL, C_JALR, C_ADDI, C_SLTI, C_SLTIU, C_XORI, C_ORI, C_ANDI,
 C_SLLI, C_SRI, C_OP0, C_OP1, C_OP2, C_OP3, C_OP4, C_OP5, C_OP6, C_OP7,
 C_LB, C_LH, C_LW, C_LBU, C_LHU, C_SB, C_SH, C_SW,
 C_BEQ, C_BNE, C_BLT, C_BGE, C_BLTU, C_BGEU,
 C_FENCE, C_SYSTEM, C_AMO) = range(38)     # the rare ones last: they may fall out of the table


def _decode_table():
    """DECODE[opcode | funct3 << 7]: one uint8 class per key, so the inner loop dispatches with
    a single jump table (two nested ones, opcode then funct3, cost a second indirect jump)."""
    t = np.zeros(1024, dtype=np.uint8)          # C_ILLEGAL, also for every compressed word
    def put(opcode, f3s, cls):
        for f3, c in zip(f3s, cls if isinstance(cls, (list, tuple)) else [cls] * len(f3s)):
            t[opcode | f3 << 7] = c
    every = range(8)
    put(0x13, every, [C_ADDI, C_SLLI, C_SLTI, C_SLTIU, C_XORI, C_SRI, C_ORI, C_ANDI])  # OP-IMM
    put(0x33, every, [C_OP0 + f3 for f3 in every])                                     # OP
    put(0x03, (0, 1, 2, 4, 5), [C_LB, C_LH, C_LW, C_LBU, C_LHU])                       # LOAD
    put(0x23, (0, 1, 2), [C_SB, C_SH, C_SW])                                           # STORE
    put(0x63, (0, 1, 4, 5, 6, 7), [C_BEQ, C_BNE, C_BLT, C_BGE, C_BLTU, C_BGEU])        # BRANCH
    put(0x37, every, C_LUI)             # lui: bits 14:12 are immediate bits
    put(0x17, every, C_AUIPC)
    put(0x6F, every, C_JAL)
    put(0x67, (0,), C_JALR)
    put(0x0F, (0, 1), C_FENCE)          # fence (000), fence.i (001)
    put(0x73, every, C_SYSTEM)          # csr.exec_system checks funct3
    put(0x2F, every, C_AMO)             # access.exec_atomic checks funct3
    return t


DECODE = _decode_table()


@njit(cache=True, nogil=True, inline="always")    # inlined: the inner loop makes no calls
def _branch_target(pc, ins):
    """pc + the B-type immediate (sign bit 31, then bits 7, 30:25, 11:8)."""
    imm = ((((ins ^ SIGN) - SIGN) >> 19) & ~0xFFF) | ((ins << 4) & 0x800) \
        | ((ins >> 20) & 0x7E0) | ((ins >> 7) & 0x1E)
    return (pc + imm) & M32

@njit(cache=True, nogil=True)
def _run(st, ram, gmap, tlb, budget, stop):
    ram16 = ram.view(np.uint16)
    ram32 = ram.view(np.uint32)
    hs = np.empty(4, np.int64)          # host indices of a slow access's bytes
    st[RES_ADDR] = -1                   # a switch to another VM breaks the reservation
    st[IDLE] = 0
    pc = st[PC]
    left = budget
    fbase = NO_PAGE                     # guest-virtual base of the cached code page
    fadd = 0                            # its host addend: host index = pc + fadd
    code = RUN_BUDGET
    ins = 0
    count = 0
    resume = False                      # go back into the inner loop without the checks below
    while True:
        # ---------------- outer loop: stop flag, budget, timer, interrupts ----------------
        pc &= M32                       # pc + 4 past 0xFFFFFFFC wraps to 0 (XLEN = 32): the
        if resume and count > 0:        # inner loop leaves it unmasked, sepc and st[PC] must not
            resume = False              # a TLB refill or an emulated access changed nothing
        else:                           # that an interrupt, the timer or the budget depend on
            resume = False
            if stop[0] != 0:
                code = RUN_STOP
                break
            if left <= 0:
                code = RUN_BUDGET
                break
            wait = timer_update(st)
            irq = pending_irq(st)
            if irq >= 0:
                npc = trap_enter(st, tlb, INTERRUPT | irq, 0, pc)
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
        cause = CAUSE_ILLEGAL               # the inner loop's exceptions: illegal unless set
        tval = -1                           # -1: the instruction word
        # ---------------- inner loop: one instruction per iteration, no calls ----------------
        while count > 0:
            if ((pc - fbase) >> 12) != 0:
                reason = R_FETCH
                break
            ins = np.int64(ram32[np.uint64((pc + fadd) >> 2)])
            st[0] = 0
            rd = np.uint64((ins >> 7) & 31)     # unsigned indices: no wraparound test
            rs1 = np.uint64((ins >> 15) & 31)
            npc = pc + 4
            # one flat switch on the instruction's class (DECODE[opcode | funct3 << 7])
            cls = DECODE[np.uint64((ins & 0x7F) | ((ins >> 5) & 0x380))]
            if cls == C_ADDI:                       # addi
                st[rd] = (st[rs1] + (((ins ^ SIGN) - SIGN) >> 20)) & M32
            elif cls == C_LW:                       # lw
                va = (st[rs1] + (((ins ^ SIGN) - SIGN) >> 20)) & M32
                e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)  # tlb_slot
                if tlb[e] != (va >> 12) or va & 3:
                    reason = R_MEM
                    break
                st[rd] = np.int64(ram32[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(2)])
            elif cls == C_SW:                       # sw
                va = (st[rs1] + (((((ins ^ SIGN) - SIGN) >> 20) & ~31) | ((ins >> 7) & 31))) & M32
                e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                if tlb[e + np.uint64(1)] != (va >> 12) or va & 3:
                    reason = R_MEM
                    break
                ram32[np.uint64(va + tlb[e + np.uint64(3)]) >> np.uint64(2)] = \
                    st[np.uint64((ins >> 20) & 31)]
            elif cls == C_BNE:                      # bne
                if st[rs1] != st[np.uint64((ins >> 20) & 31)]:
                    npc = _branch_target(pc, ins)
                    if npc & 3:
                        reason = R_EXC
                        cause = CAUSE_FETCH_MISALIGNED
                        tval = npc
                        break
            elif cls == C_BEQ:                      # beq
                if st[rs1] == st[np.uint64((ins >> 20) & 31)]:
                    npc = _branch_target(pc, ins)
                    if npc & 3:
                        reason = R_EXC
                        cause = CAUSE_FETCH_MISALIGNED
                        tval = npc
                        break
            elif cls == C_BLT or cls == C_BGE or cls == C_BLTU or cls == C_BGEU:
                a = st[rs1]
                b = st[np.uint64((ins >> 20) & 31)]
                if cls == C_BLT:                    # blt (signed: flip the sign bits)
                    taken = (a ^ SIGN) < (b ^ SIGN)
                elif cls == C_BGE:                  # bge
                    taken = (a ^ SIGN) >= (b ^ SIGN)
                elif cls == C_BLTU:                 # bltu
                    taken = a < b
                else:                               # bgeu
                    taken = a >= b
                if taken:
                    npc = _branch_target(pc, ins)
                    if npc & 3:
                        reason = R_EXC
                        cause = CAUSE_FETCH_MISALIGNED
                        tval = npc
                        break
            elif cls == C_OP0:                      # add / sub / mul (funct3 000)
                f7 = ins >> 25
                a = st[rs1]
                b = st[np.uint64((ins >> 20) & 31)]
                if f7 == 0:
                    st[rd] = (a + b) & M32
                elif f7 == 0x20:
                    st[rd] = (a - b) & M32
                elif f7 == 1:
                    st[rd] = (((a ^ SIGN) - SIGN) * ((b ^ SIGN) - SIGN)) & M32
                else:
                    reason = R_EXC
                    break
            elif cls == C_ANDI:                     # andi
                st[rd] = st[rs1] & (((ins ^ SIGN) - SIGN) >> 20)
            elif cls == C_SLLI:                     # slli (funct7 0000000)
                if (ins >> 25) != 0:
                    reason = R_EXC
                    break
                st[rd] = (st[rs1] << ((ins >> 20) & 31)) & M32
            elif cls == C_SRI:                      # srli / srai
                f7 = ins >> 25
                if f7 == 0:
                    st[rd] = st[rs1] >> ((ins >> 20) & 31)
                elif f7 == 0x20:
                    st[rd] = (((st[rs1] ^ SIGN) - SIGN) >> ((ins >> 20) & 31)) & M32
                else:
                    reason = R_EXC
                    break
            elif cls == C_LBU or cls == C_LB or cls == C_LHU or cls == C_LH:
                va = (st[rs1] + (((ins ^ SIGN) - SIGN) >> 20)) & M32
                e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                if tlb[e] != (va >> 12):
                    reason = R_MEM
                    break
                h = np.uint64(va + tlb[e + np.uint64(3)])
                if cls == C_LBU:                    # lbu
                    st[rd] = np.int64(ram[h])
                elif cls == C_LB:                   # lb
                    st[rd] = ((np.int64(ram[h]) ^ 0x80) - 0x80) & M32
                elif va & 1:
                    reason = R_MEM
                    break
                elif cls == C_LHU:                  # lhu
                    st[rd] = np.int64(ram16[h >> np.uint64(1)])
                else:                               # lh
                    st[rd] = ((np.int64(ram16[h >> np.uint64(1)]) ^ 0x8000) - 0x8000) & M32
            elif cls == C_SB or cls == C_SH:
                va = (st[rs1] + (((((ins ^ SIGN) - SIGN) >> 20) & ~31) | ((ins >> 7) & 31))) & M32
                e = np.uint64((((va >> 12) ^ (va >> 20)) & (TLB_ENTRIES - 1)) << 2)
                if tlb[e + np.uint64(1)] != (va >> 12):
                    reason = R_MEM
                    break
                h = np.uint64(va + tlb[e + np.uint64(3)])
                v = st[np.uint64((ins >> 20) & 31)]
                if cls == C_SB:                     # sb
                    ram[h] = v & 0xFF
                elif va & 1:
                    reason = R_MEM
                    break
                else:                               # sh
                    ram16[h >> np.uint64(1)] = v & 0xFFFF
            elif cls == C_LUI:                      # lui
                st[rd] = ins & 0xFFFFF000
            elif cls == C_AUIPC:                    # auipc
                st[rd] = (pc + (ins & 0xFFFFF000)) & M32
            elif cls == C_JAL:                      # jal
                imm = ((((ins ^ SIGN) - SIGN) >> 11) & ~0xFFFFF) | (ins & 0xFF000) \
                    | ((ins >> 9) & 0x800) | ((ins >> 20) & 0x7FE)
                npc = (pc + imm) & M32
                if npc & 3:
                    reason = R_EXC
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = npc
                    break
                st[rd] = (pc + 4) & M32
            elif cls == C_JALR:                     # jalr
                npc = (st[rs1] + (((ins ^ SIGN) - SIGN) >> 20)) & (M32 - 1)
                if npc & 3:
                    reason = R_EXC
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = npc
                    break
                st[rd] = (pc + 4) & M32
            elif cls == C_XORI:                     # xori
                st[rd] = (st[rs1] ^ (((ins ^ SIGN) - SIGN) >> 20)) & M32
            elif cls == C_ORI:                      # ori
                st[rd] = (st[rs1] | (((ins ^ SIGN) - SIGN) >> 20)) & M32
            elif cls == C_SLTI:                     # slti
                imm = (((ins ^ SIGN) - SIGN) >> 20) & M32
                st[rd] = 1 if (st[rs1] ^ SIGN) < (imm ^ SIGN) else 0
            elif cls == C_SLTIU:                    # sltiu (imm sign-extended, then unsigned)
                st[rd] = 1 if st[rs1] < ((((ins ^ SIGN) - SIGN) >> 20) & M32) else 0
            elif cls >= C_OP1 and cls <= C_OP7:     # OP funct3 001..111: base or M extension
                f7 = ins >> 25
                a = st[rs1]
                b = st[np.uint64((ins >> 20) & 31)]
                if f7 == 0:
                    if cls == C_OP1:                # sll
                        st[rd] = (a << (b & 31)) & M32
                    elif cls == C_OP2:              # slt
                        st[rd] = 1 if (a ^ SIGN) < (b ^ SIGN) else 0
                    elif cls == C_OP3:              # sltu
                        st[rd] = 1 if a < b else 0
                    elif cls == C_OP4:              # xor
                        st[rd] = a ^ b
                    elif cls == C_OP5:              # srl
                        st[rd] = a >> (b & 31)
                    elif cls == C_OP6:              # or
                        st[rd] = a | b
                    else:                           # and
                        st[rd] = a & b
                elif f7 == 0x20 and cls == C_OP5:   # sra
                    st[rd] = (((a ^ SIGN) - SIGN) >> (b & 31)) & M32
                elif f7 == 1:                       # M extension
                    sa = (a ^ SIGN) - SIGN
                    sb = (b ^ SIGN) - SIGN
                    if cls == C_OP1:                # mulh
                        st[rd] = ((sa * sb) >> 32) & M32
                    elif cls == C_OP2:              # mulhsu
                        st[rd] = ((sa * b) >> 32) & M32
                    elif cls == C_OP3:              # mulhu (64-bit unsigned product)
                        st[rd] = np.int64((np.uint64(a) * np.uint64(b)) >> np.uint64(32))
                    elif cls == C_OP4:              # div (round toward zero)
                        if b == 0:
                            st[rd] = M32
                        elif sa == -SIGN and sb == -1:
                            st[rd] = SIGN           # overflow: the dividend
                        else:
                            q = abs(sa) // abs(sb)
                            st[rd] = (-q if (sa < 0) != (sb < 0) else q) & M32
                    elif cls == C_OP5:              # divu
                        st[rd] = M32 if b == 0 else a // b
                    elif cls == C_OP6:              # rem (sign of the dividend)
                        if b == 0:
                            st[rd] = a
                        elif sa == -SIGN and sb == -1:
                            st[rd] = 0
                        else:
                            r = abs(sa) % abs(sb)
                            st[rd] = (-r if sa < 0 else r) & M32
                    else:                           # remu
                        st[rd] = a if b == 0 else a % b
                else:
                    reason = R_EXC
                    break
            elif cls == C_FENCE:                    # fence, fence.i: nothing is cached
                pass
            elif cls == C_SYSTEM:                   # SYSTEM  1110011: trap and emulate
                reason = R_SYSTEM
                break
            elif cls == C_AMO:                      # AMO  0101111
                reason = R_MEM
                break
            else:                                   # C_ILLEGAL
                reason = R_EXC
                break
            pc = npc
            count -= 1
        # ---------------- outer loop: account, then handle why the inner loop stopped --------
        done = n - count
        left -= done
        st[CYCLE] += done
        st[INSTRET] += done
        if reason == R_NONE:
            continue
        retired = False
        if reason == R_FETCH:
            pc &= M32
            e = tlb_slot(pc >> 12)
            status = T_OK if tlb[e + 2] == pc >> 12 else translate(st, tlb, gmap, ram, pc,
                                                                    ACCESS_EXEC)
            if status == T_OK:
                fbase = pc & ~0xFFF
                fadd = tlb[e + 3]
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
            if (ins & 0x5F) == 0x03:                # a load or store that missed the TLB:
                va, size, store = load_store_operand(st, ins)  # refill, and let the inner
                if size and (va & (size - 1)) == 0 and translate(   # loop do an aligned one
                        st, tlb, gmap, ram, va, ACCESS_WRITE if store else ACCESS_READ) == T_OK:
                    resume = True
                    continue
            status, c = exec_mem(st, tlb, gmap, ram, ins, pc, hs)
            if status == M_OK:
                retired = True
                npc = pc + 4
            elif status == M_EXIT:
                code = RUN_GSTAGE
                break
            else:
                reason = R_EXC
                cause = c if status == M_EXCEPTION else CAUSE_ILLEGAL
                tval = st[EXIT_TVAL] if status == M_EXCEPTION else ins
        elif reason == R_SYSTEM:
            fbase = NO_PAGE                         # satp, sret and sfence change translation
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
        elif tval < 0:
            tval = ins                              # illegal encoding found by the inner loop
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
    st[0] = 0
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
    if tlb.dtype != np.int64 or tlb.shape != (TLB_SIZE,):
        raise ValueError("TLB must be an int64 array of TLB_SIZE")
    if stop.ndim != 1 or stop.size < 1:
        raise ValueError("stop must be a 1-D array")


def run(st, ram, gmap, tlb, budget, stop):
    """Run one VM for at most ``budget`` instructions; returns a RUN_* code (state.py).

    st: the VM's int64 state row; ram: the host's uint8 memory (all VMs); gmap: the VM's int32
    G-stage map (host page of each guest-physical RAM page, -1 = none); tlb: the VM's int64
    TLB; stop: an integer array whose element 0, when non-zero, stops the hart within
    CHECK_EVERY instructions.  The arguments are checked here so the compiled kernel need not."""
    check(st, ram, gmap, tlb, stop)
    if budget < 0:
        raise ValueError("budget must be >= 0")
    return _run(st, ram, gmap, tlb, int(budget), stop)


# for callers that ran check() on these very arrays (the scheduler, once per boot): an exit
# that returns to Python costs ~7 us, and the checks were a third of it
run_checked = _run
