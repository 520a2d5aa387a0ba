"""Per-instruction tests of the hart: RV32I, M, A, Zifencei and illegal encodings.

Every encoded word has its assembly beside it (test_encodings_match_the_assembler re-assembles
them when riscv64-unknown-elf-as is installed).  Every expected value is derived by hand from
the unprivileged spec (RV32I ch. 2, "M" ch. 7, "A" ch. 8), never from the hart's output.
Registers: rd = x3, rs1 = x1, rs2 = x2 unless said otherwise.
"""
import os
import shutil
import subprocess
import tempfile

import pytest
from hart import BASE, DATA, VM

from hypervisor.state import (INSTRET, PC, RUN_BUDGET, RUN_SBI, SCAUSE, SEPC, STVAL, STVEC)

HANDLER = BASE + 0x800          # stvec in the trap tests (never fetched: budgets stop first)
ILLEGAL = 2                     # scause of an illegal-instruction exception

ASM = []                        # (word, assembly) of the one-off words below, re-assembled later


def W(asm, word):
    ASM.append((word, asm))
    return word


def step(words, budget=None, **regs):
    """Load ``words`` at BASE, run ``budget`` instructions (default: one per word)."""
    vm = VM(**regs)
    vm[STVEC] = HANDLER
    vm.load(BASE, words)
    assert vm.run(len(words) if budget is None else budget) == RUN_BUDGET
    return vm


