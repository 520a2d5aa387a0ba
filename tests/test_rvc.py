"""The C extension on the hart: every RV32C instruction, every illegal 16-bit class, 2-byte
aligned control flow, and 32-bit instructions that straddle two pages.

Each parcel has its assembly beside it; the expected values are derived by hand from the
unprivileged spec (chapter "C" Standard Extension for Compressed Instructions": each
instruction's expansion), never from the hart's output.  test_parcels_match_the_assembler
re-assembles them with GNU as (-march=rv32imac) when it is installed.
"""
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hart import BASE, DATA, VM
from test_privileged import CODE_VA, HVA, Pages, A, R, V, X

from hypervisor.rvc import expand
from hypervisor.state import (EXIT_ACCESS, EXIT_ILEN, EXIT_INSN, EXIT_PC, EXIT_VADDR, PC,
                              RUN_BUDGET, RUN_GSTAGE, SCAUSE, SEPC, STVAL, STVEC, ACCESS_EXEC)

HANDLER = BASE + 0x800
ILLEGAL, BREAKPOINT, FETCH_PAGE = 2, 3, 12
SP = DATA + 0x100               # sp (x2) in these tests

# assembly, parcel, registers before, what must hold after one instruction
# (registers by number, "pc" relative to BASE, "m<addr>" a memory word)
ONE = [
    ("c.addi4spn x8, sp, 16", 0x0800, {2: SP}, {8: SP + 16}),
    ("c.addi4spn x15, sp, 1020", 0x1FFC, {2: SP}, {15: SP + 1020}),
    ("c.lw x9, 4(x10)", 0x4144, {10: DATA}, {9: 0xCAFEF00D}),
    ("c.lw x9, 124(x10)", 0x5D64, {10: DATA}, {9: 0x12345678}),
    ("c.sw x9, 8(x10)", 0xC504, {9: 0xA5A5A5A5, 10: DATA}, {f"m{DATA + 8}": 0xA5A5A5A5}),
    ("c.nop", 0x0001, {5: 7}, {5: 7, "pc": 2}),
    ("c.addi x5, -1", 0x12FD, {5: 0}, {5: 0xFFFFFFFF}),
    ("c.addi x5, 31", 0x02FD, {5: 1}, {5: 32}),
    ("c.jal .+8", 0x2021, {}, {1: BASE + 2, "pc": 8}),
    ("c.li x6, -32", 0x5301, {6: 5}, {6: 0xFFFFFFE0}),
    ("c.li x6, 31", 0x437D, {}, {6: 31}),
    ("c.addi16sp sp, -64", 0x7139, {2: SP}, {2: SP - 64}),
    ("c.addi16sp sp, 496", 0x617D, {2: SP}, {2: SP + 496}),
    ("c.lui x7, 1", 0x6385, {}, {7: 0x1000}),
    ("c.lui x7, 0xfffff", 0x73FD, {}, {7: 0xFFFFF000}),
    ("c.srli x8, 3", 0x800D, {8: 0x80000008}, {8: 0x10000001}),
    ("c.srai x8, 3", 0x840D, {8: 0x80000008}, {8: 0xF0000001}),
    ("c.andi x8, -16", 0x9841, {8: 0x1234567F}, {8: 0x12345670}),
    ("c.sub x8, x9", 0x8C05, {8: 1, 9: 2}, {8: 0xFFFFFFFF}),
    ("c.xor x8, x9", 0x8C25, {8: 0xFF00, 9: 0x0FF0}, {8: 0xF0F0}),
    ("c.or x8, x9", 0x8C45, {8: 0xFF00, 9: 0x0FF0}, {8: 0xFFF0}),
    ("c.and x8, x9", 0x8C65, {8: 0xFF00, 9: 0x0FF0}, {8: 0x0F00}),
    ("c.j .-4", 0xBFF5, {}, {"pc": -4}),
    ("c.j .+2046", 0xAFFD, {}, {"pc": 2046}),
    ("c.jal .-2048", 0x3001, {}, {1: BASE + 2, "pc": -2048}),
    ("c.beqz x8, .+6", 0xC019, {8: 0}, {"pc": 6}),
    ("c.beqz x8, .+6", 0xC019, {8: 1}, {"pc": 2}),
    ("c.bnez x8, .-256", 0xF001, {8: 1}, {"pc": -256}),
    ("c.bnez x8, .-256", 0xF001, {8: 0}, {"pc": 2}),
    ("c.slli x5, 4", 0x0292, {5: 0x10000001}, {5: 0x10}),
    ("c.slli x5, 31", 0x02FE, {5: 3}, {5: 0x80000000}),
    ("c.lwsp x5, 8(sp)", 0x42A2, {2: SP}, {5: 0x0BADC0DE}),
    ("c.lwsp x5, 252(sp)", 0x52FE, {2: SP}, {5: 0x600DF00D}),
    ("c.jr x5", 0x8282, {5: BASE + 0x40}, {"pc": 0x40}),
    ("c.jr x5", 0x8282, {5: BASE + 0x41}, {"pc": 0x40}),       # bit 0 cleared, as jalr
    ("c.mv x5, x6", 0x829A, {6: 0x1234}, {5: 0x1234}),
    ("c.jalr x5", 0x9282, {5: BASE + 0x40}, {1: BASE + 2, "pc": 0x40}),
    ("c.jalr x1", 0x9082, {1: BASE + 0x40}, {1: BASE + 2, "pc": 0x40}),   # rs1 read first
    ("c.add x5, x6", 0x929A, {5: 0xFFFFFFFF, 6: 2}, {5: 1}),
    ("c.swsp x5, 12(sp)", 0xC616, {2: SP, 5: 0x5EED}, {f"m{SP + 12}": 0x5EED}),
    ("c.swsp x5, 252(sp)", 0xDF96, {2: SP, 5: 0x5EED}, {f"m{SP + 252}": 0x5EED}),
    # HINTs: legal, no effect on x0 (rd = x0) or on anything else
    ("c.li x0, 1", 0x4005, {}, {0: 0, "pc": 2}),
    ("c.mv x0, x5", 0x8016, {5: 9}, {0: 0, 5: 9}),
    ("c.slli x5, 0", 0x0282, {5: 9}, {5: 9}),   # shamt 0: a HINT in RV32C
]


