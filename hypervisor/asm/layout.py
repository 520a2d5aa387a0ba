"""Layout: branch relaxation inside each section, then placing sections at addresses.

Placement (our own rule, the one the tests reproduce with a GNU ld script):
  * input sections map to output sections by name: `.text.*` joins `.text`, and likewise
    `.rodata.*`, `.data.*`, `.bss.*`; other names stay as they are;
  * output sections come in this order: executable, read-only, writable, then zero-filled
    (NOBITS); within a group `.text`/`.rodata`/`.data`/`.bss` first, others by first use;
  * the first starts at `base`; each next one at the following multiple of its alignment;
    input sections follow each other in file order, each at a multiple of its own alignment,
    as GNU ld places `*(.text .text.*)`.
"""
from dataclasses import dataclass, field

from .expr import NotConstant, evaluate
from .items import Branch, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE
from .symbols import LayoutEnv

_MERGED = (".text", ".rodata", ".data", ".bss")
BRANCH_REACH = 1 << 12          # B-type: -4096 .. +4094


@dataclass
class OutputSection:
    name: str
    flags: int
    nobits: bool
    inputs: list = field(default_factory=list)
    align: int = 1
    addr: int = 0
    size: int = 0


def align_up(value, align):
    return (value + align - 1) // align * align


def _layout_section(sec):
    """Offsets of the fragments for the current variable sizes; returns the section size."""
    offset = 0
    for frag in sec.frags:
        frag.start = offset
        offset += frag.size
        var = frag.var
        if var is None:
            continue
        offset += var.size if isinstance(var, Branch) else var.compute(offset)
    sec.size = offset
    return offset


def _branch_fits(branch, env):
    """Is the target in the same section and within reach (tc-riscv.c relaxed_branch_length)?"""
    frag = branch.frag
    env.loc = branch.target.loc
    try:
        value = evaluate(branch.target.node, env)
    except NotConstant:
        return False
    if value.anchor is not frag.section:
        return False
    distance = value.offset - (frag.start + frag.size)
    return -BRANCH_REACH <= distance < BRANCH_REACH


def relax(unit):
    """Grow branches to their long form until every short one reaches its target."""
    env = LayoutEnv(unit)
    branches = [f.var for s in unit.sections.values() for f in s.frags if isinstance(f.var, Branch)]
    while True:
        for sec in unit.sections.values():
            _layout_section(sec)
        grown = False
        for br in branches:
            if br.size == 4 and not _branch_fits(br, env):
                br.size, br.long, grown = 8, True, True
        if not grown:
            return


def output_name(name):
    for prefix in _MERGED:
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    return name


def _group(out):
    if not out.flags & SHF_ALLOC:
        return 9
    if out.flags & SHF_EXECINSTR:
        return 0
    if not out.flags & SHF_WRITE:
        return 1
    return 3 if out.nobits else 2


def place(units, base):
    """Assign addresses to every input section; returns the output sections in order."""
    outputs = {}
    for unit in units:
        for sec in unit.sections.values():
            name = output_name(sec.name)
            out = outputs.get(name)
            if out is None:
                out = outputs[name] = OutputSection(name, sec.flags, sec.nobits)
            out.inputs.append(sec)
            out.flags |= sec.flags
            out.nobits = out.nobits and sec.nobits
            sec.output = out
    def order(out):
        standard = out.name in _MERGED
        return _group(out), not standard, _MERGED.index(out.name) if standard else 0
    ordered = sorted(outputs.values(), key=order)      # stable: others by first use
    addr = base
    for out in ordered:
        out.align = max(s.align for s in out.inputs)
        start = align_up(addr, out.align) if out.flags & SHF_ALLOC else 0
        offset = 0
        for sec in out.inputs:
            offset = align_up(offset, sec.align)
            sec.addr = start + offset
            offset += sec.size
        out.addr, out.size = start, offset
        if out.flags & SHF_ALLOC:
            addr = start + offset
    return ordered
