"""Differential test: the hart against Unicorn on random straight-line RV32IMA programs.

Each example is one program of 20-50 generated pieces: every non-trapping RV32I, M and A
instruction with random registers and edge values.  Loads and stores address an 8 KiB data
buffer through x31 (kept at its middle, never a destination); AMOs and lr/sc go through x29,
set to an aligned address just before; forward branches and jumps skip a few instructions so
the program always reaches its end.  Both machines run it from the same registers and memory;
registers, pc and the data buffer must match.  Unicorn starts in M-mode and our hart runs in
S-mode with paging off: for these non-trapping instructions the two are the same.  Unicorn
is not trusted for traps (test_isa.py and test_privileged.py check those by hand).

The default run checks 2,000 programs; ``pytest -m slow`` checks 100,000.
"""
import random
import shutil

import pytest
from hart import BASE, DATA, VM
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from hypervisor.state import PC, RUN_SBI

unicorn = pytest.importorskip("unicorn")
from unicorn import UC_ARCH_RISCV, UC_MODE_RISCV32, Uc  # noqa: E402
from unicorn.riscv_const import UC_RISCV_REG_PC, UC_RISCV_REG_X0  # noqa: E402

DATA_SIZE = 0x2000
DBASE = DATA + 0x800        # x31: every 12-bit offset from it lands in the buffer
M32 = 0xFFFF_FFFF
ECALL = 0x00000073          # ends the program: the hart exits to the monitor there
EDGES = [0, 1, 2, 0xFFFFFFFF, 0xFFFFFFFE, 0x80000000, 0x80000001, 0x7FFFFFFF, 0x7FFF, 0x8000,
         0xFFFF, 0x10000, 0x7FF, 0x800, 31, 32, 33, 0xFFFF8000, 0xFFFFF800]
IMM_EDGES = [0, 1, -1, 2047, -2048, 31, 32]
BLOB = 1024                 # random bytes behind one program (about 450 are used, 650 at most)

# ---------------------------------------------------------------- encoders (RV32 base formats)


def r_type(f7, f3, rd, rs1, rs2, op=0x33):
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def i_type(imm, rs1, f3, rd, op):
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op


def s_type(imm, rs2, rs1, f3):
    return (((imm >> 5) & 0x7F) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) \
        | ((imm & 31) << 7) | 0x23


def b_type(imm, rs1, rs2, f3):
    return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3F) << 25) | (rs2 << 20) | (rs1 << 15) \
        | (f3 << 12) | (((imm >> 1) & 0xF) << 8) | (((imm >> 11) & 1) << 7) | 0x63


