"""The one table of RV32 instructions hvlab knows: RV32I, M, A, Zicsr, Zifencei and the
privileged instructions a supervisor uses (sret, mret, wfi, sfence.vma).

Both directions use it: the assembler looks an instruction up by mnemonic and calls
``encode``; the disassembler calls ``decode`` on a word.  Each entry is described the way
GNU binutils' riscv-opc.c does it: a *match* value (the fixed bits) and a *mask* (which bits
are fixed); the free bits are the operand fields named in ``operands``.

References: "The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA" (20191213),
ch. 2 (RV32I, base formats in sec. 2.2-2.3), ch. 3 (Zifencei), ch. 7 (M), ch. 8 (A),
ch. 9 (Zicsr), ch. 24 (opcode map); Volume II (Privileged, 20211203) sec. 3.3 and 4.2.1.
"""
from dataclasses import dataclass, field

# Major opcodes (Vol. I, table 24.1 "RISC-V base opcode map").
LOAD, MISC_MEM, OP_IMM, AUIPC, STORE, AMO, OP, LUI = 0x03, 0x0F, 0x13, 0x17, 0x23, 0x2F, 0x33, 0x37
BRANCH, JALR, JAL, SYSTEM = 0x63, 0x67, 0x6F, 0x73

# Operand field -> (bit positions it occupies).  Used to build masks and in the property test.
FIELD_BITS = {
    "rd": 0x00000F80, "rs1": 0x000F8000, "rs2": 0x01F00000,
    "imm_i": 0xFFF00000, "imm_s": 0xFE000F80, "imm_b": 0xFE000F80,
    "imm_u": 0xFFFFF000, "imm_j": 0xFFFFF000,
    "shamt": 0x01F00000, "csr": 0xFFF00000, "uimm": 0x000F8000,
    "pred": 0x0F000000, "succ": 0x00F00000,
}

# Syntax -> the fields it writes.  The syntax strings are the operand lists as written in
# assembly (GNU as order); the assembler and disassembler both interpret them.
SYNTAX_FIELDS = {
    "rd,rs1,rs2": ("rd", "rs1", "rs2"),
    "rd,rs1,imm_i": ("rd", "rs1", "imm_i"),
    "rd,rs1,shamt": ("rd", "rs1", "shamt"),
    "rd,imm_i(rs1)": ("rd", "rs1", "imm_i"),        # loads and jalr
    "rs2,imm_s(rs1)": ("rs2", "rs1", "imm_s"),      # stores
    "rs1,rs2,imm_b": ("rs1", "rs2", "imm_b"),       # branches
    "rd,imm_u": ("rd", "imm_u"),
    "rd,imm_j": ("rd", "imm_j"),
    "rd,csr,rs1": ("rd", "csr", "rs1"),
    "rd,csr,uimm": ("rd", "csr", "uimm"),
    "rd,rs2,(rs1)": ("rd", "rs2", "rs1"),           # AMOs
    "rd,(rs1)": ("rd", "rs1"),                      # lr.w
    "pred,succ": ("pred", "succ"),
    "rs1,rs2": ("rs1", "rs2"),                      # sfence.vma
    "": (),
}


@dataclass(frozen=True)
class Instruction:
    mnemonic: str
    fmt: str            # R, I, S, B, U, J (Vol. I fig. 2.3) plus SHIFT, CSR, CSRI, AMO, FENCE, SYS
    opcode: int
    funct3: int | None
    funct7: int | None  # R/SHIFT: funct7; AMO: funct5 (aq/rl are in match); SYS: funct12
    syntax: str
    match: int
    mask: int
    fields: tuple = field(default=())
    size: int = 4       # bytes (the 16-bit instructions are in compressed.py)

    def encode(self, **values):
        """The instruction word for the given field values (already range-checked)."""
        word = self.match
        for name in self.fields:
            word |= FIELD_ENCODERS[name](values.get(name, 0))
        return word & 0xFFFFFFFF

    def decode_fields(self, word):
        return {name: FIELD_DECODERS[name](word) for name in self.fields}


# --- immediate fields, Vol. I fig. 2.4 "Types of immediate produced by RISC-V instructions" ---

