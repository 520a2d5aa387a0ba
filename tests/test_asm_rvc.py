"""The C extension in hv asm and hv dis (issue 12): hand-encoded words, every 16-bit parcel
both ways, and GNU as 2.40 / objdump as the reference for the choices GNU as makes.

The GNU tests compare (a) which lines each assembler rejects and (b) the bytes of the rest,
for a grid of every mnemonic that has a compressed form crossed with registers and
immediates at the edges of each field, for branches and jumps at the edges of their reach,
and for every one of the 49152 parcels whose low bits are not 11 in the disassembler.
"""
import itertools
import re

import pytest

from hypervisor.asm import AsmError, assemble_text
from hypervisor.asm import reference as ref
from hypervisor.asm.disasm import decode_text
from hypervisor.asm.march import MarchError, parse_march, update_march
from hypervisor.asm.registers import register_number
from hypervisor.isa.compressed import C_INSTRUCTIONS, decode16, expand, hint
from hypervisor.isa.instructions import decode

RVC = "rv32imac_zicsr_zifencei"
BASE = 0x80400000
needs_gnu = pytest.mark.skipif(
    not ref.available(), reason="riscv64-unknown-elf-as/ld/objdump are not installed (CI has them)")


def text_bytes(source, march=RVC):
    return ref.alloc_sections(assemble_text(source, march=march))[".text"][1]


def parcels(data):
    return [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2)]


# --- hand-encoded: the bits written out from the formats of Vol. I table 16.1 -------------

HAND = [
    # source                        word    fields, bit 15 first
    ("c.addi4spn s0, sp, 4", 0x0040),    # 000 nzuimm[5:4|9:6|2|3]=00 0000 1 0  rd'=000 00
    ("c.addi4spn a5, sp, 1020", 0x1FFC),  # 000 11 1111 1 1  rd'=111 00
    ("c.lw a0, 0(a1)", 0x4188),          # 010 uimm[5:3]=000 rs1'=011 uimm[2|6]=00 rd'=010 00
    ("c.lw s1, 124(a5)", 0x5FE4),        # 010 111 111 11 001 00
    ("c.sw a3, 64(a4)", 0xC334),         # 110 000 110 01 101 00
    ("c.nop", 0x0001),                   # 000 0 00000 00000 01
    ("c.addi a0, 1", 0x0505),            # 000 imm[5]=0 rd=01010 imm[4:0]=00001 01
    ("c.addi sp, -32", 0x1101),          # 000 1 00010 00000 01
    ("c.jal .+2", 0x2009),               # 001 imm[11|4|9:8|10|6|7|3:1|5]=0 0 00 0 0 0 001 0 01
    ("c.li a0, -32", 0x5501),            # 010 1 01010 00000 01
    ("c.addi16sp sp, -512", 0x7101),     # 011 nzimm[9]=1 00010 nzimm[4|6|8:7|5]=0 0 00 0 01
    ("c.addi16sp sp, 496", 0x617D),      # 011 0 00010 1 1 11 1 01
    ("c.lui a0, 1", 0x6505),             # 011 nzimm[17]=0 01010 nzimm[16:12]=00001 01
    ("c.lui t6, 0xfffff", 0x7FFD),       # 011 1 11111 11111 01
    ("c.srli a0, 1", 0x8105),            # 100 0 00 010 00001 01
    ("c.srai a5, 16", 0x87C1),           # 100 0 01 111 10000 01
    ("c.andi s0, -32", 0x9801),          # 100 1 10 000 00000 01
    ("c.sub s0, s1", 0x8C05),            # 100 0 11 000 00 001 01
    ("c.xor a0, a5", 0x8D3D),            # 100 0 11 010 01 111 01
    ("c.or a1, a2", 0x8DD1),             # 100 0 11 011 10 100 01
    ("c.and a3, a4", 0x8EF9),            # 100 0 11 101 11 110 01
    ("c.j .+2", 0xA009),                 # 101 0 0 00 0 0 0 001 0 01
    ("c.beqz a0, .", 0xC101),            # 110 off[8|4:3]=000 rs1'=010 off[7:6|2:1|5]=00000 01
    ("c.bnez s1, .-2", 0xFCFD),          # 111 1 11 001 11 11 1 01
    ("c.slli ra, 1", 0x0086),            # 000 0 00001 00001 10
    ("c.lwsp ra, 0(sp)", 0x4082),        # 010 uimm[5]=0 00001 uimm[4:2|7:6]=000 00 10
    ("c.lwsp t6, 252(sp)", 0x5FFE),      # 010 1 11111 111 11 10
    ("c.jr ra", 0x8082),                 # 100 0 00001 00000 10
    ("c.mv a0, a1", 0x852E),             # 100 0 01010 01011 10
    ("c.ebreak", 0x9002),                # 100 1 00000 00000 10
    ("c.jalr a0", 0x9502),               # 100 1 01010 00000 10
    ("c.add a0, a1", 0x952E),            # 100 1 01010 01011 10
    ("c.swsp ra, 12(sp)", 0xC606),       # 110 uimm[5:2|7:6]=0011 00 00001 10
    ("c.swsp t6, 252(sp)", 0xDFFE),      # 110 1111 11 11111 10
    ("c.unimp", 0x0000),
    # HINTs (table 16.3)
    ("c.li zero, 7", 0x401D),            # 010 0 00000 00111 01
    ("c.nop 5", 0x0015),                 # 000 0 00000 00101 01
    ("c.slli64 a0", 0x0502),             # 000 0 01010 00000 10
]


