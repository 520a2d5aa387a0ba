"""Every accepted way to write each mnemonic: real instructions (from the ISA table) and the
pseudo-instructions of GNU as, with their expansions.

A form is (pattern, usage, builder): the pattern lists operand kinds (see operands.py), the
usage is shown in error hints, the builder emits real instructions through the assembler.
Expansions follow GNU as 2.40 (opcodes/riscv-opc.c and gas/config/tc-riscv.c `macro`) and the
"RISC-V Assembly Programmer's Manual" pseudo-instruction tables.
"""
from ..isa.instructions import INSTRUCTIONS
from ..isa.csrs import CSRS
from .expr import Num
from .items import Imm
from .registers import ZERO, RA, T1

# Register-register mnemonics GNU as also accepts with an immediate (add a0, a1, 5 = addi).
IMM_ALIASES = {"add": "addi", "and": "andi", "or": "ori", "xor": "xori", "slt": "slti",
               "sltu": "sltiu", "sll": "slli", "srl": "srli", "sra": "srai"}
BRANCH_SWAPS = {"bgt": "blt", "ble": "bge", "bgtu": "bltu", "bleu": "bgeu"}
BRANCH_ZERO = {"beqz": ("beq", 0), "bnez": ("bne", 0), "bltz": ("blt", 0), "bgez": ("bge", 0),
               "blez": ("bge", 1), "bgtz": ("blt", 1)}   # 1: the register is rs2, x0 is rs1
COUNTERS = ("cycle", "time", "instret", "cycleh", "timeh", "instreth")


def _zero():
    return Imm(Num(0), None)


def sext12(v):
    v &= 0xFFF
    return v - 0x1000 if v & 0x800 else v


def li_words(rd, value, ctx, loc, operand_loc=None):
    """`li rd, value` as GNU as expands it (tc-riscv.c load_const): lui for the upper part
    when it is non-zero, then addi for the low 12 bits when they are non-zero (or alone)."""
    if 0 <= value <= 0xFFFFFFFF:           # normalize_constant_expr: a 32-bit pattern
        value = (value ^ 0x80000000) - 0x80000000
    if not -0x80000000 <= value <= 0x7FFFFFFF:
        raise (operand_loc or loc).error(f"value {value:#x} does not fit in 32 bits",
                        hint="li takes -0x80000000..0xffffffff")
    low = sext12(value)
    upper = value - low
    if upper:
        ctx.emit("lui", loc, rd=rd, imm_u=Imm(Num((upper & 0xFFFFFFFF) >> 12), loc))
    if low or not upper:
        ctx.emit("addi", loc, rd=rd, rs1=rd if upper else ZERO, imm_i=Imm(Num(low), loc))


def _li(ctx, loc, rd, imm):
    value = ctx.constant_now(imm, "li needs a constant", "use la to load an address")
    li_words(rd, value, ctx, loc, imm.loc)


def _la(ctx, loc, rd, imm):
    """la/lla: auipc+addi with %pcrel_hi/%pcrel_lo (non-PIC), or li for a constant."""
    ctx.plain(imm)
    value = ctx.value_now(imm)
    if value is not None:
        li_words(rd, value, ctx, loc, imm.loc)
        return
    _pcrel_pair(ctx, loc, rd, imm, "addi", rd=rd, rs1=rd)


def _pcrel_pair(ctx, loc, hi_reg, imm, second, **fields):
    """auipc hi_reg, %pcrel_hi(sym) then `second` with %pcrel_lo of that auipc."""
    ctx.plain(imm)
    here = ctx.here()
    ctx.emit("auipc", loc, rd=hi_reg, imm_u=Imm(imm.node, imm.loc, "pcrel_hi"))
    lo = Imm(imm.node, imm.loc, "pcrel_lo_of", here)
    field = "imm_s" if second in ("sb", "sh", "sw") else "imm_i"
    ctx.emit(second, loc, **{field: lo}, **fields)


def _call(link, via):
    """call/tail/jump: auipc via, %pcrel_hi(sym); jalr link, lo(via)."""
    def build(ctx, loc, *ops):
        rd, reg, imm = link, via, ops[-1]
        if len(ops) == 2 and link == RA:          # call rd, sym: auipc t1; jalr rd, t1
            rd, reg, imm = ops[0], T1, ops[1]
        if link == ZERO and len(ops) == 2:        # jump sym, rt
            reg, imm = ops[1], ops[0]
        _pcrel_pair(ctx, loc, reg, imm, "jalr", rd=rd, rs1=reg)
    return build


def _emitter(mn, order, **fixed):
    """A builder emitting `mn`: operand i goes to field order[i]; `fixed` fields are added."""
    def build(ctx, loc, *ops):
        ctx.emit(mn, loc, **dict(zip(order, ops)), **fixed)
    return build


