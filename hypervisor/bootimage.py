"""Real kernel files: the RISC-V Linux boot image (`arch/riscv/boot/Image`) and `vmlinux`.

The Image is a flat copy of the kernel's memory from its first instruction, with a 64-byte
header (Linux, Documentation/riscv/boot-image-header.rst):

    0x00  u32 code0, code1    the first instructions (a jump over the header)
    0x08  u64 text_offset     the load offset from the start of RAM a boot loader should use
    0x10  u64 image_size      bytes of memory the kernel occupies from its load address (with
                              .bss, so more than the file): mandatory, "booting will fail
                              otherwise"
    0x18  u64 flags           bit 0: big-endian
    0x20  u32 version         major in bits 31:16, minor in 15:0 (0.2 today)
    0x30  u64 magic           "RISCV\\0\\0\\0" (deprecated since 0.2)
    0x38  u32 magic2          "RSC\\x05"

text_offset (4 MiB on rv32) is the room a boot loader leaves below the kernel for M-mode
firmware such as OpenSBI.  hvlab's SBI is the monitor, outside the guest, so hvlab loads the
Image at the start of RAM (0x8000_0000, aligned to the 4 MiB an rv32 kernel needs for its
megapage mappings): an rv32 kernel cannot map RAM below its own load address, so this gives
it every page.  The hart starts at the first byte with a0 = hart id and a1 = the device tree,
as the boot protocol asks.

`vmlinux` is the ELF the Image is cut from: its PT_LOAD segments are linked at the kernel's
virtual addresses (PAGE_OFFSET 0xC000_0000) with p_paddr = vaddr - PAGE_OFFSET (0 for the
first).  When p_paddr is inside RAM the ordinary ELF loader uses it; otherwise (vmlinux) the
Image convention applies: a segment goes to RAM base + p_paddr and the entry point moves with it.

Any problem is a loader.ImageError with one line; nothing is written to guest memory before
the whole file has been checked.
"""
import struct

from .loader import EM_RISCV, PF_X, PT_LOAD, Image, ImageError, Segment

HEADER_SIZE = 64
MAGIC = b"RISCV\0\0\0"
MAGIC2 = b"RSC\x05"
PAGE_OFFSET = 0xC000_0000       # CONFIG_PAGE_OFFSET of an rv32 kernel
KERNEL_ALIGN = 4 << 20          # rv32: the kernel is mapped with 4 MiB megapages


def is_boot_image(blob):
    """A RISC-V Linux Image: either magic in place (magic2 is the current one)."""
    return len(blob) >= 0x3C and (blob[0x38:0x3C] == MAGIC2 or blob[0x30:0x38] == MAGIC)


def load_kernel(blob, name, ram_base, ram_size):
    """The Image for a kernel file (a Linux Image, or a vmlinux linked at PAGE_OFFSET), or
    None when ``blob`` is neither: loader.py then reads it as an ordinary ELF."""
    if is_boot_image(blob):
        return load_boot_image(blob, name, ram_base, ram_size)
    if _is_vmlinux(blob, ram_base, ram_size):
        return load_vmlinux(blob, name, ram_base, ram_size)
    return None


def load_boot_image(blob, name, ram_base, ram_size):
    if len(blob) < HEADER_SIZE:
        raise ImageError(f"{name}: truncated Linux Image header ({len(blob)} of 64 bytes)")
    if blob[0x38:0x3C] != MAGIC2:
        raise ImageError(f"{name}: Linux Image header without magic2 'RSC\\x05' at 0x38 "
                         f"(header version before 0.2?)")
    _code0, _code1, text_offset, image_size, flags, version = struct.unpack_from("<IIQQQI", blob)
    if flags & 1:
        raise ImageError(f"{name}: a big-endian Linux Image (flags bit 0): hvlab is little-endian")
    if image_size == 0:
        raise ImageError(f"{name}: Linux Image header has image_size 0 (the boot protocol "
                         f"makes it mandatory)")
    if image_size < len(blob):
        raise ImageError(f"{name}: Linux Image header's image_size {image_size:#x} is smaller "
                         f"than the file ({len(blob):#x} bytes): damaged header?")
    if text_offset % 4096 or text_offset >= ram_size:
        raise ImageError(f"{name}: Linux Image header's text_offset {text_offset:#x} is not a "
                         f"page-aligned offset into RAM")
    if ram_base % KERNEL_ALIGN:
        raise ImageError(f"{name}: RAM at {ram_base:#x} is not 4 MiB aligned for an rv32 kernel")
    _fits(name, image_size, ram_size)
    seg = Segment(paddr=ram_base, data=bytes(blob), memsz=image_size, executable=True)
    return Image(name=name, entry=ram_base, segments=[seg])


