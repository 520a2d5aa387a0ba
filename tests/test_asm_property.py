"""Property tests (issue 6): random valid instructions encode, decode and re-encode to the
same word; their disassembly assembles back to the same word."""
from hypothesis import assume, given, settings, strategies as st

from hypervisor.asm import assemble_text
from hypervisor.asm.disasm import decode_text
from hypervisor.isa.instructions import INSTRUCTIONS, decode

FIELDS = {
    "rd": st.integers(0, 31), "rs1": st.integers(0, 31), "rs2": st.integers(0, 31),
    "shamt": st.integers(0, 31), "uimm": st.integers(0, 31), "csr": st.integers(0, 4095),
    "imm_i": st.integers(-2048, 2047), "imm_s": st.integers(-2048, 2047),
    "imm_b": st.integers(-2048, 2047).map(lambda v: 2 * v),          # even, +-4 KiB
    "imm_u": st.integers(0, 0xFFFFF),
    "imm_j": st.integers(-(1 << 19), (1 << 19) - 1).map(lambda v: 2 * v),   # even, +-1 MiB
    "pred": st.integers(0, 15), "succ": st.integers(0, 15),
}


@st.composite
def instructions(draw):
    insn = draw(st.sampled_from(INSTRUCTIONS))
    return insn, {name: draw(FIELDS[name]) for name in insn.fields}


@settings(max_examples=1500, deadline=None)
@given(instructions())
def test_encode_decode_reencode(case):
    insn, fields = case
    word = insn.encode(**fields)
    found = decode(word)
    assert found is not None, f"{insn.mnemonic} {fields} -> {word:#010x} does not decode"
    assert found[0] is insn and found[1] == fields
    assert found[0].encode(**found[1]) == word


@settings(max_examples=1500, deadline=None)
@given(st.integers(0, 0xFFFFFFFF))
def test_any_word_that_decodes_reencodes_to_itself(word):
    found = decode(word)
    if found is not None:
        assert found[0].encode(**found[1]) == word


PC = 0x80400000


@settings(max_examples=300, deadline=None)
@given(instructions())
def test_disassembly_assembles_back(case):
    insn, fields = case
    word = insn.encode(**fields)
    mn, ops = decode_text(word, PC)
    assume("unknown" not in ops)            # fence with an empty predecessor/successor set
    if insn.fmt in ("B", "J"):              # targets relative to `.`, as --source writes them
        offset = fields.get("imm_b", fields.get("imm_j"))
        ops = ops.replace(f"{(PC + offset) & 0xFFFFFFFF:#x}", f".{offset:+d}")
    elf = assemble_text(f"    {mn} {ops}\n", base=PC)
    from hypervisor.asm.reference import alloc_sections
    addr, data, _size = alloc_sections(elf)[".text"]
    assert addr == PC and int.from_bytes(data[:4], "little") == word, f"{mn} {ops}"


# --- compressed instructions (issue 12) -----------------------------------------------------

from hypervisor.isa.compressed import C_INSTRUCTIONS, decode16, field_range   # noqa: E402
from hypervisor.isa.compressed import REG_FIELDS                              # noqa: E402


def _c_field(name):
    if name in REG_FIELDS:
        _lo, width, offset = REG_FIELDS[name]
        return st.integers(offset, offset + (1 << width) - 1)
    lo, hi, step = field_range(name)
    return st.integers(lo // step, hi // step).map(lambda v: v * step)


@st.composite
def compressed(draw):
    insn = draw(st.sampled_from(C_INSTRUCTIONS))
    return insn, {name: draw(_c_field(name)) for name in insn.fields}


@settings(max_examples=1500, deadline=None)
@given(compressed())
def test_compressed_encode_decode(case):
    insn, fields = case
    parcel = insn.encode(**fields)
    assert parcel & 3 != 3 and parcel < 0x10000
    found = decode16(parcel)
    if found is not None and found[0] is insn:        # else a reserved or more specific form
        assert found[1] == fields
    if found is not None:
        assert found[0].encode(**found[1]) == parcel


MIXED = ["addi a0, a0, 1", "addi a0, a1, 100", "lw a1, 8(sp)", "sw s0, 4(s1)", "li t0, 5",
         "li t1, 0x12345678", "mv a2, a3", "add a4, a4, a5", "sub s0, s0, s1", "and a0, a0, 7",
         "slli a1, a1, 3", "srai s1, s1, 2", "lui a5, 1", "ret", "jalr a0", "ebreak", "nop",
         "beqz a0, {L}", "bnez s1, {L}", "beqz a6, {L}", "blt a0, a1, {L}", "j {L}", "jal {L}",
         ".option rvc; c.j {L}", ".option rvc; c.beqz a0, {L}", ".option norvc", ".option rvc",
         ".space 200",
         ".space 3000", ".balign 4", ".byte 7, 8", ".half 0x1234"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(MIXED), st.integers(0, 9)), min_size=1, max_size=40))
def test_mixed_compressed_code_disassembles_and_reassembles(lines):
    """Random code with 16- and 32-bit instructions, data and relaxed branches: `hv dis
    --source` of it assembles to the same bytes (branch targets are labels 0..9)."""
    from hypervisor.asm.elfread import read_elf
    from hypervisor.asm.reassemble import to_source
    from hypervisor.asm.reference import alloc_sections
    body = []
    for i, (line, target) in enumerate(lines):
        body.append(f"L{i}:")
        body.append("    " + line.replace("{L}", f"L{min(target, len(lines) - 1)}"))
    body += [".option rvc", "    c.nop"]          # a 16-bit parcel, so the image is RVC
    march = "rv32imac_zicsr_zifencei"
    original = assemble_text("\n".join(body), base=PC, march=march)
    again = assemble_text(to_source(read_elf(original)), base=PC, march=march)
    assert alloc_sections(again) == alloc_sections(original)
