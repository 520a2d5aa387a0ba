"""Predecoding: one instruction into one int64 *record* that the hart's inner loop executes.

A record holds everything the inner loop needs, already extracted (unprivileged spec, chapter
"RV32I Base Integer Instruction Set", "Base Instruction Formats" and "Immediate Encoding
Variants"):

    bits  0..7    class (C_* below): what to do, e.g. C_ADDI, C_BNE, C_MULHU
    bits  8..14   rd as a state-row index: 1..31, or X_SINK when rd is x0 (never read back)
    bits 16..20   rs1
    bits 24..28   rs2
    bits 29..31   the instruction's length in bytes: 4, or 2 for a compressed one
    bits 32..63   the immediate, sign-extended and placed (a branch offset, a shift amount, the
                  upper immediate of lui as a signed 32-bit value); for the rare classes that
                  the outer loop emulates (C_SYSTEM, C_AMO) the 32-bit instruction word, for
                  C_ILLEGAL the raw parcel or word that goes into stval

A 16-bit instruction (C extension, rvc.py) is expanded first and predecoded exactly as the 32-bit
instruction it stands for, with bit 30 set.  Record 0 (class C_DECODE) means "not decoded yet".
Reserved encodings become C_ILLEGAL, so the inner loop checks no funct7 and no alignment: with
C off, a branch or jal whose target is not 4-byte aligned becomes C_BRMIS (the outer loop raises
the misaligned-fetch exception if it is taken) and jalr becomes C_JALR4 (target tested).
"""
from .jit import callee, njit

from .rvc import expand
from .state import X_SINK

M32 = 0xFFFFFFFF
SIGN = 0x80000000
LEN4 = 4 << 29             # bits 29..31: the length
LEN2 = 2 << 29

# ---- instruction classes: the common ones first (the dispatch is one flat switch) -------------
(C_DECODE, C_ADDI, C_LW, C_SW, C_BNE, C_BEQ, C_ADD, C_BLT, C_BGE, C_BLTU, C_BGEU,
 C_ANDI, C_SLLI, C_SRLI, C_SRAI, C_LBU, C_LB, C_LHU, C_LH, C_SB, C_SH,
 C_LUI, C_AUIPC, C_JAL, C_JALR, C_SUB, C_MUL, C_XORI, C_ORI, C_SLTI, C_SLTIU,
 C_SLL, C_SLT, C_SLTU, C_XOR, C_SRL, C_SRA, C_OR, C_AND,
 # the compressed twins: the same operation, 2 bytes long (the class says so, so the next pc
 # does not wait for the record's length field: the CPU predicts the dispatch instead)
 CC_ADDI, CC_LW, CC_SW, CC_BNE, CC_BEQ, CC_ADD, CC_ANDI, CC_SLLI, CC_SRLI, CC_SRAI,
 CC_LUI, CC_JAL, CC_JALR, CC_SUB, CC_XOR, CC_OR, CC_AND,
 C_MULH, C_MULHSU, C_MULHU, C_DIV, C_DIVU, C_REM, C_REMU,
 C_JALR4, C_FENCE, C_FENCE_I, C_SYSTEM, C_AMO, C_BRMIS, C_PAGE_END, C_ILLEGAL) = range(71)
N_CLASSES = 71          # < 128: the inner loop masks the class with 127
# C_PAGE_END is never decoded: it is the sentinel after each cached page (icache.py)

_TWINS = {C_ADDI: CC_ADDI, C_LW: CC_LW, C_SW: CC_SW, C_BNE: CC_BNE, C_BEQ: CC_BEQ,
          C_ADD: CC_ADD, C_ANDI: CC_ANDI, C_SLLI: CC_SLLI, C_SRLI: CC_SRLI, C_SRAI: CC_SRAI,
          C_LUI: CC_LUI, C_JAL: CC_JAL, C_JALR: CC_JALR, C_SUB: CC_SUB, C_XOR: CC_XOR,
          C_OR: CC_OR, C_AND: CC_AND, C_SYSTEM: C_SYSTEM, C_ILLEGAL: C_ILLEGAL}
