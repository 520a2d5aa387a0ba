"""Address spaces: a process's memory map, its Sv32 page tables, and copies to and from it.

Each process has an ``AddressSpace``: a list of areas (VMAs: start, end, protection, kind) that
say what *may* be mapped, and a dict ``pages`` (virtual page -> frame) of what *is* mapped.  The
kernel mirrors ``pages`` into real Sv32 page tables (privileged spec, "Sv32: Page-Based 32-bit
Virtual-Memory Systems") written into the container's guest-physical frames, and the hart
walks them in U-mode with satp = Sv32 | root table.  A page is mapped on first touch (demand
zero: the hart's page fault exits to the kernel, which maps a zeroed frame and retries), and
a fork shares every page, read-only, between parent and child (copy-on-write: the first write
of either takes a private copy).  Every pointer a process hands the kernel is translated
through these tables (``read``/``write``): never trusted, never a host address.

An executable from the image's read-only layers is mapped as a file is (``FileImage``): its
pages are filled on first touch from the file, and a read-only page (text, rodata) is one
frame of the container's page cache (frames.py) shared by every process that runs the file,
mapped copy-on-write, as Linux shares an executable's page-cache pages.  A writable page
(data) is the process's own copy, filled from the file on first touch.

Overhead per process beyond its pages: the two dicts and the VMA list (a few KiB).
"""
from ..icache import written
from ..mmu import tlb_flush
from .errno import EFAULT, EINVAL, ENOMEM, SysError
from .frames import Frames

PAGE = 4096
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
USER_TOP = 0x8000_0000                  # user addresses are below this
TRAMPOLINE = 0x7FFF_F000                # the kernel's page in every address space (signal.py)
STACK_TOP = 0x7FFF_0000
STACK_MAX = 8 << 20                     # RLIMIT_STACK's usual 8 MiB
MMAP_TOP = STACK_TOP - STACK_MAX - PAGE
MMAP_BOTTOM = 0x0100_0000

# Sv32 PTE bits
PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_A, PTE_D = 1, 2, 4, 8, 16, 64, 128

READ, WRITE, EXEC = 0, 1, 2             # access kinds (state.ACCESS_*)
_NEEDS = {READ: PROT_READ, WRITE: PROT_WRITE, EXEC: PROT_EXEC}


class Vma:
    __slots__ = ("start", "end", "prot", "kind", "src")

    def __init__(self, start, end, prot, kind, src=None):
        self.start, self.end, self.prot, self.kind = start, end, prot, kind
        self.src = src                  # a FileImage: the pages come from a file

    def copy(self):
        return Vma(self.start, self.end, self.prot, self.kind, self.src)


class FileImage:
    """The PT_LOAD segments of one executable file of an image layer (immutable: a write to
    it copies it up into a new node), read straight from the file's data when a page is
    first touched.  ``loads``: (vaddr, memsz, file offset, file size)."""

    __slots__ = ("node", "loads")

    def __init__(self, node, loads):
        self.node, self.loads = node, loads

    def fill(self, ram, h, page):
        """Write the file's bytes of the page at ``page`` to host bytes ``h`` (the frame is
        zeroed: the rest of the page, .bss included, stays zero)."""
        data = self.node.data
        for vaddr, memsz, off, filesz in self.loads:
            lo, hi = max(page, vaddr), min(page + PAGE, vaddr + filesz)
            if lo < hi:
                a = off + lo - vaddr
                ram[h + (lo - page):h + (hi - page)] = memoryview(data)[a:a + hi - lo]