# ---------------------------------------------------------------- register-register and immediate
ALU = [
    # assembly              word        x1          x2          x3 expected
    ("add x3, x1, x2",      0x002081B3, 0x7FFFFFFF, 1,          0x80000000),
    ("add x3, x1, x2",      0x002081B3, 0xFFFFFFFF, 1,          0),
    ("sub x3, x1, x2",      0x402081B3, 0,          1,          0xFFFFFFFF),
    ("sub x3, x1, x2",      0x402081B3, 0x80000000, 1,          0x7FFFFFFF),
    ("sll x3, x1, x2",      0x002091B3, 1,          31,         0x80000000),
    ("sll x3, x1, x2",      0x002091B3, 0xFFFFFFFF, 0x21,       0xFFFFFFFE),   # only x2[4:0]
    ("slt x3, x1, x2",      0x0020A1B3, 0xFFFFFFFF, 1,          1),            # -1 < 1
    ("slt x3, x1, x2",      0x0020A1B3, 1,          0xFFFFFFFF, 0),
    ("slt x3, x1, x2",      0x0020A1B3, 0x80000000, 0x7FFFFFFF, 1),
    ("sltu x3, x1, x2",     0x0020B1B3, 0xFFFFFFFF, 1,          0),
    ("sltu x3, x1, x2",     0x0020B1B3, 1,          0xFFFFFFFF, 1),
    ("sltu x3, x1, x2",     0x0020B1B3, 5,          5,          0),
    ("xor x3, x1, x2",      0x0020C1B3, 0xFF00FF00, 0x0FF00FF0, 0xF0F0F0F0),
    ("srl x3, x1, x2",      0x0020D1B3, 0x80000000, 31,         1),
    ("srl x3, x1, x2",      0x0020D1B3, 0x80000000, 0xFFFFFFE4, 0x08000000),   # shift by 4
    ("sra x3, x1, x2",      0x4020D1B3, 0x80000000, 31,         0xFFFFFFFF),
    ("sra x3, x1, x2",      0x4020D1B3, 0x80000000, 4,          0xF8000000),
    ("sra x3, x1, x2",      0x4020D1B3, 0x7FFFFFFF, 31,         0),
    ("or x3, x1, x2",       0x0020E1B3, 0xFF00FF00, 0x0FF00FF0, 0xFFF0FFF0),
    ("and x3, x1, x2",      0x0020F1B3, 0xFF00FF00, 0x0FF00FF0, 0x0F000F00),
    # M: products
    ("mul x3, x1, x2",      0x022081B3, 0xFFFFFFFF, 0xFFFFFFFF, 1),            # -1 * -1
    ("mul x3, x1, x2",      0x022081B3, 0x80000000, 0x80000000, 0),            # 2^62: low 0
    ("mul x3, x1, x2",      0x022081B3, 0x12345678, 0x10,       0x23456780),
    ("mulh x3, x1, x2",     0x022091B3, 0xFFFFFFFF, 0xFFFFFFFF, 0),            # 1 >> 32
    ("mulh x3, x1, x2",     0x022091B3, 0x80000000, 0x80000000, 0x40000000),   # 2^62 >> 32
    ("mulh x3, x1, x2",     0x022091B3, 0x80000000, 1,          0xFFFFFFFF),   # -2^31 >> 32
    ("mulh x3, x1, x2",     0x022091B3, 0x7FFFFFFF, 0x7FFFFFFF, 0x3FFFFFFF),   # 2^62-2^32+1
    ("mulhsu x3, x1, x2",   0x0220A1B3, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),   # -(2^32-1)
    ("mulhsu x3, x1, x2",   0x0220A1B3, 0x80000000, 2,          0xFFFFFFFF),   # -2^32
    ("mulhsu x3, x1, x2",   0x0220A1B3, 1,          0xFFFFFFFF, 0),
    ("mulhsu x3, x1, x2",   0x0220A1B3, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FFFFFFE),   # 0x7FFFFFFE_80000001
    ("mulhu x3, x1, x2",    0x0220B1B3, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE),   # 0xFFFFFFFE_00000001
    ("mulhu x3, x1, x2",    0x0220B1B3, 0x80000000, 2,          1),            # 2^32
    # M: quotients (round toward zero; /0 gives all ones, INT_MIN/-1 gives INT_MIN)
    ("div x3, x1, x2",      0x0220C1B3, 0x80000000, 0xFFFFFFFF, 0x80000000),
    ("div x3, x1, x2",      0x0220C1B3, 7,          0,          0xFFFFFFFF),
    ("div x3, x1, x2",      0x0220C1B3, 0x80000000, 0,          0xFFFFFFFF),
    ("div x3, x1, x2",      0x0220C1B3, 0xFFFFFFF9, 2,          0xFFFFFFFD),   # -7 / 2 = -3
    ("div x3, x1, x2",      0x0220C1B3, 7,          0xFFFFFFFE, 0xFFFFFFFD),   # 7 / -2 = -3
    ("div x3, x1, x2",      0x0220C1B3, 0xFFFFFFFA, 0xFFFFFFFD, 2),            # -6 / -3
    ("divu x3, x1, x2",     0x0220D1B3, 0xFFFFFFFF, 0,          0xFFFFFFFF),
    ("divu x3, x1, x2",     0x0220D1B3, 0xFFFFFFFF, 2,          0x7FFFFFFF),
    ("divu x3, x1, x2",     0x0220D1B3, 0x80000000, 0xFFFFFFFF, 0),
    # M: remainders (sign of the dividend; %0 gives the dividend, INT_MIN%-1 gives 0)
    ("rem x3, x1, x2",      0x0220E1B3, 0x80000000, 0xFFFFFFFF, 0),
    ("rem x3, x1, x2",      0x0220E1B3, 7,          0,          7),
    ("rem x3, x1, x2",      0x0220E1B3, 0x80000000, 0,          0x80000000),
    ("rem x3, x1, x2",      0x0220E1B3, 0xFFFFFFF9, 2,          0xFFFFFFFF),   # -7 % 2 = -1
    ("rem x3, x1, x2",      0x0220E1B3, 7,          0xFFFFFFFE, 1),            # 7 % -2 = 1
    ("remu x3, x1, x2",     0x0220F1B3, 7,          0,          7),
    ("remu x3, x1, x2",     0x0220F1B3, 0xFFFFFFFF, 10,         5),
    ("remu x3, x1, x2",     0x0220F1B3, 0x80000000, 0xFFFFFFFF, 0x80000000),
    # immediates (12 bits, sign-extended)
    ("addi x3, x1, -1",     0xFFF08193, 0,          0,          0xFFFFFFFF),
    ("addi x3, x1, 2047",   0x7FF08193, 0x7FFFFFFF, 0,          0x800007FE),
    ("addi x3, x1, -2048",  0x80008193, 0,          0,          0xFFFFF800),
    ("slti x3, x1, -1",     0xFFF0A193, 0x80000000, 0,          1),
    ("slti x3, x1, -1",     0xFFF0A193, 0xFFFFFFFF, 0,          0),
    ("slti x3, x1, 1",      0x0010A193, 0,          0,          1),
    ("slti x3, x1, 1",      0x0010A193, 0x7FFFFFFF, 0,          0),
    ("sltiu x3, x1, -1",    0xFFF0B193, 0xFFFFFFFE, 0,          1),            # < 0xFFFFFFFF
    ("sltiu x3, x1, -1",    0xFFF0B193, 0xFFFFFFFF, 0,          0),
    ("sltiu x3, x1, 1",     0x0010B193, 0,          0,          1),            # seqz
    ("sltiu x3, x1, 1",     0x0010B193, 1,          0,          0),
    ("xori x3, x1, -1",     0xFFF0C193, 0x12345678, 0,          0xEDCBA987),   # not
    ("ori x3, x1, -2048",   0x8000E193, 1,          0,          0xFFFFF801),
    ("andi x3, x1, -16",    0xFF00F193, 0x12345678, 0,          0x12345670),
    ("slli x3, x1, 31",     0x01F09193, 3,          0,          0x80000000),
    ("slli x3, x1, 0",      0x00009193, 0xDEADBEEF, 0,          0xDEADBEEF),
    ("srli x3, x1, 31",     0x01F0D193, 0xFFFFFFFF, 0,          1),
    ("srli x3, x1, 4",      0x0040D193, 0x80000000, 0,          0x08000000),
    ("srai x3, x1, 31",     0x41F0D193, 0x80000000, 0,          0xFFFFFFFF),
    ("srai x3, x1, 31",     0x41F0D193, 0x7FFFFFFF, 0,          0),
    ("srai x3, x1, 4",      0x4040D193, 0x80000000, 0,          0xF8000000),
    # upper immediates (auipc adds to its own pc, BASE = 0x80000000)
    ("lui x3, 0xfffff",     0xFFFFF1B7, 0,          0,          0xFFFFF000),
    ("lui x3, 0x80000",     0x800001B7, 0,          0,          0x80000000),
    ("auipc x3, 0",         0x00000197, 0,          0,          0x80000000),
    ("auipc x3, 1",         0x00001197, 0,          0,          0x80001000),
    ("auipc x3, 0x80000",   0x80000197, 0,          0,          0x00000000),   # wraps
]