# TWIN[class of the expansion of a 16-bit instruction] = its record's class (-1: cannot occur)
TWIN = tuple(_TWINS.get(c, -1) for c in range(N_CLASSES))
# the 32-bit class of each twin (the outer loop's slow paths treat both alike)
BASE_CLASS = tuple(next((b for b, t in _TWINS.items() if t == c), c) for c in range(N_CLASSES))

_OP_F7_0 = (C_ADD, C_SLL, C_SLT, C_SLTU, C_XOR, C_SRL, C_OR, C_AND)
_OP_F7_1 = (C_MUL, C_MULH, C_MULHSU, C_MULHU, C_DIV, C_DIVU, C_REM, C_REMU)
_OP_IMM = (C_ADDI, C_SLLI, C_SLTI, C_SLTIU, C_XORI, C_SRLI, C_ORI, C_ANDI)
_LOADS = (C_LB, C_LH, C_LW, C_ILLEGAL, C_LBU, C_LHU, C_ILLEGAL, C_ILLEGAL)
_STORES = (C_SB, C_SH, C_SW, C_ILLEGAL, C_ILLEGAL, C_ILLEGAL, C_ILLEGAL, C_ILLEGAL)
_BRANCHES = (C_BEQ, C_BNE, C_ILLEGAL, C_ILLEGAL, C_BLT, C_BGE, C_BLTU, C_BGEU)


@njit(cache=True, nogil=True, inline="always")
def _sx32(v):
    return ((v & M32) ^ SIGN) - SIGN


@njit(cache=True, nogil=True, inline="always")
def record(cls, rd, rs1, rs2, imm):
    """A record of a 32-bit instruction (decode() changes the length of a compressed one)."""
    return cls | (rd << 8) | (rs1 << 16) | (rs2 << 24) | LEN4 | (imm << 32)


@njit(cache=True, nogil=True, inline="always")
def _illegal(raw):
    return record(C_ILLEGAL, 0, 0, 0, _sx32(raw))


