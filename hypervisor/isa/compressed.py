"""The RV32C table: every 16-bit instruction of the C extension (no F/D forms), with how it
is encoded, decoded, and which 32-bit instruction it stands for.

References: "The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA" (20191213),
ch. 16 "C" Standard Extension: formats in table 16.1 and fig. 16.1, instruction listings in
sec. 16.3-16.8, the opcode map in tables 16.5-16.7 and the HINTs in table 16.3.

Each entry is a 16-character bit pattern as the spec draws it (bit 15 first; `0`/`1` fixed,
`.` free) and the operands it has.  Immediates are scattered over the parcel; each layout
below is copied from the spec's format figures, e.g. C.J's `offset[11|4|9:8|10|6|7|3:1|5]` in
bits 12..2, so a reader can check them against the manual line by line.

Three kinds of parcel are not plain instructions:
  * HINTs (table 16.3): legal encodings that change no architectural state, e.g. `c.li x0, 5`
    or `c.mv x0, a1`; they decode (with `hint` true) and `expand` gives their 32-bit
    meaning (`addi x0, x0, 5`), which is harmless to execute;
  * reserved encodings (c.addi4spn with nzuimm=0, c.lwsp with rd=x0, c.jr with rs1=x0,
    c.addi16sp/c.lui with a zero immediate, RV32 shifts with shamt[5]=1, the RV64-only and
    unused code points) and the floating-point forms (c.fld, c.flw, c.fsd, c.fsw and their
    sp-relative versions): `decode16` returns None and `expand` returns None, i.e. an
    illegal instruction on hvlab's RV32IMAC;
  * the all-zero parcel, `c.unimp`: defined to be illegal (sec. 16.5); it decodes, so the
    disassembler can name it, but `expand` returns None.
"""
from dataclasses import dataclass, field

# Operand fields.  Registers: x8..x15 ("rd'", "rs1'", "rs2'" in the spec) are kept as their
# full numbers 8..15.
REG_FIELDS = {          # name -> (lowest bit, width, offset added)
    "rd": (7, 5, 0), "rs1": (7, 5, 0), "rs2": (2, 5, 0),
    "rdp": (2, 3, 8), "rs2p": (2, 3, 8), "rs1p": (7, 3, 8),
}

# Immediate fields: [(highest instruction bit, "imm bits as the spec lists them")], signed?
IMM_LAYOUTS = {
    "imm6": ([(12, "5"), (6, "4:0")], True),             # c.addi, c.li, c.andi, c.nop
    "lui6": ([(12, "17"), (6, "16:12")], True),          # c.lui: nzimm[17:12]
    "shamt": ([(12, "5"), (6, "4:0")], False),           # c.slli, c.srli, c.srai
    "imm16sp": ([(12, "9"), (6, "4|6|8:7|5")], True),    # c.addi16sp
    "imm4spn": ([(12, "5:4|9:6|2|3")], False),           # c.addi4spn
    "offw": ([(12, "5:3"), (6, "2|6")], False),          # c.lw, c.sw
    "offlwsp": ([(12, "5"), (6, "4:2|7:6")], False),     # c.lwsp
    "offswsp": ([(12, "5:2|7:6")], False),               # c.swsp
    "offj": ([(12, "11|4|9:8|10|6|7|3:1|5")], True),     # c.j, c.jal
    "offb": ([(12, "8|4:3"), (6, "7:6|2:1|5")], True),   # c.beqz, c.bnez
}


def _bit_map(layout):
    """[(immediate bit, instruction bit)] for a layout."""
    pairs = []
    for top, spec in layout:
        inst_bit = top
        for part in spec.split("|"):
            hi, _, lo = part.partition(":")
            hi, lo = int(hi), int(lo or hi)
            for imm_bit in range(hi, lo - 1, -1):
                pairs.append((imm_bit, inst_bit))
                inst_bit -= 1
    return pairs


_MAPS = {name: (_bit_map(layout), signed) for name, (layout, signed) in IMM_LAYOUTS.items()}