@pytest.mark.parametrize("source, word", HAND, ids=[h[0] for h in HAND])
def test_hand_encoded(source, word):
    assert parcels(text_bytes(source))[0] == word


# the 32-bit instruction each executes as (sec. 16.1), encoded by hand
EXPANSIONS = [
    (0x1141, 0xFF010113),   # c.addi sp,-16   -> addi sp,sp,-16: imm 0xff0, rs1 2, rd 2
    (0x4082, 0x00012083),   # c.lwsp ra,0(sp) -> lw ra,0(sp):    rs1 2, funct3 010, rd 1
    (0xC606, 0x00112623),   # c.swsp ra,12(sp)-> sw ra,12(sp):   rs2 1, rs1 2, imm 12
    (0x852E, 0x00B00533),   # c.mv a0,a1      -> add a0,x0,a1
    (0x8082, 0x00008067),   # c.jr ra         -> jalr x0,0(ra)
    (0x9002, 0x00100073),   # c.ebreak        -> ebreak
    (0x6505, 0x00001537),   # c.lui a0,1      -> lui a0,1
    (0xA009, 0x0020006F),   # c.j .+2         -> jal x0,.+2
    (0x401D, 0x00700013),   # c.li zero,7 (a HINT) -> addi x0,x0,7
    (0x0000, None),         # c.unimp: illegal
    (0x0004, None),         # c.addi4spn with nzuimm 0: reserved
    (0x2000, None),         # c.fld: no D here
    (0x9001, None),         # c.srli with shamt[5]=1: reserved on RV32 (NSE)
    (0x8002, None),         # c.jr x0: reserved
]


@pytest.mark.parametrize("parcel, word", EXPANSIONS, ids=[f"{p:#06x}" for p, _ in EXPANSIONS])
def test_expansion_by_hand(parcel, word):
    assert expand(parcel) == word


# --- every parcel, both directions ----------------------------------------------------------

ALL = [p for p in range(1 << 16) if p & 3 != 3]


def test_every_parcel_decodes_and_encodes_to_itself():
    counts = {"decoded": 0, "hint": 0}
    for p in ALL:
        found = decode16(p)
        if found is None:
            continue
        insn, fields = found
        assert insn.encode(**fields) == p, f"{p:#06x} {insn.mnemonic} {fields}"
        counts["decoded"] += 1
        counts["hint"] += hint(insn, fields)
    # HINTs (table 16.3): c.nop imm!=0 (63), c.addi rd!=0 imm=0 (31), c.li rd=0 (64),
    # c.lui rd=0 imm!=0 (63), c.mv and c.add rd=0 rs2!=0 (31 + 31), c.slli rd=0 (31 shifts),
    # c.slli64 (32 rd), c.srli64 and c.srai64 (8 + 8): 362
    assert counts == {"decoded": 28824, "hint": 362}


def _relative(text, pc):
    """Branch targets written relative to `.` so the line assembles anywhere."""
    return re.sub(r"0x([0-9a-f]{8})", lambda m: f".{int(m.group(1), 16) - pc:+d}", text)


