"""Differential test: the hart against Unicorn on random straight-line RV32IMAC programs.

Each example is one program of 20-50 generated pieces: every non-trapping RV32I, M, A and C
instruction with random registers and edge values, 32-bit ones at 2-byte aligned addresses
too.  Loads and stores address an 8 KiB data
buffer through x31 (kept at its middle, never a destination); AMOs and lr/sc go through x29,
set to an aligned address just before; forward branches and jumps skip a few instructions so
the program always reaches its end.  Both machines run it from the same registers and memory;
registers, pc and the data buffer must match.  Unicorn starts in M-mode and our hart runs in
S-mode with paging off: for these non-trapping instructions the two are the same.  Unicorn
is not trusted for traps (test_isa.py and test_privileged.py check those by hand).

Code that is written, then executed (test_written_code_matches_unicorn): a routine runs, the
program overwrites it with other random instructions (through the same address, or through a
second guest-physical mapping of the same host page), with or without fence.i, and runs it
again; Unicorn runs the same program with its stores to the routine's own address (its
translation cache is coherent for those, not across aliases).

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

# ---------------------------------------------------------------- compressed (RV32C) encoders
# (unprivileged spec, chapter "C", "Compressed Instruction Formats"); r' registers are x8..x15


def size(word):
    """Bytes of an encoded instruction: 2 for a compressed one (low bits not 11)."""
    return 4 if word & 3 == 3 else 2


def c_ci(f3, rd, imm, op):              # c.addi, c.li, c.lui, c.slli: imm[5] at 12, [4:0] at 6:2
    return (f3 << 13) | (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | op


def c_ca(f6, f2, rd, rs2):              # c.sub/xor/or/and rd', rs2'
    return (f6 << 10) | ((rd - 8) << 7) | (f2 << 5) | ((rs2 - 8) << 2) | 1


def c_cb_alu(f2, rd, imm):              # c.srli, c.srai, c.andi rd', imm
    return (4 << 13) | (((imm >> 5) & 1) << 12) | (f2 << 10) | ((rd - 8) << 7) \
        | ((imm & 31) << 2) | 1


def c_cr(f4, rd, rs2):                  # c.mv, c.add, c.jr, c.jalr
    return (f4 << 12) | (rd << 7) | (rs2 << 2) | 2


def c_lw_sw(f3, r, base, uimm):         # c.lw rd', uimm(rs1') / c.sw rs2', uimm(rs1')
    return (f3 << 13) | (((uimm >> 3) & 7) << 10) | ((base - 8) << 7) | (((uimm >> 2) & 1) << 6) \
        | (((uimm >> 6) & 1) << 5) | ((r - 8) << 2)


def c_lwsp(rd, uimm):
    return (2 << 13) | (((uimm >> 5) & 1) << 12) | (rd << 7) | (((uimm >> 2) & 7) << 4) \
        | (((uimm >> 6) & 3) << 2) | 2


def c_swsp(rs2, uimm):
    return (6 << 13) | (((uimm >> 2) & 15) << 9) | (((uimm >> 6) & 3) << 7) | (rs2 << 2) | 2


def c_addi4spn(rd, nzuimm):
    return (((nzuimm >> 4) & 3) << 11) | (((nzuimm >> 6) & 15) << 7) | (((nzuimm >> 2) & 1) << 6) \
        | (((nzuimm >> 3) & 1) << 5) | ((rd - 8) << 2)


def c_addi16sp(nzimm):
    return (3 << 13) | (((nzimm >> 9) & 1) << 12) | (2 << 7) | (((nzimm >> 4) & 1) << 6) \
        | (((nzimm >> 6) & 1) << 5) | (((nzimm >> 7) & 3) << 3) | (((nzimm >> 5) & 1) << 2) | 1


def c_j(f3, off):                       # c.j (101) / c.jal (001): offset[11|4|9:8|10|6|7|3:1|5]
    return (f3 << 13) | (((off >> 11) & 1) << 12) | (((off >> 4) & 1) << 11) \
        | (((off >> 8) & 3) << 9) | (((off >> 10) & 1) << 8) | (((off >> 6) & 1) << 7) \
        | (((off >> 7) & 1) << 6) | (((off >> 1) & 7) << 3) | (((off >> 5) & 1) << 2) | 1


def c_b(f3, rs1, off):                  # c.beqz (110) / c.bnez (111): offset[8|4:3|7:6|2:1|5]
    return (f3 << 13) | (((off >> 8) & 1) << 12) | (((off >> 3) & 3) << 10) | ((rs1 - 8) << 7) \
        | (((off >> 6) & 3) << 5) | (((off >> 1) & 3) << 3) | (((off >> 5) & 1) << 2) | 1


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


CREG = list(range(8, 16))               # the registers of the 3-bit fields (x8..x15)


def c_alu(d, rd=None):
    """One compressed ALU instruction that does not trap and writes no reserved register
    (never a HINT: those are tested by hand in test_rvc.py): (word, text)."""
    kind = d.int(0, 9)
    full = [r for r in range(1, 31) if rd is None or r == rd]
    short = [r for r in CREG if rd is None or r == rd] or [8]
    if kind == 0:
        r, imm = d.pick(full), d.pick([i for i in range(-32, 32) if i])
        return c_ci(0, r, imm, 1), f"c.addi x{r}, {imm}"
    if kind == 1:
        r, imm = d.pick(full), d.int(-32, 31)
        return c_ci(2, r, imm, 1), f"c.li x{r}, {imm}"
    if kind == 2:
        r, imm = d.pick([r for r in full if r != 2] or [1]), d.pick([i for i in range(-32, 32) if i])
        return c_ci(3, r, imm, 1), f"c.lui x{r}, {imm & 0xFFFFF:#x}"
    if kind == 3:
        r, sh = d.pick(full), d.int(1, 31)
        return c_ci(0, r, sh, 2), f"c.slli x{r}, {sh}"
    if kind == 4:
        name, r, sh = d.pick(["c.srli", "c.srai"]), d.pick(short), d.int(1, 31)
        return c_cb_alu(0 if name == "c.srli" else 1, r, sh), f"{name} x{r}, {sh}"
    if kind == 5:
        r, imm = d.pick(short), d.int(-32, 31)
        return c_cb_alu(2, r, imm), f"c.andi x{r}, {imm}"
    if kind == 6:
        names = ["c.sub", "c.xor", "c.or", "c.and"]
        f2, r, r2 = d.int(0, 3), d.pick(short), d.pick(CREG)
        return c_ca(0x23, f2, r, r2), f"{names[f2]} x{r}, x{r2}"
    if kind == 7:
        name, r, r2 = d.pick(["c.mv", "c.add"]), d.pick(full), d.int(1, 31)
        return c_cr(8 if name == "c.mv" else 9, r, r2), f"{name} x{r}, x{r2}"
    if kind == 8 and rd is None:
        r, nz = d.pick(CREG), d.int(1, 255) * 4
        return c_addi4spn(r, nz), f"c.addi4spn x{r}, sp, {nz}"
    if rd is None or rd == 2:
        nz = d.pick([i for i in range(-32, 32) if i]) * 16
        return c_addi16sp(nz), f"c.addi16sp sp, {nz}"
    return c_alu(d, rd)


def any_alu(d, rd=None):
    return c_alu(d, rd) if d.int(0, 2) == 0 else alu(d, rd)


def c_piece(d):
    """A few instructions around one compressed load, store or jump (or a compressed ALU
    instruction): list of (word, text)."""
    kind = d.int(0, 6)
    if kind == 0:                                    # c.lw / c.sw through x8..x15
        base, off = d.pick(CREG), d.int(-512, 470) * 4
        uimm, r = d.int(0, 31) * 4, d.pick(CREG)
        setup = (i_type(off, 31, 0, base, 0x13), f"addi x{base}, x31, {off}")
        if d.int(0, 1):
            return [setup, (c_lw_sw(2, r, base, uimm) | 0, f"c.lw x{r}, {uimm}(x{base})")]
        return [setup, (c_lw_sw(6, r, base, uimm), f"c.sw x{r}, {uimm}(x{base})")]
    if kind == 1:                                    # c.lwsp / c.swsp through sp
        off, uimm = d.int(-512, 440) * 4, d.int(0, 63) * 4
        setup = (i_type(off, 31, 0, 2, 0x13), f"addi x2, x31, {off}")
        if d.int(0, 1):
            r = d.pick([r for r in range(1, 31)])
            return [setup, (c_lwsp(r, uimm), f"c.lwsp x{r}, {uimm}(sp)")]
        r = d.int(0, 31)
        return [setup, (c_swsp(r, uimm), f"c.swsp x{r}, {uimm}(sp)")]
    skipped = [any_alu(d) for _ in range(d.int(0, 3))]
    k = 2 + sum(size(w) for w, _ in skipped)
    if kind == 2:
        name, r = d.pick(["c.beqz", "c.bnez"]), d.pick(CREG)
        return [(c_b(6 if name == "c.beqz" else 7, r, k), f"{name} x{r}, .+{k}")] + skipped
    if kind == 3:
        name = d.pick(["c.j", "c.jal"])
        return [(c_j(5 if name == "c.j" else 1, k), f"{name} .+{k}")] + skipped
    if kind == 4:                                    # auipc + addi + c.jr/c.jalr over skipped
        name = d.pick(["c.jr", "c.jalr"])
        off = 10 + sum(size(w) for w, _ in skipped)
        return [(0x00000E17, "auipc x28, 0x0"), (i_type(off, 28, 0, 28, 0x13), f"addi x28, x28, {off}"),
                (c_cr(8 if name == "c.jr" else 9, 28, 0), f"{name} x28")] + skipped
    return [c_alu(d)]


def amo_base(d):
    off = d.int(-512, 511) * 4
    return [(i_type(off, 31, 0, 29, 0x13), f"addi x29, x31, {off}")]


def piece(d):
    """A few instructions that never trap: list of (word, text)."""
    kind = d.int(0, 25)
    if kind >= 20:
        return c_piece(d)
    if kind < 9:
        return [any_alu(d)]
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
    skipped = [any_alu(d) for _ in range(d.int(0, 3))]    # run or skipped, as it happens
    k = 4 + sum(size(w) for w, _ in skipped)
    if kind == 16 or kind == 17:
        name, rs1, rs2 = d.pick(list(BRANCHES)), d.int(0, 31), d.int(0, 31)
        return [(b_type(k, rs1, rs2, BRANCHES[name]), f"{name} x{rs1}, x{rs2}, .+{k}")] + skipped
    rd = dest(d)
    if kind == 18:
        return [(j_type(k, rd), f"jal x{rd}, .+{k}")] + skipped
    off = k + 4 + d.int(0, 1)                            # jalr clears bit 0 of the target
    # (auipc at A, jalr at A + 4, the skipped ones from A + 8: the target is A + 4 + k)
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


def encode(words):
    """The program's bytes: each word in its own size (2 or 4 bytes), little-endian."""
    return b"".join(w.to_bytes(size(w), "little") for w in words)


