"""The monitor's engine: isolation between VMs, demand paging and out-of-memory, fairness."""
import hashlib
import time

import numpy as np

from hypervisor.engine import Engine
from hypervisor.memory import PAGE_SIZE
from hypervisor.vm import CRASHED, HALTED, RUNNING
from guestbuild import SHUTDOWN, build

MEM = 8 << 20   # 8 MiB guests: RAM is 0x80000000..0x80800000, images at 0x80400000

VICTIM = """
    li t0, 0x80500000       # fill 16 pages with a pattern
    li t1, 0x80510000
    li t2, 0x5a5a0000
1:  sw t2, 0(t0)
    addi t2, t2, 1
    addi t0, t0, 4
    bltu t0, t1, 1b
    li a7, 1                # then say "ready" and spin
    li a0, 'R'
    ecall
2:  j 2b
"""

# Every attack prints 'A' + scause from the trap handler: a load access fault is 'F' (5), a
# store/AMO access fault 'H' (7), an instruction access fault 'B' (1).  No letter: not contained.


def _attacker_source():
    """Kept separate so the expected letters are derived beside the attempts."""
    targets = [0x0, 0x7FFFF000, 0x7FFFFFFC, 0x80800000, 0x80FFFFFC, 0xFFFFFFFC, 0x02000000,
               0x20000000, 0x0C400000, 0x10000100, 0x00101000, 0x00200000, 0x40000000]
    expected = "FH" * len(targets) + "FH" + "B" + "B"
    # Sv32: a root table at 0x80080000; VA 0x80400000 megapage -> PA 0x80400000 (the code),
    # VA 0x40000000 megapage -> PA 0x80800000 (just past the end of RAM),
    # VA 0x40400000 megapage -> PA 0x3_0000_0000 (above 4 GiB).  PTE = PPN << 10 | 0xCF.
    pte_code = (0x80400 << 10) | 0xCF
    pte_past = (0x80800 << 10) | 0xCF
    pte_high = (0x300000 << 10) | 0xCF
    src = f"""
    la t0, handler
    csrw stvec, t0
    la s0, targets
    la s1, targets_end
1:  lw a2, 0(s0)
    lw t1, 0(a2)
    sw t1, 0(a2)
    addi s0, s0, 4
    bltu s0, s1, 1b
    li a2, 0xfffffffe
    lw t1, 0(a2)
    sw t1, 0(a2)
    li a2, 0x10000000
    jalr ra, 0(a2)
    li a2, 0x80800000
    jalr ra, 0(a2)
    li t1, {pte_code:#x}
    li t0, {0x80080000 + 0x201 * 4:#x}
    sw t1, 0(t0)
    li t1, {pte_past:#x}
    li t0, {0x80080000 + 0x100 * 4:#x}
    sw t1, 0(t0)
    li t1, {pte_high:#x}
    li t0, {0x80080000 + 0x101 * 4:#x}
    sw t1, 0(t0)
    li t1, 0x80080080       # satp: MODE = Sv32 (bit 31), PPN = 0x80080
    csrw satp, t1
    sfence.vma
    li a2, 0x40000000
    lw t1, 0(a2)
    sw t1, 0(a2)
    li a2, 0x40400000
    lw t1, 0(a2)
    sw t1, 0(a2)
    li a1, 0
{SHUTDOWN}
handler:
    csrr t5, scause
    addi a0, t5, 'A'
    li a7, 1
    ecall
    csrr t6, sepc
    addi t6, t6, 4
    li t4, 1
    bne t5, t4, 2f
    mv t6, ra               # an instruction fault: resume after the jalr
2:  csrw sepc, t6
    sret
    .section .rodata
    .balign 4
targets:
""" + "".join(f"    .word {t:#x}\n" for t in targets) + "targets_end:\n"
    return src, expected + "FHFH"


def _hash_pages(engine, vm):
    pages = np.sort(vm.gmap[vm.gmap >= 0])
    h = hashlib.sha256()
    for p in pages:
        h.update(engine.memory.page(int(p)).tobytes())
    return h.hexdigest()


def _wait_console(vm, text, seconds=20):
    end = time.time() + seconds
    while text not in vm.console.text():
        assert time.time() < end, f"{vm.name} never printed {text!r}"
        time.sleep(0.01)


