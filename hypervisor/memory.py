"""Host memory: one numpy array, the host's "physical RAM", handed out to VMs page by page.

    host array (--host-mem bytes)
    +--------+--------+--------+--------+-- ... --+--------+
    | page 0 | page 1 | page 2 | page 3 |         | page N |
    +--------+--------+--------+--------+-- ... --+--------+
      monitor   vm 1     free     vm 2              vm 1       <- owner[] says whose

Page 0 belongs to the monitor and is never given to a guest, so a stray host index 0 is never
another VM's data.  Every other page is free or owned by exactly one VM (a VM owns the pages its
G-stage map points to).  Pages are zeroed before they are handed out and again when they come
back, so nothing of one VM's data can reach another.  Thread-safe: VMs fault pages in from
several scheduler threads.
"""
import re
import threading

import numpy as np

PAGE_SIZE = 4096
FREE = -1
MONITOR = -2


class OutOfMemory(Exception):
    """The host has no free page left."""


class HostMemory:
    def __init__(self, size):
        if size < 2 * PAGE_SIZE or size % PAGE_SIZE:
            raise ValueError(f"host memory must be a whole number of pages, at least 2 "
                             f"({2 * PAGE_SIZE} bytes)")
        self.ram = np.zeros(size, dtype=np.uint8)
        self.npages = size // PAGE_SIZE
        self.owner = np.full(self.npages, FREE, dtype=np.int32)
        self.owner[0] = MONITOR
        # a stack of free page numbers, lowest on top so the map fills from the start
        self._free = np.arange(self.npages - 1, 0, -1, dtype=np.int32)
        self._nfree = self.npages - 1
        self._lock = threading.Lock()

    @property
    def free_pages(self):
        return self._nfree

    def alloc(self, vm_id):
        """A zeroed page for ``vm_id``; raises OutOfMemory when none is left."""
        with self._lock:
            if self._nfree == 0:
                raise OutOfMemory()
            self._nfree -= 1
            page = int(self._free[self._nfree])
            self.owner[page] = vm_id
        self.ram[page * PAGE_SIZE:(page + 1) * PAGE_SIZE] = 0   # already zero; cheap insurance
        return page

    def free(self, pages):
        """Give pages back: zeroed, then on the free list."""
        pages = np.asarray(pages, dtype=np.int32)
        if pages.size == 0:
            return
        if np.any(pages <= 0) or np.any(pages >= self.npages) or np.any(self.owner[pages] < 0):
            raise ValueError("freeing a page that is not owned by a VM")
        view = self.ram.reshape(self.npages, PAGE_SIZE)
        view[pages] = 0
        with self._lock:
            self.owner[pages] = FREE
            self._free[self._nfree:self._nfree + pages.size] = pages[::-1]
            self._nfree += pages.size

    def pages_of(self, vm_id):
        """Host page numbers owned by ``vm_id`` (a fresh array)."""
        return np.flatnonzero(self.owner == vm_id)

    def page(self, number):
        """The bytes of one host page (a view)."""
        return self.ram[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]


_SIZE = re.compile(r"^(0x[0-9a-f]+|[0-9]+)\s*([kmg]?)(i?b)?$", re.IGNORECASE)


def parse_size(text):
    """'64M' -> 67108864.  Suffixes K, M, G (powers of 1024), optionally followed by B or iB."""
    m = _SIZE.match(str(text).strip())
    if not m or (m.group(3) and not m.group(2) and m.group(3).lower() == "ib"):
        raise ValueError(f"bad size {text!r} (examples: 64M, 256M, 1G, 65536)")
    value = int(m.group(1), 0) * 1024 ** " kmg".index(m.group(2).lower() or " ")
    if value <= 0:
        raise ValueError(f"bad size {text!r}: must be positive")
    return value


def resident_bytes(a):
    """Bytes of array ``a``'s buffer that the host backs now, in whole pages (mincore(2)):
    what an anonymous mapping such as a VM's predecode cache (icache.new_tlb) really costs,
    which tracemalloc cannot see.  ``a.nbytes`` where mincore is not available."""
    import ctypes
    import mmap
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    except (OSError, AttributeError):
        return a.nbytes
    start = a.ctypes.data & ~(mmap.PAGESIZE - 1)
    length = a.ctypes.data + a.nbytes - start
    vec = ctypes.create_string_buffer((length + mmap.PAGESIZE - 1) // mmap.PAGESIZE)
    if libc.mincore(start, length, vec) != 0:
        return a.nbytes
    return sum(b & 1 for b in vec.raw) * mmap.PAGESIZE
