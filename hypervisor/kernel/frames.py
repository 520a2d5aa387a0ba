"""Page frames: a container's guest-physical memory, handed out one 4 KiB frame at a time.

A container is an engine instance whose guest-physical window (RAM_BASE .. RAM_BASE + its
memory limit) is the *physical memory of its processes*: every page a process maps, and every
page table of its address space, is a frame of that window.  A frame is backed by a host page
from the engine's one ``HostMemory`` (the same allocator as VMs) from the moment it is
allocated until its last user lets go of it, so the host pages a container holds are exactly
the frames its processes use now: the memory limit is a real limit, as a memory cgroup's is.

Frames are reference counted: a fork shares every page between parent and child
(copy-on-write, mm.py), so one frame may be mapped by several address spaces.
"""
import numpy as np

from ..devices.layout import RAM_BASE
from ..memory import PAGE_SIZE


class FrameLimit(Exception):
    """The container's memory limit is used up (every frame of its window is in use)."""


class Frames:
    def __init__(self, inst):
        self.inst = inst
        self.count = inst.mem // PAGE_SIZE
        self.ref = np.zeros(self.count, dtype=np.int32)
        # a stack of free frame numbers, lowest on top (an array: a list of Python ints
        # would cost 36 bytes a frame, 72 KiB for a 8 MiB container)
        self._free = np.arange(self.count - 1, -1, -1, dtype=np.int32)
        self._nfree = self.count

    @property
    def used(self):
        return self.count - self._nfree

    def alloc(self):
        """A zeroed frame with one reference.  FrameLimit past the container's limit,
        memory.OutOfMemory when the host has no page left."""
        if not self._nfree:
            raise FrameLimit()
        f = int(self._free[self._nfree - 1])
        self.inst.map_page(f)           # host pages come zeroed (memory.py); may raise
        self._nfree -= 1
        self.ref[f] = 1
        return f

    def get(self, f):
        self.ref[f] += 1

    def put(self, f):
        """Drop one reference; the last one gives the host page back (zeroed)."""
        self.ref[f] -= 1
        if self.ref[f] == 0:
            inst = self.inst
            hp = int(inst.gmap[f])
            if hp >= 0:
                inst.gmap[f] = -1
                inst.pages -= 1
                inst.engine.memory.free([hp])
            self._free[self._nfree] = f
            self._nfree += 1

    def host(self, f):
        """Host byte index of frame ``f``'s first byte."""
        return int(self.inst.gmap[f]) * PAGE_SIZE

    @staticmethod
    def ppn(f):
        """Guest-physical page number of frame ``f`` (what a page-table entry holds)."""
        return (RAM_BASE >> 12) + f
