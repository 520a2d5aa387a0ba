"""sfence.vma by address (mmu.tlb_flush_va): the privileged spec's "Supervisor Memory-Management
Fence Instruction": with rs1 = a virtual address, the fence invalidates the cached translations
of the leaf PTE that maps that address.  Linux issues 37,745 of them in a boot (set_pte,
fixmap), so hvlab drops one TLB entry instead of all 256; with a 4 MiB megapage cached the
whole 4 MiB region goes.  Expected values derived by hand from the spec."""
from hart import BASE, DATA
from test_privileged import A, DVA, LOAD_PAGE, LW, R, V, W, paged

from hypervisor.state import CNT_SFENCE, RUN_BUDGET, SCAUSE

SFENCE_X1 = W("sfence.vma x1, x0", 0x12008073)     # rs1 = x1 (an address), rs2 = x0
SFENCE_X2 = W("sfence.vma x2, x0", 0x12010073)
SFENCE_ALL = W("sfence.vma x0, x0", 0x12000073)
LW_X4_X2 = W("lw x4, 0(x2)", 0x00012203)
DVA2 = DVA + 0x1000


def _two_pages(words):
    vm, p = paged(words, x1=DVA, x2=DVA2)
    ptes = p.map(DVA, DATA, V | R | A), p.map(DVA2, DATA + 0x1000, V | R | A)
    for off, v in ((0, 111), (0x1000, 222), (0x2000, 333), (0x3000, 444)):
        vm.w32(DATA + off, v)
    return vm, ptes


def _remap(vm, pte, pa):
    vm.w32(pte, ((pa >> 12) << 10) | V | R | A)     # behind the TLB's back


def test_sfence_by_address_makes_that_page_visible():
    vm, (pte1, _) = _two_pages([LW, SFENCE_X1, LW])
    assert vm.run(1) == RUN_BUDGET and vm.x(3) == 111
    _remap(vm, pte1, DATA + 0x2000)
    assert vm.run(2) == RUN_BUDGET and vm.x(3) == 333
    assert vm[CNT_SFENCE] == 1


def test_sfence_by_address_keeps_the_other_pages():
    """Only x1's page is fenced: x2's old translation may stay cached (the spec allows it until
    a fence covers it), and hvlab keeps it, which is what saves the refills."""
    vm, (pte1, pte2) = _two_pages([LW, LW_X4_X2, SFENCE_X1, LW, LW_X4_X2, SFENCE_ALL, LW_X4_X2])
    assert vm.run(2) == RUN_BUDGET and (vm.x(3), vm.x(4)) == (111, 222)
    _remap(vm, pte1, DATA + 0x2000)
    _remap(vm, pte2, DATA + 0x3000)
    assert vm.run(3) == RUN_BUDGET
    assert (vm.x(3), vm.x(4)) == (333, 222)         # fenced: new; not fenced: still cached
    assert vm.run(2) == RUN_BUDGET and vm.x(4) == 444   # sfence.vma x0, x0 drops everything


def test_sfence_by_address_inside_a_megapage_drops_the_whole_megapage():
    """A 4 MiB leaf is cached per 4 KiB page; fencing any address of it must drop them all."""
    mega_va = 0x0080_0000                           # -> BASE, 4 MiB
    vm, p = paged([LW, SFENCE_X2, LW], x1=mega_va + (DATA - BASE), x2=mega_va + 0x3000)
    leaf = p.mega(mega_va, BASE, V | R | A)
    vm.w32(DATA, 0x600D)
    assert vm.run(1) == RUN_BUDGET and vm.x(3) == 0x600D and vm[SCAUSE] == 0
    vm.w32(leaf, 0)                                 # the megapage is gone
    assert vm.run(2) == RUN_BUDGET                  # the fence (another page of it), the load
    assert vm[SCAUSE] == LOAD_PAGE


def test_sfence_by_address_outside_a_cached_megapage_keeps_it():
    mega_va = 0x0080_0000
    vm, p = paged([LW, SFENCE_X2, LW], x1=mega_va + (DATA - BASE), x2=DVA)
    leaf = p.mega(mega_va, BASE, V | R | A)
    vm.w32(DATA, 0x600D)
    assert vm.run(1) == RUN_BUDGET and vm.x(3) == 0x600D
    vm.w32(leaf, 0)
    vm.w32(DATA, 0)
    assert vm.run(2) == RUN_BUDGET and vm[SCAUSE] == 0   # still the cached translation
    assert vm.x(3) == 0
