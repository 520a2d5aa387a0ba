"""The assembly language in detail, with hand-encoded words (no GNU tools needed)."""
import io

import pytest
from elftools.elf.elffile import ELFFile

from hypervisor.asm import AsmError, assemble_files, assemble_text
from hypervisor.asm.reference import alloc_sections

BASE = 0x80400000


def words(source, section=".text"):
    data = alloc_sections(assemble_text(source))[section][1]
    return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]


def section_bytes(source, section):
    return alloc_sections(assemble_text(source))[section][1]


def symbols(source):
    elf = ELFFile(io.BytesIO(assemble_text(source)))
    return {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}


@pytest.mark.parametrize("source, expected", [
    ("li a0, 0", [0x00000513]),                          # addi a0, zero, 0
    ("li a0, -1", [0xFFF00513]),                         # addi a0, zero, -1
    ("li a0, 0xffffffff", [0xFFF00513]),                 # the same 32-bit value
    ("li a0, 2047", [0x7FF00513]),                       # addi a0, zero, 2047
    ("li a0, 2048", [0x00001537, 0x80050513]),           # lui a0, 1; addi a0, a0, -2048
    ("li a0, 0x12345678", [0x12345537, 0x67850513]),     # lui a0, 0x12345; addi a0, a0, 0x678
    ("li a0, 0x80000000", [0x80000537]),                 # lui a0, 0x80000 (low bits 0: no addi)
    ("li a0, 0x7ffff800", [0x80000537, 0x80050513]),     # lui a0, 0x80000; addi a0, a0, -2048
    ("li t0, 0xfffff000", [0xFFFFF2B7]),                 # lui t0, 0xfffff
    ("la a0, 0x1234", [0x00001537, 0x23450513]),         # la of a constant is li
    ("mv a0, a1", [0x00058513]),                         # addi a0, a1, 0
    ("not a0, a1", [0xFFF5C513]),                        # xori a0, a1, -1
    ("neg a0, a1", [0x40B00533]),                        # sub a0, zero, a1
    ("ret", [0x00008067]),                               # jalr zero, 0(ra)
    ("csrr a0, sstatus", [0x10002573]),                  # csrrs a0, sstatus, zero
    ("csrwi sscratch, 1", [0x1400D073]),                 # csrrwi zero, sscratch, 1
    ("rdtime a0", [0xC0102573]),                         # csrrs a0, time, zero
    ("fence", [0x0FF0000F]),                             # fence iorw, iorw
    ("unimp", [0xC0001073]),                             # csrrw zero, cycle, zero
    ("call f\nf: ret", [0x00000097, 0x008080E7, 0x00008067]),  # auipc ra, 0; jalr 8(ra)
    ("tail f\nf: ret", [0x00000317, 0x00830067, 0x00008067]),  # auipc t1, 0; jr 8(t1)
    ("call f@plt\nf: ret", [0x00000097, 0x008080E7, 0x00008067]),  # as older GCC writes it
])
def test_expansions(source, expected):
    assert words(source) == expected


def test_long_branch_is_opposite_branch_over_jal():
    # beq a0, a1, far (in .text.b): bne a0, a1, .+8 ; jal zero, far
    got = words("beq a0, a1, far\n.section .text.b,\"ax\"\nfar: ret")
    assert got[:2] == [0x00B51463, 0x0040006F]


def test_comments_separators_and_char_constants():
    plain = "addi a0, a0, 35\naddi a1, a1, 59\n"
    source = "addi a0, a0, '#'  // comment\naddi a1, a1, ';' ; /* block\n comment */"
    assert words(source) == words(plain)


def test_rodata_directive_is_section_rodata():
    ours = section_bytes(".rodata\n.word 7", ".rodata")
    assert ours == section_bytes(".section .rodata\n.word 7", ".rodata")


def test_expression_semantics_are_gnu_as_64_bit():
    data = section_bytes(""".data
        .dword -8 >> 1          # logical shift of the 64-bit value
        .word 1 < 2, 7 / -2, -7 % 2, 1 + 2 & 3, 2 == 1 + 1, 5 ! 2, '\\n'
    """, ".data")
    assert int.from_bytes(data[:8], "little") == 0x7FFFFFFFFFFFFFFC
    got = [int.from_bytes(data[i:i + 4], "little", signed=True) for i in range(8, len(data), 4)]
    assert got == [-1, -3, -1, 3, -1, -3, 10]


def test_set_redefinition_keeps_earlier_uses():
    data = section_bytes(".data\n.set C, 1\n.word C\n.set C, C + 1\n.word C, D\n.set D, 9", ".data")
    assert data == bytes([1, 0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0])


def test_strings():
    source = '.data\n.ascii "a\\tb", "\\x41\\101\\\\\\""\n.asciz "z"\n.string ""'
    data = section_bytes(source, ".data")
    assert data == b"a\tbAA\\\"z\0\0"


def test_local_labels():
    # 1: j 1f ; 1: j 1b  ->  jal zero, +4 ; jal zero, 0 (itself)
    assert words("1: j 1f\n1: j 1b") == [0x0040006F, 0x0000006F]


def test_code_section_end_is_padded_like_gnu_as():
    assert section_bytes(".byte 5", ".text") == bytes([5, 0, 1, 0])          # byte, 0, c.nop
    unaligned = section_bytes("nop\n.byte 1\n.align 2\nret", ".text")
    assert unaligned[4:9] == bytes([1, 0x67, 0x80, 0, 0])       # ret right after the byte


def test_symbol_table():
    syms = symbols("""
        .globl _start
        .weak maybe
        .equ SIZE, 64
        .type f, @function
    _start: call f
    .Lhidden: nop
    1:  j 1b
    f:  ret
        .size f, . - f
    """)
    assert syms["_start"]["st_info"]["bind"] == "STB_GLOBAL"
    assert syms["SIZE"]["st_shndx"] == "SHN_ABS" and syms["SIZE"]["st_value"] == 64
    assert syms["f"]["st_info"]["type"] == "STT_FUNC" and syms["f"]["st_size"] == 4
    assert ".Lhidden" not in syms and not any(n.startswith("1") for n in syms)
    assert "maybe" not in syms             # undefined weak: no definition to list


def test_entry_without_start_is_text():
    elf = ELFFile(io.BytesIO(assemble_text(".data\n.word 1\n.text\nnop", base=0x1000)))
    assert elf["e_entry"] == 0x1000


def test_placement_order_and_alignment():
    secs = alloc_sections(assemble_text("""
        .bss
        .space 4
        .data
        .byte 1
        .section .rodata
        .balign 8
        .byte 2
        .text
        nop
    """))
    assert [(n, hex(a)) for n, (a, _d, _s) in secs.items()] == [
        (".text", "0x80400000"), (".rodata", "0x80400008"), (".data", "0x80400009"),
        (".bss", "0x8040000a")]


def test_assemble_files_reports_unreadable(tmp_path):
    with pytest.raises(AsmError, match="cannot read"):
        assemble_files([str(tmp_path / "missing.s")])
    bad = tmp_path / "bin.s"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(AsmError, match="not a text file"):
        assemble_files([str(bad)])
