"""Every accepted way to write each mnemonic: real instructions (from the ISA table) and the
pseudo-instructions of GNU as, with their expansions.

A form is (pattern, usage, builder): the pattern lists operand kinds (see operands.py), the
usage is shown in error hints, the builder emits real instructions through the assembler.
Expansions follow GNU as 2.40 (opcodes/riscv-opc.c and gas/config/tc-riscv.c `macro`) and the
"RISC-V Assembly Programmer's Manual" pseudo-instruction tables.
"""
from ..isa.csrs import CSRS
from ..isa.instructions import INSTRUCTIONS
from .expr import Num
from .items import Imm
from .registers import RA, T1, ZERO

# Register-register mnemonics GNU as also accepts with an immediate (add a0, a1, 5 = addi).
IMM_ALIASES = {"add": "addi", "and": "andi", "or": "ori", "xor": "xori", "slt": "slti",
               "sltu": "sltiu", "sll": "slli", "srl": "srli", "sra": "srai"}
SHIFTS = ("slli", "srli", "srai")
BRANCH_SWAPS = {"bgt": "blt", "ble": "bge", "bgtu": "bltu", "bleu": "bgeu"}
# beqz rs, L = beq rs, x0, L ...; blez rs, L = bge x0, rs, L (the register goes second)
BRANCH_ZERO = {"beqz": ("beq", False), "bnez": ("bne", False), "bltz": ("blt", False),
               "bgez": ("bge", False), "blez": ("bge", True), "bgtz": ("blt", True)}
COUNTERS = ("cycle", "time", "instret", "cycleh", "timeh", "instreth")
STORES = ("sb", "sh", "sw")


def const(value, loc=None):
    return Imm(Num(value), loc)


def sext12(v):
    v &= 0xFFF
    return v - 0x1000 if v & 0x800 else v


def emitter(mn, *order, **fixed):
    """A builder emitting `mn`.  Operand i goes to field order[i]; a memory operand
    (offset, register) goes to a pair of fields such as ("imm_i", "rs1").  `fixed` adds
    fields that are not written (x0 in `mv`, -1 in `not`, ...)."""
    def build(ctx, loc, *ops):
        fields = dict(fixed)
        for name, value in zip(order, ops):
            if isinstance(name, tuple):
                fields.update(zip(name, value))
            else:
                fields[name] = value
        ctx.emit(mn, loc, **fields)
    return build


def swapped(build):
    """The same builder with its first two operands swapped (bgt a, b = blt b, a)."""
    return lambda ctx, loc, a, b, *rest: build(ctx, loc, b, a, *rest)


# --- expansions with more than one instruction ---------------------------------------------

def li_words(rd, value, ctx, loc, operand_loc=None, direct=True):
    """`li rd, value` as GNU as expands it (tc-riscv.c load_const): lui for the upper part
    when it is non-zero, then addi for the low 12 bits when they are non-zero (or alone).
    load_const writes each part out as text (md_assemblef) that is read again, so with RVC
    the parts compress like source lines; a value that fits 12 bits is, for `li` (`direct`),
    GNU's `li d,j` form, a plain addi that is never compressed, and for `la` load_const's."""
    if 0 <= value <= 0xFFFFFFFF:           # normalize_constant_expr: a 32-bit pattern
        value = (value ^ 0x80000000) - 0x80000000
    if not -0x80000000 <= value <= 0x7FFFFFFF:
        raise (operand_loc or loc).error(f"value {value:#x} does not fit in 32 bits",
                                         hint="li takes -0x80000000..0xffffffff")
    low = sext12(value)
    upper = value - low
    if upper:
        imm20 = (upper & 0xFFFFFFFF) >> 12
        ctx.emit_compressible("lui", loc, [f"x{rd}", f"{imm20:#x}"], rd=rd, imm_u=const(imm20, loc))
    if low or not upper or rd == ZERO:     # load_const tests hi_reg, which is x0 for rd x0
        rs1 = rd if upper else ZERO
        fields = dict(rd=rd, rs1=rs1, imm_i=const(low, loc))
        if direct and not upper:
            ctx.emit("addi", loc, **fields)
        else:
            ctx.emit_compressible("addi", loc, [f"x{rd}", f"x{rs1}", str(low)], **fields)


def _li(ctx, loc, rd, imm):
    value = ctx.constant_now(imm, "li needs a constant", "use la to load an address")
    li_words(rd, value, ctx, loc, imm.loc)


def _la(ctx, loc, rd, imm):
    """la/lla: auipc+addi with %pcrel_hi/%pcrel_lo (non-PIC), or li for a constant."""
    ctx.plain(imm)
    value = ctx.value_now(imm)
    if value is not None:
        li_words(rd, value, ctx, loc, imm.loc, direct=False)
        return
    pcrel_pair(ctx, loc, rd, imm, "addi", rd=rd, rs1=rd)


