"""The predecode cache: decoded instruction records of the pages a VM executes, kept coherent
with every write.

Records (decode.py) are kept per *host* page, so two virtual mappings of one page share them,
and a change of the guest's page tables (satp, sfence.vma) invalidates nothing.  A VM has S
slots (state.icache_slots: 4..512), direct-mapped by host page number, each with one record
per 2-byte parcel of its page; a record is decoded the first time the hart executes it.  The
slots live in the VM's TLB array after the TLB entries (layout: state.py).

Coherence, without a test on the hart's fast path:
  * a page that has a slot gets TLB write tags with TLB_HASCODE set, so the inner loop's store
    test misses and the outer loop stores, then zeroes the records its bytes overlapped
    (``code_written``): self-modifying code runs the new bytes with or without fence.i;
  * every other writer of guest RAM calls ``code_written`` too: the slow store path (misaligned,
    AMO, SC), the page-table walker's A/D updates, and the monitor (``write_guest``: loading an
    image, SBI console reads);
  * fence.i drops every slot; a page that joins or leaves the VM's G-stage map (demand paging,
    release, reboot, a page that changes owner) drops its slot (``forget_page``, ``flush``).
"""
import mmap

import numpy as np
from .jit import callee, njit

from .decode import C_PAGE_END
from .state import (ICACHE_REC, ICACHE_SLOTS, ICACHE_TAG, RECS_PER_PAGE, SLOT_STRIDE,
                    TLB_ENTRIES, TLB_HASCODE, icache_slots, tlb_size)



def new_tlb(ram_pages):
    """A VM's TLB (all entries invalid) with an empty predecode cache sized for its RAM."""
    slots = icache_slots(ram_pages)
    # Zeroed pages of an anonymous mapping of its own (records 0: nothing decoded), which the
    # host backs only when written; np.zeros would too, but only while malloc hands out fresh
    # mmap()ed memory: once an earlier TLB is freed, glibc raises its mmap threshold and the
    # next one comes from reused, resident heap.  numpy unmaps it with the array.
    buf = mmap.mmap(-1, tlb_size(slots) * 8, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    tlb = np.frombuffer(buf, dtype=np.int64)
    tlb[:ICACHE_TAG + slots] = -1                       # TLB entries and slot tags invalid
    tlb[ICACHE_SLOTS] = slots
    # The scratch slot's sentinel (a record with only a class) now; a page slot's when
    # slot_for first takes it.  So the host backs only the pages of the slots a VM uses
    # (16 KiB each): a sentinel written in every slot here made the
    # cache resident in full (2 MiB for 128 slots, 8 MiB for 512), and a small VM or a container cost
    # ~0.5 MiB of host RSS before it ran an instruction.
    tlb[ICACHE_REC + slots * SLOT_STRIDE + RECS_PER_PAGE] = C_PAGE_END
    return tlb


@njit(cache=True, nogil=True, no_rewrites=True)
def has_code(tlb, hp):
    """Whether host page ``hp`` has a slot (decoded records) in this VM's cache."""
    return tlb[ICACHE_TAG + (hp & (tlb[ICACHE_SLOTS] - 1))] == hp


@callee
def code_written(tlb, h, n):
    """Bytes [h, h + n) of host memory (one page) were written: forget the records of the
    instructions that overlap them (a 32-bit one starts at most 2 bytes before)."""
    hp = h >> 12
    s = hp & (tlb[ICACHE_SLOTS] - 1)
    if tlb[ICACHE_TAG + s] != hp:
        return
    o = h & 0xFFF
    lo = (o - 2) >> 1 if o >= 2 else 0
    hi = min((o + n - 1) >> 1, RECS_PER_PAGE - 1)
    base = ICACHE_REC + s * SLOT_STRIDE
    for i in range(lo, hi + 1):
        tlb[base + i] = 0


@callee
def _retag(tlb, hp, old):
    """TLB write tags: pages ``hp`` (now decoded) get TLB_HASCODE, page ``old`` loses it."""
    for e in range(0, TLB_ENTRIES * 4, 4):
        w = tlb[e + 1]
        if w < 0:
            continue
        vpn = w & ~TLB_HASCODE
        page = ((vpn << 12) + tlb[e + 3]) >> 12
        if page == hp:
            tlb[e + 1] = vpn | TLB_HASCODE
        elif page == old:
            tlb[e + 1] = vpn


@callee
def slot_for(tlb, hp):
    """Index in ``tlb`` of record 0 of host page ``hp``'s slot, taking the slot (and emptying
    it) if another page held it."""
    s = hp & (tlb[ICACHE_SLOTS] - 1)
    base = ICACHE_REC + s * SLOT_STRIDE
    old = tlb[ICACHE_TAG + s]
    if old != hp:
        for i in range(RECS_PER_PAGE):
            tlb[base + i] = 0
        tlb[base + RECS_PER_PAGE] = C_PAGE_END          # the sentinel after its page
        tlb[ICACHE_TAG + s] = hp
        _retag(tlb, hp, old)
    return base


@callee
def scratch(tlb):
    """Index of the scratch record (a page-straddling instruction, decoded for one run)."""
    return ICACHE_REC + tlb[ICACHE_SLOTS] * SLOT_STRIDE


@njit(cache=True, nogil=True, no_rewrites=True)
def flush(tlb):
    """Drop every slot (fence.i, a G-stage change) and clear the TLB's TLB_HASCODE bits."""
    for s in range(tlb[ICACHE_SLOTS]):
        tlb[ICACHE_TAG + s] = -1
    for e in range(0, TLB_ENTRIES * 4, 4):
        if tlb[e + 1] >= 0:
            tlb[e + 1] &= ~TLB_HASCODE


@njit(cache=True, nogil=True, no_rewrites=True)
def forget_page(tlb, hp):
    """Host page ``hp`` joins or leaves the VM (or was written by the monitor): drop its
    records.  The slot keeps its tag, so the TLB's write tags stay consistent."""
    if has_code(tlb, hp):
        base = ICACHE_REC + (hp & (tlb[ICACHE_SLOTS] - 1)) * SLOT_STRIDE
        for i in range(RECS_PER_PAGE):
            tlb[base + i] = 0


def written(tlb, h, n):
    """The monitor wrote bytes [h, h + n) of host memory (any number of pages)."""
    end = h + n
    while h < end:
        forget_page(tlb, h >> 12)
        h = (h | 0xFFF) + 1
