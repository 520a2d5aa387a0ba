"""Two-stage address translation: the guest's Sv32 page tables, then the monitor's G-stage map.

    guest virtual --(stage 1: guest satp, Sv32)--> guest physical --(stage 2: gmap)--> host index

Stage 1 follows the privileged spec, section "Sv32: Page-Based 32-bit Virtual-Memory Systems"
(satp MODE, 2-level walk, 4 MiB megapages, R/W/X/U permission with SUM and MXR, A/D bits set by
the hart).  Stage 2 maps each 4 KiB guest-physical page of RAM to a host page through ``gmap``
(int32, -1 = not allocated yet), a per-VM array owned by the monitor.  Anything outside RAM is a
device or a hole: the monitor decides (emulate MMIO or inject an access fault).

A successful translation fills a direct-mapped software TLB of 256 entries, each 4 int64:
(read tag, write tag, exec tag, host addend), a tag being the virtual page number or -1.  A tag is
set only for the accesses the entry permits *now* (privilege, SUM, MXR, D bit), so a hit needs no
permission check: host index = va + addend.  The TLB is flushed by sfence.vma, satp writes,
privilege changes, SUM/MXR changes and G-stage changes; `sfence.vma rs1` (an address) drops
only that page's entry (tlb_flush_va), or every entry of its 4 MiB region when a megapage may
be cached (MEGA_TLB): a megapage's entries are kept per 4 KiB page.  A write tag of a page that
has decoded instructions carries TLB_HASCODE (icache.py), so that stores to it take the slow
path.
"""
import numpy as np
from .jit import callee, njit

from .icache import code_written, has_code
from .state import (ACCESS_EXEC, ACCESS_WRITE, EXIT_GPA, MEGA_TLB, PRIV, PRIV_U, RAM_BASE,
                    RAM_SIZE, SATP, SSTATUS, TLB_ENTRIES, TLB_HASCODE, TLB_SIZE)

# translate() results
T_OK = 0            # TLB filled for the page
T_PAGE_FAULT = 1    # stage-1 fault: raise the page fault for this access (12/13/15)
T_ACCESS_FAULT = 2  # page-table walk touched a non-RAM address: access fault (1/5/7)
T_GSTAGE = 3        # guest-physical RAM page not mapped yet: exit (EXIT_GPA)
T_DEVICE = 4        # guest-physical address outside RAM: exit to the monitor (EXIT_GPA)

# Sv32 PTE bits (privileged spec, Figure "Sv32 page table entry")
PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = 1, 2, 4, 8, 16, 32, 64, 128
SSTATUS_SUM = 1 << 18
SSTATUS_MXR = 1 << 19

PAGE = 4096
NO_PAGE = -(1 << 40)   # a page base no pc can be in


@callee
def tlb_slot(vpn):
    """Index of the first of the 4 int64 of ``vpn``'s TLB entry (state.py: a hashed index)."""
    return ((vpn ^ (vpn >> 8)) & (TLB_ENTRIES - 1)) << 2


@njit(cache=True, nogil=True, no_rewrites=True)
def tlb_flush(tlb):
    for i in range(TLB_SIZE):
        tlb[i] = -1


@callee
def tlb_flush_va(st, tlb, va):
    """sfence.vma with rs1 = va (privileged spec, "Supervisor Memory-Management Fence
    Instruction"): invalidate the cached translations of the leaf PTE that maps ``va``.  For a
    4 KiB leaf that is ``va``'s one entry; a 4 MiB leaf may be cached as up to 1024 entries, so
    while one may be (MEGA_TLB) every entry of ``va``'s 4 MiB region goes.  With ASIDLEN = 0
    rs2 names no address space: the same entries go whatever it holds."""
    vpn = va >> 12
    if st[MEGA_TLB] == 0:
        e = tlb_slot(vpn)
        if tlb[e] == vpn or (tlb[e + 1] & ~TLB_HASCODE) == vpn or tlb[e + 2] == vpn:
            tlb[e] = -1
            tlb[e + 1] = -1
            tlb[e + 2] = -1
        return
    region = vpn >> 10
    for e in range(0, TLB_ENTRIES * 4, 4):
        for k in range(3):
            tag = tlb[e + k]
            if tag >= 0 and ((tag & ~TLB_HASCODE) >> 10) == region:
                tlb[e] = -1
                tlb[e + 1] = -1
                tlb[e + 2] = -1
                break


@callee
def gpa_to_host(st, gmap, gpa):
    """Stage 2: host byte index of guest-physical ``gpa``; -1 outside RAM, -2 not mapped yet.

    The bound is tested explicitly (numba does not): this test is the wall between VMs."""
    off = gpa - st[RAM_BASE]
    if off < 0 or off >= st[RAM_SIZE]:
        return -1
    hp = gmap[off >> 12]
    if hp < 0:
        return -2
    return np.int64(hp) * PAGE + (off & 0xFFF)


