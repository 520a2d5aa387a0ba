"""Assembly errors name file, line and column, show the offending text and give a hint
(issue 6); `hv asm` prints them as one line and exits 2, never with a traceback."""
import pytest

from hypervisor import cli
from hypervisor.asm import AsmError, assemble_sources, assemble_text

# (source, line, col, words the message must contain)
CASES = [
    ("  addx a0, a0, 1", 1, 3, ["unknown instruction 'addx'", "did you mean 'add'"]),
    ("nop\n    lww a0, 0(a1)", 2, 5, ["unknown instruction 'lww'", "did you mean 'lw'"]),
    ("addi a0, a0, 4096", 1, 14, ["immediate 4096 out of range for addi", "-2048..2047"]),
    ("sw a0, -2049(sp)", 1, 8, ["immediate -2049 out of range for sw", "-2048..2047"]),
    ("lui a0, 0x100000", 1, 9, ["out of range for lui", "0..0xfffff"]),
    ("lui a0, -1", 1, 9, ["out of range for lui"]),
    ("slli a0, a0, 32", 1, 14, ["shift amount 32 out of range", "0..31"]),
    ("csrrwi a0, sstatus, 32", 1, 21, ["CSR immediate 32 out of range", "0..31"]),
    ("csrr a0, 4096", 1, 10, ["CSR number 4096 out of range", "0..4095"]),
    ("loop: nop\n  j lopo", 2, 5, ["undefined symbol 'lopo'", "did you mean 'loop'"]),
    ("  la a0, nowhere", 1, 10, ["undefined symbol 'nowhere'"]),
    ("  beqz a0, 1b", 1, 12, ["undefined symbol '1b'", "no local label 1"]),
    ("  j 1f\n", 1, 5, ["undefined symbol '1f'"]),
    ("add a0, a1", 1, 1, ["invalid operands for 'add'", "add rd, rs1, rs2"]),
    ("lw a0, 4(a9)", 1, 10, ["unknown register 'a9'", "did you mean"]),
    ("x: nop\nx: nop", 2, 1, ["symbol 'x' is already defined", "line 1"]),
    ("  .wrd 1", 1, 3, ["unknown directive '.wrd'", "did you mean '.word'"]),
    ("x: nop\n  li a0, x", 2, 10, ["li needs a constant", "use la"]),
    ("  li a0, 0x100000000", 1, 10, ["does not fit in 32 bits"]),
    ("  addi a0, a0, %pcrel_lo(x)\nx: nop", 1, 16, ["%pcrel_lo needs the label of an auipc"]),
    ("  addi a0, a0, %hi(x)\nx: nop", 1, 16, ["%hi is not allowed in the 12-bit immediate"]),
    ("  addi a0, a0, %foo(x)", 1, 16, ["unknown relocation function '%foo'"]),
    ("x: nop\n  addi a0, a0, x", 2, 16, ["must be a constant, not an address", "%lo"]),
    ("  .byte 256", 1, 9, ["does not fit in 1 byte", "-128..255"]),
    ("  .half 0x10000", 1, 9, ["does not fit in 2 bytes"]),
    ("  .ascii abc", 1, 10, ["expected a \"quoted string\""]),
    ("  c.addi a0, 1", 1, 3, ["'c.addi' needs extension `c'", ".option rvc"]),
    ("  .option rvc\n  c.lui sp, 1", 2, 3, ["invalid operands for 'c.lui'", "c.lui rd, imm20"]),
    ("  .option rvc\n  c.lw a6, 0(a0)", 2, 3, ["invalid operands for 'c.lw'", "x8..x15"]),
    ("  mul a0, a0, a0\n  .option arch, -m\n  mul a0, a0, a0", 3, 3,
     ["'mul' needs extension `m' or `zmmul'", "-march"]),
    ("  .option pop", 1, 11, [".option pop without .option push"]),
    ("  .option arch, +f", 1, 17, ["extension 'f' unknown here"]),
    ("  .option pic", 1, 11, ["position-independent code is not supported"]),
    ("  li a0, 1/0", 1, 11, ["division by zero"]),
    ("  .bss\n  nop", 2, 3, ["instruction in section .bss"]),
    ("  .bss\n  .word 1", 2, 3, [".word puts data in .bss"]),
    ("  li a0, 5 +", 1, 13, ["expected an expression", "end of operand"]),
    ("  li a0, 5 5", 1, 12, ["junk after expression"]),
    ("  li a0, 12ab", 1, 10, ["bad number", "12ab"]),
    ("  .align 20", 1, 10, ["alignment out of range", "0..16"]),
    ("  .balign 3", 1, 11, ["alignment is not a power of 2"]),
    ("  j far\n  .space 0x100000\nfar: nop", 1, 5, ["jump target out of range", "call or tail"]),
    ("  beq a0, a1, 0x80400001", 1, 15, ["jump target is not 2-byte aligned"]),
    ("  .equ A, B\n  .equ B, A + 1\n  .word A", 2, 8, ["circular definition of 'B'"]),
    ("  .space x\nx:", 1, 10, [".space needs a constant size"]),
    ("  ret junk", 1, 3, ["invalid operands for 'ret'"]),
    ("  .section .foo, \"q\"", 1, 18, ["unknown section flag 'q'"]),
    ("  .text 1", 1, 9, ["subsections are not supported"]),
    ("  .fill -1", 1, 9, [".fill size -1 out of range"]),
    ("  .space 0x80000000", 1, 10, [".space size 2147483648 out of range"]),
]