@pytest.mark.parametrize("asm, word, a, b, expected", ALU,
                         ids=[f"{r[0]} [{r[2]:#x},{r[3]:#x}]" for r in ALU])
def test_alu(asm, word, a, b, expected):
    vm = step([word], x1=a, x2=b, x3=0x5A5A5A5A)
    assert vm.x(3) == expected
    assert (vm.x(1), vm.x(2)) == (a, b)
    assert vm[PC] == BASE + 4 and vm[INSTRET] == 1


def test_x0_writes_are_ignored():
    vm = step([W("addi x0, x0, 5", 0x00500013),
               W("lui x0, 0x12345", 0x12345037),
               W("lw x0, 0(x1)", 0x0000A003),         # a load into x0 still reads memory
               W("lw x0, 1(x1)", 0x0010A003),         # misaligned: the slow path
               W("amoswap.w x0, x2, (x1)", 0x0820A02F),
               W("jal x0, .+8", 0x0080006F),
               0,                                     # (skipped)
               W("addi x3, x0, 0", 0x00000193)],
              budget=7, x1=DATA, x2=0xCAFE, x3=0x5A5A)
    assert vm.x(0) == 0 and vm.x(3) == 0
    assert vm.r32(DATA) == 0xCAFE                     # the swap did happen
    assert vm[PC] == BASE + 32


# ---------------------------------------------------------------- loads and stores
MEM = [0x80, 0x7F, 0xFF, 0x01, 0x84, 0x85, 0x22, 0x33]     # bytes at DATA