def memory(vm):
    vm.w32(DATA + 4, 0xCAFEF00D)
    vm.w32(DATA + 124, 0x12345678)
    vm.w32(SP + 8, 0x0BADC0DE)
    vm.w32(SP + 252, 0x600DF00D)


@pytest.mark.parametrize("asm, parcel, before, after", ONE, ids=[f"{r[0]}" for r in ONE])
def test_compressed_instruction(asm, parcel, before, after):
    vm = VM(**{f"x{r}": v for r, v in before.items()})
    vm[STVEC] = HANDLER
    memory(vm)
    vm.load16(BASE, [parcel, 0x0001])
    assert vm.run(1) == RUN_BUDGET and vm[SCAUSE] == 0
    assert vm[PC] == (BASE + after.get("pc", 2)) & 0xFFFFFFFF
    for key, want in after.items():
        if key == "pc":
            continue
        got = vm.r32(int(key[1:])) if isinstance(key, str) else vm.x(key)
        assert got == want, (asm, key)


def test_c_ebreak_is_a_breakpoint_at_its_own_address():
    vm = VM()
    vm[STVEC] = HANDLER
    vm.load16(BASE, [0x0001, 0x9002])           # c.nop; c.ebreak
    assert vm.run(2) == RUN_BUDGET
    assert (vm[SCAUSE], vm[SEPC], vm[STVAL], vm[PC]) == (BREAKPOINT, BASE + 2, BASE + 2, HANDLER)


def test_mixed_16_and_32_bit_code_and_a_loop():
    """x13 counts down from 3 in a loop of compressed and 32-bit instructions, a 32-bit one at
    a 2-byte aligned address: x6 = 3 + 2 + 1 = 6 after 1 + 3 * 3 instructions."""
    vm = VM(x13=3)
    vm[STVEC] = HANDLER
    vm.load16(BASE, [0x4301,                    # c.li x6, 0
                     0x0333, 0x00D3,            # add x6, x6, x13  (BASE + 2)
                     0x16FD,                    # c.addi x13, -1
                     0xFEED,                    # c.bnez x13, .-6
                     0x0001])                   # c.nop
    assert vm.run(1 + 3 * 3) == RUN_BUDGET
    assert (vm.x(6), vm.x(13), vm[PC], vm[SCAUSE]) == (6, 0, BASE + 10, 0)