def _imm_width(name):
    bits = [b for b, _ in _MAPS[name][0]]
    return max(bits) + 1, min(bits)      # (width incl. sign, lowest bit: the scale)


def encode_field(name, value):
    if name in REG_FIELDS:
        lo, width, offset = REG_FIELDS[name]
        return ((value - offset) & ((1 << width) - 1)) << lo
    word = 0
    for imm_bit, inst_bit in _MAPS[name][0]:
        word |= ((value >> imm_bit) & 1) << inst_bit
    return word


def decode_field(name, parcel):
    if name in REG_FIELDS:
        lo, width, offset = REG_FIELDS[name]
        return ((parcel >> lo) & ((1 << width) - 1)) + offset
    pairs, signed = _MAPS[name]
    value = 0
    for imm_bit, inst_bit in pairs:
        value |= ((parcel >> inst_bit) & 1) << imm_bit
    top = max(b for b, _ in pairs)
    if signed and value >> top & 1:
        value -= 1 << (top + 1)
    return value


def field_range(name):
    """(lowest, highest, step) of the values an immediate field can hold."""
    width, scale = _imm_width(name)
    if _MAPS[name][1]:
        return -(1 << (width - 1)), (1 << (width - 1)) - (1 << scale), 1 << scale
    return 0, (1 << width) - (1 << scale), 1 << scale


@dataclass(frozen=True)
class CInstruction:
    """One 16-bit instruction.  `fields` are its operand fields in assembly order."""
    mnemonic: str
    pattern: str            # 16 characters, bit 15 first
    fields: tuple
    match: int = 0
    mask: int = 0
    size: int = field(default=2)

    def encode(self, **values):
        word = self.match
        for name in self.fields:
            word |= encode_field(name, values.get(name, 0))
        return word & 0xFFFF

    def decode_fields(self, parcel):
        return {name: decode_field(name, parcel) for name in self.fields}


def _c(mnemonic, pattern, *fields):
    bits = pattern.replace(" ", "")
    assert len(bits) == 16, mnemonic
    match = int(bits.replace(".", "0"), 2)
    mask = int("".join("0" if b == "." else "1" for b in bits), 2)
    return CInstruction(mnemonic, bits, fields, match, mask)


# The table, in decoding order: a more specific pattern comes before the general one it is a
# case of (c.nop before c.addi, c.addi16sp before c.lui, c.jr before c.mv, c.ebreak before
# c.jalr before c.add, the shamt=0 HINTs before the shifts).
C_INSTRUCTIONS = (
    # Quadrant 0 (table 16.5)
    _c("c.unimp", "000 0 00000 00000 00"),
    _c("c.addi4spn", "000 ........ ... 00", "rdp", "imm4spn"),
    _c("c.lw", "010 ... ... .. ... 00", "rdp", "offw", "rs1p"),
    _c("c.sw", "110 ... ... .. ... 00", "rs2p", "offw", "rs1p"),
    # Quadrant 1 (table 16.6)
    _c("c.nop", "000 . 00000 ..... 01", "imm6"),
    _c("c.addi", "000 . ..... ..... 01", "rd", "imm6"),
    _c("c.jal", "001 ........... 01", "offj"),                 # RV32 only
    _c("c.li", "010 . ..... ..... 01", "rd", "imm6"),
    _c("c.addi16sp", "011 . 00010 ..... 01", "imm16sp"),
    _c("c.lui", "011 . ..... ..... 01", "rd", "lui6"),
    _c("c.srli64", "100 0 00 ... 00000 01", "rs1p"),
    _c("c.srli", "100 . 00 ... ..... 01", "rs1p", "shamt"),
    _c("c.srai64", "100 0 01 ... 00000 01", "rs1p"),
    _c("c.srai", "100 . 01 ... ..... 01", "rs1p", "shamt"),
    _c("c.andi", "100 . 10 ... ..... 01", "rs1p", "imm6"),
    _c("c.sub", "100 0 11 ... 00 ... 01", "rs1p", "rs2p"),
    _c("c.xor", "100 0 11 ... 01 ... 01", "rs1p", "rs2p"),
    _c("c.or", "100 0 11 ... 10 ... 01", "rs1p", "rs2p"),
    _c("c.and", "100 0 11 ... 11 ... 01", "rs1p", "rs2p"),
    _c("c.j", "101 ........... 01", "offj"),
    _c("c.beqz", "110 ... ... ..... 01", "rs1p", "offb"),
    _c("c.bnez", "111 ... ... ..... 01", "rs1p", "offb"),
    # Quadrant 2 (table 16.7)
    _c("c.slli64", "000 0 ..... 00000 10", "rd"),
    _c("c.slli", "000 . ..... ..... 10", "rd", "shamt"),
    _c("c.lwsp", "010 . ..... ..... 10", "rd", "offlwsp"),
    _c("c.jr", "100 0 ..... 00000 10", "rs1"),
    _c("c.mv", "100 0 ..... ..... 10", "rd", "rs2"),
    _c("c.ebreak", "100 1 00000 00000 10"),
    _c("c.jalr", "100 1 ..... 00000 10", "rs1"),
    _c("c.add", "100 1 ..... ..... 10", "rd", "rs2"),
    _c("c.swsp", "110 ...... ..... 10", "rs2", "offswsp"),
)
C_BY_MNEMONIC = {c.mnemonic: c for c in C_INSTRUCTIONS}