LOADS = [
    # assembly              word        x1          x3 expected
    ("lb x3, 0(x1)",        0x00008183, DATA,       0xFFFFFF80),   # 0x80 sign-extended
    ("lbu x3, 0(x1)",       0x0000C183, DATA,       0x00000080),
    ("lb x3, 2047(x1)",     0x7FF08183, DATA + 1 - 2047, 0x7F),
    ("lh x3, 0(x1)",        0x00009183, DATA + 4,   0xFFFF8584),
    ("lhu x3, 0(x1)",       0x0000D183, DATA + 4,   0x00008584),
    ("lh x3, 0(x1)",        0x00009183, DATA,       0x00007F80),
    ("lw x3, 0(x1)",        0x0000A183, DATA,       0x01FF7F80),
    ("lw x3, -4(x1)",       0xFFC0A183, DATA + 4,   0x01FF7F80),
    # misaligned: all the bytes, in order, never an aligned word
    ("lw x3, 1(x1)",        0x0010A183, DATA,       0x8401FF7F),
    ("lh x3, 3(x1)",        0x00309183, DATA,       0xFFFF8401),
    ("lhu x3, 3(x1)",       0x0030D183, DATA,       0x00008401),
]


@pytest.mark.parametrize("asm, word, base, expected", LOADS, ids=[r[0] for r in LOADS])
def test_load(asm, word, base, expected):
    vm = VM(x1=base)
    for i, b in enumerate(MEM):
        vm.w8(DATA + i, b)
    vm.load(BASE, [word])
    for _ in ("cold TLB: slow path", "warm TLB: fast path"):
        vm[PC], vm[3] = BASE, 0x5A5A5A5A
        assert vm.run(1) == RUN_BUDGET
        assert vm.x(3) == expected and vm[PC] == BASE + 4


STORES = [
    # assembly              word        x1          bytes at DATA..DATA+7 afterwards
    ("sb x2, 0(x1)",        0x00208023, DATA,       "78 aa aa aa aa aa aa aa"),
    ("sh x2, 0(x1)",        0x00209023, DATA,       "78 56 aa aa aa aa aa aa"),
    ("sw x2, 0(x1)",        0x0020A023, DATA,       "78 56 34 12 aa aa aa aa"),
    ("sw x2, -4(x1)",       0xFE20AE23, DATA + 4,   "78 56 34 12 aa aa aa aa"),
    ("sw x2, 3(x1)",        0x0020A1A3, DATA,       "aa aa aa 78 56 34 12 aa"),  # misaligned
    ("sh x2, 1(x1)",        0x002090A3, DATA,       "aa 78 56 aa aa aa aa aa"),  # misaligned
]


@pytest.mark.parametrize("asm, word, base, after", STORES, ids=[r[0] for r in STORES])
def test_store(asm, word, base, after):
    vm = VM(x1=base, x2=0x12345678)
    vm.load(BASE, [word])
    for _ in ("cold TLB: slow path", "warm TLB: fast path"):
        vm.load(DATA, [0xAAAAAAAA, 0xAAAAAAAA])
        vm[PC] = BASE
        assert vm.run(1) == RUN_BUDGET
        assert vm.bytes(DATA, 8) == bytes.fromhex(after)


def test_page_crossing_access_uses_both_host_pages():
    """A word across a page boundary whose two guest pages sit apart in host memory."""
    vm = VM(x1=DATA + 0xFFE - 1, x2=0x12345678, x5=DATA + 0xFFD - 3)
    vm.gmap[0x11] = 0x30                    # guest page DATA+0x1000 -> host page 0x30
    vm.ram[0x10FFE:0x11000] = [0x11, 0x22]                 # DATA+0xFFE, DATA+0xFFF
    vm.ram[0x30000:0x30002] = [0x33, 0x44]                 # DATA+0x1000, DATA+0x1001
    vm.load(BASE, [W("lw x3, 1(x1)", 0x0010A183),          # reads DATA+0xFFE .. DATA+0x1001
                   W("sw x2, 3(x5)", 0x0022A1A3)])         # writes DATA+0xFFD .. DATA+0x1000
    assert vm.run(2) == RUN_BUDGET
    assert vm.x(3) == 0x44332211
    assert vm.ram[0x10FFD:0x11000].tobytes() == bytes([0x78, 0x56, 0x34])
    assert vm.ram[0x30000:0x30002].tobytes() == bytes([0x12, 0x44])
    assert vm.ram[0x11000] == 0                              # guest page 0x11's old host page