def pcrel_pair(ctx, loc, hi_reg, imm, second, **fields):
    """auipc hi_reg, %pcrel_hi(sym) then `second` with %pcrel_lo of that auipc."""
    ctx.plain(imm)
    here = ctx.here()
    ctx.emit("auipc", loc, rd=hi_reg, imm_u=Imm(imm.node, imm.loc, "pcrel_hi"))
    low = Imm(imm.node, imm.loc, "pcrel_lo_of", here)
    ctx.emit(second, loc, **{"imm_s" if second in STORES else "imm_i": low}, **fields)


def _global_load(mn):       # lw rd, sym: auipc rd, %pcrel_hi(sym); lw rd, %pcrel_lo(rd)
    return lambda ctx, loc, rd, sym: pcrel_pair(ctx, loc, rd, sym, mn, rd=rd, rs1=rd)


def _global_store(mn):      # sw rs, sym, rt: auipc rt, %pcrel_hi(sym); sw rs, %pcrel_lo(rt)
    return lambda ctx, loc, rs, sym, rt: pcrel_pair(ctx, loc, rt, sym, mn, rs2=rs, rs1=rt)


def _far(link, via):
    """call/tail: auipc via, %pcrel_hi(sym); jalr link, %pcrel_lo(via)."""
    return lambda ctx, loc, sym: pcrel_pair(ctx, loc, via, sym, "jalr", rd=link, rs1=via)


def _call_rd(ctx, loc, rd, sym):       # call rd, sym goes through t1 (riscv-opc.c "call d,c")
    pcrel_pair(ctx, loc, T1, sym, "jalr", rd=rd, rs1=T1)


def _jump(ctx, loc, sym, rt):          # jump sym, rt: like tail, through rt
    pcrel_pair(ctx, loc, rt, sym, "jalr", rd=ZERO, rs1=rt)


def _branch(mn):
    return lambda ctx, loc, rs1, rs2, target: ctx.emit_branch(mn, loc, rs1, rs2, target)


# --- the forms ----------------------------------------------------------------------------

def _real_forms(insn):
    """The forms a table instruction is written in, from its operand syntax."""
    mn, syn = insn.mnemonic, insn.syntax
    table = {
        "rd,rs1,rs2": [("rrr", "rd, rs1, rs2", emitter(mn, "rd", "rs1", "rs2"))],
        "rd,rs1,imm_i": [("rri", "rd, rs1, imm", emitter(mn, "rd", "rs1", "imm_i"))],
        "rd,rs1,shamt": [("rri", "rd, rs1, shamt", emitter(mn, "rd", "rs1", "shamt"))],
        "rd,imm_i(rs1)": [("rm", "rd, offset(rs1)", emitter(mn, "rd", ("imm_i", "rs1"))),
                          ("ri", "rd, symbol", _global_load(mn))],
        "rs2,imm_s(rs1)": [("rm", "rs2, offset(rs1)", emitter(mn, "rs2", ("imm_s", "rs1"))),
                           ("rir", "rs2, symbol, rt", _global_store(mn))],
        "rs1,rs2,imm_b": [("rri", "rs1, rs2, label", _branch(mn))],
        "rd,imm_u": [("ri", "rd, imm20", emitter(mn, "rd", "imm_u"))],
        "rd,csr,rs1": [("rcr", "rd, csr, rs1", emitter(mn, "rd", "csr", "rs1")),
                       ("rci", "rd, csr, uimm5", emitter(mn + "i", "rd", "csr", "uimm"))],
        "rd,csr,uimm": [("rci", "rd, csr, uimm5", emitter(mn, "rd", "csr", "uimm"))],
        "rd,rs2,(rs1)": [("rra", "rd, rs2, (rs1)", emitter(mn, "rd", "rs2", "rs1"))],
        "rd,(rs1)": [("ra", "rd, (rs1)", emitter(mn, "rd", "rs1"))],
        "pred,succ": [("", "", emitter(mn, pred=15, succ=15)),
                      ("ff", "pred, succ", emitter(mn, "pred", "succ"))],
        "rs1,rs2": [("", "", emitter(mn, rs1=ZERO, rs2=ZERO)),
                    ("r", "rs1", emitter(mn, "rs1", rs2=ZERO)),
                    ("rr", "rs1, rs2", emitter(mn, "rs1", "rs2"))],
        "": [("", "", emitter(mn))],
    }
    if mn in ("jal", "jalr"):
        return []       # written out in _jumps
    return table[syn]