def test_expansion_is_what_the_32bit_alias_assembles_to():
    """Each legal, non-HINT parcel: objdump's name for it (`addi sp,sp,-16`), assembled
    without C, is the 32-bit word `expand` says the parcel executes as (c.mv is printed
    `mv`, which assembles to addi; the spec expands it to add rd, x0, rs2)."""
    cases = []
    for p in ALL:
        found = decode16(p)
        if found is None or found[0].mnemonic == "c.unimp" or hint(*found):
            continue
        mn, ops = decode_text(p, BASE)
        if found[0].mnemonic == "c.mv":
            mn, ops = "add", ops.replace(",", ",zero,")
        cases.append((p, f"    {mn} {_relative(ops, BASE)}"))
    source = "\n".join(line for _p, line in cases)
    data = text_bytes(source, march="rv32ima_zicsr_zifencei")
    words = [int.from_bytes(data[4 * i:4 * i + 4], "little") for i in range(len(cases))]
    bad = [(hex(p), line, hex(w)) for (p, line), w in zip(cases, words) if expand(p) != w]
    assert not bad[:10] and len(cases) == 28824 - 362 - 1


def test_no_aliases_text_assembles_back_to_the_parcel():
    """`hv dis --no-aliases` of every parcel we decode (HINTs too) reassembles, with C,
    to that parcel: the assembler accepts every c. form the disassembler writes."""
    cases = []
    for p in ALL:
        if decode16(p) is None:
            continue
        mn, ops = decode_text(p, BASE, aliases=False)
        cases.append((p, f"    {mn} {_relative(ops, BASE)}".rstrip()))
    got = parcels(text_bytes("\n".join(line for _p, line in cases)))
    bad = [(hex(p), line, hex(g)) for (p, line), g in zip(cases, got) if p != g]
    assert not bad[:10] and len(got) >= len(cases)


# objdump 2.40 decodes these too; on RV32IMAC they are illegal (table 16.5-16.7)
OBJDUMP_ONLY = {"c.fld", "c.fldsp", "c.flw", "c.flwsp", "c.fsd", "c.fsdsp", "c.fsw", "c.fswsp",
                "c.slli", "c.srli", "c.srai",   # with shamt[5] = 1 (RV64 shifts)
                "c.addi16sp"}                   # with a zero immediate
IMM_ALIASES = {"add": "addi", "and": "andi", "sll": "slli", "srl": "srli", "sra": "srai"}


@pytest.fixture(scope="module")
def every_parcel_elf():
    return assemble_text(".text\n" + "".join(f".2byte {p:#x}\n" for p in ALL), base=BASE)


@needs_gnu
@pytest.mark.parametrize("aliases", [True, False], ids=["default", "no-aliases"])
def test_every_parcel_disassembles_as_objdump(every_parcel_elf, aliases):
    dump = ref.objdump(every_parcel_elf, "-z", *([] if aliases else ["-M", "no-aliases"]))
    theirs = {}
    for line in dump.splitlines():
        m = re.match(r"^([0-9a-f]+):\t([0-9a-f]{4}) +\t(\S+)(?:\t([^#]*))?", line)
        if m:
            theirs[int(m.group(2), 16)] = (m.group(3), (m.group(4) or "").strip(), int(m.group(1), 16))
    assert len(theirs) == len(ALL)
    undecoded = set()
    for p in ALL:
        tmn, tops, addr = theirs[p]
        mn, ops = decode_text(p, addr, None, aliases)
        if mn == ".2byte":
            if tmn != ".2byte":
                undecoded.add(tmn if tmn.startswith("c.") else decode_text(p, 0, None, False)[0])
            continue
        if tmn in IMM_ALIASES and register_number(tops.split(",")[-1]) is None:
            tmn = IMM_ALIASES[tmn]     # binutils 2.40 names addi "add" when it has an imm
        assert (mn, ops) == (tmn, tops), f"{p:#06x}"
    assert undecoded <= OBJDUMP_ONLY | {".2byte"}


# --- GNU as's compression choices, exhaustively -----------------------------------------------