def run_unicorn(regs, data, words, code_at=BASE):
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(BASE, DATA - BASE + DATA_SIZE)
    blob = encode(words)
    uc.mem_write(code_at, blob)
    uc.mem_write(DATA, data)
    for i in range(1, 32):
        uc.reg_write(UC_RISCV_REG_X0 + i, regs[i])
    end = code_at + len(blob) - 4                        # the final ecall is not executed
    uc.emu_start(code_at, end, count=4 * len(words))
    out = [uc.reg_read(UC_RISCV_REG_X0 + i) & M32 for i in range(32)]
    return out, uc.reg_read(UC_RISCV_REG_PC) & M32, bytes(uc.mem_read(DATA, DATA_SIZE))


def run_hart(regs, data, words, code_at=BASE, vm=None):
    vm = vm or VM(**{f"x{i}": regs[i] for i in range(1, 32)})
    blob = encode(words)
    for i in range(0, len(blob), 2):
        vm.w16(code_at + i, int.from_bytes(blob[i:i + 2], "little"))
    vm.ram[DATA - BASE:DATA - BASE + DATA_SIZE] = memoryview(data)
    vm[PC] = code_at
    code = vm.run(4 * len(words))
    assert code == RUN_SBI, f"run() returned {code}, pc {vm[PC]:#x}"
    return [vm.x(i) for i in range(32)], vm[PC], vm.bytes(DATA, DATA_SIZE)