# ---------------------------------------------------------------- control transfer
BRANCHES = [
    # assembly              word        x1          x2          taken
    ("beq x1, x2, .+8",     0x00208463, 5,          5,          True),
    ("beq x1, x2, .+8",     0x00208463, 5,          6,          False),
    ("bne x1, x2, .+8",     0x00209463, 5,          6,          True),
    ("bne x1, x2, .+8",     0x00209463, 5,          5,          False),
    ("blt x1, x2, .+8",     0x0020C463, 0xFFFFFFFF, 1,          True),     # -1 < 1
    ("blt x1, x2, .+8",     0x0020C463, 1,          0xFFFFFFFF, False),
    ("blt x1, x2, .+8",     0x0020C463, 0x80000000, 0x7FFFFFFF, True),
    ("blt x1, x2, .+8",     0x0020C463, 5,          5,          False),
    ("bge x1, x2, .+8",     0x0020D463, 1,          0xFFFFFFFF, True),
    ("bge x1, x2, .+8",     0x0020D463, 0xFFFFFFFF, 1,          False),
    ("bge x1, x2, .+8",     0x0020D463, 5,          5,          True),
    ("bltu x1, x2, .+8",    0x0020E463, 1,          0xFFFFFFFF, True),
    ("bltu x1, x2, .+8",    0x0020E463, 0xFFFFFFFF, 1,          False),
    ("bltu x1, x2, .+8",    0x0020E463, 5,          5,          False),
    ("bgeu x1, x2, .+8",    0x0020F463, 0xFFFFFFFF, 1,          True),
    ("bgeu x1, x2, .+8",    0x0020F463, 1,          0xFFFFFFFF, False),
    ("bgeu x1, x2, .+8",    0x0020F463, 5,          5,          True),
]


@pytest.mark.parametrize("asm, word, a, b, taken", BRANCHES,
                         ids=[f"{r[0]} [{r[2]:#x},{r[3]:#x}]" for r in BRANCHES])
def test_branch(asm, word, a, b, taken):
    vm = step([word], x1=a, x2=b)
    assert vm[PC] == BASE + (8 if taken else 4)
    assert [vm.x(i) for i in range(32)] == [0, a, b] + [0] * 29


def test_backward_branch():
    vm = VM(pc=BASE + 8, x1=7, x2=7)
    vm.load(BASE + 8, [W("beq x1, x2, .-8", 0xFE208CE3)])
    assert vm.run(1) == RUN_BUDGET and vm[PC] == BASE


JUMPS = [
    # assembly              word        at          x1 / x2 before           pc after     x1 after
    ("jal x1, .+16",        0x010000EF, BASE,       {},                     BASE + 16,   BASE + 4),
    ("jal x1, .-8",         0xFF9FF0EF, BASE + 8,   {},                     BASE,        BASE + 12),
    ("jalr x1, 5(x2)",      0x005100E7, BASE,       {"x2": BASE + 0x104},   BASE + 0x108, BASE + 4),
    ("jalr x1, 0(x1)",      0x000080E7, BASE,       {"x1": BASE + 0x200},   BASE + 0x200, BASE + 4),
]


@pytest.mark.parametrize("asm, word, at, regs, pc, link", JUMPS, ids=[r[0] for r in JUMPS])
def test_jump_and_link(asm, word, at, regs, pc, link):
    vm = VM(pc=at, **regs)
    vm.load(at, [word])
    assert vm.run(1) == RUN_BUDGET
    assert vm[PC] == pc and vm.x(1) == link     # jalr clears bit 0 of the target


def test_jump_with_x0_link():
    vm = step([W("jal x0, .+12", 0x00C0006F)])
    assert vm[PC] == BASE + 12 and vm.x(0) == 0
    vm = step([W("jalr x0, -4(x2)", 0xFFC10067)], x2=BASE + 0x14)
    assert vm[PC] == BASE + 0x10 and vm.x(0) == 0


@pytest.mark.parametrize("asm, word", [("fence", 0x0FF0000F), ("fence rw, rw", 0x0330000F),
                                       ("fence.i", 0x0000100F)])
def test_fences_are_no_ops(asm, word):
    vm = step([word], x1=1, x2=2)
    assert vm[PC] == BASE + 4 and [vm.x(i) for i in range(4)] == [0, 1, 2, 0]


