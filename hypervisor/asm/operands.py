"""Reading one operand: a register, an expression, `offset(reg)`, a CSR, a fence set.

Operand kinds used by the instruction forms (forms.py):
    r  register             a0, x10
    i  expression           42, label+4, %lo(sym), %pcrel_hi(sym)
    m  memory               8(sp), (a0), %lo(sym)(a1)
    a  AMO address          (a0) or 0(a0)
    c  CSR                  sstatus, 0x100
    f  fence set            any of i, o, r, w in that order: rw, iorw
"""
import difflib
import re

from .expr import Num, Reloc, parse_expression
from .items import Imm
from .registers import REGISTERS, register_number
from ..isa.csrs import csr_number

_FENCE = re.compile(r"^i?o?r?w?$")
_BASE = re.compile(r"\(\s*([A-Za-z_][\w]*)\s*\)\s*$")


def split_mem(text):
    """'off(reg)' -> (off_text, index_of_paren, reg) or None when text is not a memory operand."""
    text = text.rstrip()
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                break
    else:
        return None
    reg = register_number(text[i + 1:-1])
    if reg is None:
        return None
    return text[:i], i, reg


def check_base_register(text, loc):
    """`offset(a9)`: a register-like name that is not a register is a typo, not an
    expression (it would otherwise end in a puzzling message about the expression)."""
    m = _BASE.search(text)
    if not m or register_number(m.group(1)) is not None or re.search(r"%\w+\s*$", text[:m.start()]):
        return
    name = m.group(1)
    looks_like_one = difflib.get_close_matches(name, REGISTERS, n=1, cutoff=0.8)
    if re.match(r"^[xast]\d+$", name) or looks_like_one:
        pool = [r for r in REGISTERS if (r[0] == "x" and r[1:].isdigit()) == (name[0] == "x")]
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else "x0..x31 or an ABI name"
        raise loc.at(loc.col + m.start(1)).error(f"unknown register '{name}'", hint=hint)


def kind_of(text):
    """The syntactic kind of an operand: 'r', 'm' or 'i'."""
    if register_number(text) is not None:
        return "r"
    if split_mem(text) is not None:
        return "m"
    return "i"


def matches(pattern, kinds, texts):
    """Does an operand list of these kinds fit a form's pattern?"""
    if len(pattern) != len(kinds):
        return False
    for want, have, text in zip(pattern, kinds, texts):
        if want == "r" and have != "r":
            return False
        if want in "ic" and have != "i":
            return False
        if want == "f" and not (have == "i" and text and _FENCE.match(text)):
            return False
        if want == "m" and have != "m":
            return False
        if want == "a" and not (have == "m" and split_mem(text)[0].strip() in ("", "0")):
            return False
    return True


def immediate(text, loc, ctx):
    """An `i` operand as an Imm (a %reloc(...) wrapper becomes the Imm's kind)."""
    node = parse_expression(text, loc, ctx)
    if isinstance(node, Reloc):
        return Imm(node.arg, loc, node.kind)
    return Imm(node, loc)


def convert(kind, text, loc, ctx):
    """The value a form's builder receives for one operand."""
    if kind == "r":
        return register_number(text)
    if kind == "i":
        if text.endswith("@plt"):      # call foo@plt (older GCC): the same call here
            text = text[:-4]
        return immediate(text, loc, ctx)
    if kind == "c":
        number = csr_number(text)
        if number is not None:
            return Imm(Num(number), loc)
        return immediate(text, loc, ctx)
    if kind == "f":
        return sum(bit for letter, bit in zip("iorw", (8, 4, 2, 1)) if letter in text)
    off_text, paren, reg = split_mem(text)
    if kind == "a":
        return reg
    if not off_text.strip():
        return Imm(Num(0), loc), reg
    return immediate(off_text, loc, ctx), reg