@pytest.mark.parametrize("source, line, col, words", CASES, ids=[c[0].strip()[:30] for c in CASES])
def test_error_message_line_and_column(source, line, col, words):
    with pytest.raises(AsmError) as info:
        assemble_text(source, filename="t.s")
    err = info.value
    text = str(err)
    assert (err.filename, err.line, err.col) == ("t.s", line, col), text
    assert text.startswith(f"t.s:{line}:{col}: error: ")
    assert "\n" not in text
    for word in words:
        assert word in text


def test_error_names_the_file_it_is_in():
    with pytest.raises(AsmError) as info:
        assemble_sources([("a.s", ".globl f\nf: call g\n"), ("b.s", ".globl g\ng: ret\n  jal h\n")])
    assert str(info.value).startswith("b.s:3:7: error: undefined symbol 'h'")


def test_undefined_global_from_other_file_is_an_error_at_its_use():
    with pytest.raises(AsmError) as info:
        assemble_sources([("a.s", "  call g\n"), ("b.s", "g: ret\n")])   # g is not .globl
    assert str(info.value).startswith("a.s:1:8: error: undefined symbol 'g'")


def test_multiple_definition_across_files():
    with pytest.raises(AsmError) as info:
        assemble_sources([("a.s", ".globl f\nf: ret\n"), ("b.s", ".globl f\nf: ret\n")])
    assert "b.s:2:1: error: multiple definition of 'f'" in str(info.value)
    assert "first defined in a.s:2" in str(info.value)


