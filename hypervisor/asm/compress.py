"""Which instructions GNU as 2.40 compresses, and to what, when RVC is on.

GNU as does not compress after the fact: its opcode table (opcodes/riscv-opc.c) lists, for
each mnemonic, 16-bit alternatives *before* the 32-bit entries, and with RVC enabled the first
entry whose operands fit is taken.  `addi a0, a0, 1` meets `addi Ct,Cc,CK` (c.addi4spn:
needs sp) and fails, then `addi d,CU,Cj` (c.addi: rd = rs1, imm non-zero, -32..31) and
matches.  This file is that list for every mnemonic with compressed alternatives, in table
order, with GNU's operand codes and the same checks (tc-riscv.c riscv_ip, case 'C'):

    d   any register, the instruction's rd (rs1 for c.jr/c.jalr)
    CU  the same register as d           CV  any register (rs2)
    Cs  x8..x15 (rs1')                   Cw  the same register as Cs
    Ct  x8..x15 (rd'/rs2')               Cc  sp          Cz  zero
    z   the constant 0                   Co  -32..31     Cj  -32..31, not 0
    C>  shift amount 0..31               CK  4..1020, multiple of 4 (c.addi4spn)
    CL  -512..496, not 0, multiple of 16 (c.addi16sp)
    Cu  1..31 or 0xfffe0..0xfffff (c.lui)           Cv  a value for li that c.lui makes
    Cm(Cc) / CM(Cc)  0..252, multiple of 4, base sp   Ck(Cs)  0..124, multiple of 4
    Ca / Cp  a jump / branch target (relaxed later: see layout.py)

An immediate must be a constant known when the line is read (GNU's O_constant: numbers and
.equ symbols defined above), written without %hi/%lo; a forward reference never compresses.
"""
from ..isa.compressed import C_BY_MNEMONIC
from .errors import AsmError
from .operands import immediate, kind_of, split_mem
from .registers import register_number


def _rd_nonzero(f):
    return f.get("rd", f.get("rs1")) != 0


def _c_add(f):
    return f["rd"] != 0 and f["rs2"] != 0


# match functions of riscv-opc.c, on the fields of the chosen 16-bit instruction
MATCH = {
    None: lambda f: True,
    "rd_nonzero": _rd_nonzero,
    "c_add": _c_add,
    "c_add_with_hint": lambda f: f["rs2"] != 0,
    "c_nop": lambda f: f.get("rd", 0) == 0,
    "c_lui": lambda f: f["rd"] not in (0, 2),
    "c_lui_with_hint": lambda f: f["rd"] != 2,
    "c_slli": lambda f: f["shamt"] != 0,
    "slli_as_c_slli": lambda f: f["rd"] != 0 and f["shamt"] != 0,
    "srxi": lambda f: f["shamt"] != 0,
    "c_slli64": lambda f: True,
}

# mnemonic -> [(operand codes, 16-bit instruction, match function, fixed fields)]
_ADD_IMM = [("Ct,Cc,CK", "c.addi4spn", None), ("d,CU,Cj", "c.addi", "rd_nonzero"),
            ("d,CU,z", "c.nop", "c_nop"), ("Cc,Cc,CL", "c.addi16sp", None),
            ("d,Cz,Co", "c.li", "rd_nonzero"), ("d,CV,z", "c.mv", "c_add")]
ALTERNATIVES = {
    "unimp": [("", "c.unimp", None)],
    "ebreak": [("", "c.ebreak", None)],
    "sbreak": [("", "c.ebreak", None)],
    "ret": [("", "c.jr", None, {"rs1": 1})],
    "jr": [("d", "c.jr", "rd_nonzero")],
    "jalr": [("d", "c.jalr", "rd_nonzero")],
    "j": [("Ca", "c.j", None)],
    "nop": [("", "c.nop", None)],
    "lui": [("d,Cu", "c.lui", "c_lui")],
    "li": [("d,Cv", "c.lui", "c_lui"), ("d,Co", "c.li", "rd_nonzero")],
    "mv": [("d,CV", "c.mv", "c_add")],
    "andi": [("Cs,Cw,Co", "c.andi", None)],
    "and": [("Cs,Cw,Ct", "c.and", None), ("Cs,Ct,Cw", "c.and", None),
            ("Cs,Cw,Co", "c.andi", None)],
    "beqz": [("Cs,Cp", "c.beqz", None)],
    "beq": [("Cs,Cz,Cp", "c.beqz", None)],
    "bnez": [("Cs,Cp", "c.bnez", None)],
    "bne": [("Cs,Cz,Cp", "c.bnez", None)],
    "addi": _ADD_IMM,
    "add": [("d,CU,CV", "c.add", "c_add"), ("d,CV,CU", "c.add", "c_add"),
            ("d,CU,Co", "c.addi", "rd_nonzero"), ("Ct,Cc,CK", "c.addi4spn", None),
            ("Cc,Cc,CL", "c.addi16sp", None), ("d,Cz,CV", "c.mv", "c_add")],
    "slli": [("d,CU,C>", "c.slli", "slli_as_c_slli")],
    "sll": [("d,CU,C>", "c.slli", "slli_as_c_slli")],
    "srli": [("Cs,Cw,C>", "c.srli", "srxi")],
    "srl": [("Cs,Cw,C>", "c.srli", "srxi")],
    "srai": [("Cs,Cw,C>", "c.srai", "srxi")],
    "sra": [("Cs,Cw,C>", "c.srai", "srxi")],
    "sub": [("Cs,Cw,Ct", "c.sub", None)],
    "lw": [("d,Cm(Cc)", "c.lwsp", "rd_nonzero"), ("Ct,Ck(Cs)", "c.lw", None)],
    "or": [("Cs,Cw,Ct", "c.or", None), ("Cs,Ct,Cw", "c.or", None)],
    "xor": [("Cs,Cw,Ct", "c.xor", None), ("Cs,Ct,Cw", "c.xor", None)],
    "sw": [("CV,CM(Cc)", "c.swsp", None), ("Ct,Ck(Cs)", "c.sw", None)],
}