@callee
def decode32(ins, cext):
    """The record of 32-bit instruction word ``ins``; ``cext``: the C extension is on (so
    instruction addresses need only be 2-byte aligned).  (One record built at the end: each
    case only picks its fields, which keeps the function small to compile.)"""
    op = ins & 0x7F
    f3 = (ins >> 12) & 7
    f7 = ins >> 25
    rd = (ins >> 7) & 31
    rs1 = (ins >> 15) & 31
    rs2 = (ins >> 20) & 31
    sx = ((ins & M32) ^ SIGN) - SIGN
    imm_i = sx >> 20
    cls = C_ILLEGAL                     # the default: illegal, the word in the immediate
    dest = X_SINK if rd == 0 else rd    # where rd = x0 writes go
    out_rd, out_rs1, out_rs2, imm = 0, 0, 0, sx
    if op == 0x13:                                      # OP-IMM
        if f3 == 1 or f3 == 5:                          # slli, srli, srai: shamt in imm
            if f7 == 0:
                cls = C_SLLI if f3 == 1 else C_SRLI
            elif f7 == 0x20 and f3 == 5:
                cls = C_SRAI
            if cls != C_ILLEGAL:
                out_rd, out_rs1, imm = dest, rs1, rs2
        else:
            cls, out_rd, out_rs1, imm = _OP_IMM[f3], dest, rs1, imm_i
    elif op == 0x33:                                    # OP
        if f7 == 0:
            cls = _OP_F7_0[f3]
        elif f7 == 1:
            cls = _OP_F7_1[f3]
        elif f7 == 0x20 and f3 == 0:
            cls = C_SUB
        elif f7 == 0x20 and f3 == 5:
            cls = C_SRA
        if cls != C_ILLEGAL:
            out_rd, out_rs1, out_rs2, imm = dest, rs1, rs2, 0
    elif op == 0x03:                                    # LOAD
        cls = _LOADS[f3]
        if cls != C_ILLEGAL:
            out_rd, out_rs1, imm = dest, rs1, imm_i
    elif op == 0x23:                                    # STORE
        cls = _STORES[f3]
        if cls != C_ILLEGAL:
            out_rs1, out_rs2, imm = rs1, rs2, (imm_i & ~31) | rd
    elif op == 0x63:                                    # BRANCH
        cls = _BRANCHES[f3]
        if cls != C_ILLEGAL:
            imm = ((sx >> 19) & ~0xFFF) | ((ins << 4) & 0x800) | ((ins >> 20) & 0x7E0) \
                | ((ins >> 7) & 0x1E)
            out_rs1, out_rs2 = rs1, rs2
            if not cext and (imm & 2) != 0:
                cls, out_rd = C_BRMIS, f3               # taken: misaligned fetch (IALIGN 32)
    elif op == 0x37 or op == 0x17:                      # lui, auipc
        cls, out_rd, imm = C_LUI if op == 0x37 else C_AUIPC, dest, ((sx >> 12) << 12)
    elif op == 0x6F:                                    # jal
        imm = ((sx >> 11) & ~0xFFFFF) | (ins & 0xFF000) | ((ins >> 9) & 0x800) \
            | ((ins >> 20) & 0x7FE)
        if not cext and (imm & 2) != 0:
            cls, out_rd = C_BRMIS, 2                    # funct3 2: "always taken"
        else:
            cls, out_rd = C_JAL, dest
    elif op == 0x67:                                    # jalr
        if f3 == 0:
            cls, out_rd, out_rs1, imm = C_JALR if cext else C_JALR4, dest, rs1, imm_i
    elif op == 0x0F:                                    # MISC-MEM: fence, fence.i
        if f3 == 0 or f3 == 1:
            cls, imm = C_FENCE if f3 == 0 else C_FENCE_I, 0
    elif op == 0x73:                                    # SYSTEM: csr.exec_system decodes it
        cls = C_SYSTEM
    elif op == 0x2F:                                    # AMO: access.exec_atomic decodes it
        cls = C_AMO
    if cls == C_ILLEGAL:
        out_rd, out_rs1, out_rs2, imm = 0, 0, 0, sx
    return cls | (out_rd << 8) | (out_rs1 << 16) | (out_rs2 << 24) | LEN4 | (imm << 32)


@njit(cache=True, nogil=True, no_rewrites=True)
def decode(ins, cext):
    """The record of the instruction whose first parcel(s) are ``ins`` (the low 16 bits are
    the first parcel; the high 16 the second, read only for a 32-bit instruction)."""
    p = ins & 0xFFFF
    if (p & 3) != 3:                                    # a 16-bit instruction
        if not cext:
            return _illegal(p)          # stval: the 16-bit parcel (the shortest instruction)
        w = expand(p)
        if w < 0:
            return _illegal(p) ^ (LEN4 | LEN2)
        r = decode32(w, cext) ^ (LEN4 | LEN2)      # (cext is True here)
        return (r & ~0xFF) | TWIN[r & 0xFF]
    return decode32(ins & M32, cext)


@callee
def mem_insn(rec):
    """The 32-bit load or store word that a C_L*/C_S* record stands for (for the slow path and
    the monitor's MMIO emulation, which decode instruction words)."""
    cls = BASE_CLASS[rec & 127]
    rd = (rec >> 8) & 127
    rs1 = (rec >> 16) & 31
    rs2 = (rec >> 24) & 31
    imm = rec >> 32
    if cls == C_SB or cls == C_SH or cls == C_SW:
        f3 = 0 if cls == C_SB else (1 if cls == C_SH else 2)
        return (((imm >> 5) & 0x7F) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) \
            | ((imm & 31) << 7) | 0x23
    if cls == C_LB:
        f3 = 0
    elif cls == C_LH:
        f3 = 1
    elif cls == C_LW:
        f3 = 2
    elif cls == C_LBU:
        f3 = 4
    else:
        f3 = 5
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | ((0 if rd == X_SINK else rd) << 7) \
        | 0x03