def _real_forms(insn):
    """The forms a table instruction is written in, from its operand syntax."""
    mn, syn = insn.mnemonic, insn.syntax

    def emit(*order, **fixed):
        return _emitter(mn, order, **fixed)
    if syn == "rd,rs1,rs2":
        return [("rrr", "rd, rs1, rs2", emit("rd", "rs1", "rs2"))]
    if syn == "rd,rs1,imm_i":
        return [("rri", "rd, rs1, imm", emit("rd", "rs1", "imm_i"))]
    if syn == "rd,rs1,shamt":
        return [("rri", "rd, rs1, shamt", emit("rd", "rs1", "shamt"))]
    if syn == "rd,imm_i(rs1)" and mn != "jalr":
        return [("rm", "rd, offset(rs1)", lambda c, l, rd, m: c.emit(mn, l, rd=rd, imm_i=m[0], rs1=m[1])),
                ("ri", "rd, symbol", lambda c, l, rd, s: _pcrel_pair(c, l, rd, s, mn, rd=rd, rs1=rd))]
    if syn == "rs2,imm_s(rs1)":
        return [("rm", "rs2, offset(rs1)", lambda c, l, r, m: c.emit(mn, l, rs2=r, imm_s=m[0], rs1=m[1])),
                ("rir", "rs2, symbol, rt", lambda c, l, r, s, t: _pcrel_pair(c, l, t, s, mn, rs2=r, rs1=t))]
    if syn == "rs1,rs2,imm_b":
        return [("rri", "rs1, rs2, label", lambda c, l, a, b, t: c.emit_branch(mn, l, a, b, t))]
    if syn == "rd,imm_u":
        return [("ri", "rd, imm20", emit("rd", "imm_u"))]
    if syn == "rd,csr,rs1":
        imm_mn = mn + "i"
        return [("rcr", "rd, csr, rs1", emit("rd", "csr", "rs1")),
                ("rci", "rd, csr, uimm5", lambda c, l, rd, csr, u: c.emit(imm_mn, l, rd=rd, csr=csr, uimm=u))]
    if syn == "rd,csr,uimm":
        return [("rci", "rd, csr, uimm5", emit("rd", "csr", "uimm"))]
    if syn == "rd,rs2,(rs1)":
        return [("rra", "rd, rs2, (rs1)", emit("rd", "rs2", "rs1"))]
    if syn == "rd,(rs1)":
        return [("ra", "rd, (rs1)", emit("rd", "rs1"))]
    if syn == "pred,succ":
        return [("", "", lambda c, l: c.emit(mn, l, pred=15, succ=15)),
                ("ff", "pred, succ", emit("pred", "succ"))]
    if syn == "rs1,rs2":
        return [("", "", emit(rs1=ZERO, rs2=ZERO)), ("r", "rs1", emit("rs1", rs2=ZERO)),
                ("rr", "rs1, rs2", emit("rs1", "rs2"))]
    if syn == "":
        return [("", "", emit())]
    return []       # jal, jalr: written out below


def _jump_forms():
    jal = lambda c, l, rd, t: c.emit("jal", l, rd=rd, imm_j=t)
    jalr = lambda c, l, rd, rs, imm: c.emit("jalr", l, rd=rd, rs1=rs, imm_i=imm)
    return {
        "jal": [("ri", "rd, label", jal), ("i", "label", lambda c, l, t: jal(c, l, RA, t))],
        "j": [("i", "label", lambda c, l, t: jal(c, l, ZERO, t))],
        "jalr": [("r", "rs1", lambda c, l, rs: jalr(c, l, RA, rs, _zero())),
                 ("m", "offset(rs1)", lambda c, l, m: jalr(c, l, RA, m[1], m[0])),
                 ("ri", "rs1, offset", lambda c, l, rs, i: jalr(c, l, RA, rs, i)),
                 ("rr", "rd, rs1", lambda c, l, rd, rs: jalr(c, l, rd, rs, _zero())),
                 ("rm", "rd, offset(rs1)", lambda c, l, rd, m: jalr(c, l, rd, m[1], m[0])),
                 ("rri", "rd, rs1, offset", jalr)],
        "jr": [("r", "rs1", lambda c, l, rs: jalr(c, l, ZERO, rs, _zero())),
               ("m", "offset(rs1)", lambda c, l, m: jalr(c, l, ZERO, m[1], m[0])),
               ("ri", "rs1, offset", lambda c, l, rs, i: jalr(c, l, ZERO, rs, i))],
        "ret": [("", "", lambda c, l: jalr(c, l, ZERO, RA, _zero()))],
        "call": [("i", "symbol", _call(RA, RA)), ("ri", "rd, symbol", _call(RA, RA))],
        "tail": [("i", "symbol", _call(ZERO, T1))],
        "jump": [("ir", "symbol, rt", _call(ZERO, T1))],
    }


