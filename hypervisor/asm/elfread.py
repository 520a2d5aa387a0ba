"""Reading an ELF32 RISC-V executable for the disassembler (with pyelftools, checked)."""
import io
from dataclasses import dataclass, field

from .errors import AsmError

SHF_ALLOC, SHF_EXECINSTR = 0x2, 0x4


@dataclass
class Section:
    name: str
    addr: int
    size: int
    flags: int
    nobits: bool
    align: int
    data: bytes


@dataclass
class Symbol:
    name: str
    value: int
    size: int
    is_global: bool
    weak: bool
    type: str          # STT_NOTYPE, STT_FUNC, STT_OBJECT
    section: str       # section name, or "" for an absolute symbol


@dataclass
class ElfImage:
    entry: int
    sections: list = field(default_factory=list)
    symbols: list = field(default_factory=list)
    flags: int = 0          # e_flags; bit 0 (EF_RISCV_RVC): the code may be compressed

    @property
    def rvc(self):
        return bool(self.flags & 1)

    def labels(self, section=None):
        """{address: name} of the symbols that name places (in `section` if given).  Of
        several at one address, the one objdump shows (binutils objdump.c compare_symbols):
        functions, then objects, then globals, then names not starting with '.', by name."""
        def preference(s):
            return (s.type != "STT_FUNC", s.type != "STT_OBJECT", not s.is_global,
                    s.name.startswith("."), s.name)
        out = {}
        for s in sorted(self.symbols, key=preference):
            if s.section and (section is None or s.section == section):
                out.setdefault(s.value, s.name)
        return out


def read_elf(data, filename="<elf>"):
    """Parse an executable's sections and symbols; AsmError when it is not an RV32 ELF."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf.elfclass != 32 or elf["e_machine"] != "EM_RISCV" or not elf.little_endian:
            raise AsmError("not a 32-bit little-endian RISC-V ELF file", filename)
        image = ElfImage(elf["e_entry"], flags=elf["e_flags"])
        names = {}
        for index, sec in enumerate(elf.iter_sections()):
            names[index] = sec.name
            if not sec["sh_flags"] & SHF_ALLOC:
                continue
            nobits = sec["sh_type"] == "SHT_NOBITS"
            body = b"" if nobits else sec.data()
            if not nobits and len(body) != sec["sh_size"]:
                raise AsmError(f"section {sec.name} is cut short", filename)
            image.sections.append(Section(sec.name, sec["sh_addr"], sec["sh_size"], sec["sh_flags"],
                                          nobits, sec["sh_addralign"], body))
        symtab = elf.get_section_by_name(".symtab")
        for sym in symtab.iter_symbols() if symtab is not None else ():
            kind = sym["st_info"]["type"]
            if not sym.name or kind in ("STT_FILE", "STT_SECTION") or sym.name.startswith("$"):
                continue
            shndx = sym["st_shndx"]
            section = names.get(shndx, "") if isinstance(shndx, int) else ""
            bind = sym["st_info"]["bind"]
            image.symbols.append(Symbol(sym.name, sym["st_value"], sym["st_size"],
                                        bind != "STB_LOCAL", bind == "STB_WEAK", kind, section))
        return image
    except (ELFError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise AsmError(f"not a readable ELF file ({exc})", filename) from None