def test_hv_asm_prints_one_line_and_exits_2(tmp_path, capsys):
    src = tmp_path / "bad.s"
    src.write_text("_start:\n    addi a0, a0, 5000\n")
    assert cli.main(["asm", str(src), "-o", str(tmp_path / "bad.elf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{src}:2:18: error: immediate 5000 out of range for addi")
    assert not (tmp_path / "bad.elf").exists()


def test_hv_asm_missing_file(tmp_path, capsys):
    assert cli.main(["asm", str(tmp_path / "none.s")]) == 2
    err = capsys.readouterr().err
    assert "none.s: error: cannot read" in err and err.count("\n") == 1


def test_hv_dis_not_an_elf(tmp_path, capsys):
    path = tmp_path / "x.elf"
    path.write_bytes(b"hello")
    assert cli.main(["dis", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not a readable ELF file" in err and err.count("\n") == 1


# --- no input makes the assembler crash ------------------------------------------------------

from hypothesis import given, settings, strategies as st   # noqa: E402

VOCABULARY = ["addi", "lw", "sw", "beq", "j", "jalr", "li", "la", "call", "csrr", "fence", "sc.w",
              ".word", ".byte", ".ascii", ".align", ".balign", ".space", ".fill", ".equ", ".set",
              ".section", ".text", ".bss", ".globl", ".option", ".pushsection", ".popsection",
              "a0", "sp", "x0", "(a0)", "4(sp)", "%hi(x)", "%pcrel_lo(1b)", "x", "x:", "1:", "1b",
              "1f", ".", "-", "*", "/", "<<", "(", ")", ",", ",", "0", "2047", "-4096", "0x7ff",
              "'a'", '"s"', '"a\\', "sstatus", "rw", ";", "#", "/*", "*/", "\n", "\n"]


VOCABULARY += ["c.addi", "c.j", "c.beqz", "c.lw", ".option", "rvc", "norvc", "push", "pop",
               "arch", "+c", "-c", "s0", "4(s1)"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=30))
def test_any_input_is_assembled_or_an_asm_error(tokens):
    try:
        assemble_text(" ".join(tokens))
    except AsmError as err:
        lines = str(err).split("\n")
        assert len(lines) == len(err.errors) or lines[-1].endswith("more errors")
        assert all(": error: " in line for line in lines[:len(err.errors)])


# --- every error of a file, not only the first (issue 10) ------------------------------------

def test_every_error_is_reported_in_line_order():
    source = "  lii a0, 1\n  nop\n  addi a0, a0, 5000\n  j nowhere\n  .wrd 3\n"
    with pytest.raises(AsmError) as info:
        assemble_text(source, filename="t.s")
    err = info.value
    assert [(e.line, e.message.split(" '")[0]) for e in err.errors] == [
        (1, "unknown instruction"), (3, "immediate 5000 out of range for addi"),
        (4, "undefined symbol"), (5, "unknown directive")]
    assert str(err).count("\n") == 3 and (err.line, err.col) == (1, 3)   # first error's place


def test_errors_beyond_twenty_are_counted():
    with pytest.raises(AsmError) as info:
        assemble_text("".join(f"  bad{i} a0\n" for i in range(25)), filename="t.s")
    lines = str(info.value).split("\n")
    assert len(lines) == 21 and lines[19].startswith("t.s:20:3: error:")
    assert lines[20] == "t.s: 5 more errors" and len(info.value.errors) == 25


def test_errors_in_several_files_come_in_file_order():
    with pytest.raises(AsmError) as info:
        assemble_sources([("a.s", "  call g\n  bad\n"), ("b.s", "  also bad\n")])
    assert [(e.filename, e.line) for e in info.value.errors] == [("a.s", 1), ("a.s", 2),
                                                                ("b.s", 1)]


def test_hv_asm_prints_every_error(tmp_path, capsys):
    src = tmp_path / "bad.s"
    src.write_text("  lii a0, 1\n  addi a0, a0, 5000\n")
    assert cli.main(["asm", str(src), "-o", str(tmp_path / "bad.elf")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": error: ")[0] for line in err] == [f"{src}:1:3", f"{src}:2:16"]


def test_hv_run_says_error_once(tmp_path, capsys):
    src = tmp_path / "bad.s"
    src.write_text("_start:\n    addi a0, a0, 5000\n")
    assert cli.main(["run", str(src)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and err.count("\n") == 1, err
    assert f"{src}:2:18: immediate 5000 out of range" in err


def test_located_message_has_no_severity():
    with pytest.raises(AsmError) as info:
        assemble_text("  lii a0, 1", filename="t.s")
    assert info.value.located == "t.s:1:3: unknown instruction 'lii' (did you mean 'li'?)"


def test_misaligned_base_is_an_error_not_rounded(tmp_path, capsys):
    src = tmp_path / "a.s"
    src.write_text("nop\n")
    assert cli.main(["asm", str(src), "--base", "0x80400002"]) == 2
    err = capsys.readouterr().err
    assert "base address 0x80400002 is not aligned" in err and "--base 0x80400004" in err
    # with C, .text needs only 2-byte alignment, as in GNU as (tc-riscv.c md_begin)
    assert cli.main(["asm", str(src), "--base", "0x80400002", "-march", "rv32imac"]) == 0
    src.write_text(".balign 16\nnop\n")
    assert cli.main(["asm", str(src), "--base", "0x80400008"]) == 2
    assert "needs 16-byte alignment (e.g. --base 0x80400010)" in capsys.readouterr().err
