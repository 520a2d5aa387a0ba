"""One instruction word to text, the way GNU objdump prints it.

Pseudo-instructions are shown where objdump shows them (opcodes/riscv-opc.c aliases: li, mv,
nop, not, neg, zext.b, seqz/snez/sltz/sgtz, beqz/bnez/blez/bgez/bltz/bgtz, j, jal, jr, jalr, ret,
csrr/csrw/csrs/csrc(+i), rdcycle/rdtime/rdinstret(+h), unimp, fence), with objdump's
operand style: ABI register names, decimal immediates, hex for lui/auipc and shift amounts,
branch/jump targets as a bare hex address followed by `<symbol+offset>`.

One deliberate difference: binutils 2.40 prints the register-immediate instructions under the
alias GNU as also accepts (`add a0,a1,5` for addi, `csrw sstatus,5` for csrwi); we print their
real names (addi, csrwi), as later binutils do.
"""
import bisect

from ..isa.compressed import decode16, expansion, hint
from ..isa.csrs import csr_name
from ..isa.instructions import BY_MNEMONIC, decode
from .registers import register_name as reg

COUNTER_NAMES = {0xC00: "rdcycle", 0xC01: "rdtime", 0xC02: "rdinstret",
                 0xC80: "rdcycleh", 0xC81: "rdtimeh", 0xC82: "rdinstreth"}


class Symbols:
    """Address -> `name+0xoff` lookups.  Built from {address: name} (or [(address, name)])."""

    def __init__(self, symbols=None):
        pairs = symbols.items() if isinstance(symbols, dict) else (symbols or ())
        self.pairs = sorted((addr, name) for addr, name in pairs)
        self.addrs = [a for a, _ in self.pairs]

    def describe(self, addr):
        """objdump's `<sym+0x10>` text for an address (without the brackets), or None."""
        if not self.pairs:
            return None
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:       # before every symbol: objdump names the first one, negative offset
            base, name = self.pairs[0]
            return f"{name}-{base - addr:#x}"
        base = self.addrs[i]
        name = self.pairs[bisect.bisect_left(self.addrs, base)][1]   # first name at that address
        return name if base == addr else f"{name}+{addr - base:#x}"


_LAST = [None, None, None]      # (the dict, its length, its Symbols): a single-step view
                                # passes the same dict for every word


def _symbols_for(mapping):
    if _LAST[0] is not mapping or _LAST[1] != len(mapping):
        _LAST[:] = [mapping, len(mapping), Symbols(mapping)]
    return _LAST[2]


def _target(addr, symbols):
    """objdump: `80400010 <loop>`, or `0x80400010` when there are no symbols at all."""
    addr &= 0xFFFFFFFF
    where = symbols.describe(addr) if symbols else None
    return (f"{addr:x} <{where}>" if where else f"{addr:#x}"), addr


def _mem(rs1, imm):
    return f"{imm}({reg(rs1)})"


def _fence_set(bits):
    return "".join(c for c, b in zip("iorw", (8, 4, 2, 1)) if bits & b) or "unknown"


def _jalr(f):
    rd, rs1, imm = f["rd"], f["rs1"], f["imm_i"]
    if rd == 0 and rs1 == 1 and imm == 0:
        return "ret", ""
    where = reg(rs1) if imm == 0 else _mem(rs1, imm)
    if rd == 0:
        return "jr", where
    if rd == 1:
        return "jalr", where
    return "jalr", f"{reg(rd)},{where}"