def test_ecall_from_s_mode_exits_to_the_monitor_at_the_ecall():
    vm = VM()
    vm.load(BASE, [W("nop", 0x00000013), W("ecall", 0x00000073)])
    assert vm.run(10) == RUN_SBI
    assert vm[PC] == BASE + 4 and vm[INSTRET] == 1      # the ecall did not retire


# ---------------------------------------------------------------- A: atomics
AMOS = [
    # assembly                  word        memory      x2          memory after
    ("amoswap.w x3, x2, (x1)",  0x0820A1AF, 0x80000000, 1,          1),
    ("amoadd.w x3, x2, (x1)",   0x0020A1AF, 0x80000000, 1,          0x80000001),
    ("amoxor.w x3, x2, (x1)",   0x2020A1AF, 0x80000000, 1,          0x80000001),
    ("amoand.w x3, x2, (x1)",   0x6020A1AF, 0x80000000, 1,          0),
    ("amoor.w x3, x2, (x1)",    0x4020A1AF, 0x80000000, 1,          0x80000001),
    ("amomin.w x3, x2, (x1)",   0x8020A1AF, 0x80000000, 1,          0x80000000),  # INT_MIN < 1
    ("amomax.w x3, x2, (x1)",   0xA020A1AF, 0x80000000, 1,          1),
    ("amominu.w x3, x2, (x1)",  0xC020A1AF, 0x80000000, 1,          1),
    ("amomaxu.w x3, x2, (x1)",  0xE020A1AF, 0x80000000, 1,          0x80000000),
    ("amoswap.w x3, x2, (x1)",  0x0820A1AF, 0xFFFFFFFF, 1,          1),
    ("amoadd.w x3, x2, (x1)",   0x0020A1AF, 0xFFFFFFFF, 1,          0),           # wraps
    ("amoxor.w x3, x2, (x1)",   0x2020A1AF, 0xFFFFFFFF, 1,          0xFFFFFFFE),
    ("amoand.w x3, x2, (x1)",   0x6020A1AF, 0xFFFFFFFF, 1,          1),
    ("amoor.w x3, x2, (x1)",    0x4020A1AF, 0xFFFFFFFF, 1,          0xFFFFFFFF),
    ("amomin.w x3, x2, (x1)",   0x8020A1AF, 0xFFFFFFFF, 1,          0xFFFFFFFF),  # -1 < 1
    ("amomax.w x3, x2, (x1)",   0xA020A1AF, 0xFFFFFFFF, 1,          1),
    ("amominu.w x3, x2, (x1)",  0xC020A1AF, 0xFFFFFFFF, 1,          1),
    ("amomaxu.w x3, x2, (x1)",  0xE020A1AF, 0xFFFFFFFF, 1,          0xFFFFFFFF),
    ("amoadd.w.aqrl x3, x2, (x1)", 0x0620A1AF, 10,      5,          15),
]


@pytest.mark.parametrize("asm, word, old, src, new", AMOS,
                         ids=[f"{r[0]} [{r[2]:#x},{r[3]:#x}]" for r in AMOS])
def test_amo(asm, word, old, src, new):
    vm = VM(x1=DATA + 8, x2=src)
    vm.load(DATA + 4, [0xAAAAAAAA, old, 0xBBBBBBBB])
    vm.load(BASE, [word])
    assert vm.run(1) == RUN_BUDGET
    assert vm.x(3) == old and vm.r32(DATA + 8) == new and vm.x(2) == src
    assert vm.r32(DATA + 4) == 0xAAAAAAAA and vm.r32(DATA + 12) == 0xBBBBBBBB


def test_amo_with_rd_equal_rs2_uses_the_old_rs2():
    vm = step([W("amoadd.w x2, x2, (x1)", 0x0020A12F)], x1=DATA, x2=5)
    assert vm.r32(DATA) == 5 and vm.x(2) == 0        # memory 0 + 5; x2 = old memory 0
    vm = VM(x1=DATA, x2=5)
    vm.w32(DATA, 10)
    vm.load(BASE, [0x0020A12F])                       # amoadd.w x2, x2, (x1)
    assert vm.run(1) == RUN_BUDGET and vm.r32(DATA) == 15 and vm.x(2) == 10


LR = W("lr.w x3, (x1)", 0x1000A1AF)
SC = W("sc.w x4, x2, (x1)", 0x1820A22F)