def reserved(insn, f):
    """Is this decoded parcel a reserved encoding (an illegal instruction on RV32C)?"""
    mn = insn.mnemonic
    if mn == "c.addi4spn":
        return f["imm4spn"] == 0
    if mn in ("c.lwsp",):
        return f["rd"] == 0
    if mn == "c.jr":
        return f["rs1"] == 0
    if mn == "c.addi16sp":
        return f["imm16sp"] == 0
    if mn == "c.lui":
        return f["lui6"] == 0
    if mn in ("c.slli", "c.srli", "c.srai"):
        return f["shamt"] >= 32           # RV32C: shamt[5]=1 is reserved (NSE)
    return False


def hint(insn, f):
    """Is this a HINT (table 16.3): a legal encoding that changes no architectural state?"""
    mn = insn.mnemonic
    if mn == "c.nop":
        return f["imm6"] != 0
    if mn == "c.addi":
        return f["imm6"] == 0
    if mn in ("c.li", "c.lui", "c.mv", "c.add", "c.slli"):
        return f["rd"] == 0
    return mn in ("c.slli64", "c.srli64", "c.srai64")


def decode16(parcel):
    """(CInstruction, {field: value}) for a 16-bit parcel, or None if it is reserved, a
    floating-point form, or not a compressed instruction at all (low bits 11)."""
    parcel &= 0xFFFF
    if parcel & 3 == 3:
        return None
    for insn in C_INSTRUCTIONS:
        if parcel & insn.mask == insn.match:
            f = insn.decode_fields(parcel)
            return None if reserved(insn, f) else (insn, f)
    return None


def _alu_c(op):
    return lambda f: (op, dict(rd=f["rs1p"], rs1=f["rs1p"], rs2=f["rs2p"]))