def _alias(mn, f, pc, symbols):
    """(mnemonic, operands) for the pseudo-instruction objdump would print, or None."""
    rd, rs1, rs2 = f.get("rd"), f.get("rs1"), f.get("rs2")
    imm = f.get("imm_i")
    if mn == "andi" and imm == 255:
        return "zext.b", f"{reg(rd)},{reg(rs1)}"
    if mn == "addi":
        if rd == 0 and rs1 == 0 and imm == 0:
            return "nop", ""
        if rs1 == 0:
            return "li", f"{reg(rd)},{imm}"
        if imm == 0:
            return "mv", f"{reg(rd)},{reg(rs1)}"
    simple = {("xori", "imm_i", -1): ("not", "rs1"), ("sltiu", "imm_i", 1): ("seqz", "rs1"),
              ("sub", "rs1", 0): ("neg", "rs2"), ("sltu", "rs1", 0): ("snez", "rs2"),
              ("slt", "rs2", 0): ("sltz", "rs1"), ("slt", "rs1", 0): ("sgtz", "rs2")}
    for (name, field, value), (alias, src) in simple.items():
        if mn == name and f[field] == value:
            return alias, f"{reg(rd)},{reg(f[src])}"
    if mn in ("beq", "bne", "bge", "blt"):
        target = _target(pc + f["imm_b"], symbols)[0]
        zero_forms = {"beq": ("beqz", None), "bne": ("bnez", None), "bge": ("bgez", "blez"),
                      "blt": ("bltz", "bgtz")}[mn]
        if rs2 == 0:
            if mn == "bge" and rs1 == 0:
                return "blez", f"{reg(rs2)},{target}"
            return zero_forms[0], f"{reg(rs1)},{target}"
        if rs1 == 0 and zero_forms[1]:
            return zero_forms[1], f"{reg(rs2)},{target}"
    if mn == "jal" and rd in (0, 1):
        return ("j" if rd == 0 else "jal"), _target(pc + f["imm_j"], symbols)[0]
    if mn == "jalr":
        return _jalr(f)
    return _csr_alias(mn, f)


def _csr_alias(mn, f):
    rd, rs1, csr = f.get("rd"), f.get("rs1"), f.get("csr")
    if mn == "csrrs" and rs1 == 0:
        if csr in COUNTER_NAMES:
            return COUNTER_NAMES[csr], reg(rd)
        return "csrr", f"{reg(rd)},{csr_name(csr)}"
    if mn == "csrrw" and rd == 0 and rs1 == 0 and csr == 0xC00:
        return "unimp", ""
    if mn in ("csrrw", "csrrs", "csrrc") and rd == 0:
        return "csr" + mn[4], f"{csr_name(csr)},{reg(rs1)}"
    if mn in ("csrrwi", "csrrsi", "csrrci") and rd == 0:
        return "csr" + mn[4] + "i", f"{csr_name(csr)},{f['uimm']}"
    if mn == "fence" and f["pred"] == 15 and f["succ"] == 15:
        return "fence", ""
    return None


def _operands(insn, f, pc, symbols):
    syn = insn.syntax
    if syn == "rd,rs1,rs2":
        return f"{reg(f['rd'])},{reg(f['rs1'])},{reg(f['rs2'])}"
    if syn == "rd,rs1,imm_i":
        return f"{reg(f['rd'])},{reg(f['rs1'])},{f['imm_i']}"
    if syn == "rd,rs1,shamt":
        return f"{reg(f['rd'])},{reg(f['rs1'])},{f['shamt']:#x}"
    if syn == "rd,imm_i(rs1)":
        return f"{reg(f['rd'])},{_mem(f['rs1'], f['imm_i'])}"
    if syn == "rs2,imm_s(rs1)":
        return f"{reg(f['rs2'])},{_mem(f['rs1'], f['imm_s'])}"
    if syn == "rs1,rs2,imm_b":
        return f"{reg(f['rs1'])},{reg(f['rs2'])},{_target(pc + f['imm_b'], symbols)[0]}"
    if syn == "rd,imm_u":
        return f"{reg(f['rd'])},{f['imm_u']:#x}"
    if syn == "rd,imm_j":
        return f"{reg(f['rd'])},{_target(pc + f['imm_j'], symbols)[0]}"
    if syn == "rd,csr,rs1":
        return f"{reg(f['rd'])},{csr_name(f['csr'])},{reg(f['rs1'])}"
    if syn == "rd,csr,uimm":
        return f"{reg(f['rd'])},{csr_name(f['csr'])},{f['uimm']}"
    if syn == "rd,rs2,(rs1)":
        return f"{reg(f['rd'])},{reg(f['rs2'])},({reg(f['rs1'])})"
    if syn == "rd,(rs1)":
        return f"{reg(f['rd'])},({reg(f['rs1'])})"
    if syn == "pred,succ":
        return f"{_fence_set(f['pred'])},{_fence_set(f['succ'])}"
    if syn == "rs1,rs2":
        if f["rs2"]:
            return f"{reg(f['rs1'])},{reg(f['rs2'])}"
        return reg(f["rs1"]) if f["rs1"] else ""
    return ""


# --- compressed instructions (isa/compressed.py) -----------------------------------------

