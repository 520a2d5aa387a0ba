"""The C extension and the predecode cache seen from the engine and the CLI: a GCC-style RVC
image boots (and is refused with --isa rv32ima), the device tree says which ISA, a compressed
device access is stepped past by its own length, and decoded pages never outlive the page's
owner (a page freed by one VM and reused by another runs the new owner's code).
"""
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from guestbuild import build

from hypervisor import icache
from hypervisor import state as S
from hypervisor.cli import main
from hypervisor.devicetree import build_dtb
from hypervisor.memory import resident_bytes
from hypervisor.engine import Engine, EngineError

needs_gnu = pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-as"),
                               reason="no RISC-V assembler (riscv64-unknown-elf-as)")

# prints "ok" through the UART with a compressed store (c.sw needs x8..x15), then shuts down
RVC_GUEST = """
    .globl _start
_start:
    lui s0, 0x10000         # s0 = x8: the UART
    li a5, 0x6f             # 'o' (too big for c.li: a 32-bit addi)
    c.sw a5, 0(s0)
    li a5, 0x6b             # 'k'
    c.sw a5, 0(s0)
    c.li a5, 10
    c.sw a5, 0(s0)
    c.li a0, 0
    c.li a1, 0
    c.li a6, 0
    li a7, 0x53525354
    ecall
"""


def gnu_rvc(text):
    with tempfile.TemporaryDirectory() as d:
        src, obj, elf = Path(d, "g.s"), Path(d, "g.o"), Path(d, "g.elf")
        src.write_text(text)
        subprocess.run(["riscv64-unknown-elf-as", "-march=rv32imac_zicsr_zifencei",
                        "-mabi=ilp32", str(src), "-o", str(obj)], check=True)
        subprocess.run(["riscv64-unknown-elf-ld", "-m", "elf32lriscv", "-Ttext=0x80400000",
                        str(obj), "-o", str(elf)], check=True)
        return elf.read_bytes()


@needs_gnu
def test_compressed_image_boots_and_prints_through_a_compressed_store(tmp_path, capsys):
    path = tmp_path / "rvc.elf"
    path.write_bytes(gnu_rvc(RVC_GUEST))
    assert main(["run", str(path)]) == 0
    assert capsys.readouterr().out == "ok\n"


@needs_gnu
def test_isa_rv32ima_refuses_compressed_code(tmp_path, capsys):
    path = tmp_path / "rvc.elf"
    path.write_bytes(gnu_rvc(RVC_GUEST))
    assert main(["run", "--isa", "rv32ima", str(path)]) == 1
    err = capsys.readouterr().err
    assert "illegal instruction" in err and "at pc 0x80400008" in err
    assert "stval 0x0000c01c" in err                # the c.sw a5, 0(s0) parcel alone


def test_device_tree_names_the_isa():
    assert b"rv32imac_zicsr_zifencei\0" in build_dtb(0x80000000, 1 << 20)
    dtb = build_dtb(0x80000000, 1 << 20, isa="rv32ima")
    assert b"rv32ima_zicsr_zifencei\0" in dtb and b"rv32imac" not in dtb


def test_engine_isa_switch():
    engine = Engine(16 << 20)
    elf = build("    li a0, 0\n")
    assert engine.create(elf, mem=8 << 20).st[S.MISA] == S.MISA_RV32IMAC
    assert engine.create(elf, mem=8 << 20, isa="rv32ima").st[S.MISA] == S.MISA_RV32IMA
    with pytest.raises(EngineError, match="unknown ISA"):
        engine.create(elf, mem=8 << 20, isa="rv64gc")


def _program(value):
    """a0 = value, then spin (the test steps it)."""
    return build(f"    li a0, {value}\n1:  j 1b\n")


def test_a_reused_page_runs_its_new_owners_code():
    """VM a runs (and decodes) its code page; a is removed and its host page goes to VM b,
    whose code is different: b runs b's code. Then a's slot for that host page, had it kept
    one, would be stale: a new VM c that gets the page back runs c's code too."""
    engine = Engine(16 << 20)
    code = (0x80400000 - 0x80000000) // 4096           # guest page of the code
    a = engine.create(_program(111), mem=8 << 20)
    assert engine.step(a, 10) == 10 and a.st[10] == 111
    page = int(a.gmap[code])
    assert icache.has_code(a.tlb, page)               # a decoded it
    engine.remove(a)
    b = engine.create(_program(222), mem=8 << 20)
    pages_b = set(int(p) for p in b.gmap if p >= 0)
    assert page in pages_b                            # the free list hands it out again
    assert engine.step(b, 10) == 10 and b.st[10] == 222
    engine.remove(b)
    c = engine.create(_program(333), mem=8 << 20)
    assert engine.step(c, 10) == 10 and c.st[10] == 333


def test_monitor_writes_into_a_decoded_page_are_seen():
    """write_guest (the loader, SBI console reads) into a page the hart has decoded: the next
    run executes the new bytes."""
    engine = Engine(16 << 20)
    vm = engine.create(_program(111), mem=8 << 20)
    assert engine.step(vm, 10) == 10 and vm.st[10] == 111
    entry = vm.image.entry
    li_444 = (444 << 20) | (10 << 7) | 0x13            # addi a0, x0, 444
    vm.write_guest(entry, li_444.to_bytes(4, "little"))
    vm.st[S.PC] = entry
    assert engine.step(vm, 1) == 1 and vm.st[10] == 444



def test_an_unused_predecode_cache_costs_no_host_memory():
    """A slot's records (16 KiB) are host memory only once the VM executes code in that slot:
    the TLB array comes zeroed from the OS, and new_tlb writes the TLB part and one sentinel
    (the scratch slot's), so a fresh cache of 512 slots (8 MiB) is resident in a few pages;
    taking a slot (slot_for, through a run) writes that slot's sentinel."""
    slots = S.icache_slots(1 << 20)
    assert slots == S.ICACHE_MAX_SLOTS
    tlb = icache.new_tlb(1 << 20)
    assert tlb.nbytes > 2 << 20
    tlb_part = (S.ICACHE_REC * 8 + 4095) // 4096
    assert resident_bytes(tlb) // 4096 <= tlb_part + 2
    # nothing decoded, and only the scratch slot's sentinel written
    assert list(tlb[S.ICACHE_REC:].nonzero()[0]) == [slots * S.SLOT_STRIDE + S.RECS_PER_PAGE]