def listing(code, at=BASE):
    lines = []
    for w, t in code:
        lines.append(f"{at:08x}: {w:0{2 * size(w)}x}  {t}")
        at += size(w)
    return "\n".join(lines)


def compare(got, want):
    (got_regs, got_pc, got_data), (want_regs, want_pc, want_data) = got, want
    diffs = [f"x{i}: hart {g:#x} unicorn {w:#x}" for i, (g, w) in
             enumerate(zip(got_regs, want_regs)) if g != w]
    assert not diffs, "\n".join(diffs)
    assert got_pc == want_pc
    if got_data != want_data:
        bad = [i for i in range(DATA_SIZE) if got_data[i] != want_data[i]]
        raise AssertionError(f"memory differs at {[hex(DATA + i) for i in bad[:8]]}")


def check(regs, data, code):
    words = [w for w, _ in code] + [ECALL]
    if currently_in_test_context():
        note(listing(code))
        note("registers: " + " ".join(f"x{i}={v:#x}" for i, v in enumerate(regs)))
    compare(run_hart(regs, data, words), run_unicorn(regs, data, words))


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
    """The generator covers all of RV32IM, A and C (so the 2,000 programs do too)."""
    seen = set()
    for seed in range(60):
        for _, text in seeded_program(seed)[2]:
            seen.add(text.split()[0].split(".aq")[0].split(".rl")[0])
    want = set(OPS) | set(IMM_OPS) | set(SHIFTS) | set(LOADS) | set(STORES) | set(BRANCHES) \
        | set(AMOS) | {"lui", "auipc", "jal", "jalr", "lr.w", "sc.w", "fence", "fence.i"} \
        | set(RVC)
    assert want <= seen, want - seen


