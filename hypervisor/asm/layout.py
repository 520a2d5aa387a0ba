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

from .expr import Binary, NotConstant, Sym, evaluate
from .items import Branch, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE
from .symbols import LayoutEnv

_MERGED = (".text", ".rodata", ".data", ".bss")
BRANCH_REACH = 1 << 12          # B-type: -4096 .. +4094
RVC_BRANCH_REACH = 1 << 9       # CB-type (c.beqz/c.bnez): -256 .. +254
RVC_JUMP_REACH = 1 << 12        # CJ-type (c.j/c.jal): -2048 .. +2046


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


def _target_symbol(node):
    """The symbol of a `symbol` or `symbol +- constant` target (GNU's fr_symbol)."""
    if isinstance(node, Sym):
        return node
    if isinstance(node, Binary) and node.op in "+-" and isinstance(node.left, Sym):
        return node.left
    return None


def branch_length(branch, env):
    """Bytes the branch needs in the current layout (tc-riscv.c relaxed_branch_length)."""
    frag = branch.frag
    longest = 4 if branch.jump else 8
    env.loc = branch.target.loc
    sym = _target_symbol(branch.target.node)
    if sym is not None:
        defined = env.unit.symbols.get(sym.name)
        if defined is not None and defined.weak:
            return longest                    # a weak symbol may be defined elsewhere
    try:
        value = evaluate(branch.target.node, env)
    except NotConstant:
        return longest
    if value.anchor is not frag.section:
        return longest
    distance = value.offset - (frag.start + frag.size)
    reach = (RVC_JUMP_REACH if branch.jump else RVC_BRANCH_REACH) // 2
    if branch.short is not None and -reach <= distance < reach:
        return 2
    if -BRANCH_REACH <= distance < BRANCH_REACH:
        return 4
    return 6 if branch.short is not None and not branch.jump else longest


def relax(unit):
    """Size every branch of the file's sections, as GNU as does (gas/write.c relax_segment)."""
    env = LayoutEnv(unit)
    for sec in unit.sections.values():
        if any(isinstance(f.var, Branch) for f in sec.frags):
            _relax_section(sec, env)
        _layout_section(sec)


def _relax_section(sec, env):
    """GNU as's relaxation, step for step, because its answers at the edge of a branch's
    reach depend on it.  A first walk guesses each size (md_estimate_size_before_relax)
    while fragments further on still have address 0; then passes recompute every size
    (riscv_relax_frag, from scratch, so a size can shrink) until none changes.  Within a
    pass a fragment's address moves by the growth before it, but a label further on still
    has its address from the previous pass: so a forward c.beqz 254 bytes short of its
    target that was first guessed long measures 4 bytes more than it is, and stays 4 bytes.
    (GNU as also starts a fragment at each .space and at every ~4 KiB of code; that shifts
    only the first guess, and only for a branch near the start of its section.)"""
    frags = sec.frags
    for frag in frags:
        frag.start = 0
    addr = 0
    for frag in frags:                       # the first guess
        frag.start = addr
        addr += frag.size
        var = frag.var
        if isinstance(var, Branch):
            var.size = branch_length(var, env)
            addr += var.size
        elif var is not None:
            addr += var.compute(addr)
    for _ in range(len(frags) + 100):
        stretch, changed = 0, False
        for frag in frags:
            frag.start += stretch
            var = frag.var
            if var is None:
                continue
            old = var.size
            new = branch_length(var, env) if isinstance(var, Branch) \
                else var.compute(frag.start + frag.size)
            var.size = new
            if new != old:
                stretch += new - old
                changed = True
        if not changed:
            return
    _grow_only(sec, env)        # GNU as would stop with "infinite loop"; settle for growing


def _grow_only(sec, env):
    branches = [f.var for f in sec.frags if isinstance(f.var, Branch)]
    while True:
        _layout_section(sec)
        grown = False
        for br in branches:
            want = branch_length(br, env)
            if want > br.size:
                br.size, grown = want, True
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