R = ["zero", "ra", "sp", "gp", "s0", "s1", "a0", "a5", "a6", "t6"]
R3 = ["zero", "ra", "sp", "s0", "s1", "a5", "a6"]
IMM6 = [-33, -32, -1, 0, 1, 31, 32]


def grid():
    """Lines covering every mnemonic with a 16-bit form: valid, invalid and near misses."""
    out = []
    for mn in ("add", "and", "or", "xor", "sub", "sll", "slt", "mul"):
        out += [f"{mn} {a}, {b}, {c}" for a, b, c in itertools.product(R3, R3, R3)]
    for mn in ("addi", "andi", "ori", "xori", "slti", "add", "and", "or", "xor"):
        imms = IMM6 + [2047, 0xffffffff]
        if mn in ("addi", "add"):
            imms += [16, -16, 48, -512, -528, 496, 512, 4, 8, 1020, 1024, 2, -2048]
        out += [f"{mn} {a}, {b}, {i}" for a, b in itertools.product(R, R) for i in imms]
    for mn in ("slli", "srli", "srai", "sll", "srl", "sra"):
        out += [f"{mn} {a}, {b}, {i}" for a, b in itertools.product(R, R) for i in (0, 1, 31, 32)]
    for mn in ("lw", "sw", "lh", "sb"):
        out += [f"{mn} {a}, {off}({b})" for a, b in itertools.product(R, R)
                for off in ("0", "4", "2", "124", "128", "252", "256", "-4", "")]
    for a in R:
        for v in (0, 1, -1, 31, 32, -32, -33, 0x1000, 0x1f000, 0x20000, -4096, 0xfffff000,
                  0xfffe0000, 0x1001, 0x1fff, 0x12345678, 0x80000000, 0xffffffff, 2047, 2048,
                  -2048, -2049, 0x21000):
            out += [f"li {a}, {v}", f"la {a}, {v}"]
        out += [f"lui {a}, {v}" for v in (0, 1, 31, 32, 0xfffe0, 0xfffdf, 0xfffff, -1)]
        for b in R:
            out += [f"mv {a}, {b}", f"not {a}, {b}", f"jalr {a}, {b}", f"jalr {a}, 0({b})"]
        out += [f"jr {a}", f"jalr {a}", f"jr 0({a})", f"jr {a}, 0"]
        for i in IMM6:
            out += [f"{mn} {a}, {i}" for mn in ("c.addi", "c.li", "c.andi", "c.nop")]
        out += [f"c.lui {a}, {i}" for i in (0, 1, 31, 32, 0xfffe0, 0xfffff, 0xfffdf)]
        out += [f"{mn} {a}, {i}" for i in (0, 1, 31, 32) for mn in ("c.slli", "c.srli", "c.srai")]
        out += [f"{mn} {a}" for mn in ("c.slli64", "c.srli64", "c.srai64", "c.jr", "c.jalr")]
        for b in R:
            out += [f"{mn} {a}, {b}" for mn in ("c.mv", "c.add", "c.sub", "c.and", "c.or", "c.xor")]
            out += [f"{mn} {a}, {off}({b})" for off in ("0", "4", "124", "128", "252", "2", "")
                    for mn in ("c.lw", "c.sw", "c.lwsp", "c.swsp")]
        out += [f"c.addi4spn {a}, sp, {i}" for i in (0, 4, 2, 1020, 1024, -4)]
        out += [f"c.addi16sp {a}, {i}" for i in (0, 16, -16, -512, 496, 512, 8)]
    out += ["nop", "ret", "ebreak", "sbreak", "unimp", "ecall", "fence", "c.nop", "c.ebreak",
            "c.unimp"]
    return ".text\n" + "".join(f"    {line}\n" for line in out)


def our_errors(text, march):
    try:
        assemble_text(text, march=march)
    except AsmError as exc:
        return {e.line: e.message for e in exc.errors}
    return {}


@pytest.fixture(scope="module")
def the_grid():
    return grid()