# The explicit compressed mnemonics (riscv-opc.c "Compressed instructions"): these need RVC
# and have no 32-bit fallback, except that c.j/c.jal/c.beqz/c.bnez are relaxed like branches.
EXPLICIT = {
    "c.unimp": [("", "c.unimp", None)],
    "c.ebreak": [("", "c.ebreak", None)],
    "c.jr": [("d", "c.jr", "rd_nonzero")],
    "c.jalr": [("d", "c.jalr", "rd_nonzero")],
    "c.j": [("Ca", "c.j", None)],
    "c.jal": [("Ca", "c.jal", None)],
    "c.beqz": [("Cs,Cp", "c.beqz", None)],
    "c.bnez": [("Cs,Cp", "c.bnez", None)],
    "c.lwsp": [("d,Cm(Cc)", "c.lwsp", "rd_nonzero")],
    "c.lw": [("Ct,Ck(Cs)", "c.lw", None)],
    "c.swsp": [("CV,CM(Cc)", "c.swsp", None)],
    "c.sw": [("Ct,Ck(Cs)", "c.sw", None)],
    "c.nop": [("", "c.nop", None), ("Cj", "c.nop", None)],
    "c.mv": [("d,CV", "c.mv", "c_add_with_hint")],
    "c.lui": [("d,Cu", "c.lui", "c_lui_with_hint")],
    "c.li": [("d,Co", "c.li", None)],
    "c.addi4spn": [("Ct,Cc,CK", "c.addi4spn", None)],
    "c.addi16sp": [("Cc,CL", "c.addi16sp", None)],
    "c.addi": [("d,Co", "c.addi", None)],
    "c.add": [("d,CV", "c.add", "c_add_with_hint")],
    "c.sub": [("Cs,Ct", "c.sub", None)],
    "c.and": [("Cs,Ct", "c.and", None)],
    "c.or": [("Cs,Ct", "c.or", None)],
    "c.xor": [("Cs,Ct", "c.xor", None)],
    "c.slli": [("d,C>", "c.slli", "c_slli")],
    "c.srli": [("Cs,C>", "c.srli", "c_slli")],
    "c.srai": [("Cs,C>", "c.srai", "c_slli")],
    "c.slli64": [("d", "c.slli64", None)],
    "c.srli64": [("Cs", "c.srli64", None)],
    "c.srai64": [("Cs", "c.srai64", None)],
    "c.andi": [("Cs,Co", "c.andi", None)],
}
_WORDS = {"d": "rd", "CU": "rd", "CV": "rs2", "Cs": "rs1'", "Cw": "rs1'", "Ct": "rs2'",
          "Cc": "sp", "Cz": "zero", "Co": "imm", "Cj": "nonzero-imm", "C>": "shamt",
          "CK": "nonzero-uimm", "CL": "nonzero-imm", "Cu": "imm20", "Ca": "label",
          "Cp": "label", "Cm(Cc)": "offset(sp)", "CM(Cc)": "offset(sp)",
          "Ck(Cs)": "offset(rs1')"}


def _usage(mn, forms):
    def word(code, insn):
        if code == "Ct" and "rdp" in insn.fields:
            return "rd'"
        return _WORDS[code]
    alts = [" ".join([mn, ", ".join(word(c, C_BY_MNEMONIC[cm]) for c in spec.split(","))])
            if spec else mn for spec, cm, *_ in forms]
    extra = "; a primed register is one of x8..x15 (s0, s1, a0..a5)" \
        if any("'" in a for a in alts) else ""
    return " | ".join(alts) + extra