def _jumps():
    jalr = ("imm_i", "rs1")
    return {
        "jal": [("ri", "rd, label", lambda ctx, loc, rd, t: ctx.emit_jump(loc, rd, t)),
                ("i", "label", lambda ctx, loc, t: ctx.emit_jump(loc, RA, t))],
        "j": [("i", "label", lambda ctx, loc, t: ctx.emit_jump(loc, ZERO, t))],
        "jalr": [("r", "rs1", emitter("jalr", "rs1", rd=RA, imm_i=const(0))),
                 ("m", "offset(rs1)", emitter("jalr", jalr, rd=RA)),
                 ("ri", "rs1, offset", emitter("jalr", "rs1", "imm_i", rd=RA)),
                 ("rr", "rd, rs1", emitter("jalr", "rd", "rs1", imm_i=const(0))),
                 ("rm", "rd, offset(rs1)", emitter("jalr", "rd", jalr)),
                 ("rri", "rd, rs1, offset", emitter("jalr", "rd", "rs1", "imm_i"))],
        "jr": [("r", "rs1", emitter("jalr", "rs1", rd=ZERO, imm_i=const(0))),
               ("m", "offset(rs1)", emitter("jalr", jalr, rd=ZERO)),
               ("ri", "rs1, offset", emitter("jalr", "rs1", "imm_i", rd=ZERO))],
        "ret": [("", "", emitter("jalr", rd=ZERO, rs1=RA, imm_i=const(0)))],
        "call": [("i", "symbol", _far(RA, RA)), ("ri", "rd, symbol", _call_rd)],
        "tail": [("i", "symbol", _far(ZERO, T1))],
        "jump": [("ir", "symbol, rt", _jump)],
    }


def _csrs():
    forms = {"csrr": [("rc", "rd, csr", emitter("csrrs", "rd", "csr", rs1=ZERO))],
             "unimp": [("", "", emitter("csrrw", rd=ZERO, csr=const(CSRS["cycle"]), rs1=ZERO))]}
    for short, full in (("csrw", "csrrw"), ("csrs", "csrrs"), ("csrc", "csrrc")):
        imm = ("ci", "csr, uimm5", emitter(full + "i", "csr", "uimm", rd=ZERO))
        forms[short] = [("cr", "csr, rs1", emitter(full, "csr", "rs1", rd=ZERO)), imm]
        forms[short + "i"] = [imm]
    for name in COUNTERS:   # rdcycle rd = csrrs rd, cycle, x0
        forms["rd" + name] = [("r", "rd", emitter("csrrs", "rd", csr=const(CSRS[name]), rs1=ZERO))]
    return forms


def _alu_pseudos():
    rr = "rd, rs"
    return {
        "nop": [("", "", emitter("addi", rd=ZERO, rs1=ZERO, imm_i=const(0)))],
        "li": [("ri", "rd, constant", _li)],
        "la": [("ri", "rd, symbol", _la)],
        "lla": [("ri", "rd, symbol", _la)],
        "mv": [("rr", rr, emitter("addi", "rd", "rs1", imm_i=const(0)))],
        "not": [("rr", rr, emitter("xori", "rd", "rs1", imm_i=const(-1)))],
        "neg": [("rr", rr, emitter("sub", "rd", "rs2", rs1=ZERO))],
        "zext.b": [("rr", rr, emitter("andi", "rd", "rs1", imm_i=const(255)))],
        "seqz": [("rr", rr, emitter("sltiu", "rd", "rs1", imm_i=const(1)))],
        "snez": [("rr", rr, emitter("sltu", "rd", "rs2", rs1=ZERO))],
        "sltz": [("rr", rr, emitter("slt", "rd", "rs1", rs2=ZERO))],
        "sgtz": [("rr", rr, emitter("slt", "rd", "rs2", rs1=ZERO))],
        "sgt": [("rrr", "rd, rs, rt", emitter("slt", "rd", "rs2", "rs1"))],
        "sgtu": [("rrr", "rd, rs, rt", emitter("sltu", "rd", "rs2", "rs1"))],
        "scall": [("", "", emitter("ecall"))],      # the pre-1.0 names of ecall
        "sbreak": [("", "", emitter("ebreak"))],    # and ebreak
    }


def _branch_pseudos():
    forms = {mn: [("rri", "rs, rt, label", swapped(_branch(real)))]
             for mn, real in BRANCH_SWAPS.items()}
    for mn, (real, second) in BRANCH_ZERO.items():
        def build(ctx, loc, rs, target, real=real, second=second):
            rs1, rs2 = (ZERO, rs) if second else (rs, ZERO)
            ctx.emit_branch(real, loc, rs1, rs2, target)
        forms[mn] = [("ri", "rs, label", build)]
    return forms


def _build():
    forms = {}
    for insn in INSTRUCTIONS:
        forms.setdefault(insn.mnemonic, []).extend(_real_forms(insn))
    for mn, imm_mn in IMM_ALIASES.items():
        field = "shamt" if imm_mn in SHIFTS else "imm_i"
        forms[mn].append(("rri", "rd, rs1, imm", emitter(imm_mn, "rd", "rs1", field)))
    for extra in (_jumps(), _csrs(), _alu_pseudos(), _branch_pseudos()):
        for mn, fs in extra.items():
            forms.setdefault(mn, []).extend(fs)
    return forms


FORMS = _build()