@needs_gnu
@pytest.mark.parametrize("march", [RVC, "rv32ima_zicsr_zifencei"])
def test_grid_matches_gnu(the_grid, march, tmp_path):
    gnu_err = ref.gnu_errors(the_grid, march, workdir=tmp_path)
    ours = our_errors(the_grid, march)
    assert sorted(ours) == sorted(gnu_err), "the same lines are errors"
    lines = the_grid.splitlines()
    good = "\n".join(l for i, l in enumerate(lines, 1) if i not in gnu_err) + "\n"
    path = tmp_path / "good.s"
    path.write_text(good)
    mine = assemble_text(good, march=march)
    gnu, _ = ref.gnu_build([str(path)], mine, workdir=tmp_path, march=march)
    assert ref.alloc_sections(mine) == ref.alloc_sections(gnu)
    assert (len(lines), len(gnu_err)) == ((24485, 3934) if march == RVC else (24485, 4663))


# --- branches and jumps at the edges of their reach -------------------------------------------

BRANCHES = ["beqz a0,", "bnez s1,", "beqz a6,", "bnez zero,", "beq a0, zero,", "bne a5, x0,",
            "beq zero, a0,", "bltz a0,", "blt a0, a1,", "c.beqz a0,", "c.bnez s0,"]
JUMPS = ["j", "jal", "c.j", "c.jal", "jal ra,", "jal zero,", "jal a0,"]


def branch_grid(rvc):
    kinds = [k for k in BRANCHES + JUMPS if rvc or not k.startswith("c.")]
    out = [".text", ".globl ext_far", ".weak wk"]
    for k in kinds:
        out += [f"    {k} {t}" for t in ("other", "ext_far", "wk", "loc_g", ". + 8", ".",
                                          "other + 4")]
    out += ["    .globl loc_g", "loc_g: nop", "wk: nop"]
    n = 0
    for gap in (0, 250, 252, 254, 256, 2042, 2044, 2046, 2048, 4090, 4092, 4094, 4096):
        for k in kinds:
            n += 1
            out += [f"    {k} .Lf{n}", f"    .space {gap}", f".Lf{n}:"]
            out += [f".Lb{n}:", f"    .space {gap}", f"    {k} .Lb{n}"]
    out += [f"    beqz a0, .Lc{i}" for i in range(40)] + ["    .space 200"]
    for i in range(40):
        out += [f".Lc{i}:", "    nop"]
    out += ["    .section .text.other, \"ax\"", "other: nop"]
    return "\n".join(out) + "\n"


@needs_gnu
@pytest.mark.parametrize("relax", [False, True], ids=["no-relax", "gnu-defaults"])
@pytest.mark.parametrize("march", [RVC, "rv32ima_zicsr_zifencei"])
def test_branch_relaxation_matches_gnu(march, relax, tmp_path):
    main, ext = tmp_path / "br.s", tmp_path / "ext.s"
    main.write_text(branch_grid("c" in parse_march(march)))
    ext.write_text(".text\n.globl ext_far\next_far: nop\n")
    from hypervisor.asm import assemble_files
    mine = assemble_files([str(main), str(ext)], march=march)
    gnu, _ = ref.gnu_build([str(main), str(ext)], mine, workdir=tmp_path, relax=relax, march=march)
    assert ref.alloc_sections(mine) == ref.alloc_sections(gnu)


# GNU as measures a forward branch with its target's address from the previous pass (and 0 in
# its first guess): a c.beqz 252 bytes short of its target fits, but one guessed long stays
# 4 bytes.  (gas/write.c relax_segment; tc-riscv.c relaxed_branch_length ignores `stretch`.)
EDGE = [("", 252, 2), (".space 4096\n", 252, 4), (".space 4096\n", 250, 2),
        ("c.nop\n" * 2048, 252, 4), ("", 254, 4), (".space 100\n", 200, 2)]


@pytest.mark.parametrize("before, gap, size", EDGE, ids=[f"{len(b)}-{g}" for b, g, _ in EDGE])
def test_forward_branch_at_the_edge(before, gap, size):
    source = f"{before}    beqz a0, 1f\n    .space {gap}\n1:  nop\n"
    data = text_bytes(source)
    at = len(text_bytes(before + "x:")) if before else 0
    word = int.from_bytes(data[at:at + 4], "little")
    assert (2 if word & 3 != 3 else 4) == size