@callee
def _read_pte(ram, h):
    return (np.int64(ram[h]) | (np.int64(ram[h + 1]) << 8) | (np.int64(ram[h + 2]) << 16)
            | (np.int64(ram[h + 3]) << 24))


@callee
def _walk(st, tlb, gmap, ram, va, access):
    """Sv32 walk.  Returns (status, guest-physical address, pte permission bits)."""
    satp = st[SATP]
    a = (satp & 0x3FFFFF) * PAGE
    level = 1
    while True:
        vpn = (va >> 22) & 0x3FF if level == 1 else (va >> 12) & 0x3FF
        pte_gpa = a + vpn * 4
        h = gpa_to_host(st, gmap, pte_gpa)
        if h == -1:
            return T_ACCESS_FAULT, 0, 0
        if h == -2:
            st[EXIT_GPA] = pte_gpa
            return T_GSTAGE, 0, 0
        pte = _read_pte(ram, h)
        if (pte & PTE_V) == 0 or ((pte & PTE_R) == 0 and (pte & PTE_W) != 0):
            return T_PAGE_FAULT, 0, 0
        if (pte & (PTE_R | PTE_X)) != 0:
            break                       # a leaf
        if level == 0:
            return T_PAGE_FAULT, 0, 0   # a pointer at the last level
        level = 0
        a = (pte >> 10) * PAGE
    ppn = pte >> 10
    if level == 1 and (ppn & 0x3FF) != 0:
        return T_PAGE_FAULT, 0, 0       # misaligned megapage
    # permission for each kind of access (U bit, SUM, MXR): the TLB tags below need all three
    sstatus = st[SSTATUS]
    user = (pte & PTE_U) != 0
    if st[PRIV] == PRIV_U:
        data_ok = user
        exec_ok = user
    else:
        data_ok = (not user) or (sstatus & SSTATUS_SUM) != 0
        exec_ok = not user              # S-mode never executes a U page
    can_r = data_ok and ((pte & PTE_R) != 0 or ((sstatus & SSTATUS_MXR) != 0 and (pte & PTE_X) != 0))
    can_w = data_ok and (pte & PTE_W) != 0
    can_x = exec_ok and (pte & PTE_X) != 0
    if access == ACCESS_EXEC:
        ok = can_x
    elif access == ACCESS_WRITE:
        ok = can_w
    else:
        ok = can_r
    if not ok:
        return T_PAGE_FAULT, 0, 0
    # A and D are set by the hart (the spec's "hardware update" option), in guest memory
    want = PTE_A | (PTE_D if access == ACCESS_WRITE else 0)
    if (pte & want) != want:
        pte |= want
        ram[h] = pte & 0xFF
        code_written(tlb, h, np.int64(1))  # page tables may share a page with code
    if level == 1:
        st[MEGA_TLB] = 1                # sfence.vma by address must drop the whole region
        gpa = ((ppn >> 10) << 22) | (va & 0x3FFFFF)
    else:
        gpa = (ppn << 12) | (va & 0xFFF)
    perms = 0
    if can_r:
        perms |= PTE_R
    if can_w and (pte & PTE_D) != 0:    # a clean page: the first write walks again to set D
        perms |= PTE_W
    if can_x:
        perms |= PTE_X
    return T_OK, gpa, perms


@callee
def translate(st, tlb, gmap, ram, va, access):
    """Translate ``va`` for ``access`` and fill the TLB entry of its page.  Returns a T_* code."""
    if (st[SATP] >> 31) != 0:
        status, gpa, perms = _walk(st, tlb, gmap, ram, va, access)
        if status != T_OK:
            return status
    else:
        gpa = va
        perms = PTE_R | PTE_W | PTE_X
    h = gpa_to_host(st, gmap, gpa)
    if h < 0:
        st[EXIT_GPA] = gpa
        return T_GSTAGE if h == -2 else T_DEVICE
    vpn = va >> 12
    e = tlb_slot(vpn)
    tlb[e] = vpn if (perms & PTE_R) != 0 else -1
    if (perms & PTE_W) != 0:
        tlb[e + 1] = vpn | TLB_HASCODE if has_code(tlb, h >> 12) else vpn
    else:
        tlb[e + 1] = -1
    tlb[e + 2] = vpn if (perms & PTE_X) != 0 else -1
    tlb[e + 3] = (h - (gpa & 0xFFF)) - (vpn << 12)
    return T_OK


@callee
def host_index(st, tlb, gmap, ram, va, access):
    """(status, host index) of one byte at ``va``: a TLB hit, or translate() then the TLB.
    A caller that writes the byte must call icache.code_written."""
    vpn = va >> 12
    e = tlb_slot(vpn)
    tag = tlb[e + access]
    if tag != vpn and tag != vpn | TLB_HASCODE:     # (only write tags carry TLB_HASCODE)
        status = translate(st, tlb, gmap, ram, va, access)
        if status != T_OK:
            return status, 0
    return T_OK, va + tlb[e + 3]