def j_type(imm, rd):
    return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3FF) << 21) | (((imm >> 11) & 1) << 20) \
        | (((imm >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F


def amo_type(f5, aq, rl, rs2, rs1, rd):
    return (f5 << 27) | (aq << 26) | (rl << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) \
        | (rd << 7) | 0x2F


# name: (funct7, funct3)
OPS = {"add": (0, 0), "sub": (0x20, 0), "sll": (0, 1), "slt": (0, 2), "sltu": (0, 3),
       "xor": (0, 4), "srl": (0, 5), "sra": (0x20, 5), "or": (0, 6), "and": (0, 7),
       "mul": (1, 0), "mulh": (1, 1), "mulhsu": (1, 2), "mulhu": (1, 3),
       "div": (1, 4), "divu": (1, 5), "rem": (1, 6), "remu": (1, 7)}
IMM_OPS = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
SHIFTS = {"slli": (0, 1), "srli": (0, 5), "srai": (0x20, 5)}
LOADS = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
STORES = {"sb": 0, "sh": 1, "sw": 2}
BRANCHES = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}
AMOS = {"amoswap.w": 0x01, "amoadd.w": 0x00, "amoxor.w": 0x04, "amoand.w": 0x0C,
        "amoor.w": 0x08, "amomin.w": 0x10, "amomax.w": 0x14, "amominu.w": 0x18,
        "amomaxu.w": 0x1C}
ORDER = ["", ".rl", ".aq", ".aqrl"]     # index = aq << 1 | rl

# ---------------------------------------------------------------- the program generator
# ``d`` draws numbers: d.int(lo, hi) and d.pick(sequence) (ByteDraws below).


def dest(d):
    return d.int(0, 30)                                  # x0 included; never x31


def imm12(d):
    return d.pick(IMM_EDGES) if d.int(0, 1) else d.int(-2048, 2047)


def alu(d, rd=None):
    """One register-register, immediate or upper-immediate instruction: (word, text)."""
    rd = dest(d) if rd is None else rd
    rs1, rs2 = d.int(0, 31), d.int(0, 31)
    kind = d.int(0, 9)
    if kind < 5:
        name = d.pick(list(OPS))
        f7, f3 = OPS[name]
        return r_type(f7, f3, rd, rs1, rs2), f"{name} x{rd}, x{rs1}, x{rs2}"
    if kind < 7:
        name, imm = d.pick(list(IMM_OPS)), imm12(d)
        return i_type(imm, rs1, IMM_OPS[name], rd, 0x13), f"{name} x{rd}, x{rs1}, {imm}"
    if kind < 9:
        name, sh = d.pick(list(SHIFTS)), d.pick([0, 1, 31, d.int(0, 31)])
        f7, f3 = SHIFTS[name]
        return r_type(f7, f3, rd, rs1, sh, 0x13), f"{name} x{rd}, x{rs1}, {sh}"
    name, imm = d.pick(["lui", "auipc"]), d.pick([0, 0xFFFFF, 0x80000, d.int(0, 0xFFFFF)])
    return (imm << 12) | (rd << 7) | (0x37 if name == "lui" else 0x17), f"{name} x{rd}, {imm:#x}"


def amo_base(d):
    off = d.int(-512, 511) * 4
    return [(i_type(off, 31, 0, 29, 0x13), f"addi x29, x31, {off}")]


def piece(d):
    """A few instructions that never trap: list of (word, text)."""
    kind = d.int(0, 19)
    if kind < 9:
        return [alu(d)]
    if kind < 11:
        name, rd, imm = d.pick(list(LOADS)), dest(d), imm12(d)
        return [(i_type(imm, 31, LOADS[name], rd, 0x03), f"{name} x{rd}, {imm}(x31)")]
    if kind < 13:
        name, rs2, imm = d.pick(list(STORES)), d.int(0, 31), imm12(d)
        return [(s_type(imm, rs2, 31, STORES[name]), f"{name} x{rs2}, {imm}(x31)")]
    if kind < 15:
        name, rd, rs2, order = d.pick(list(AMOS)), dest(d), d.int(0, 31), d.int(0, 3)
        return amo_base(d) + [(amo_type(AMOS[name], order >> 1, order & 1, rs2, 29, rd),
                               f"{name}{ORDER[order]} x{rd}, x{rs2}, (x29)")]
    if kind == 15:                                       # lr.w; 0-3 instructions; sc.w
        rd1 = d.pick([r for r in range(31) if r != 29])
        o1, o2, rd2, rs2 = d.int(0, 3), d.int(0, 3), dest(d), d.int(0, 31)
        middle = [alu(d, rd=d.pick([r for r in range(31) if r != 29]))
                  for _ in range(d.int(0, 3))]
        return amo_base(d) + [(amo_type(0x02, o1 >> 1, o1 & 1, 0, 29, rd1),
                               f"lr.w{ORDER[o1]} x{rd1}, (x29)")] + middle + \
            [(amo_type(0x03, o2 >> 1, o2 & 1, rs2, 29, rd2),
              f"sc.w{ORDER[o2]} x{rd2}, x{rs2}, (x29)")]
    skipped = [alu(d) for _ in range(d.int(0, 3))]        # run or skipped, as it happens
    k = 4 * (len(skipped) + 1)
    if kind == 16 or kind == 17:
        name, rs1, rs2 = d.pick(list(BRANCHES)), d.int(0, 31), d.int(0, 31)
        return [(b_type(k, rs1, rs2, BRANCHES[name]), f"{name} x{rs1}, x{rs2}, .+{k}")] + skipped
    rd = dest(d)
    if kind == 18:
        return [(j_type(k, rd), f"jal x{rd}, .+{k}")] + skipped
    off = k + 4 + d.int(0, 1)                            # jalr clears bit 0 of the target
    return [(0x00000E17, "auipc x28, 0x0"),
            (i_type(off, 28, 0, rd, 0x67), f"jalr x{rd}, {off}(x28)")] + skipped


def program(d):
    """(initial registers x0..x31, data buffer, [(word, text), ...])"""
    regs = [0] + [d.pick(EDGES) if d.int(0, 2) else d.int(0, M32) for _ in range(30)] + [DBASE]
    data = random.Random(d.int(0, 2**32)).randbytes(DATA_SIZE)
    code = []
    for _ in range(d.int(20, 50)):
        if len(code) > 200:
            break
        code += piece(d)
        if d.int(0, 15) == 0:
            code.append(d.pick([(0x0FF0000F, "fence"), (0x0000100F, "fence.i")]))
    return regs, data, code


class ByteDraws:
    """Numbers from a byte string that hypothesis draws in one go (much faster than one
    hypothesis draw per number; hypothesis still shrinks the bytes, toward zeros: short,
    simple programs).  Past the end every number is its lowest value."""

    def __init__(self, blob):
        self.blob, self.at = blob, 0

    def int(self, lo, hi):
        n = ((hi - lo).bit_length() + 7) // 8
        v = int.from_bytes(self.blob[self.at:self.at + n], "little")
        self.at += n
        return lo + v % (hi - lo + 1)

    def pick(self, seq):
        return seq[self.int(0, len(seq) - 1)]


def seeded_program(seed):
    return program(ByteDraws(random.Random(seed).randbytes(BLOB)))


# ---------------------------------------------------------------- the two machines


def run_unicorn(regs, data, words):
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(BASE, DATA - BASE + DATA_SIZE)
    uc.mem_write(BASE, b"".join(w.to_bytes(4, "little") for w in words))
    uc.mem_write(DATA, data)
    for i in range(1, 32):
        uc.reg_write(UC_RISCV_REG_X0 + i, regs[i])
    end = BASE + 4 * (len(words) - 1)                    # the final ecall is not executed
    uc.emu_start(BASE, end, count=4 * len(words))
    out = [uc.reg_read(UC_RISCV_REG_X0 + i) & M32 for i in range(32)]
    return out, uc.reg_read(UC_RISCV_REG_PC) & M32, bytes(uc.mem_read(DATA, DATA_SIZE))


def run_hart(regs, data, words):
    vm = VM(**{f"x{i}": regs[i] for i in range(1, 32)})
    vm.load(BASE, words)
    vm.ram[DATA - BASE:DATA - BASE + DATA_SIZE] = memoryview(data)
    code = vm.run(4 * len(words))
    assert code == RUN_SBI, f"run() returned {code}, pc {vm[PC]:#x}"
    return [vm.x(i) for i in range(32)], vm[PC], vm.bytes(DATA, DATA_SIZE)


def check(regs, data, code):
    words = [w for w, _ in code] + [ECALL]
    if currently_in_test_context():
        note("\n".join(f"{BASE + 4 * i:08x}: {w:08x}  {t}" for i, (w, t) in enumerate(code)))
        note("registers: " + " ".join(f"x{i}={v:#x}" for i, v in enumerate(regs)))
    want_regs, want_pc, want_data = run_unicorn(regs, data, words)
    got_regs, got_pc, got_data = run_hart(regs, data, words)
    diffs = [f"x{i}: hart {g:#x} unicorn {w:#x}" for i, (g, w) in
             enumerate(zip(got_regs, want_regs)) if g != w]
    assert not diffs, "\n".join(diffs)
    assert got_pc == want_pc
    if got_data != want_data:
        bad = [i for i in range(DATA_SIZE) if got_data[i] != want_data[i]]
        raise AssertionError(f"memory differs at {[hex(DATA + i) for i in bad[:8]]}")


SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


PROGRAMS = st.binary(min_size=BLOB, max_size=BLOB)


@settings(max_examples=2000, **SETTINGS)
@given(PROGRAMS)
def test_random_programs_match_unicorn(blob):
    check(*program(ByteDraws(blob)))


@pytest.mark.slow
@settings(max_examples=100_000, **SETTINGS)
@given(PROGRAMS)
def test_random_programs_match_unicorn_slow(blob):
    check(*program(ByteDraws(blob)))


def test_every_instruction_kind_is_generated():
    """The generator covers all of RV32IM and A (so the 2,000 programs do too)."""
    seen = set()
    for seed in range(40):
        for _, text in seeded_program(seed)[2]:
            seen.add(text.split()[0].split(".aq")[0].split(".rl")[0])
    want = set(OPS) | set(IMM_OPS) | set(SHIFTS) | set(LOADS) | set(STORES) | set(BRANCHES) \
        | set(AMOS) | {"lui", "auipc", "jal", "jalr", "lr.w", "sc.w", "fence", "fence.i"}
    assert want <= seen, want - seen


@pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-as"), reason="no RISC-V assembler")
def test_encoder_matches_the_assembler():
    from test_isa import _assemble
    code = [c for seed in range(20) for c in seeded_program(seed)[2]]
    got = _assemble([t for _, t in code], "rv32ima_zicsr_zifencei")
    assert [f"{w:08x} {t}" for w, t in code] == [f"{g:08x} {t}" for g, (_, t) in zip(got, code)]


def test_a_known_program_matches_unicorn():
    """A fixed program through the same path, in case hypothesis is misconfigured."""
    regs = [0, 0x80000000, 0xFFFFFFFF] + [7] * 28 + [DBASE]
    code = [(0x0220C1B3, "div x3, x1, x2"), (0x0220E233, "rem x4, x1, x2"),
            (0x002FA2AF, "amoadd.w x5, x2, (x31)")]
    check(regs, bytes(DATA_SIZE), code)
