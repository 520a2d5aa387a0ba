"""execve(2): load a static RV32 ELF executable into a fresh address space, with its stack.

The checks follow hypervisor/loader.py's idea (nothing is mapped before the whole file is
judged) on the ELF's program headers (System V gABI, "Program Header"): ELF32, little-endian,
EM_RISCV, ET_EXEC, every PT_LOAD inside the file and below the user top, no overlap.  A
dynamic executable (PT_INTERP) or a static-PIE needs a loader hvlab's kernel does not have:
ENOEXEC with a line in the container's log.  ``#!`` scripts run their interpreter
(binfmt_script).  The initial stack is Linux's (fs/binfmt_elf.c create_elf_tables):

    sp -> argc, argv[0..argc-1], NULL, envp[..], NULL, auxv (type, value)..., AT_NULL
          ... the strings, AT_RANDOM's 16 bytes, the exec file name (higher up)
"""
import struct

from ..icache import written
from .errno import E2BIG, EACCES, ENOEXEC, SysError
from .mm import (PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, STACK_MAX, STACK_TOP, TRAMPOLINE,
                 AddressSpace, FileImage)

PT_LOAD, PT_INTERP, PT_PHDR = 1, 3, 6
PF_X, PF_W, PF_R = 1, 2, 4
ARG_MAX = 128 * 1024

# auxiliary vector types (include/uapi/linux/auxvec.h)
AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 16, 17
AT_SECURE, AT_RANDOM, AT_EXECFN = 23, 25, 31
HWCAP_IMA = (1 << 0) | (1 << 8) | (1 << 12)    # 'a', 'i', 'm' (arch/riscv/include/uapi/asm/hwcap.h)


class Program:
    """A checked executable: entry, program headers' address and count, the PT_LOADs."""

    def __init__(self, entry, phdr, phnum, loads):
        self.entry, self.phdr, self.phnum, self.loads = entry, phdr, phnum, loads


def parse(blob, name):
    """Check an ELF file and describe what to map; SysError(ENOEXEC) with a reason if not."""
    try:
        return _parse(blob, name)
    except (struct.error, ValueError, IndexError, OverflowError) as exc:
        raise SysError(ENOEXEC, f"{name}: malformed ELF ({type(exc).__name__})") from None


def _parse(blob, name):
    def bad(why):
        return SysError(ENOEXEC, f"{name}: {why}")
    if blob[:4] != b"\x7fELF":
        raise bad("not an ELF file")
    if len(blob) < 52:
        raise bad(f"truncated ELF header ({len(blob)} bytes)")
    if blob[4] != 1 or blob[5] != 1:
        raise bad("not an ELF32 little-endian file (an RV32 executable is needed)")
    (e_type, e_machine, _, entry, phoff, _, _, _, phentsize, phnum) = \
        struct.unpack_from("<HHIIIIIHHH", blob, 16)
    if e_machine != 243:
        raise bad(f"machine {e_machine} is not RISC-V")
    if phentsize != 32 or phnum == 0 or phnum > 64 or phoff + 32 * phnum > len(blob):
        raise bad("bad program header table")
    loads, phdr, interp = [], None, False
    for i in range(phnum):
        p_type, off, vaddr, _, filesz, memsz, flags, _ = struct.unpack_from(
            "<IIIIIIII", blob, phoff + 32 * i)
        if p_type == PT_INTERP:
            interp = True
        elif p_type == PT_PHDR:
            phdr = vaddr
        elif p_type == PT_LOAD and memsz:
            if filesz > memsz or off + filesz > len(blob):
                raise bad(f"segment {i} runs past the end of the file (truncated?)")
            if vaddr < PAGE or vaddr + memsz > TRAMPOLINE - STACK_MAX - PAGE or \
                    (vaddr - off) % PAGE:
                raise bad(f"segment {i} at {vaddr:#x} is outside the user address space")
            prot = (PROT_READ if flags & PF_R else 0) | (PROT_WRITE if flags & PF_W else 0) \
                | (PROT_EXEC if flags & PF_X else 0)
            loads.append((vaddr, memsz, blob[off:off + filesz], prot, off))
    if interp or e_type == 3:
        raise bad("a dynamic executable (needs an ELF interpreter): hvlab's kernel runs "
                  "static executables only")
    if e_type != 2:
        raise bad(f"ELF type {e_type} is not an executable")
    if not loads:
        raise bad("no loadable segment")
    loads.sort()
    for a, b in zip(loads, loads[1:]):
        if a[0] + a[1] > b[0]:
            raise bad(f"segments at {a[0]:#x} and {b[0]:#x} overlap")
    # 2-byte alignment is enough: the hart runs RV32IMAC, and a program may start with a
    # compressed instruction (Linux's binfmt_elf checks none, the fetch would fault)
    if entry & 1:
        raise bad(f"entry point {entry:#x} is not 2-byte aligned")
    if not any(v <= entry < v + m for v, m, _, p, _ in loads if p & PROT_EXEC):
        raise bad(f"entry point {entry:#x} is not in an executable segment")
    if phdr is None:
        first = loads[0]
        phdr = first[0] - first[4] + phoff if first[4] <= phoff else 0
    return Program(entry, phdr, phnum, loads)