USAGE = {mn: _usage(mn, forms) for mn, forms in EXPLICIT.items()}


def _imm_field(insn):
    return next((n for n in insn.fields if n not in ("rd", "rs1", "rs2", "rdp", "rs2p", "rs1p")),
                None)


def _sext20(v):
    return v - (1 << 20) if v & 0x80000 else v


# immediate operand codes -> (check(value) -> field value or None)
def _lui_field(v):
    if 1 <= v <= 31 or 0xFFFE0 <= v <= 0xFFFFF:
        return _sext20(v) << 12
    return None


def _li_lui_field(v):
    if v & 0xFFF or ((v + 0x80000000) & 0xFFFFFFFF) - 0x80000000 != v:
        return None
    return _lui_field((v & 0xFFFFFFFF) >> 12)


def _step_range(lo, hi, step, nonzero=False):
    return lambda v: v if lo <= v <= hi and v % step == 0 and not (nonzero and v == 0) else None


IMM_CODES = {
    "z": lambda v: 0 if v == 0 else None,
    "Co": _step_range(-32, 31, 1),
    "Cj": _step_range(-32, 31, 1, nonzero=True),
    "C>": _step_range(0, 31, 1),
    "CK": _step_range(4, 1020, 4),
    "CL": _step_range(-512, 496, 16, nonzero=True),
    "Cu": _lui_field,
    "Cv": _li_lui_field,
}
MEM_CODES = {"Cm": _step_range(0, 252, 4), "CM": _step_range(0, 252, 4),
             "Ck": _step_range(0, 124, 4)}
REG_CODES = {"d", "CU", "CV", "Cs", "Cw", "Ct", "Cc", "Cz"}


class _NoMatch(Exception):
    pass


def _register(code, text, f, insn):
    r = register_number(text)
    if r is None:
        raise _NoMatch
    if code == "d":
        f["rs1" if "rs1" in insn.fields else "rd"] = r
    elif code == "CU":
        if r != f.get("rd", f.get("rs1")):
            raise _NoMatch
    elif code == "CV":
        f["rs2"] = r
    elif code in ("Cs", "Ct"):
        if not 8 <= r <= 15:
            raise _NoMatch
        f["rs1p" if code == "Cs" else ("rdp" if "rdp" in insn.fields else "rs2p")] = r
    elif code == "Cw":
        if r != f.get("rs1p"):
            raise _NoMatch
    elif (code, r) not in (("Cc", 2), ("Cz", 0)):
        raise _NoMatch


def _constant(ctx, text, loc):
    """The value of an operand if it is a constant known now, without %reloc; else None."""
    if kind_of(text) != "i":
        raise _NoMatch
    imm = immediate(text, loc, ctx)
    if imm.kind:
        raise _NoMatch
    value = ctx.value_now(imm)
    if value is None:
        raise _NoMatch
    return value


def _operand(ctx, code, text, loc, f, insn):
    """Check one operand against one code, filling the 16-bit instruction's fields."""
    if code in REG_CODES:
        _register(code, text, f, insn)
    elif code in IMM_CODES:
        value = IMM_CODES[code](_constant(ctx, text, loc))
        if value is None:
            raise _NoMatch
        if code != "z":
            f[_imm_field(insn)] = value
    elif code in ("Ca", "Cp"):
        if kind_of(text) != "i":
            raise _NoMatch
        target = immediate(text, loc, ctx)
        if target.kind:
            raise _NoMatch
        f["target"] = target
    else:                                   # Cm(Cc), CM(Cc), Ck(Cs): offset(base)
        mem = split_mem(text)
        if mem is None:
            raise _NoMatch
        off_text, _paren, reg = mem
        value = _constant(ctx, off_text, loc) if off_text.strip() else 0
        value = MEM_CODES[code[:2]](value)
        if value is None:
            raise _NoMatch
        _register(code[3:5], register_number_name(reg), f, insn)
        f[_imm_field(insn)] = value


def register_number_name(number):
    return f"x{number}"


def match(ctx, forms, operands):
    """The first alternative whose operands fit: (CInstruction, fields) where fields may hold
    "target" (an Imm) for a branch or jump; None if none fits."""
    for form in forms:
        spec, c_mnemonic, match_name = form[:3]
        insn = C_BY_MNEMONIC[c_mnemonic]
        codes = spec.split(",") if spec else []
        if len(codes) != len(operands):
            continue
        fields = dict(form[3]) if len(form) > 3 else {}
        try:
            for code, (text, loc) in zip(codes, operands):
                _operand(ctx, code, text, loc, fields, insn)
        except (_NoMatch, AsmError):
            continue        # GNU tries the next entry; the 32-bit forms report real errors
        if MATCH[match_name](fields):
            return insn, fields
    return None