@needs_gnu
@pytest.mark.parametrize("before, gap, size", EDGE, ids=[f"{len(b)}-{g}" for b, g, _ in EDGE])
def test_forward_branch_at_the_edge_as_gnu(before, gap, size, tmp_path):
    path = tmp_path / "edge.s"
    path.write_text(f"{before}    beqz a0, 1f\n    .space {gap}\n1:  nop\n")
    mine = assemble_text(path.read_text(), march=RVC)
    gnu, _ = ref.gnu_build([str(path)], mine, workdir=tmp_path, march=RVC)
    assert ref.alloc_sections(mine) == ref.alloc_sections(gnu)


# --- -march and .option ---------------------------------------------------------------------

def test_parse_march():
    assert parse_march("rv32imac") == {"i", "m", "a", "c"}
    assert parse_march("rv32i2p1_m2p0_a2p1_c2p0_zicsr2p0_zifencei2p0") == \
        {"i", "m", "a", "c", "zicsr", "zifencei"}
    assert parse_march("rv32im_zmmul") == {"i", "m", "zmmul"}
    for bad in ("rv64i", "rv32gc", "rv32e", "RV32I", "rv32imaf", "rv32i_zba", "rv32x"):
        with pytest.raises(MarchError):
            parse_march(bad)
    assert update_march(parse_march("rv32ima"), "+c") == {"i", "m", "a", "c"}
    assert update_march(parse_march("rv32imac"), "-c, +zicsr") == {"i", "m", "a", "zicsr"}
    assert update_march(parse_march("rv32imac"), "rv32i") == {"i"}


def test_option_rvc_norvc_push_pop():
    got = text_bytes("""
        addi a0, a0, 1
        .option rvc
        addi a0, a0, 1
        .option push
        .option norvc
        addi a0, a0, 1
        .option pop
        addi a0, a0, 1
        .option arch, -c
        addi a0, a0, 1
    """, march="rv32ima_zicsr_zifencei")
    # 32 bits, 16, 32, 16, 32
    assert got.hex() == "13051500" "0505" "13051500" "0505" "13051500"


def test_text_alignment_follows_march():
    elf = assemble_text("nop\n", march=RVC)
    secs = ref.alloc_sections(elf)
    assert secs[".text"][2] == 2                          # c.nop, no padding to 4
    assert int.from_bytes(elf[36:40], "little") == 1      # EF_RISCV_RVC
    assert ref.alloc_sections(assemble_text(".option rvc\nnop\n"))[".text"][2] == 4


ISA_LINES = ["mul a0, a0, a1", "div a0, a0, a1", "lr.w a0, (a1)", "amoadd.w a0, a1, (a2)",
             "csrr a0, sstatus", "csrw sscratch, a0", "csrrwi a0, sstatus, 1", "rdcycle a0",
             "unimp", "fence.i", "c.addi a0, 1", "addi a0, a0, 1", "ecall", "sret"]


@needs_gnu
@pytest.mark.parametrize("march", ["rv32i", "rv32im_zmmul", "rv32i_zmmul", "rv32ia",
                                   "rv32i_zicsr", "rv32ic", "rv32imac_zifencei", RVC])
def test_extensions_required_as_gnu(march, tmp_path):
    source = ".text\n" + "".join(f"    {line}\n" for line in ISA_LINES)
    assert sorted(our_errors(source, march)) == sorted(ref.gnu_errors(source, march, tmp_path))


@needs_gnu
def test_option_rvc_under_a_norvc_march_as_gnu(tmp_path):
    path = tmp_path / "o.s"
    path.write_text("    addi a0, a0, 1\n    .option rvc\n    addi a0, a0, 1\n    nop\n")
    mine = assemble_text(path.read_text())
    gnu, _ = ref.gnu_build([str(path)], mine, workdir=tmp_path)
    assert ref.alloc_sections(mine) == ref.alloc_sections(gnu)
    assert mine[36:40] == gnu[36:40]                         # e_flags: RVC


def test_compressed_branch_reach_by_hand():
    # c.beqz reaches -256..+254 (CB offset[8:1]); one byte further is a 4-byte beqz
    near = text_bytes("beqz a0, 1f\n.space 252\n1: nop\n")
    far = text_bytes("beqz a0, 1f\n.space 254\n1: nop\n")
    assert parcels(near)[0] == 0xCD7D                        # c.beqz a0, .+254
    assert int.from_bytes(far[:4], "little") == 0x10050163   # beq a0, zero, .+258
    # beyond 4 KiB in the same section: the opposite c.bnez over a jal (6 bytes)
    six = text_bytes("beqz a0, 1f\n.space 5000\n1: nop\n")
    assert parcels(six)[0] == 0xE119                         # c.bnez a0, .+6
    assert decode(int.from_bytes(six[2:6], "little"))[0].mnemonic == "jal"