RVC = ["c.addi", "c.li", "c.lui", "c.slli", "c.srli", "c.srai", "c.andi", "c.sub", "c.xor",
       "c.or", "c.and", "c.mv", "c.add", "c.addi4spn", "c.addi16sp", "c.lw", "c.sw", "c.lwsp",
       "c.swsp", "c.beqz", "c.bnez", "c.j", "c.jal", "c.jr", "c.jalr"]


def _gnu_bytes(code):
    """GNU as's bytes for (word, text) lines: c.* under .option rvc, the rest under norvc."""
    from test_rvc import _gnu_parcels
    lines = [(".option rvc\n" if t.startswith("c.") else ".option norvc\n") + t for _, t in code]
    parcels = _gnu_parcels(lines, "rv32imac_zicsr_zifencei")
    return b"".join(p.to_bytes(2, "little") for p in parcels)


@pytest.mark.skipif(not shutil.which("riscv64-unknown-elf-as"), reason="no RISC-V assembler")
def test_encoder_matches_the_assembler():
    code = [c for seed in range(20) for c in seeded_program(seed)[2]]
    if _gnu_bytes(code) != encode([w for w, _ in code]):      # find the first line that differs
        for w, t in code:
            assert _gnu_bytes([(w, t)]) == encode([w]), f"{w:#x} {t}"


# ---------------------------------------------------------------- code written, then executed
ROUTINE = BASE + 0x1000         # the routine's page (the main program is at BASE)
ALIAS = BASE + 0x3000           # a second guest-physical page of the routine's host page
KEEP = (25, 27, 28, 29, 30, 31)  # registers the written-code programs reserve


def routine(d, nbytes):
    """Random straight-line ALU code (mixed sizes) of exactly ``nbytes``, then jalr x0, 0(x27)."""
    code, used = [], 0
    while used < nbytes:
        rd = d.pick([r for r in range(1, 31) if r not in KEEP])
        w, t = c_alu(d, rd) if nbytes - used == 2 or d.int(0, 1) else alu(d, rd)
        if "x30" in t.replace(",", " ").split():
            continue                                   # x30 differs by design (see below)
        code.append((w, t))
        used += size(w)
    return code + [(i_type(0, 27, 0, 0, 0x67), "jalr x0, 0(x27)")]


def li(rd, value):
    hi, lo = (value + 0x800) >> 12 & 0xFFFFF, ((value & 0xFFF) ^ 0x800) - 0x800
    return [((hi << 12) | (rd << 7) | 0x37, f"lui x{rd}, {hi:#x}"),
            (i_type(lo, rd, 0, rd, 0x13), f"addi x{rd}, x{rd}, {lo}")]