# ---------------------------------------------------------------- illegal 16-bit parcels
ILLEGAL16 = [
    # what, parcel, assembly for GNU as (march) or None (a reserved code point)
    ("all-zero parcel", 0x0000, None),
    ("c.addi4spn with nzuimm = 0", 0x0004, None),
    ("quadrant 0, funct3 100 (reserved)", 0x8000, None),
    ("c.fld (no D)", 0x2000, ("c.fld f8, 0(x8)", "rv32imafdc")),
    ("c.flw (no F)", 0x6000, ("c.flw f8, 0(x8)", "rv32imafc")),
    ("c.fsd (no D)", 0xA000, ("c.fsd f8, 0(x8)", "rv32imafdc")),
    ("c.fsw (no F)", 0xE000, ("c.fsw f8, 0(x8)", "rv32imafc")),
    ("c.addi16sp with nzimm = 0", 0x6101, None),
    ("c.lui with nzimm = 0", 0x6281, None),
    ("c.srli with shamt[5] = 1 (RV32)", 0x9001, None),
    ("c.srai with shamt[5] = 1 (RV32)", 0x9401, None),
    ("c.slli with shamt[5] = 1 (RV32)", 0x1282, None),
    ("c.subw (RV64)", 0x9C01, ("c.subw x8, x8", "rv64imac")),
    ("c.addw (RV64)", 0x9C21, ("c.addw x8, x8", "rv64imac")),
    ("quadrant 1, 100 1 11 10 (reserved)", 0x9C41, None),
    ("quadrant 1, 100 1 11 11 (reserved)", 0x9C61, None),
    ("c.lwsp with rd = x0", 0x4002, None),
    ("c.jr with rs1 = x0", 0x8002, None),
    ("c.fldsp (no D)", 0x2002, ("c.fldsp f0, 0(sp)", "rv32imafdc")),
    ("c.flwsp (no F)", 0x6002, ("c.flwsp f0, 0(sp)", "rv32imafc")),
    ("c.fsdsp (no D)", 0xA002, ("c.fsdsp f0, 0(sp)", "rv32imafdc")),
    ("c.fswsp (no F)", 0xE002, ("c.fswsp f0, 0(sp)", "rv32imafc")),
]


@pytest.mark.parametrize("at", [0, 2], ids=["4-aligned", "2-aligned"])
@pytest.mark.parametrize("what, parcel, asm", ILLEGAL16, ids=[r[0] for r in ILLEGAL16])
def test_illegal_16_bit_parcel(what, parcel, asm, at):
    """Illegal instruction with the 16-bit parcel in stval (the spec's shortest faulting
    instruction), sepc at it, nothing else changed."""
    assert expand(parcel) == -1
    vm = VM(x8=DATA, x2=SP, x5=0x5A5A)
    vm[STVEC] = HANDLER
    vm.load16(BASE, [0x0001, parcel, 0xFFFF] if at else [parcel, 0xFFFF])
    assert vm.run(2 if at else 1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC], vm[PC]) == (ILLEGAL, parcel, BASE + at, HANDLER)
    assert (vm.x(8), vm.x(2), vm.x(5)) == (DATA, SP, 0x5A5A)


@pytest.mark.parametrize("parcel", [0x0001, 0x4515, 0x8082, 0x0000])
def test_compressed_parcels_are_illegal_with_c_off(parcel):
    """--isa rv32ima: every 16-bit parcel is illegal, stval = the parcel alone."""
    vm = VM(rvc=False)
    vm[STVEC] = HANDLER
    vm.load16(BASE, [parcel, 0x4515])
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (ILLEGAL, parcel, BASE)


def test_c_off_4_byte_alignment_still_applies_to_a_2_byte_return_address():
    """C off: a jalr to BASE + 2 is a misaligned-fetch exception (IALIGN = 32)."""
    vm = VM(x1=BASE + 2, rvc=False)
    vm[STVEC] = HANDLER
    vm.load(BASE, [0x00008067])                 # jalr x0, 0(x1)
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (0, BASE + 2, BASE)


# ---------------------------------------------------------------- page-straddling instructions
ADDI = 0x02A00293                               # addi x5, x0, 42