def test_every_compressed_instruction_is_in_the_corpus():
    from pathlib import Path
    text = (Path(__file__).parent / "asm_corpus" / "rvc.s").read_text()
    used = set(re.findall(r"^\s*(?:[\w.]+:\s*)*(c\.[\w.]+)", text, re.M))
    assert {c.mnemonic for c in C_INSTRUCTIONS} <= used


# --- what a compiler writes -------------------------------------------------------------------

GUESTS = __import__("pathlib").Path(__file__).parent.parent / "guests"
GCC_SOURCES = ["lib/printf.c", "lib/fdt.c", "lib/sv32.c", "compute/compute.c", "rogue/rogue.c"]
needs_gcc = pytest.mark.skipif(
    not (ref.available() and ref.tool("gcc")),
    reason="riscv64-unknown-elf-gcc/as/ld are not installed (CI has them)")


@needs_gcc
@pytest.mark.parametrize("march, opt", [(RVC, "-O2"), (RVC, "-Os"),
                                        ("rv32ima_zicsr_zifencei", "-O2")])
@pytest.mark.parametrize("source", GCC_SOURCES)
def test_gcc_output_matches_gnu(source, march, opt, tmp_path):
    """GCC's assembly for hvlab's own guest sources: the same bytes as GNU as + ld.  String
    literal sections lose their M flag first: GNU ld merges duplicate strings there, which
    hv asm does not (docs/assembly.md, "Differences from GNU as")."""
    import subprocess
    path = tmp_path / "out.s"
    subprocess.run([ref.tool("gcc"), "-S", opt, "-DCOMPUTE_REPORT", f"-march={march}",
                    "-mabi=ilp32", "-mcmodel=medany", "-fno-pic", "-ffreestanding",
                    "-fno-common", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
                    "-ffunction-sections", "-fdata-sections", f"-I{GUESTS / 'lib'}",
                    f"-I{GUESTS / 'compute'}", str(GUESTS / source), "-o", str(path)], check=True)
    path.write_text(path.read_text().replace('"aMS",@progbits,1', '"a",@progbits'))
    undefined = set()
    try:
        assemble_text(path.read_text(), march=march)
    except AsmError as exc:
        for e in exc.errors:
            m = re.match(r"undefined symbol '(.*)'", e.message)
            assert m, str(e)
            undefined.add(m.group(1))
    stub = tmp_path / "stub.s"              # the functions other files would define
    stub.write_text(".text\n" + "".join(f".globl {n}\n{n}: ret\n" for n in sorted(undefined)))
    from hypervisor.asm import assemble_files
    mine = assemble_files([str(path), str(stub)], march=march)
    for relax in (False, True):
        gnu, _ = ref.gnu_build([str(path), str(stub)], mine, workdir=tmp_path, relax=relax,
                               march=march)
        assert ref.alloc_sections(mine) == ref.alloc_sections(gnu), f"relax={relax}"


@needs_gnu
@pytest.mark.parametrize("attribute, march", [
    ("rv32i2p1_m2p0_a2p1_zicsr2p0", RVC),                # GCC's line without C: no compression
    ("rv32i2p1_m2p0_a2p1_c2p0_zicsr2p0", "rv32ima_zicsr_zifencei")])   # with C: compression
def test_attribute_arch_sets_the_isa_as_gnu(attribute, march, tmp_path):
    path = tmp_path / "a.s"
    path.write_text(f'    .attribute arch, "{attribute}"\n    addi a0, a0, 1\n    ret\n')
    mine = assemble_text(path.read_text(), march=march)
    gnu, _ = ref.gnu_build([str(path)], mine, workdir=tmp_path, march=march)
    assert ref.alloc_sections(mine) == ref.alloc_sections(gnu) and mine[36:40] == gnu[36:40]


def test_attribute_arch_after_an_instruction_is_an_error():
    with pytest.raises(AsmError, match="before any instructions"):
        assemble_text('nop\n.attribute arch, "rv32imac"\n')