def _c_operands(mn, f, pc, symbols):
    """The operands of a compressed instruction as `objdump -M no-aliases` writes them."""
    if mn in ("c.j", "c.jal"):
        return _target(pc + f["offj"], symbols)[0]
    if mn in ("c.beqz", "c.bnez"):
        return f"{reg(f['rs1p'])},{_target(pc + f['offb'], symbols)[0]}"
    if mn == "c.addi4spn":
        return f"{reg(f['rdp'])},sp,{f['imm4spn']}"
    if mn == "c.addi16sp":
        return f"sp,{f['imm16sp']}"
    if mn == "c.lui":
        return f"{reg(f['rd'])},{(f['lui6'] >> 12) & 0xFFFFF:#x}"
    if mn in ("c.lw", "c.sw"):
        first = f.get("rdp", f.get("rs2p"))
        return f"{reg(first)},{f['offw']}({reg(f['rs1p'])})"
    if mn == "c.lwsp":
        return f"{reg(f['rd'])},{f['offlwsp']}(sp)"
    if mn == "c.swsp":
        return f"{reg(f['rs2'])},{f['offswsp']}(sp)"
    out = []
    for name, value in f.items():
        if name == "shamt":
            out.append(f"{value:#x}")
        elif name == "imm6":
            out.append(str(value))
        else:
            out.append(reg(value))
    return ",".join(out)


def _compressed(parcel, pc, symbols, aliases):
    """(mnemonic, operands) of a 16-bit parcel as objdump prints it: by default under the
    name of the 32-bit instruction it expands to (`c.addi sp,-16` is `addi sp,sp,-16`), with
    HINTs (c.li zero,5, c.mv zero,a1, c.slli64 a0, ...) and c.nop with an operand in their
    compressed form, as riscv-opc.c's aliases do."""
    found = decode16(parcel)
    if found is None:
        return ".2byte", f"{parcel:#x}"
    insn, f = found
    mn = insn.mnemonic
    if not aliases:
        if mn == "c.nop":                   # objdump's c.nop is an alias of c.addi zero
            return "c.addi", f"zero,{f['imm6']}"
        return mn, _c_operands(mn, f, pc, symbols)
    if mn == "c.unimp":
        return "unimp", ""
    if mn == "c.nop" and not f["imm6"]:
        return "nop", ""
    if hint(insn, f) and mn != "c.addi":    # c.addi rd,0 prints as addi rd,rd,0
        return mn, _c_operands(mn, f, pc, symbols)
    if mn == "c.mv":
        return "mv", f"{reg(f['rd'])},{reg(f['rs2'])}"
    real, fields = expansion(insn, f)
    entry = BY_MNEMONIC[real]
    if mn != "c.addi":
        alias = _alias(real, fields, pc, symbols)
        if alias is not None:
            return alias
    return real, _operands(entry, fields, pc, symbols)


def decode_text(word, pc=0, symbols=None, aliases=True):
    """(mnemonic, operands) for an instruction: a 32-bit word, or a 16-bit parcel when the
    low two bits are not 11; unknown ones are (".4byte", "0x...") / (".2byte", "0x...")."""
    if symbols is not None and not isinstance(symbols, Symbols):
        symbols = _symbols_for(symbols)
    if word & 3 != 3:
        return _compressed(word & 0xFFFF, pc, symbols, aliases)
    found = decode(word & 0xFFFFFFFF)
    if found is None:
        return ".4byte", f"{word & 0xFFFFFFFF:#x}"
    insn, f = found
    if aliases:
        alias = _alias(insn.mnemonic, f, pc, symbols)
        if alias is not None:
            return alias
    elif insn.mnemonic == "csrrw" and word == 0xC0001073:
        return "unimp", ""          # riscv-opc.c's 32-bit unimp is not marked an alias
    elif insn.mnemonic == "sfence.vma":     # the short forms are the aliases
        return insn.mnemonic, f"{reg(f['rs1'])},{reg(f['rs2'])}"
    return insn.mnemonic, _operands(insn, f, pc, symbols)


def disassemble_word(word, pc=0, symbols=None):
    """`mnemonic operands`, e.g. "beq a0,a1,80400010 <loop>".  symbols: {address: name}."""
    mn, ops = decode_text(word, pc, symbols)
    return f"{mn} {ops}" if ops else mn
