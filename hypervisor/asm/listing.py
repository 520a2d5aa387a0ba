"""`hv dis`: an objdump-style listing of an ELF file's code, or assembly source that
reassembles to the same bytes (`--source`)."""
from .disasm import Symbols, decode_text
from .elfread import SHF_EXECINSTR

def _words(data):
    """(offset, word or None, raw bytes) for each 4-byte unit; a short tail comes as bytes."""
    for off in range(0, len(data) - 3, 4):
        yield off, int.from_bytes(data[off:off + 4], "little"), data[off:off + 4]
    tail = len(data) % 4
    if tail:
        yield len(data) - tail, None, data[len(data) - tail:]


class _AddressNotes:
    """objdump's `# address <symbol>` after an instruction completing an auipc/lui pair
    (binutils riscv-dis.c maybe_print_address)."""

    def __init__(self):
        self.hi = {}

    def note(self, word, pc):
        from ..isa.instructions import decode
        found = decode(word)
        if found is None:
            return None
        insn, f = found
        value = None
        if insn.mnemonic in ("lui", "auipc"):
            base = 0 if insn.mnemonic == "lui" else pc
            self.hi[f["rd"]] = (base + (f["imm_u"] << 12)) & 0xFFFFFFFF
            return None
        if "rs1" in f and f["rs1"] in self.hi and insn.fmt in ("I", "S"):
            imm = f.get("imm_i", f.get("imm_s"))
            value = (self.hi.pop(f["rs1"]) + imm) & 0xFFFFFFFF
        if "rd" in f:
            self.hi.pop(f["rd"], None)
        return value


def listing(image, filename, aliases=True):
    """The text `objdump -d` prints for an executable's code sections."""
    symbols = Symbols(image.labels())
    out = ["", f"{filename}:     file format elf32-littleriscv", ""]
    for sec in image.sections:
        if not sec.flags & SHF_EXECINSTR or sec.nobits or not sec.size:
            continue
        out += ["", f"Disassembly of section {sec.name}:"]
        labels = image.labels(sec.name)
        notes = _AddressNotes()
        for off, word, raw in _words(sec.data):
            pc = sec.addr + off
            if off == 0 or pc in labels:
                name = labels.get(pc) or Symbols(labels).describe(pc) or sec.name
                out += ["", f"{pc:08x} <{name}>:"]
            if word is None:
                directive = {1: ".byte", 2: ".2byte", 3: ".byte"}[len(raw)]
                value = int.from_bytes(raw, "little")
                out.append(f"{pc:8x}:\t{raw.hex():<18}\t{directive}\t{value:#x}")
                continue
            mn, ops = decode_text(word, pc, symbols, aliases)
            line = f"{pc:8x}:\t{word:08x}          \t{mn}" + (f"\t{ops}" if ops else "")
            value = notes.note(word, pc)
            if value is not None:
                where = symbols.describe(value)
                line += f" # {value:x}" + (f" <{where}>" if where else "")
            out.append(line)
    return "\n".join(out) + "\n"