def _fits(name, size, ram_size):
    if size > ram_size:
        need = -(-size // (1 << 20))
        raise ImageError(f"{name}: the kernel needs {size:#x} bytes of RAM from its load "
                         f"address: give it --mem {need}M or more")


def _program_headers(blob):
    """(e_entry, [(p_type, offset, vaddr, paddr, filesz, memsz, flags)]) of an ELF32 file."""
    if len(blob) < 52:
        raise ValueError("truncated ELF header")
    e_entry, e_phoff = struct.unpack_from("<II", blob, 0x18)
    e_phentsize, e_phnum = struct.unpack_from("<HH", blob, 0x2A)
    if e_phnum and e_phentsize < 32:
        raise ValueError("program header entries too small")
    if e_phoff + e_phnum * e_phentsize > len(blob):
        raise ValueError("program headers run past the end of the file")
    return e_entry, [struct.unpack_from("<7I", blob, e_phoff + i * e_phentsize)
                     for i in range(e_phnum)]


def _is_vmlinux(blob, ram_base, ram_size):
    """An ELF32 RISC-V executable whose loadable segments are linked at PAGE_OFFSET with
    physical addresses outside RAM (so the ordinary loader cannot place them)."""
    if blob[:6] != b"\x7fELF\x01\x01" or len(blob) < 52:
        return False
    e_type, e_machine = struct.unpack_from("<HH", blob, 0x10)
    if e_type != 2 or e_machine != EM_RISCV:
        return False
    try:
        _entry, phdrs = _program_headers(blob)
    except (ValueError, struct.error):
        return False            # loader.py gives the error for a damaged ELF
    loads = [p for p in phdrs if p[0] == PT_LOAD and p[5] > 0]
    return bool(loads) and all(
        p[2] - p[3] == PAGE_OFFSET and not ram_base <= p[3] < ram_base + ram_size for p in loads)


def load_vmlinux(blob, name, ram_base, ram_size):
    entry, phdrs = _program_headers(blob)
    segments = []
    for i, (p_type, offset, vaddr, paddr, filesz, memsz, flags) in enumerate(phdrs):
        if p_type != PT_LOAD or memsz == 0:
            continue
        if filesz > memsz:
            raise ImageError(f"{name}: segment {i} has filesz {filesz:#x} > memsz {memsz:#x}")
        if offset + filesz > len(blob):
            raise ImageError(f"{name}: segment {i} data ({filesz} bytes at offset {offset:#x}) "
                             f"runs past the end of the file ({len(blob)} bytes): truncated?")
        _fits(name, paddr + memsz, ram_size)
        segments.append(Segment(paddr=ram_base + paddr, data=blob[offset:offset + filesz],
                                memsz=memsz, executable=bool(flags & PF_X)))
    segments.sort(key=lambda s: s.paddr)
    for a, b in zip(segments, segments[1:]):
        if a.paddr + a.memsz > b.paddr:
            raise ImageError(f"{name}: segments at {a.paddr:#x} and {b.paddr:#x} overlap")
    if segments[0].paddr % KERNEL_ALIGN:
        raise ImageError(f"{name}: vmlinux starts at physical offset "
                         f"{segments[0].paddr - ram_base:#x}, not 4 MiB aligned")
    entry_pa = entry - PAGE_OFFSET + ram_base
    if entry & 3 or not any(s.paddr <= entry_pa < s.paddr + s.memsz for s in segments):
        raise ImageError(f"{name}: entry point {entry:#x} is not inside a loaded segment")
    return Image(name=name, entry=entry_pa, segments=segments, blob=bytes(blob))
