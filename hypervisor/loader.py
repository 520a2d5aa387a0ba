"""Guest images: RV32 ELF executables read with pyelftools and checked before anything is loaded.

Everything about an image is validated up front, so a malformed file never writes a byte of
host memory: class, data encoding, machine, type, each PT_LOAD's sizes and placement inside the
guest's RAM, overlaps, and the entry point.  pyelftools returns short segment data silently for
a truncated file, so sizes are compared explicitly.  Any problem is an ImageError with one line.
"""
import io
import struct
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

EM_RISCV = 243
# e_machine values a student is likely to hand us by mistake (the ELF gABI's list)
MACHINES = {3: "i386", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 40: "32-bit ARM",
            62: "x86-64", 183: "AArch64 (64-bit ARM)", 243: "RISC-V"}
PT_LOAD = 1
PF_X = 1
PHDR_SIZE = 32          # sizeof(Elf32_Phdr)
SHDR_SIZE = 40          # sizeof(Elf32_Shdr)
PN_XNUM = 0xFFFF        # e_phnum: the real count is in section 0's sh_info
SHN_XINDEX = 0xFFFF     # e_shstrndx: the real index is in section 0's sh_link


class ImageError(Exception):
    """A guest image that cannot be booted; the message is one line for the user."""


@dataclass
class Segment:
    paddr: int
    data: bytes
    memsz: int
    executable: bool


@dataclass
class Image:
    name: str
    entry: int
    segments: list
    blob: bytes = field(default=b"", repr=False)
    bootargs: str = ""          # the image's own command line (a bundled image's "append")
    _symbols: dict = field(default=None, repr=False)

    @property
    def symbols(self):
        """Function and label symbols (address -> name), read on first use: parsing a symbol
        table costs more than the rest of booting a small guest."""
        if self._symbols is None:
            try:
                self._symbols = _symbols(ELFFile(io.BytesIO(self.blob)))
            except Exception:  # a nicety: a damaged table must not stop anything  # noqa: BLE001
                self._symbols = {}
        return self._symbols


def load_image(path_or_bytes, ram_base, ram_size, name=None):
    """Parse and validate an ELF image (or a Linux kernel file, bootimage.py) for a VM whose RAM is [ram_base, ram_base+ram_size)."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        blob, name = bytes(path_or_bytes), name or "image"
    else:
        name = name or str(path_or_bytes)
        try:
            with open(path_or_bytes, "rb") as f:
                blob = f.read()
        except OSError as exc:
            raise ImageError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        # a Linux Image or vmlinux is placed by the kernel boot convention (bootimage.py)
        kernel = bootimage.load_kernel(blob, name, ram_base, ram_size)
        if kernel is not None:
            return kernel
        return _parse(blob, name, ram_base, ram_size)
    except ImageError:
        raise
    except (ELFError, ValueError, KeyError, IndexError, TypeError, AssertionError,
            UnicodeDecodeError, OverflowError, MemoryError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageError(f"{name}: malformed ELF: {detail}") from None
    except Exception as exc:  # pyelftools raises assorted errors on hostile input  # noqa: BLE001
        raise ImageError(f"{name}: malformed ELF ({type(exc).__name__})") from None


def _parse(blob, name, ram_base, ram_size):
    if blob[:4] != b"\x7fELF":
        raise ImageError(f"{name}: not an ELF file")
    if len(blob) < 52:
        raise ImageError(f"{name}: truncated ELF header ({len(blob)} bytes)")
    if blob[4] != 1:
        if blob[4] == 2 and _machine(blob) == "a RISC-V":
            raise ImageError(f"{name}: a 64-bit RISC-V (RV64) image: hvlab runs RV32 (build "
                             f"with -march=rv32ima_zicsr_zifencei -mabi=ilp32)")
        raise ImageError(f"{name}: {_machine(blob)} ELF{'64' if blob[4] == 2 else ''} file, "
                         f"not a 32-bit RISC-V (RV32) image")
    if blob[5] != 1:
        raise ImageError(f"{name}: not little-endian")
    _check_tables(blob, name)
    elf = ELFFile(io.BytesIO(blob))
    if elf["e_machine"] not in ("EM_RISCV", EM_RISCV):
        raise ImageError(f"{name}: {_machine(blob)} ELF32 file, not RISC-V")
    if elf["e_type"] != "ET_EXEC":
        raise ImageError(f"{name}: type {elf['e_type']} is not an executable (ET_EXEC)")
    end = ram_base + ram_size
    segments = []
    for i in range(elf.num_segments()):
        ph = elf._get_segment_header(i)  # header only: get_segment() would read the data
        if ph["p_type"] not in ("PT_LOAD", PT_LOAD):
            continue
        seg = _segment(elf, blob, ph, i, name)
        if seg.memsz == 0:
            continue
        if seg.paddr < ram_base:        # no --mem fixes this: the image is linked too low
            raise ImageError(f"{name}: segment {i} at {seg.paddr:#x} is below RAM, which starts "
                             f"at {ram_base:#x}: link the image at {ram_base:#x} or above")
        if seg.paddr + seg.memsz > end:
            need = -(-(seg.paddr + seg.memsz - ram_base) // (1 << 20))
            raise ImageError(f"{name}: segment {i} ends at {seg.paddr + seg.memsz:#x}, past the "
                             f"end of RAM at {end:#x}: it needs --mem {need}M or more")
        segments.append(seg)
    if not segments:
        raise ImageError(f"{name}: no loadable (PT_LOAD) segment")
    segments.sort(key=lambda s: s.paddr)
    for a, b in zip(segments, segments[1:]):
        if a.paddr + a.memsz > b.paddr:
            raise ImageError(f"{name}: segments at {a.paddr:#x} and {b.paddr:#x} overlap")
    entry = elf["e_entry"]
    if entry & 3 or not any(s.paddr <= entry < s.paddr + s.memsz for s in segments):
        raise ImageError(f"{name}: entry point {entry:#x} is not inside a loaded segment")
    return Image(name=name, entry=entry, segments=segments, blob=blob)


def _machine(blob):
    """'an x86-64', 'a RISC-V', ... from the header's e_machine (either byte order)."""
    if len(blob) < 20:
        return "a truncated"
    order = "little" if blob[5] != 2 else "big"
    what = MACHINES.get(int.from_bytes(blob[18:20], order))
    if what is None:
        return f"a machine {int.from_bytes(blob[18:20], order)}"
    return f"{'an' if what[0] in 'AEIOUaeiox' else 'a'} {what}"