def written_program(d, fence):
    """(registers, data, main code, first routine): run the routine, overwrite it through
    x30 with another of the same size (32-bit, 16-bit and 8-bit stores), maybe fence.i, run
    it again; twice."""
    regs = [0] + [d.pick(EDGES) if d.int(0, 2) else d.int(0, M32) for _ in range(30)] + [DBASE]
    data = random.Random(d.int(0, 2**32)).randbytes(DATA_SIZE)
    nbytes = 4 * d.int(2, 12)
    first = routine(d, nbytes)
    main = []
    call_at = lambda: BASE + sum(size(w) for w, _ in main)        # noqa: E731
    for _ in range(3):
        main.append((j_type(ROUTINE - call_at(), 27), f"jal x27, .+{ROUTINE - call_at()}"))
        new = encode([w for w, _ in routine(d, nbytes)][:-1])
        at = 0
        while at < nbytes:
            n = d.pick([4, 2, 1])                    # naturally aligned, inside the routine
            while at % n or at + n > nbytes:
                n //= 2
            v = int.from_bytes(new[at:at + n], "little")
            main += li(25, v)
            f3 = {4: 2, 2: 1, 1: 0}[n]
            main.append((s_type(at, 25, 30, f3), f"{['sb', 'sh', 'sw'][f3]} x25, {at}(x30)"))
            at += n
        if fence:
            main.append((0x0000100F, "fence.i"))
    main.append((j_type(ROUTINE - call_at(), 27), f"jal x27, .+{ROUTINE - call_at()}"))
    return regs, data, main, first


def check_written(regs, data, main, first, through_alias):
    words = [w for w, _ in main] + [ECALL]
    if currently_in_test_context():
        note(listing(main) + "\nroutine:\n" + listing(first, ROUTINE))
    uregs = list(regs)
    uregs[30] = ROUTINE                           # Unicorn: stores to the routine itself
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(BASE, DATA - BASE + DATA_SIZE)
    uc.mem_write(ROUTINE, encode([w for w, _ in first]))
    uc.mem_write(BASE, encode(words))
    uc.mem_write(DATA, data)
    for i in range(1, 32):
        uc.reg_write(UC_RISCV_REG_X0 + i, uregs[i])
    uc.emu_start(BASE, BASE + len(encode(words)) - 4, count=100_000)
    want = ([uc.reg_read(UC_RISCV_REG_X0 + i) & M32 for i in range(32)],
            uc.reg_read(UC_RISCV_REG_PC) & M32, bytes(uc.mem_read(DATA, DATA_SIZE)))
    hregs = list(regs)
    hregs[30] = ALIAS if through_alias else ROUTINE
    vm = VM(**{f"x{i}": hregs[i] for i in range(1, 32)})
    if through_alias:                              # guest page ALIAS -> the routine's host page
        vm.gmap[(ALIAS - BASE) >> 12] = vm.gmap[(ROUTINE - BASE) >> 12]
    blob = encode([w for w, _ in first])
    for i in range(0, len(blob), 2):
        vm.w16(ROUTINE + i, int.from_bytes(blob[i:i + 2], "little"))
    vm[PC] = BASE
    got_regs, got_pc, got_data = run_hart(regs, data, words, vm=vm)
    got_regs[30] = ROUTINE                         # the one register that differs by design
    compare((got_regs, got_pc, got_data), want)


@pytest.mark.parametrize("fence", [True, False], ids=["fence.i", "no-fence"])
@pytest.mark.parametrize("through_alias", [False, True], ids=["same-page", "second-mapping"])
@settings(max_examples=150, **SETTINGS)
@given(blob=PROGRAMS)
def test_written_code_matches_unicorn(blob, fence, through_alias):
    check_written(*written_program(ByteDraws(blob), fence), through_alias)


def test_a_known_program_matches_unicorn():
    """A fixed program through the same path, in case hypothesis is misconfigured."""
    regs = [0, 0x80000000, 0xFFFFFFFF] + [7] * 28 + [DBASE]
    code = [(0x0220C1B3, "div x3, x1, x2"), (0x0220E233, "rem x4, x1, x2"),
            (0x002FA2AF, "amoadd.w x5, x2, (x31)")]
    check(regs, bytes(DATA_SIZE), code)