class AddressSpace:
    def __init__(self, frames: Frames, ram32, tlb):
        self.frames = frames
        self.ram32 = ram32              # the host RAM as uint32 (page-table writes)
        self.tlb = tlb                  # the container's hart TLB (flushed on downgrades)
        self.root = frames.alloc()
        self.tables = {}                # first-level index -> frame of its leaf table
        self.pages = {}                 # vpn -> [frame, cow]
        self.vmas = []                  # sorted, non-overlapping
        self.brk_start = self.brk = 0
        self.active = False             # satp of the running process points here

    @property
    def satp(self):
        return (1 << 31) | Frames.ppn(self.root)

    # ---------------------------------------------------------------- page tables
    def _set_pte(self, vpn, pte):
        l1 = vpn >> 10
        t = self.tables.get(l1)
        if t is None:
            if pte == 0:
                return
            t = self.tables[l1] = self.frames.alloc()
            self.ram32[(self.frames.host(self.root) >> 2) + l1] = (Frames.ppn(t) << 10) | PTE_V
        self.ram32[(self.frames.host(t) >> 2) + (vpn & 0x3FF)] = pte

    def _pte(self, frame, prot, cow):
        pte = (Frames.ppn(frame) << 10) | PTE_V | PTE_U | PTE_A | PTE_D
        if prot & (PROT_READ | PROT_WRITE):
            pte |= PTE_R                # a writable page is readable on RISC-V (W without R
        if prot & PROT_WRITE and not cow:   # is a reserved encoding)
            pte |= PTE_W
        if prot & PROT_EXEC:
            pte |= PTE_X
        return pte if prot else 0       # PROT_NONE: no valid entry, every access faults

    def map(self, vpn, frame, prot, cow=False):
        self.pages[vpn] = [frame, cow]
        self._set_pte(vpn, self._pte(frame, prot, cow))

    def unmap(self, vpn):
        p = self.pages.pop(vpn, None)
        if p is not None:
            self._set_pte(vpn, 0)
            self.frames.put(p[0])

    def flush(self):
        if self.active:
            tlb_flush(self.tlb)

    # ---------------------------------------------------------------- areas
    def find(self, va):
        for v in self.vmas:
            if v.start <= va < v.end:
                return v
        return None

    def add_vma(self, start, end, prot, kind, src=None):
        self.vmas.append(Vma(start, end, prot, kind, src))
        self.vmas.sort(key=lambda v: v.start)

    def _split(self, at):
        for i, v in enumerate(self.vmas):
            if v.start < at < v.end:
                w = v.copy()
                v.end, w.start = at, at
                self.vmas.insert(i + 1, w)
                return

    def _inside(self, start, end):
        self._split(start)
        self._split(end)
        return [v for v in self.vmas if start <= v.start and v.end <= end]

    def free_range(self, length, hint=0):
        """The highest gap of ``length`` bytes below MMAP_TOP (Linux's top-down layout)."""
        if hint and hint % PAGE == 0 and self._is_free(hint, hint + length):
            return hint
        top = MMAP_TOP
        for v in sorted(self.vmas, key=lambda v: -v.start):
            if v.end <= top:
                if top - v.end >= length:
                    return top - length
                top = min(top, v.start)
            elif v.start < top:
                top = v.start
        if top - length >= MMAP_BOTTOM:
            return top - length
        raise SysError(ENOMEM, "no room left in the address space")

    def _is_free(self, start, end):
        return end <= USER_TOP and all(v.end <= start or v.start >= end for v in self.vmas)

    def remove_range(self, start, end):
        """munmap(2): drop the areas and pages in [start, end)."""
        gone = self._inside(start, end)
        for v in gone:
            self.vmas.remove(v)
        for vpn in [vpn for vpn in self.pages if start >> 12 <= vpn < end >> 12]:
            self.unmap(vpn)
        self.flush()

    def protect(self, start, end, prot):
        """mprotect(2): every page of [start, end) must be mapped (else ENOMEM)."""
        covered = self._inside(start, end)
        if sum(v.end - v.start for v in covered) != end - start:
            raise SysError(ENOMEM)
        if any(v.kind == "trampoline" for v in covered):
            from .errno import EACCES
            raise SysError(EACCES)      # the kernel's page (shared): never writable
        for v in covered:
            v.prot = prot
        for vpn, (frame, cow) in list(self.pages.items()):
            if start >> 12 <= vpn < end >> 12:
                self._set_pte(vpn, self._pte(frame, prot, cow))
        self.flush()

    # ---------------------------------------------------------------- faults
    def fault(self, va, access):
        """A page fault at ``va``: map a zeroed page or break copy-on-write.  False when the
        access is not allowed (the caller sends SIGSEGV or returns EFAULT)."""
        v = self.find(va)
        if v is None or not v.prot & _NEEDS[access]:
            return False
        vpn = va >> 12
        p = self.pages.get(vpn)
        if p is None:
            if v.src is not None:
                self._file_page(v, vpn)
            else:
                self.map(vpn, self.frames.alloc(), v.prot)
            return True
        if access == WRITE and p[1]:
            self._break_cow(vpn, p, v.prot)
            return True
        self._set_pte(vpn, self._pte(p[0], v.prot, p[1]))      # stale entry: rewrite it
        self.flush()
        return True

    def _file_page(self, v, vpn):
        """First touch of a page of an executable: the shared page-cache frame if the page
        is read-only (mapped copy-on-write, so an mprotect + write still copies), else a
        private frame filled from the file."""
        frames, ram = self.frames, self.ram32.view("u1")

        def fill(f):
            v.src.fill(ram, frames.host(f), vpn << 12)
            written(self.tlb, frames.host(f), PAGE)     # (decoded copies are stale)
        if v.prot & PROT_WRITE:
            f = frames.alloc()
            fill(f)
            self.map(vpn, f, v.prot)
            return
        f = frames.cached((v.src.node.ino, vpn), fill)
        frames.get(f)
        self.map(vpn, f, v.prot, cow=True)

    def _break_cow(self, vpn, p, prot):
        frames = self.frames
        old = p[0]
        if frames.ref[old] == 1:
            self.map(vpn, old, prot)    # the last sharer: write in place
        else:
            new = frames.alloc()
            a, b = frames.host(old) >> 2, frames.host(new) >> 2
            self.ram32[b:b + PAGE // 4] = self.ram32[a:a + PAGE // 4]
            frames.put(old)
            self.map(vpn, new, prot)
        self.flush()                    # the read-only entry may be in the TLB

    # ---------------------------------------------------------------- fork and exit
    def fork(self):
        """A copy-on-write clone (clone(2) without CLONE_VM)."""
        child = AddressSpace(self.frames, self.ram32, self.tlb)
        child.vmas = [v.copy() for v in self.vmas]
        child.brk_start, child.brk = self.brk_start, self.brk
        for vpn, p in self.pages.items():
            v = self.find(vpn << 12)
            prot = v.prot if v else 0
            shared = v is not None and v.kind == "shared"
            if prot & PROT_WRITE and not shared and not p[1]:
                p[1] = True
                self._set_pte(vpn, self._pte(p[0], prot, True))
            self.frames.get(p[0])
            child.map(vpn, p[0], prot, p[1])
        self.flush()
        return child

    def destroy(self):
        for vpn in list(self.pages):
            self.unmap(vpn)
        for t in self.tables.values():
            self.frames.put(t)
        self.tables.clear()
        self.frames.put(self.root)
        self.vmas = []

    # ---------------------------------------------------------------- user memory
    def _host(self, va, access):
        """Host byte index of user address ``va`` for ``access``, faulting the page in."""
        if not 0 <= va < USER_TOP:
            raise SysError(EFAULT)
        p = self.pages.get(va >> 12)
        v = None
        if p is None or access == WRITE and p[1]:
            if not self.fault(va, access):
                raise SysError(EFAULT)
            p = self.pages[va >> 12]
        else:
            v = self.find(va)
            if v is None or not v.prot & _NEEDS[access]:
                raise SysError(EFAULT)
        return self.frames.host(p[0]) + (va & 0xFFF)

    def read(self, va, n):
        if n < 0 or va + n > USER_TOP:
            raise SysError(EFAULT)
        out = bytearray()
        ram = self.ram32.view("u1")
        while n > 0:
            chunk = min(n, PAGE - (va & 0xFFF))
            h = self._host(va, READ)
            out += ram[h:h + chunk].tobytes()
            va, n = va + chunk, n - chunk
        return bytes(out)

    def write(self, va, data):
        n = len(data)
        if va + n > USER_TOP:
            raise SysError(EFAULT)
        ram = self.ram32.view("u1")
        pos = 0
        while pos < n:
            chunk = min(n - pos, PAGE - ((va + pos) & 0xFFF))
            h = self._host(va + pos, WRITE)
            ram[h:h + chunk] = memoryview(data)[pos:pos + chunk]
            written(self.tlb, h, chunk)     # the hart's decoded copy of that code, if any
            pos += chunk

    def read_str(self, va, limit=4096):
        """A NUL-terminated string (ENAMETOOLONG past ``limit`` bytes, as PATH_MAX)."""
        out = bytearray()
        ram = self.ram32.view("u1")
        while True:
            h = self._host(va, READ)
            chunk = ram[h:h + PAGE - (va & 0xFFF)].tobytes()
            i = chunk.find(b"\0")
            if i >= 0:
                out += chunk[:i]
                break
            out += chunk
            va += len(chunk)
            if len(out) > limit:
                from .errno import ENAMETOOLONG
                raise SysError(ENAMETOOLONG)
        if len(out) > limit:
            from .errno import ENAMETOOLONG
            raise SysError(ENAMETOOLONG)
        return bytes(out)

    def read_u32(self, va):
        return int.from_bytes(self.read(va, 4), "little")

    def write_u32(self, va, value):
        self.write(va, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def check_range(self, va, n):
        if va < 0 or n < 0 or va + n > USER_TOP:
            raise SysError(EINVAL)