def _check_tables(blob, name):
    """Bound the program and section header tables by the file's size before pyelftools reads
    them: it trusts the counts (with PN_XNUM, e_phnum = 0xFFFF, the real count is section 0's
    sh_info, which may say 4 billion) and reads past a table's end without complaint, so a
    104-byte file could keep it busy for hours (ELF gABI, "ELF Header" and "Sections")."""
    (phoff, shoff, _flags, _ehsize, phentsize, phnum, shentsize, shnum,
     shstrndx) = struct.unpack_from("<IIIHHHHHH", blob, 28)
    section0 = None
    if shoff:
        if shentsize != SHDR_SIZE:
            raise ImageError(f"{name}: section header entry size {shentsize} (e_shentsize) is "
                             f"not {SHDR_SIZE}")
        if shoff + SHDR_SIZE > len(blob):
            raise ImageError(f"{name}: the section header table (at {shoff:#x}) runs past the "
                             f"end of the file ({len(blob)} bytes)")
        section0 = struct.unpack_from("<10I", blob, shoff)
    if phnum == PN_XNUM:                    # the count is in section 0's sh_info
        if section0 is None:
            raise ImageError(f"{name}: e_phnum is PN_XNUM but there is no section 0")
        phnum = section0[7]
    if shnum == 0 and section0 is not None:  # the count is in section 0's sh_size
        shnum = section0[5]
    if shstrndx == SHN_XINDEX and section0 is not None:
        shstrndx = section0[6]
    if phnum and phentsize != PHDR_SIZE:
        raise ImageError(f"{name}: program header entry size {phentsize} (e_phentsize) is not "
                         f"{PHDR_SIZE}")
    if phoff + phnum * PHDR_SIZE > len(blob):
        raise ImageError(f"{name}: the program header table ({phnum} entries at {phoff:#x}) "
                         f"runs past the end of the file ({len(blob)} bytes)")
    if shoff and shoff + shnum * SHDR_SIZE > len(blob):
        raise ImageError(f"{name}: the section header table ({shnum} entries at {shoff:#x}) "
                         f"runs past the end of the file ({len(blob)} bytes)")
    if shoff and shstrndx and shstrndx >= shnum:
        raise ImageError(f"{name}: section name table index {shstrndx} (e_shstrndx) is not a "
                         f"section (there are {shnum})")


def _segment(elf, blob, ph, index, name):
    offset, filesz, memsz = ph["p_offset"], ph["p_filesz"], ph["p_memsz"]
    paddr = ph["p_paddr"]
    if filesz > memsz:
        raise ImageError(f"{name}: segment {index} has filesz {filesz:#x} > memsz {memsz:#x}")
    if paddr + memsz > 1 << 32:
        raise ImageError(f"{name}: segment {index} at {paddr:#x} wraps past 4 GiB")
    if offset + filesz > len(blob):
        raise ImageError(f"{name}: segment {index} data ({filesz} bytes at offset {offset:#x}) "
                         f"runs past the end of the file ({len(blob)} bytes): truncated?")
    data = blob[offset:offset + filesz]
    return Segment(paddr=paddr, data=data, memsz=memsz, executable=bool(ph["p_flags"] & PF_X))


def _symbols(elf):
    table = elf.get_section_by_name(".symtab")
    if table is None or not hasattr(table, "iter_symbols"):
        return {}
    out = {}
    for sym in table.iter_symbols():
        kind = sym["st_info"]["type"]
        if sym.name and kind in ("STT_FUNC", "STT_NOTYPE") and sym["st_shndx"] != "SHN_UNDEF":
            if not sym.name.startswith("$"):
                out.setdefault(sym["st_value"], sym.name)
    return out


from . import bootimage  # noqa: E402  (bootimage uses Image and ImageError from here)