def straddler(second_flags=V | R | X | A, second_pa=BASE + 0x5000):
    """Paging on: CODE_VA -> BASE, CODE_VA + 4 KiB -> second_pa (not BASE + 4 KiB, so the two
    halves come from unrelated physical pages); a 32-bit addi at CODE_VA + 4094."""
    vm = VM(pc=CODE_VA + 4092)
    vm[STVEC] = HVA
    p = Pages(vm)
    p.map(CODE_VA, BASE, V | R | X | A)
    if second_flags:
        p.map(CODE_VA + 0x1000, second_pa, second_flags)
    p.map(HVA, BASE + 0x2000, V | R | X | A)
    vm.load(BASE + 0x2000, [0x00000013] * 8)
    vm.load16(BASE + 4092, [0x0001, ADDI & 0xFFFF])      # c.nop; the addi's first half
    vm.load16(second_pa, [ADDI >> 16, 0x0001])           # its second half; c.nop
    vm.load16(BASE + 0x1000, [0xFFFF, 0xFFFF])           # what the next *physical* page holds
    return vm, p


def test_32_bit_instruction_straddling_two_pages():
    vm, _ = straddler()
    assert vm.run(3) == RUN_BUDGET                       # c.nop, addi (straddling), c.nop
    assert (vm.x(5), vm[SCAUSE], vm[PC]) == (42, 0, CODE_VA + 0x1004)


def test_straddling_instruction_page_fault_on_the_second_half():
    """The second page is not mapped: instruction page fault, stval = the address of the
    second half (the part that faulted), sepc = the instruction's start (privileged spec,
    "stval": "the virtual address of the portion of the instruction that caused the fault")."""
    vm, _ = straddler(second_flags=0)
    assert vm.run(2) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (FETCH_PAGE, CODE_VA + 0x1000, CODE_VA + 4094)
    assert vm.x(5) == 0


def test_straddling_instruction_second_half_not_executable():
    vm, _ = straddler(second_flags=V | R | A)
    assert vm.run(2) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (FETCH_PAGE, CODE_VA + 0x1000, CODE_VA + 4094)


def test_straddling_instruction_second_half_on_an_unbacked_guest_page():
    """The second half's guest-physical page has no host page yet: a G-stage exit for the
    second half's address, pc at the instruction; once mapped, it runs."""
    vm, _ = straddler()
    page = (0x5000) >> 12
    vm.gmap[page] = -1
    assert vm.run(2) == RUN_GSTAGE
    assert (vm[EXIT_VADDR], vm[EXIT_ACCESS], vm[EXIT_PC], vm[PC]) == (
        CODE_VA + 0x1000, ACCESS_EXEC, CODE_VA + 4094, CODE_VA + 4094)
    vm.gmap[page] = page
    assert vm.run(1) == RUN_BUDGET and vm.x(5) == 42


def test_straddling_instruction_with_paging_off_reads_the_next_page():
    vm = VM(pc=BASE + 4094)
    vm[STVEC] = HANDLER
    vm.load16(BASE + 4094, [ADDI & 0xFFFF, ADDI >> 16, 0x0001])
    assert vm.run(2) == RUN_BUDGET and (vm.x(5), vm[PC]) == (42, BASE + 4100)


def test_compressed_instruction_at_the_end_of_a_page_does_not_straddle():
    vm, _ = straddler(second_flags=0)
    vm.load16(BASE + 4094, [0x4505])                 # c.li x10, 1 at CODE_VA + 4094
    assert vm.run(2) == RUN_BUDGET                   # c.nop, c.li: then pc leaves the page
    assert (vm.x(10), vm[SCAUSE], vm[PC]) == (1, 0, CODE_VA + 0x1000)
    assert vm.run(1) == RUN_BUDGET
    assert (vm[SCAUSE], vm[STVAL], vm[SEPC]) == (FETCH_PAGE, CODE_VA + 0x1000, CODE_VA + 0x1000)


def test_compressed_device_access_exits_with_its_length():
    """c.sw to a device: the monitor gets the expanded sw word and a length of 2."""
    vm = VM(x8=0x1000_0000, x9=0x41)
    vm.load16(BASE, [0xC004])                        # c.sw x9, 0(x8)
    assert vm.run(1) == RUN_GSTAGE
    assert (vm[EXIT_INSN], vm[EXIT_ILEN], vm[EXIT_PC]) == (0x00942023, 2, BASE)   # sw x9, 0(x8)


# ---------------------------------------------------------------- the parcels are what they say
def _gnu_parcels(lines, march):
    src = ".text\n.option norelax\n" + "".join(f"{line}\n" for line in lines)
    with tempfile.TemporaryDirectory() as d:
        Path(d, "a.s").write_text(src)
        subprocess.run(["riscv64-unknown-elf-as", f"-march={march}",
                        "-mabi=ilp32" if "32" in march else "-mabi=lp64",
                        "-o", f"{d}/a.o", f"{d}/a.s"], check=True, capture_output=True)
        subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", "-j", ".text",
                        f"{d}/a.o", f"{d}/a.bin"], check=True)
        b = Path(d, "a.bin").read_bytes()
    return [int.from_bytes(b[i:i + 2], "little") for i in range(0, len(b), 2)]


@pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-as"), reason="no RISC-V assembler")
def test_parcels_match_the_assembler():
    rows = [(asm, parcel) for asm, parcel, _, _ in ONE if not asm.startswith("c.li x0")
            and not asm.startswith("c.mv x0") and not asm.startswith("c.slli x5, 0")]
    # "." in the table is the instruction's own address: GNU as takes the same syntax
    got = [_gnu_parcels([asm], "rv32imac")[0] for asm, _ in rows]
    assert [f"{p:04x} {a}" for a, p in rows] == [f"{g:04x} {a}" for g, (a, _) in zip(got, rows)]
    for what, parcel, asm in ILLEGAL16:
        if asm is not None:
            assert _gnu_parcels([asm[0]], asm[1]) == [parcel], what


@pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-as"), reason="no RISC-V assembler")
def test_expansion_matches_the_assembler():
    """Each compressed instruction expands to the word GNU as gives its 32-bit form."""
    pairs = [("c.addi4spn x8, sp, 16", "addi x8, sp, 16"), ("c.lw x9, 4(x10)", "lw x9, 4(x10)"),
             ("c.sw x9, 8(x10)", "sw x9, 8(x10)"), ("c.addi x5, -1", "addi x5, x5, -1"),
             ("c.li x6, -32", "addi x6, x0, -32"), ("c.addi16sp sp, -64", "addi sp, sp, -64"),
             ("c.lui x7, 0xfffff", "lui x7, 0xfffff"), ("c.srli x8, 3", "srli x8, x8, 3"),
             ("c.srai x8, 3", "srai x8, x8, 3"), ("c.andi x8, -16", "andi x8, x8, -16"),
             ("c.sub x8, x9", "sub x8, x8, x9"), ("c.xor x8, x9", "xor x8, x8, x9"),
             ("c.or x8, x9", "or x8, x8, x9"), ("c.and x8, x9", "and x8, x8, x9"),
             ("c.slli x5, 4", "slli x5, x5, 4"), ("c.lwsp x5, 8(sp)", "lw x5, 8(sp)"),
             ("c.jr x5", "jalr x0, 0(x5)"), ("c.mv x5, x6", "add x5, x0, x6"),
             ("c.ebreak", "ebreak"), ("c.jalr x5", "jalr x1, 0(x5)"),
             ("c.add x5, x6", "add x5, x5, x6"), ("c.swsp x5, 12(sp)", "sw x5, 12(sp)"),
             ("c.j .+2046", "jal x0, .+2046"), ("c.jal .-2048", "jal x1, .-2048"),
             ("c.beqz x8, .+254", "beq x8, x0, .+254"), ("c.bnez x8, .-256", "bne x8, x0, .-256")]
    short = [_gnu_parcels([c], "rv32imac") for c, _ in pairs]
    full = _gnu_parcels([".option norvc"] + [w for _, w in pairs], "rv32imac")
    words = [full[2 * i] | full[2 * i + 1] << 16 for i in range(len(pairs))]
    for (c, w), p, word in zip(pairs, short, words):
        assert len(p) == 1, c
        assert expand(p[0]) == word, (c, w, hex(expand(p[0])), hex(word))


def test_every_16_bit_parcel_decodes_to_a_2_byte_record():
    """All 49,152 parcels with low bits != 11: a record of length 2 whose class is a compressed
    twin (or c.ebreak's SYSTEM, or illegal), and the 32-bit expansion's operation."""
    from hypervisor.decode import BASE_CLASS, C_ILLEGAL, C_SYSTEM, N_CLASSES, TWIN, decode
    twins = {t for t in TWIN if t >= 0}
    for p in range(1 << 16):
        if p & 3 == 3:
            continue
        rec = decode(p, True)
        cls = rec & 127
        assert (rec >> 29) & 7 == 2 and cls < N_CLASSES, hex(p)
        assert cls in twins or cls in (C_SYSTEM, C_ILLEGAL), hex(p)
        if expand(p) >= 0:
            assert BASE_CLASS[cls] == decode(expand(p), True) & 127, hex(p)
