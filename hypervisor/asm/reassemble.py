"""`hv dis --source`: assembly source that reassembles to the same bytes at the same addresses.

Every allocated section is written out under its own name with its alignment; code is
disassembled, with each branch and jump target given a label (a symbol of the file, or a
made-up `.L<address>`), so that it is position-relative like the original; data is written as
`.byte` lines.  Symbols are defined where they were, with their binding.

Compressed code (an image whose ELF header has EF_RISCV_RVC): 16-bit instructions are written
with their `c.` names under `.option rvc`, and a 32-bit instruction that GNU as would
compress (or relax: a branch or jump) under `.option norvc`, so that each keeps its size.
Such a file is meant for `-march=rv32imac_zicsr_zifencei`, as the header line says: GNU as
gives `.text` 2-byte alignment only when C is in -march, which decides the end padding.
"""
from ..isa.compressed import decode16
from ..isa.instructions import decode
from . import compress
from .disasm import decode_text
from .elfread import SHF_EXECINSTR
from .listing import instructions

_WRITE, _ALLOC = 0x1, 0x2
_JUMP_FIELDS = ("imm_b", "imm_j", "offb", "offj")


def _jump_offset(word, size):
    """The pc-relative target offset of a branch or jump, or None."""
    found = decode(word) if size == 4 else decode16(word)
    if not found:
        return None
    f = found[1]
    return next((f[name] for name in _JUMP_FIELDS if name in f), None)


def _targets(sec):
    """Addresses inside `sec` that its branches and jumps go to."""
    out = set()
    for off, word, raw in instructions(sec.data):
        offset = _jump_offset(word, len(raw)) if word is not None else None
        if offset is not None:
            target = sec.addr + off + offset
            if sec.addr <= target < sec.addr + sec.size:
                out.add(target & 0xFFFFFFFF)
    return out


def _flags(sec):
    letters = "a" + ("w" if sec.flags & _WRITE else "") + ("x" if sec.flags & SHF_EXECINSTR else "")
    return f'"{letters}", @{"nobits" if sec.nobits else "progbits"}'


class _Writer:
    """Code lines, switching `.option rvc`/`.option norvc` only where an instruction needs it."""

    def __init__(self, lines, rvc_image):
        self.lines, self.rvc_image, self.mode = lines, rvc_image, None
        self._ctx = None

    def want(self, mode):
        if mode is not None and mode != self.mode:
            self.lines.append(f"    .option {'rvc' if mode else 'norvc'}")
            self.mode = mode

    def would_compress(self, mn, ops):
        forms = compress.ALTERNATIVES.get(mn)
        if not forms:
            return False
        if self._ctx is None:
            from .assembler import FileAssembler
            from .program import Program
            self._ctx = FileAssembler(Program(), "<dis>", "", frozenset({"i", "c"}))
        from .errors import Location
        loc = Location("<dis>", 1)
        return compress.match(self._ctx, forms, [(t, loc) for t in ops.split(",")] if ops
                              else []) is not None

    def instruction(self, word, size, pc, names):
        """One instruction as source; branch and jump targets become labels."""
        if size == 2 and not self.rvc_image:
            self.lines.append(f"    .2byte {word:#x}")
            return
        mn, ops = decode_text(word, pc, aliases=size == 4)
        offset = _jump_offset(word, size)
        if offset is not None:
            target = (pc + offset) & 0xFFFFFFFF
            # a label keeps the branch short when reassembled (same section); a target
            # outside the section is written relative to `.`, which is in the section too
            delta = (target - pc + 0x80000000) % (1 << 32) - 0x80000000
            label = names.get(target, (f".{delta:+d}",))[0]
            ops = ops.replace(f"{target:#x}", label)
        if mn in (".2byte", ".4byte") or "unknown" in ops:    # no instruction says it
            self.lines.append(f"    .{'2' if size == 2 else '4'}byte {word:#x}")
            return
        if self.rvc_image:
            if size == 2:
                self.want(True)
            elif offset is not None or self.would_compress(mn, ops):
                self.want(False)
        self.lines.append(f"    {mn} {ops}".rstrip())


def _code(sec, names, writer):
    """Disassembled code.  Bytes before a label that falls inside an instruction (data or
    padding placed in code) are written as .byte, so every label lands where it was."""
    lines, data = writer.lines, sec.data
    inside = sorted(a - sec.addr for a in names if sec.addr < a < sec.addr + sec.size)
    off = 0
    while off < len(data):
        lines += [f"{name}:" for name in names.get(sec.addr + off, ())]
        nxt = next((a for a in inside if a > off), len(data))
        size = 4 if data[off] & 3 == 3 else 2
        if nxt - off < size:
            lines.append("    .byte " + ", ".join(f"{b:#x}" for b in data[off:nxt]))
            off = nxt
            continue
        writer.instruction(int.from_bytes(data[off:off + size], "little"), size,
                           sec.addr + off, names)
        off += size


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


def _code_align(sec, prev_end):
    """The alignment to write for a code section.  GNU as pads the end of a code section
    to its alignment, but a linked section (several files' .text, or .text.* joined to it)
    may end anywhere; so use the largest alignment that divides its size, as long as the
    section still lands at its address after the one before."""
    align = max(sec.align, 1)
    while align > 1 and sec.size % align:
        smaller = align // 2
        if prev_end is not None and -(-prev_end // smaller) * smaller != sec.addr:
            break
        align = smaller
    return align


def to_source(image, filename="<elf>"):
    """Reassemblable GNU as source for an executable (its allocated sections)."""
    lines = [f"# disassembled from {filename} by hv dis --source"]
    if image.rvc:
        lines.append("# compressed code: assemble with -march=rv32imac_zicsr_zifencei")
    for s in image.symbols:
        if s.is_global:
            lines.append(f"    .{'weak' if s.weak else 'globl'} {s.name}")
        if not s.section:
            lines.append(f"    .equ {s.name}, {s.value:#x}")
    seen, prev_end = set(), None
    for sec in image.sections:
        names = {}
        for s in image.symbols:
            if s.section == sec.name and s.name not in seen:   # two files' locals may share a name
                names.setdefault(s.value, []).append(s.name)
                seen.add(s.name)
        if sec.flags & SHF_EXECINSTR:
            for target in _targets(sec):
                names.setdefault(target, [f".L{target:x}"])
        align = _code_align(sec, prev_end) if sec.flags & SHF_EXECINSTR else max(sec.align, 1)
        prev_end = sec.addr + sec.size
        lines += ["", f"    .section {sec.name}, {_flags(sec)}", f"    .balign {align}"]
        if sec.flags & SHF_EXECINSTR and not sec.nobits:
            writer = _Writer(lines, image.rvc)
            _code(sec, names, writer)
            end = sec.addr + sec.size
            lines += [f"{name}:" for name in names.get(end, ())]
        else:
            _data(sec, names, lines)
    return "\n".join(lines) + "\n"
