"""Writing an ELF32 little-endian RISC-V executable, by hand with struct.

Layout of the file (System V gABI, "Object Files"; RISC-V ELF psABI for EM_RISCV and e_flags):
    ELF header (52 bytes), program headers (32 bytes each)
    allocated section contents, at file offset = 0x1000 + (address - first address),
        so each PT_LOAD segment's offset and address agree modulo its 4 KiB alignment
    non-allocated sections, .symtab, .strtab, .shstrtab, then the section header table.
One PT_LOAD per group of adjacent sections with the same permissions (R+X, R, R+W).
"""
import os
import struct
from dataclasses import dataclass

EM_RISCV = 243
ET_EXEC = 2
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
SHN_ABS = 0xFFF1
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_FILE = 4
PAGE = 0x1000


@dataclass
class ElfSection:
    name: str
    flags: int
    nobits: bool
    addr: int
    align: int
    data: bytes        # contents (empty for NOBITS)
    size: int


@dataclass
class ElfSymbol:
    name: str
    value: int
    size: int
    bind: int
    type: int
    section: object    # an ElfSection, or None for SHN_ABS


class _StrTab:
    def __init__(self):
        self.data = bytearray(b"\0")
        self.index = {"": 0}

    def add(self, name):
        if name not in self.index:
            self.index[name] = len(self.data)
            self.data += name.encode() + b"\0"
        return self.index[name]


def _segments(alloc):
    """Group adjacent allocated sections by permissions: [(flags, [sections])]."""
    groups = []
    for sec in alloc:
        perm = (PF_R | (PF_W if sec.flags & SHF_WRITE else 0)
                | (PF_X if sec.flags & SHF_EXECINSTR else 0))
        if groups and groups[-1][0] == perm and not (groups[-1][1][-1].nobits and not sec.nobits):
            groups[-1][1].append(sec)
        else:
            groups.append((perm, [sec]))
    return groups


def _symtab(symbols, index_of, strtab):
    """.symtab bytes and the index of the first non-local symbol (locals must come first)."""
    ordered = sorted(symbols, key=lambda s: s.bind != STB_LOCAL)
    out = bytearray(16)
    first_global = 1 + sum(1 for s in ordered if s.bind == STB_LOCAL)
    for s in ordered:
        shndx = SHN_ABS if s.section is None else index_of[id(s.section)]
        out += struct.pack("<IIIBBH", strtab.add(s.name), s.value & 0xFFFFFFFF, s.size,
                           s.bind << 4 | s.type, 0, shndx)
    return bytes(out), first_global


def _align(value, align):
    return (value + align - 1) // align * align if align > 1 else value


def _file_offsets(alloc, other):
    """File offset of each section, and the end of the section contents."""
    first = alloc[0].addr if alloc else 0
    data_start = PAGE + (first % PAGE)       # offset = address (mod 4 KiB), for PT_LOAD
    offsets, end = {}, data_start
    for sec in alloc:
        offsets[id(sec)] = data_start + (sec.addr - first)
        if not sec.nobits:
            end = max(end, offsets[id(sec)] + sec.size)
    for sec in other:
        end = _align(end, sec.align)
        offsets[id(sec)] = end
        end += sec.size
    return offsets, end


def _program_headers(groups, offsets):
    out = bytearray()
    for perm, secs in groups:
        vaddr = secs[0].addr
        filesz = max((s.addr + s.size for s in secs if not s.nobits), default=vaddr) - vaddr
        memsz = secs[-1].addr + secs[-1].size - vaddr
        out += struct.pack("<IIIIIIII", PT_LOAD, offsets[id(secs[0])], vaddr, vaddr,
                           filesz, memsz, perm, PAGE)
    return out


def write_elf(sections, symbols, entry, flags=0):
    """The bytes of an executable holding `sections` (allocated ones first, in address order)."""
    alloc = [s for s in sections if s.flags & SHF_ALLOC]
    other = [s for s in sections if not s.flags & SHF_ALLOC]
    placed = alloc + other
    groups = _segments(alloc)
    offsets, end = _file_offsets(alloc, other)

    shstr, strtab = _StrTab(), _StrTab()
    symtab, first_global = _symtab(symbols, {id(s): i + 1 for i, s in enumerate(placed)}, strtab)
    for sec in placed:
        shstr.add(sec.name)
    for name in (".symtab", ".strtab", ".shstrtab"):
        shstr.add(name)
    # (name, type, contents, alignment, link, info, entsize); .strtab is section len(placed)+2
    tables = [(".symtab", SHT_SYMTAB, symtab, 4, len(placed) + 2, first_global, 16),
              (".strtab", SHT_STRTAB, bytes(strtab.data), 1, 0, 0, 0),
              (".shstrtab", SHT_STRTAB, bytes(shstr.data), 1, 0, 0, 0)]
    table_offsets = []
    for table in tables:
        end = _align(end, table[3])
        table_offsets.append(end)
        end += len(table[2])
    shoff = _align(end, 4)

    image = bytearray(shoff)
    shnum = 1 + len(placed) + len(tables)
    image[0:52] = struct.pack("<4sBBBBB7xHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0,
                              ET_EXEC, EM_RISCV, 1, entry, 52 if groups else 0, shoff,
                              flags,  # e_flags: soft-float ABI; EF_RISCV_RVC if compressed
                              52, 32, len(groups), 40, shnum, shnum - 1)
    image[52:52 + 32 * len(groups)] = _program_headers(groups, offsets)
    for sec in placed:
        if not sec.nobits:
            image[offsets[id(sec)]:offsets[id(sec)] + sec.size] = sec.data
    headers = bytearray(40)                     # section 0: the null section
    for sec in placed:
        headers += struct.pack("<IIIIIIIIII", shstr.index[sec.name],
                               SHT_NOBITS if sec.nobits else SHT_PROGBITS, sec.flags, sec.addr,
                               offsets[id(sec)], sec.size, 0, 0, sec.align, 0)
    for (name, type_, blob, align, link, info, entsize), off in zip(tables, table_offsets):
        image[off:off + len(blob)] = blob
        headers += struct.pack("<IIIIIIIIII", shstr.index[name], type_, 0, 0, off, len(blob),
                               link, info, align, entsize)
    return bytes(image) + bytes(headers)


def file_symbol(path):
    return ElfSymbol(os.path.basename(path), 0, 0, STB_LOCAL, STT_FILE, None)
