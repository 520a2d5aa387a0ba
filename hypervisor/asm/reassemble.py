"""`hv dis --source`: assembly source that reassembles to the same bytes at the same addresses.

Every allocated section is written out under its own name with its alignment; code is
disassembled, with each branch and jump target given a label (a symbol of the file, or a
made-up `.L<address>`), so that it is position-relative like the original; data is written as
`.byte` lines.  Symbols are defined where they were, with their binding.
"""
from ..isa.instructions import decode
from .disasm import decode_text
from .elfread import SHF_EXECINSTR

_WRITE, _ALLOC = 0x1, 0x2


def _targets(sec):
    """Addresses inside `sec` that its branches and jumps go to."""
    out = set()
    for off in range(0, len(sec.data) - 3, 4):
        found = decode(int.from_bytes(sec.data[off:off + 4], "little"))
        if found and found[0].fmt in ("B", "J"):
            target = sec.addr + off + found[1].get("imm_b", found[1].get("imm_j", 0))
            if sec.addr <= target < sec.addr + sec.size:
                out.add(target & 0xFFFFFFFF)
    return out


def _flags(sec):
    letters = "a" + ("w" if sec.flags & _WRITE else "") + ("x" if sec.flags & SHF_EXECINSTR else "")
    return f'"{letters}", @{"nobits" if sec.nobits else "progbits"}'


def _instruction(word, pc, names):
    """One word as source; branch and jump targets become labels."""
    found = decode(word)
    mn, ops = decode_text(word, pc)
    if found and found[0].fmt in ("B", "J"):
        f = found[1]
        target = (pc + f.get("imm_b", f.get("imm_j", 0))) & 0xFFFFFFFF
        # a label keeps the branch short when reassembled (same section); a target
        # outside the section is written relative to `.`, which is in the section too
        delta = (target - pc + 0x80000000) % (1 << 32) - 0x80000000
        label = names.get(target, (f".{delta:+d}",))[0]
        ops = ops.replace(f"{target:#x}", label)
    if "unknown" in ops:             # a fence with an empty set cannot be written back
        mn, ops = ".4byte", f"{word:#x}"
    return f"    {mn} {ops}".rstrip()


def _code(sec, names, lines):
    """Disassembled code.  Bytes before a label that is not 4 bytes further on (data or
    padding placed in code) are written as .byte, so every label lands where it was."""
    data, off = sec.data, 0
    inside = sorted(a - sec.addr for a in names if sec.addr < a < sec.addr + sec.size)
    while off < len(data):
        lines += [f"{name}:" for name in names.get(sec.addr + off, ())]
        nxt = next((a for a in inside if a > off), len(data))
        if nxt - off < 4:
            lines.append("    .byte " + ", ".join(f"{b:#x}" for b in data[off:nxt]))
            off = nxt
            continue
        word = int.from_bytes(data[off:off + 4], "little")
        lines.append(_instruction(word, sec.addr + off, names))
        off += 4


def _data(sec, names, lines):
    """Data as .byte lines (.zero for NOBITS), cut where symbols are defined."""
    inside = {a - sec.addr for a in names if sec.addr <= a <= sec.addr + sec.size}
    cuts = sorted(inside | {0, sec.size})
    for start, end in zip(cuts, cuts[1:] + [None]):
        lines += [f"{name}:" for name in names.get(sec.addr + start, ())]
        if end is None:
            return
        for i in range(start, end, 16):
            if sec.nobits:
                lines.append(f"    .zero {min(i + 16, end) - i}")
            else:
                chunk = sec.data[i:min(i + 16, end)]
                lines.append("    .byte " + ", ".join(f"{b:#x}" for b in chunk))


def to_source(image, filename="<elf>"):
    """Reassemblable GNU as source for an executable (its allocated sections)."""
    lines = [f"# disassembled from {filename} by hv dis --source"]
    for s in image.symbols:
        if s.is_global:
            lines.append(f"    .{'weak' if s.weak else 'globl'} {s.name}")
        if not s.section:
            lines.append(f"    .equ {s.name}, {s.value:#x}")
    seen = set()
    for sec in image.sections:
        names = {}
        for s in image.symbols:
            if s.section == sec.name and s.name not in seen:   # two files' locals may share a name
                names.setdefault(s.value, []).append(s.name)
                seen.add(s.name)
        if sec.flags & SHF_EXECINSTR:
            for target in _targets(sec):
                names.setdefault(target, [f".L{target:x}"])
        lines += ["", f"    .section {sec.name}, {_flags(sec)}", f"    .balign {max(sec.align, 1)}"]
        if sec.flags & SHF_EXECINSTR and not sec.nobits:
            _code(sec, names, lines)
            end = sec.addr + sec.size
            lines += [f"{name}:" for name in names.get(end, ())]
        else:
            _data(sec, names, lines)
    return "\n".join(lines) + "\n"