def lrsc(words, **regs):
    vm = VM(x1=DATA, x2=0x22222222, x4=0x5A5A, **regs)
    vm.load(DATA, [0x11111111, 0x33333333])
    vm.load(BASE, words)
    assert vm.run(len(words)) == RUN_BUDGET
    return vm


def test_lr_then_sc_succeeds():
    vm = lrsc([LR, SC])
    assert vm.x(3) == 0x11111111 and vm.x(4) == 0 and vm.r32(DATA) == 0x22222222


def test_lr_sc_with_ordering_bits_and_an_instruction_between():
    vm = lrsc([W("lr.w.aq x3, (x1)", 0x1400A1AF), W("addi x6, x6, 1", 0x00130313),
               W("sc.w.rl x4, x2, (x1)", 0x1A20A22F)])
    assert vm.x(4) == 0 and vm.r32(DATA) == 0x22222222 and vm.x(6) == 1


def test_sc_without_reservation_fails_and_does_not_write():
    vm = lrsc([SC])
    assert vm.x(4) != 0 and vm.r32(DATA) == 0x11111111


def test_sc_to_another_address_fails():
    vm = lrsc([LR, W("sc.w x4, x2, (x5)", 0x1822A22F)], x5=DATA + 4)
    assert vm.x(4) != 0 and vm.r32(DATA + 4) == 0x33333333


def test_second_sc_fails():
    vm = lrsc([LR, SC, W("sc.w x4, x2, (x1)", 0x1820A22F)])
    assert vm.x(4) != 0 and vm.r32(DATA) == 0x22222222


def test_sc_into_x0():
    vm = lrsc([LR, W("sc.w x0, x2, (x1)", 0x1820A02F)])
    assert vm.x(0) == 0 and vm.r32(DATA) == 0x22222222


@pytest.mark.parametrize("asm, word, causes", [
    ("lr.w x3, (x1)", 0x1000A1AF, (4, 5)),              # load address misaligned (or access)
    ("amoadd.w x3, x2, (x1)", 0x0020A1AF, (6, 7)),  # store/AMO address misaligned (or access)
    ("amoswap.w x3, x2, (x1)", 0x0820A1AF, (6, 7)),
])
def test_misaligned_atomic_traps(asm, word, causes):
    """A: "If the address is not naturally aligned, an address-misaligned exception or an
    access-fault exception will be generated" -- never emulated like plain loads/stores."""
    vm = step([word], x1=DATA + 2, x2=7, x3=0x5A5A)
    assert vm[SCAUSE] in causes and vm[STVAL] == DATA + 2
    assert vm[PC] == HANDLER and vm.bytes(DATA, 8) == bytes(8)


# ---------------------------------------------------------------- illegal encodings
ILLEGALS = [
    # what                                   word
    ("all zeros (defined illegal)",          0x00000000),
    ("all ones",                             0xFFFFFFFF),
    ("slli x3, x1, 32 (RV64 shamt[5])",      0x02009193),
    ("slli x3, x1, 1 with funct7 0100000",   0x40109193),
    ("srli x3, x1, 4 with funct7 0000001",   0x0240D193),
    ("srai x3, x1, 4 with funct7 0100001",   0x4240D193),
    ("sll x3, x1, x2 with funct7 0100000",   0x402091B3),
    ("add x3, x1, x2 with funct7 0000010",   0x042081B3),
    ("ld x3, 0(x1) (load funct3 011)",       0x0000B183),
    ("lwu x3, 0(x1) (load funct3 110)",      0x0000E183),
    ("load funct3 111",                      0x0000F183),
    ("sd x2, 0(x1) (store funct3 011)",      0x0020B023),
    ("store funct3 100",                     0x0020C023),
    ("branch funct3 010",                    0x0020A463),
    ("branch funct3 011",                    0x0020B463),
    ("jalr x1, 5(x2) with funct3 001",       0x005110E7),
    ("misc-mem funct3 010",                  0x0000200F),
    ("flw f0, 0(x1) (no F)",                 0x0000A007),
    ("addiw x3, x1, 1 (RV64)",               0x0010819B),
    ("amoadd.d x3, x2, (x1)",                0x0020B1AF),
    ("amo funct5 00101",                     0x2820A1AF),
    ("lr.w x3, (x1) with rs2 = x2",          0x1020A1AF),
    ("mret",                                 0x30200073),
    ("uret",                                 0x00200073),
    ("dret",                                 0x7B200073),
    ("hfence.vvma x0, x0",                   0x22000073),
    ("hlv.w x3, (x1)",                       0x6800C1F3),
    ("ecall with rd = x1",                   0x000000F3),
    ("wfi with rs1 = x1",                    0x10508073),
    ("sfence.vma with rd = x1",              0x120000F3),
    ("csrrs x3, mstatus, x0 (M-mode CSR)",   0x300021F3),
    ("csrrs x3, 0x123, x0 (no such CSR)",    0x123021F3),
    ("csrrw x0, cycle, x1 (read-only CSR)",  0xC0009073),
]
WARM = [W("lw x0, 0(x1)", 0x0000A003), W("sw x0, 0(x1)", 0x0000A023)]   # fill the TLB


