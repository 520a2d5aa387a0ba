"""`hv dis`: an objdump-style listing of an ELF file's code, or assembly source that
reassembles to the same bytes (`--source`)."""
from .disasm import Symbols, decode_text
from .elfread import SHF_ALLOC, SHF_EXECINSTR

def _zero_run(data, off, stop):
    """Zero bytes objdump shows as `...` at `off` (objdump.c disassemble_bytes): 8 or more,
    in whole words unless they run to `stop` (the next symbol or the end), and a run of 1
    or 2 that ends there (skip_zeroes_at_end is 3: shorter runs are skipped)."""
    z = off
    while z < stop and data[z] == 0:
        z += 1
    run = z - off
    if z < stop:
        run &= ~3
        return run if run >= 8 else 0
    return run if run >= 8 or run < 3 else 0


def _instruction_at(data, off):
    size = 4 if data[off] & 3 == 3 else 2
    if off + size > len(data):
        return None, data[off:]
    return int.from_bytes(data[off:off + size], "little"), data[off:off + size]


def instructions(data):
    """(offset, word or None, raw bytes) for each instruction, walking 16-bit parcels as
    objdump does: a parcel whose low bits are 11 starts a 32-bit instruction, any other is
    a 16-bit one (Vol. I sec. 1.5); bytes too few for an instruction come as the tail."""
    off = 0
    while off < len(data):
        size = 4 if data[off] & 3 == 3 else 2
        if off + size > len(data):
            yield off, None, data[off:]
            return
        yield off, int.from_bytes(data[off:off + size], "little"), data[off:off + size]
        off += size


LOADS_STORES_JUMPS = {"lb", "lh", "lw", "lbu", "lhu", "sb", "sh", "sw", "jalr"}
GP, TP = 3, 4


class _AddressNotes:
    """objdump's `# address` after an instruction that completes an address: addi, a load,
    a store or jalr whose base register was set by the lui/auipc (or c.lui) before it, or is
    tp or x0 (an absolute or thread-relative address), or gp with __global_pointer$ known
    (binutils riscv-dis.c maybe_print_address).  One difference: objdump keeps a register's
    lui value until an instruction uses it, even across `li a0, 5`; we forget it when the
    register is written, so no note names an address the program never forms."""

    def __init__(self, gp=None):
        self.hi, self.gp = {}, gp

    def _base(self, reg, offset):
        if reg in self.hi:
            return (self.hi.pop(reg) + offset) & 0xFFFFFFFF
        if reg == GP and self.gp is not None:
            return (self.gp + offset) & 0xFFFFFFFF
        if reg in (0, TP):
            return offset & 0xFFFFFFFF
        return None

    def note(self, word, size, pc):
        if size == 2:
            return self._note16(word)
        from ..isa.instructions import decode
        found = decode(word)
        if found is None:
            return None
        insn, f = found
        mn, value = insn.mnemonic, None
        if mn in ("lui", "auipc"):
            base = 0 if mn == "lui" else pc
            self.hi[f["rd"]] = (base + (f["imm_u"] << 12)) & 0xFFFFFFFF
            return None
        if (mn == "addi" and f["rs1"] != 0) or mn in LOADS_STORES_JUMPS:
            value = self._base(f["rs1"], f.get("imm_i", f.get("imm_s")))
        if "rd" in f:
            self.hi.pop(f["rd"], None)
        return value

    def _note16(self, parcel):
        from ..isa.compressed import decode16
        found = decode16(parcel)
        if found is None:
            return None
        insn, f = found
        if insn.mnemonic == "c.lui":
            self.hi[f["rd"]] = f["lui6"] & 0xFFFFFFFF
            return None
        value = None
        if insn.mnemonic == "c.addi":
            value = self._base(f["rd"], f["imm6"])
        written = f.get("rd", f.get("rdp"))
        if written is None and insn.mnemonic in ("c.srli", "c.srai", "c.andi", "c.sub",
                                                 "c.xor", "c.or", "c.and"):
            written = f["rs1p"]
        self.hi.pop(written, None)
        return value


def listing(image, filename, aliases=True):
    """The text `objdump -d` prints for an executable's code sections."""
    symbols = Symbols(image.labels())
    gp = next((s.value for s in image.symbols if s.name == "__global_pointer$"), None)
    spans = [(s.addr, s.addr + s.size) for s in image.sections if s.flags & SHF_ALLOC]
    out = ["", f"{filename}:     file format elf32-littleriscv", ""]
    for sec in image.sections:
        if not sec.flags & SHF_EXECINSTR or sec.nobits or not sec.size:
            continue
        out += ["", f"Disassembly of section {sec.name}:"]
        labels = image.labels(sec.name)
        notes = _AddressNotes(gp)
        stops = sorted(a - sec.addr for a in labels if sec.addr < a < sec.addr + sec.size)
        stops.append(sec.size)
        off = 0
        while off < len(sec.data):
            pc = sec.addr + off
            if off == 0 or pc in labels:
                name = labels.get(pc) or Symbols(labels).describe(pc) or sec.name
                out += ["", f"{pc:08x} <{name}>:"]
            skip = _zero_run(sec.data, off, next(s for s in stops if s > off))
            if skip:
                out.append("\t...")
                off += skip
                continue
            word, raw = _instruction_at(sec.data, off)
            off += len(raw)
            if word is None:
                directive = {1: ".byte", 2: ".2byte", 3: ".byte"}[len(raw)]
                value = int.from_bytes(raw, "little")
                out.append(f"{pc:8x}:\t{raw.hex():<18}\t{directive}\t{value:#x}")
                continue
            mn, ops = decode_text(word, pc, symbols, aliases)
            # objdump: the instruction as one chunk, padded as if 8 bytes of chunks that size
            hexed = f"{word:04x}" + " " * 16 if len(raw) == 2 else f"{word:08x}" + " " * 10
            line = f"{pc:8x}:\t{hexed}\t{mn}" + (f"\t{ops}" if ops else "")
            value = notes.note(word, len(raw), pc)
            if value is not None:
                # a symbol only for an address in (or just past) a section: a constant such
                # as a device address is not "stack_top+0x..." (objdump names it so)
                inside = any(lo <= value <= hi for lo, hi in spans)
                where = symbols.describe(value) if inside else None
                line += f" # {value:x} <{where}>" if where else f" # {value:#x}"
            out.append(line)
    return "\n".join(out) + "\n"