def _csr_forms():
    def csr_imm(mn):
        return lambda c, l, csr, u: c.emit(mn, l, rd=ZERO, csr=csr, uimm=u)
    forms = {"csrr": [("rc", "rd, csr", lambda c, l, rd, csr: c.emit("csrrs", l, rd=rd, csr=csr, rs1=ZERO))]}
    for short, full in (("csrw", "csrrw"), ("csrs", "csrrs"), ("csrc", "csrrc")):
        forms[short] = [("cr", "csr, rs1", lambda c, l, csr, rs, mn=full: c.emit(mn, l, rd=ZERO, csr=csr, rs1=rs)),
                        ("ci", "csr, uimm5", csr_imm(full + "i"))]
        forms[short + "i"] = [("ci", "csr, uimm5", csr_imm(full + "i"))]
    for name in COUNTERS:   # rdcycle rd = csrrs rd, cycle, x0
        forms["rd" + name] = [("r", "rd", lambda c, l, rd, n=CSRS[name]: c.emit("csrrs", l, rd=rd, csr=Imm(Num(n), l), rs1=ZERO))]
    forms["unimp"] = [("", "", lambda c, l: c.emit("csrrw", l, rd=ZERO, csr=Imm(Num(0xC00), l), rs1=ZERO))]
    return forms


def _alu_pseudos():
    neg1, one = (lambda l: Imm(Num(-1), l)), (lambda l: Imm(Num(1), l))
    return {
        "nop": [("", "", lambda c, l: c.emit("addi", l, rd=ZERO, rs1=ZERO, imm_i=_zero()))],
        "li": [("ri", "rd, constant", _li)],
        "la": [("ri", "rd, symbol", _la)],
        "lla": [("ri", "rd, symbol", _la)],
        "mv": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("addi", l, rd=rd, rs1=rs, imm_i=_zero()))],
        "zext.b": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("andi", l, rd=rd, rs1=rs, imm_i=Imm(Num(255), l)))],
        "not": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("xori", l, rd=rd, rs1=rs, imm_i=neg1(l)))],
        "neg": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("sub", l, rd=rd, rs1=ZERO, rs2=rs))],
        "seqz": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("sltiu", l, rd=rd, rs1=rs, imm_i=one(l)))],
        "snez": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("sltu", l, rd=rd, rs1=ZERO, rs2=rs))],
        "sltz": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("slt", l, rd=rd, rs1=rs, rs2=ZERO))],
        "sgt": [("rrr", "rd, rs, rt", lambda c, l, rd, rs, rt: c.emit("slt", l, rd=rd, rs1=rt, rs2=rs))],
        "sgtu": [("rrr", "rd, rs, rt", lambda c, l, rd, rs, rt: c.emit("sltu", l, rd=rd, rs1=rt, rs2=rs))],
        "scall": [("", "", lambda c, l: c.emit("ecall", l))],       # pre-1.0 names of ecall,
        "sbreak": [("", "", lambda c, l: c.emit("ebreak", l))],     # ebreak
        "sgtz": [("rr", "rd, rs", lambda c, l, rd, rs: c.emit("slt", l, rd=rd, rs1=ZERO, rs2=rs))],
    }


def _branch_pseudos():
    forms = {}
    for mn, real in BRANCH_SWAPS.items():
        forms[mn] = [("rri", "rs, rt, label", lambda c, l, a, b, t, r=real: c.emit_branch(r, l, b, a, t))]
    for mn, (real, second) in BRANCH_ZERO.items():
        if second:
            build = lambda c, l, r, t, m=real: c.emit_branch(m, l, ZERO, r, t)
        else:
            build = lambda c, l, r, t, m=real: c.emit_branch(m, l, r, ZERO, t)
        forms[mn] = [("ri", "rs, label", build)]
    return forms


def _build():
    forms = {}
    for insn in INSTRUCTIONS:
        forms.setdefault(insn.mnemonic, []).extend(_real_forms(insn))
    for mn, imm_mn in IMM_ALIASES.items():
        forms[mn].append(("rri", "rd, rs1, imm", lambda c, l, rd, rs, i, m=imm_mn:
                          c.emit(m, l, rd=rd, rs1=rs, **{"shamt" if m in ("slli", "srli", "srai") else "imm_i": i})))
    for extra in (_jump_forms(), _csr_forms(), _alu_pseudos(), _branch_pseudos()):
        for mn, fs in extra.items():
            forms.setdefault(mn, []).extend(fs)
    return forms


FORMS = _build()