# compressed mnemonic -> its 32-bit meaning (the "Expansion" of each listing in ch. 16)
_EXPANSIONS = {
    "c.addi4spn": lambda f: ("addi", dict(rd=f["rdp"], rs1=2, imm_i=f["imm4spn"])),
    "c.lw": lambda f: ("lw", dict(rd=f["rdp"], rs1=f["rs1p"], imm_i=f["offw"])),
    "c.sw": lambda f: ("sw", dict(rs2=f["rs2p"], rs1=f["rs1p"], imm_s=f["offw"])),
    "c.nop": lambda f: ("addi", dict(rd=0, rs1=0, imm_i=f["imm6"])),
    "c.addi": lambda f: ("addi", dict(rd=f["rd"], rs1=f["rd"], imm_i=f["imm6"])),
    "c.jal": lambda f: ("jal", dict(rd=1, imm_j=f["offj"])),
    "c.li": lambda f: ("addi", dict(rd=f["rd"], rs1=0, imm_i=f["imm6"])),
    "c.addi16sp": lambda f: ("addi", dict(rd=2, rs1=2, imm_i=f["imm16sp"])),
    "c.lui": lambda f: ("lui", dict(rd=f["rd"], imm_u=(f["lui6"] >> 12) & 0xFFFFF)),
    "c.srli64": lambda f: ("srli", dict(rd=f["rs1p"], rs1=f["rs1p"], shamt=0)),
    "c.srli": lambda f: ("srli", dict(rd=f["rs1p"], rs1=f["rs1p"], shamt=f["shamt"])),
    "c.srai64": lambda f: ("srai", dict(rd=f["rs1p"], rs1=f["rs1p"], shamt=0)),
    "c.srai": lambda f: ("srai", dict(rd=f["rs1p"], rs1=f["rs1p"], shamt=f["shamt"])),
    "c.andi": lambda f: ("andi", dict(rd=f["rs1p"], rs1=f["rs1p"], imm_i=f["imm6"])),
    "c.sub": _alu_c("sub"), "c.xor": _alu_c("xor"), "c.or": _alu_c("or"), "c.and": _alu_c("and"),
    "c.j": lambda f: ("jal", dict(rd=0, imm_j=f["offj"])),
    "c.beqz": lambda f: ("beq", dict(rs1=f["rs1p"], rs2=0, imm_b=f["offb"])),
    "c.bnez": lambda f: ("bne", dict(rs1=f["rs1p"], rs2=0, imm_b=f["offb"])),
    "c.slli64": lambda f: ("slli", dict(rd=f["rd"], rs1=f["rd"], shamt=0)),
    "c.slli": lambda f: ("slli", dict(rd=f["rd"], rs1=f["rd"], shamt=f["shamt"])),
    "c.lwsp": lambda f: ("lw", dict(rd=f["rd"], rs1=2, imm_i=f["offlwsp"])),
    "c.jr": lambda f: ("jalr", dict(rd=0, rs1=f["rs1"], imm_i=0)),
    "c.mv": lambda f: ("add", dict(rd=f["rd"], rs1=0, rs2=f["rs2"])),
    "c.ebreak": lambda f: ("ebreak", {}),
    "c.jalr": lambda f: ("jalr", dict(rd=1, rs1=f["rs1"], imm_i=0)),
    "c.add": lambda f: ("add", dict(rd=f["rd"], rs1=f["rd"], rs2=f["rs2"])),
    "c.swsp": lambda f: ("sw", dict(rs2=f["rs2"], rs1=2, imm_s=f["offswsp"])),
}


def expansion(insn, f):
    """(32-bit mnemonic, fields) that a decoded compressed instruction stands for, with the
    field names of isa/instructions.py; None for c.unimp (illegal by definition)."""
    build = _EXPANSIONS.get(insn.mnemonic)
    return build(f) if build else None


def expand(parcel):
    """The 32-bit instruction word a 16-bit parcel executes as (sec. 16.1: "each RVC
    instruction expands into a single 32-bit instruction"), or None when the parcel is an
    illegal instruction on RV32IMAC (reserved, floating point, or c.unimp)."""
    found = decode16(parcel)
    if found is None:
        return None
    pair = expansion(*found)
    if pair is None:
        return None
    from .instructions import encode
    mnemonic, fields = pair
    return encode(mnemonic, **fields)


def instruction_length(parcel):
    """Bytes of the instruction whose first 16 bits are `parcel` (Vol. I sec. 1.5: low bits
    11 mean 32 bits or longer; hvlab knows no instruction longer than 32 bits)."""
    return 4 if parcel & 3 == 3 else 2