@pytest.mark.parametrize("warm", [False, True], ids=["cold-tlb", "warm-tlb"])
@pytest.mark.parametrize("what, word", ILLEGALS, ids=[r[0] for r in ILLEGALS])
def test_illegal_instruction(what, word, warm):
    """Illegal-instruction exception (scause 2) with the instruction word in stval, at the
    instruction (sepc), nothing else changed."""
    prefix = WARM if warm else []
    vm = step(prefix + [word], x1=DATA, x2=DATA, x3=0x5A5A5A5A)
    assert vm[SCAUSE] == ILLEGAL
    assert vm[STVAL] == word
    assert vm[SEPC] == BASE + 4 * len(prefix) and vm[PC] == HANDLER
    assert (vm.x(1), vm.x(2), vm.x(3)) == (DATA, DATA, 0x5A5A5A5A)
    assert vm.bytes(DATA, 8) == bytes(8)


# ---------------------------------------------------------------- the words above are what they say
def _assemble(lines, march):
    src = ".text\n.option norelax\n.option norvc\n" + "".join(
        f".balign 4\n{line}\n" for line in lines)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "a.s"), "w") as f:
            f.write(src)
        subprocess.run(["riscv64-unknown-elf-as", f"-march={march}", "-mabi=ilp32" if "32" in march
                        else "-mabi=lp64", "-o", f"{d}/a.o", f"{d}/a.s"], check=True)
        subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", "-j", ".text",
                        f"{d}/a.o", f"{d}/a.bin"], check=True)
        b = open(f"{d}/a.bin", "rb").read()
    return [int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b), 4)]


# the illegal words that have a name in some other ISA
ILLEGAL_ASM_RV64 = {"ld x3, 0(x1)": 0x0000B183, "lwu x3, 0(x1)": 0x0000E183,
                    "sd x2, 0(x1)": 0x0020B023, "flw f0, 0(x1)": 0x0000A007,
                    "addiw x3, x1, 1": 0x0010819B, "amoadd.d x3, x2, (x1)": 0x0020B1AF,
                    "slli x3, x1, 32": 0x02009193, "hfence.vvma x0, x0": 0x22000073,
                    "hlv.w x3, (x1)": 0x6800C1F3}


@pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-as"), reason="no RISC-V assembler")
def test_encodings_match_the_assembler():
    pairs = [(r[1], r[0]) for table in (ALU, LOADS, STORES, BRANCHES, JUMPS, AMOS) for r in table]
    pairs += ASM + [(0x0FF0000F, "fence"), (0x0330000F, "fence rw, rw"), (0x0000100F, "fence.i")]
    pairs += [(w, a) for a, w in [("mret", 0x30200073), ("uret", 0x00200073),
                                  ("dret", 0x7B200073), ("csrrs x3, mstatus, x0", 0x300021F3),
                                  ("csrrs x3, 0x123, x0", 0x123021F3),
                                  ("csrrw x0, cycle, x1", 0xC0009073)]]
    got = _assemble([a for _, a in pairs], "rv32ima_zicsr_zifencei")
    assert [f"{w:08x} {a}" for w, a in pairs] == [f"{g:08x} {a}" for g, (_, a) in zip(got, pairs)]
    got = _assemble(list(ILLEGAL_ASM_RV64), "rv64gch")
    assert got == list(ILLEGAL_ASM_RV64.values())