def sext(value, bits):
    """Sign-extend the low `bits` bits of value."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def enc_imm_i(v):
    return (v & 0xFFF) << 20


def dec_imm_i(w):
    return sext(w >> 20, 12)


def enc_imm_s(v):
    return ((v >> 5) & 0x7F) << 25 | (v & 0x1F) << 7


def dec_imm_s(w):
    return sext((w >> 25) << 5 | (w >> 7) & 0x1F, 12)


def enc_imm_b(v):
    # imm[12|10:5] in 31:25, imm[4:1|11] in 11:7
    return (((v >> 12) & 1) << 31 | ((v >> 5) & 0x3F) << 25
            | ((v >> 1) & 0xF) << 8 | ((v >> 11) & 1) << 7)


def dec_imm_b(w):
    v = (((w >> 31) & 1) << 12 | ((w >> 7) & 1) << 11
         | ((w >> 25) & 0x3F) << 5 | ((w >> 8) & 0xF) << 1)
    return sext(v, 13)


def enc_imm_j(v):
    # imm[20|10:1|11|19:12] in 31:12
    return (((v >> 20) & 1) << 31 | ((v >> 1) & 0x3FF) << 21
            | ((v >> 11) & 1) << 20 | ((v >> 12) & 0xFF) << 12)


def dec_imm_j(w):
    v = (((w >> 31) & 1) << 20 | ((w >> 12) & 0xFF) << 12
         | ((w >> 20) & 1) << 11 | ((w >> 21) & 0x3FF) << 1)
    return sext(v, 21)


def _reg(shift):
    return (lambda v: (v & 31) << shift), (lambda w: (w >> shift) & 31)


FIELD_ENCODERS, FIELD_DECODERS = {}, {}
for _name, _shift in (("rd", 7), ("rs1", 15), ("rs2", 20), ("shamt", 20), ("uimm", 15)):
    FIELD_ENCODERS[_name], FIELD_DECODERS[_name] = _reg(_shift)
FIELD_ENCODERS.update(imm_i=enc_imm_i, imm_s=enc_imm_s, imm_b=enc_imm_b, imm_j=enc_imm_j,
                      imm_u=lambda v: (v & 0xFFFFF) << 12, csr=lambda v: (v & 0xFFF) << 20,
                      pred=lambda v: (v & 15) << 24, succ=lambda v: (v & 15) << 20)
FIELD_DECODERS.update(imm_i=dec_imm_i, imm_s=dec_imm_s, imm_b=dec_imm_b, imm_j=dec_imm_j,
                      imm_u=lambda w: (w >> 12) & 0xFFFFF, csr=lambda w: (w >> 20) & 0xFFF,
                      pred=lambda w: (w >> 24) & 15, succ=lambda w: (w >> 20) & 15)


# --- the table ----------------------------------------------------------------------------

def _make(mnemonic, fmt, opcode, funct3, funct7, syntax, match, extra_mask=0):
    fields = SYNTAX_FIELDS[syntax]
    free = 0
    for name in fields:
        free |= FIELD_BITS[name]
    mask = (~free & 0xFFFFFFFF) | extra_mask
    return Instruction(mnemonic, fmt, opcode, funct3, funct7, syntax, match, mask, fields)


def _r(mn, f7, f3, opcode=OP):
    return _make(mn, "R", opcode, f3, f7, "rd,rs1,rs2", f7 << 25 | f3 << 12 | opcode)


def _i(mn, f3, opcode=OP_IMM, syntax="rd,rs1,imm_i"):
    return _make(mn, "I", opcode, f3, None, syntax, f3 << 12 | opcode)


def _shift(mn, f7, f3):
    # RV32: shamt is 5 bits; imm[11:5] is funct7, so shamt[5]=1 is not a valid encoding
    return _make(mn, "SHIFT", OP_IMM, f3, f7, "rd,rs1,shamt", f7 << 25 | f3 << 12 | OP_IMM)


def _s(mn, f3):
    return _make(mn, "S", STORE, f3, None, "rs2,imm_s(rs1)", f3 << 12 | STORE)


def _b(mn, f3):
    return _make(mn, "B", BRANCH, f3, None, "rs1,rs2,imm_b", f3 << 12 | BRANCH)


def _csr(mn, f3):
    syntax = "rd,csr,uimm" if f3 & 4 else "rd,csr,rs1"
    return _make(mn, "CSRI" if f3 & 4 else "CSR", SYSTEM, f3, None, syntax, f3 << 12 | SYSTEM)


def _sys(mn, funct12, syntax="", f7=None):
    # ecall/ebreak/xret/wfi: every bit fixed (Vol. II sec. 3.3, table 3.2 privileged encodings)
    return _make(mn, "SYS", SYSTEM, 0, funct12, syntax, funct12 << 20 | SYSTEM)


AMO_SUFFIXES = (("", 0), (".aq", 2), (".rl", 1), (".aqrl", 3))


def _amo(base, funct5):
    out = []
    for suffix, aqrl in AMO_SUFFIXES:
        match = funct5 << 27 | aqrl << 25 | 2 << 12 | AMO   # funct3 = 010: word width
        if base == "lr.w":   # lr.w rd, (rs1): rs2 must be zero
            out.append(_make(base + suffix, "AMO", AMO, 2, funct5, "rd,(rs1)", match))
        else:
            out.append(_make(base + suffix, "AMO", AMO, 2, funct5, "rd,rs2,(rs1)", match))
    return out


def _build():
    t = [
        # RV32I (Vol. I ch. 2, listing in table 24.2)
        _make("lui", "U", LUI, None, None, "rd,imm_u", LUI),
        _make("auipc", "U", AUIPC, None, None, "rd,imm_u", AUIPC),
        _make("jal", "J", JAL, None, None, "rd,imm_j", JAL),
        _i("jalr", 0, JALR, "rd,imm_i(rs1)"),
        _b("beq", 0), _b("bne", 1), _b("blt", 4), _b("bge", 5), _b("bltu", 6), _b("bgeu", 7),
        _i("lb", 0, LOAD, "rd,imm_i(rs1)"), _i("lh", 1, LOAD, "rd,imm_i(rs1)"),
        _i("lw", 2, LOAD, "rd,imm_i(rs1)"), _i("lbu", 4, LOAD, "rd,imm_i(rs1)"),
        _i("lhu", 5, LOAD, "rd,imm_i(rs1)"),
        _s("sb", 0), _s("sh", 1), _s("sw", 2),
        _i("addi", 0), _i("slti", 2), _i("sltiu", 3), _i("xori", 4), _i("ori", 6), _i("andi", 7),
        _shift("slli", 0x00, 1), _shift("srli", 0x00, 5), _shift("srai", 0x20, 5),
        _r("add", 0x00, 0), _r("sub", 0x20, 0), _r("sll", 0x00, 1), _r("slt", 0x00, 2),
        _r("sltu", 0x00, 3), _r("xor", 0x00, 4), _r("srl", 0x00, 5), _r("sra", 0x20, 5),
        _r("or", 0x00, 6), _r("and", 0x00, 7),
        # fence: fm=0000, rs1=rd=0 (sec. 2.7); fence.tso: fm=1000 pred=succ=rw
        _make("fence", "FENCE", MISC_MEM, 0, None, "pred,succ", MISC_MEM),
        _make("fence.tso", "FENCE", MISC_MEM, 0, None, "", 0x8330000F),
        _sys("ecall", 0x000), _sys("ebreak", 0x001),
        # Zifencei (ch. 3): all other bits zero
        _make("fence.i", "FENCE", MISC_MEM, 1, None, "", 1 << 12 | MISC_MEM),
        # Zicsr (ch. 9)
        _csr("csrrw", 1), _csr("csrrs", 2), _csr("csrrc", 3),
        _csr("csrrwi", 5), _csr("csrrsi", 6), _csr("csrrci", 7),
        # M (ch. 7): funct7 = 0000001
        _r("mul", 1, 0), _r("mulh", 1, 1), _r("mulhsu", 1, 2), _r("mulhu", 1, 3),
        _r("div", 1, 4), _r("divu", 1, 5), _r("rem", 1, 6), _r("remu", 1, 7),
    ]
    # A (ch. 8): funct5 in 31:27, aq in 26, rl in 25
    for base, funct5 in (("lr.w", 0x02), ("sc.w", 0x03), ("amoswap.w", 0x01), ("amoadd.w", 0x00),
                         ("amoxor.w", 0x04), ("amoand.w", 0x0C), ("amoor.w", 0x08),
                         ("amomin.w", 0x10), ("amomax.w", 0x14), ("amominu.w", 0x18),
                         ("amomaxu.w", 0x1C)):
        t += _amo(base, funct5)
    # Privileged (Vol. II table 3.2 / sec. 4.2.1): funct7 in 31:25 for sfence.vma
    t += [_sys("sret", 0x102), _sys("mret", 0x302), _sys("wfi", 0x105),
          _make("sfence.vma", "R", SYSTEM, 0, 0x09, "rs1,rs2", 0x09 << 25 | SYSTEM)]
    return t


INSTRUCTIONS = tuple(_build())
BY_MNEMONIC = {insn.mnemonic: insn for insn in INSTRUCTIONS}
_BY_OPCODE = {}
for _insn in INSTRUCTIONS:
    _BY_OPCODE.setdefault(_insn.match & 0x7F, []).append(_insn)


def encode(mnemonic, **values):
    """Encode one real instruction, e.g. ``encode("addi", rd=10, rs1=0, imm_i=5)``."""
    return BY_MNEMONIC[mnemonic].encode(**values)


def decode(word):
    """(Instruction, {field: value}) for a 32-bit word, or None if it is not one we know."""
    for insn in _BY_OPCODE.get(word & 0x7F, ()):
        if word & insn.mask == insn.match:
            return insn, insn.decode_fields(word)
    return None