def load(program, frames, ram32, tlb, trampoline, node=None):
    """A new address space with the program's segments, heap start and an empty stack.  An
    executable of an image layer (``node.lower``) is mapped from the file, its pages filled
    on first touch and its read-only ones shared (mm.FileImage); any other is copied in."""
    mm = AddressSpace(frames, ram32, tlb)
    try:
        if node is not None and node.lower:
            _map_file(mm, program, node)
        else:
            _copy_in(mm, program, frames, ram32)
        mm.add_vma(STACK_TOP - STACK_MAX, STACK_TOP, PROT_READ | PROT_WRITE, "stack")
        frames.get(trampoline)
        mm.add_vma(TRAMPOLINE, TRAMPOLINE + PAGE, PROT_READ | PROT_EXEC, "trampoline")
        mm.map(TRAMPOLINE >> 12, trampoline, PROT_READ | PROT_EXEC)
    except BaseException:
        mm.destroy()
        raise
    return mm


def _map_file(mm, program, node):
    """One area per run of pages with the same protection; a page two segments share (the
    end of text and the start of data) gets the union of theirs, so it is private if either
    is writable."""
    spans = []
    for vaddr, memsz, _, prot, _ in program.loads:
        start, end = vaddr & ~0xFFF, (vaddr + memsz + PAGE - 1) & ~0xFFF
        if spans and start < spans[-1][1]:
            ps, pe, pp = spans.pop()
            if ps < start:
                spans.append((ps, start, pp))
            spans.append((start, min(pe, end), pp | prot))
            if end < pe:
                spans.append((end, pe, pp))
            start = min(pe, end)
        if start < end:
            spans.append((start, end, prot))
    src = FileImage(node, [(v, m, off, len(d)) for v, m, d, _, off in program.loads])
    for start, end, prot in spans:
        mm.add_vma(start, end, prot, "image", src)
        mm.brk_start = mm.brk = max(mm.brk, end)


def _copy_in(mm, program, frames, ram32):
    ram = ram32.view("u1")
    for vaddr, memsz, data, prot, _ in program.loads:
        start, end = vaddr & ~0xFFF, (vaddr + memsz + PAGE - 1) & ~0xFFF
        for page in range(start, end, PAGE):
            vpn = page >> 12
            p = mm.pages.get(vpn)
            if p is None:               # two segments may share a page
                mm.map(vpn, frames.alloc(), prot)
                p = mm.pages[vpn]
            else:
                v = mm.find(page)
                prot |= v.prot if v else 0
            lo, hi = max(page, vaddr), min(page + PAGE, vaddr + len(data))
            if lo < hi:
                h = frames.host(p[0]) + (lo & 0xFFF)
                ram[h:h + hi - lo] = memoryview(data)[lo - vaddr:hi - vaddr]
                written(mm.tlb, h, hi - lo)     # (decoded copies of the page are stale)
        mm.add_vma(start, end, prot, "image")
        mm.brk_start = mm.brk = max(mm.brk, end)
    for v in mm.vmas:                   # shared pages get the union of the protections
        for vpn in range(v.start >> 12, v.end >> 12):
            mm.map(vpn, mm.pages[vpn][0], v.prot)


def build_stack(mm, program, argv, envp, execfn, random16):
    """Write argv, envp and auxv at the top of the stack; returns the initial sp."""
    strings = b"".join(s + b"\0" for s in argv + envp)
    if len(strings) + 8 * (len(argv) + len(envp)) > ARG_MAX:
        raise SysError(E2BIG)
    top = STACK_TOP - 16
    fn_at = top - len(execfn) - 1
    rand_at = (fn_at - 16) & ~15
    str_at = rand_at - len(strings)
    ptrs, pos = [], str_at
    for s in argv + envp:
        ptrs.append(pos)
        pos += len(s) + 1
    auxv = [AT_PHDR, program.phdr, AT_PHENT, 32, AT_PHNUM, program.phnum, AT_PAGESZ, PAGE,
            AT_BASE, 0, AT_FLAGS, 0, AT_ENTRY, program.entry, AT_UID, 0, AT_EUID, 0, AT_GID, 0,
            AT_EGID, 0, AT_HWCAP, HWCAP_IMA, AT_CLKTCK, 100, AT_SECURE, 0, AT_RANDOM, rand_at,
            AT_EXECFN, fn_at, AT_NULL, 0]
    words = [len(argv)] + ptrs[:len(argv)] + [0] + ptrs[len(argv):] + [0] + auxv
    sp = (str_at - 4 * len(words)) & ~15
    if sp < STACK_TOP - STACK_MAX + PAGE:
        raise SysError(E2BIG)
    mm.write(fn_at, execfn + b"\0")
    mm.write(rand_at, random16)
    mm.write(str_at, strings)
    mm.write(sp, struct.pack(f"<{len(words)}I", *words))
    return sp


def script_interpreter(blob, path):
    """For a ``#!`` file: (interpreter, [optional argument]); None for anything else."""
    if blob[:2] != b"#!":
        return None
    line = blob[2:blob.find(b"\n") if b"\n" in blob else 256][:254].strip()
    if not line:
        raise SysError(ENOEXEC, f"{path}: empty #! line")
    parts = line.split(None, 1)
    return parts[0], parts[1:]


def check_executable(node):
    if not node.mode & 0o111:
        raise SysError(EACCES)