def test_attacks_are_contained_and_the_neighbour_is_untouched():
    engine = Engine(32 << 20)
    victim = engine.create(build(VICTIM), name="victim", mem=MEM)
    src, expected = _attacker_source()
    attacker = engine.create(build(src), name="attacker", mem=MEM)
    engine.start(victim)
    _wait_console(victim, "R")
    engine.pause(victim)
    before = _hash_pages(engine, victim)
    engine.resume(victim)
    engine.start(attacker)
    assert engine.wait(20, [attacker])
    engine.pause(victim)
    after = _hash_pages(engine, victim)
    engine.shutdown()
    assert attacker.console.text() == expected
    assert attacker.status == HALTED and attacker.exit_code == 0
    assert victim.status in (RUNNING, "paused") and before == after
    assert victim.peak_pages >= 16


def test_demand_paging_out_of_memory_stops_only_that_vm():
    engine = Engine(64 * PAGE_SIZE)     # 63 pages for guests
    neighbour = engine.create(build("li a7, 1\nli a0, 'k'\necall\nli a1, 0\n" + SHUTDOWN),
                              name="neighbour", mem=MEM)
    hog = engine.create(build("""
    li t0, 0x80000000
    li t1, 0x80800000
1:  sw t0, 0(t0)            # touch every page of its 8 MiB (2048 pages)
    li t2, 4096
    add t0, t0, t2
    bltu t0, t1, 1b
    li a1, 0
""" + SHUTDOWN), name="hog", mem=MEM)
    assert hog.pages < 10                       # allocated on first touch, not up front
    for vm in (hog, neighbour):
        engine.start(vm)
    assert engine.wait(20)
    engine.shutdown()
    assert hog.status == CRASHED and "out of memory" in hog.reason
    assert neighbour.status == HALTED and neighbour.exit_code == 0
    assert neighbour.console.text() == "k"
    assert engine.memory.free_pages == engine.memory.npages - 1
    assert (engine.memory.owner[1:] == -1).all()
    assert not engine.memory.ram.any()          # zeroed when they came back


def test_prealloc_gives_every_page_at_boot():
    engine = Engine(16 << 20)
    vm = engine.create(build("1: j 1b\n"), mem=MEM, prealloc=True)
    assert vm.pages == MEM // PAGE_SIZE
    assert len(engine.memory.pages_of(vm.id)) == MEM // PAGE_SIZE


SPIN = "1: j 1b\n"
STORM = """
1:  li a7, 0x10             # SBI base: probe_extension, an exit to Python each time
    li a6, 3
    li a0, 0x10
    ecall
    j 1b
"""
COMPUTE = """
    li t0, 0
1:  addi t0, t0, 1
    xor t1, t1, t0
    j 1b
"""


def _share_run(sources, weights, seconds=1.5):
    engine = Engine(16 << 20, threads=1)
    vms = [engine.create(build(s), mem=MEM, weight=w) for s, w in zip(sources, weights)]
    for vm in vms:
        engine.start(vm)
    time.sleep(seconds)
    engine.shutdown()
    total = sum(vm.host_ns for vm in vms)
    return [vm.host_ns / total for vm in vms], vms


def test_a_spinner_and_a_trap_storm_cannot_starve_a_compute_guest():
    shares, vms = _share_run([SPIN, STORM, COMPUTE], [1024, 1024, 1024])
    assert shares[2] >= 0.8 / 3, shares
    assert vms[1].stats()["exits"]["sbi"] > 1000       # it really stormed


def test_weights_set_the_shares():
    shares, _ = _share_run([COMPUTE, COMPUTE], [1024, 3072])
    assert 2.4 <= shares[1] / shares[0] <= 3.6, shares


def test_a_cap_limits_a_vm_to_its_fraction_of_a_core():
    engine = Engine(16 << 20, threads=1)
    vm = engine.create(build(COMPUTE), mem=MEM, cap=0.25)
    engine.start(vm)
    t0 = time.perf_counter()
    time.sleep(1.5)
    engine.shutdown()
    used = vm.host_ns / 1e9 / (time.perf_counter() - t0)
    assert 0.1 <= used <= 0.35, used
