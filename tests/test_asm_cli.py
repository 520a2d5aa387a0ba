"""`hv asm` and `hv dis` from the command line, and the ELF image they make."""
import io
import re

from elftools.elf.elffile import ELFFile

from hypervisor import cli
from hypervisor.asm import assemble_text, disassemble_word

HELLO = """\
    .globl  _start
    .text
loop:
    j       loop
_start:
    la      a0, msg
    call    puts
    j       loop
puts:
    ret
    .section .rodata
msg:
    .string "hi"
    .bss
buf:
    .space  32
"""


def test_asm_writes_a_loadable_elf(tmp_path):
    src = tmp_path / "hello.s"
    src.write_text(HELLO)
    assert cli.main(["asm", str(src)]) == 0          # default output: hello.elf
    elf = ELFFile(io.BytesIO((tmp_path / "hello.elf").read_bytes()))
    assert (elf.elfclass, elf["e_machine"], elf["e_type"]) == (32, "EM_RISCV", "ET_EXEC")
    syms = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
    assert elf["e_entry"] == syms["_start"]["st_value"] == 0x80400004
    assert syms["_start"]["st_info"]["bind"] == "STB_GLOBAL"
    assert syms["loop"]["st_info"]["bind"] == "STB_LOCAL"
    loads = [seg for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
    assert [seg["p_flags"] for seg in loads] == [5, 4, 6]         # R+X, R, R+W
    text, bss = elf.get_section_by_name(".text"), elf.get_section_by_name(".bss")
    assert text["sh_addr"] == loads[0]["p_vaddr"] == 0x80400000
    assert loads[0]["p_offset"] % 0x1000 == loads[0]["p_vaddr"] % 0x1000
    assert loads[2]["p_filesz"] == 0 and loads[2]["p_memsz"] == bss["sh_size"] == 32
    assert loads[0].data() == text.data()


def test_asm_base_and_output(tmp_path):
    src = tmp_path / "a.s"
    src.write_text("nop\n")
    out = tmp_path / "b.elf"
    assert cli.main(["asm", str(src), "-o", str(out), "--base", "0x1000"]) == 0
    elf = ELFFile(io.BytesIO(out.read_bytes()))
    assert elf["e_entry"] == 0x1000 == elf.get_section_by_name(".text")["sh_addr"]


def test_dis_lists_like_objdump(tmp_path, capsys):
    path = tmp_path / "h.elf"
    path.write_bytes(assemble_text(HELLO))
    assert cli.main(["dis", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}:     file format elf32-littleriscv" in out
    assert "Disassembly of section .text:" in out
    assert "80400000 <loop>:\n80400000:\t0000006f          \tj\t80400000 <loop>" in out
    assert "\tauipc\ta0,0x0\n" in out
    assert "\taddi\ta0,a0,24 # 8040001c <msg>" in out
    assert "\tjalr\t12(ra) # 80400018 <puts>" in out
    assert "\tret" in out


def test_dis_source_reassembles(tmp_path, capsys):
    path = tmp_path / "h.elf"
    path.write_bytes(assemble_text(HELLO))
    assert cli.main(["dis", "--source", str(path)]) == 0
    src = tmp_path / "again.s"
    src.write_text(capsys.readouterr().out)
    assert cli.main(["asm", str(src), "-o", str(tmp_path / "again.elf")]) == 0
    a = ELFFile(io.BytesIO(path.read_bytes()))
    b = ELFFile(io.BytesIO((tmp_path / "again.elf").read_bytes()))
    for name in (".text", ".rodata"):
        assert a.get_section_by_name(name).data() == b.get_section_by_name(name).data()


def test_dis_hex(capsys):
    for argv, expected in ((["--hex", "0x00000513"], "li a0,0"),
                           (["--hex", "0xfe0718e3", "--pc", "0x80400010"], "bnez a4,0x80400000"),
                           (["--hex", "0x00008067"], "ret"),
                           (["--hex", "0x00008067", "--no-aliases"], "jalr zero,0(ra)"),
                           (["--hex", "0x10500073"], "wfi"),
                           (["--hex", "0xffffffff"], ".4byte 0xffffffff"),
                           # 16 bits when the low two bits are not 11 (Vol. I sec. 1.5)
                           (["--hex", "0x1141"], "addi sp,sp,-16"),     # c.addi sp, -16
                           (["--hex", "0x1141", "--no-aliases"], "c.addi sp,-16"),
                           (["--hex", "0x8082"], "ret"),                # c.jr ra
                           (["--hex", "0x0"], "unimp"),                 # c.unimp
                           (["--hex", "0x4"], ".2byte 0x4"),            # reserved
                           (["--hex", "0xa009", "--pc", "0x80400000"], "j 0x80400002")):
        assert cli.main(["dis", *argv]) == 0
        assert capsys.readouterr().out == expected + "\n"
    assert cli.main(["dis", "--hex", "0x12340001"]) == 2
    assert "not one instruction" in capsys.readouterr().err


def test_march_compresses_and_flags_the_elf(tmp_path):
    src = tmp_path / "c.s"
    src.write_text("_start:\n    addi a0, a0, 1\n    ret\n")
    out = tmp_path / "c.elf"
    assert cli.main(["asm", str(src), "-o", str(out), "-march", "rv32imac_zicsr_zifencei"]) == 0
    elf = ELFFile(io.BytesIO(out.read_bytes()))
    assert elf["e_flags"] == 1                               # EF_RISCV_RVC
    text = elf.get_section_by_name(".text")
    assert text.data() == bytes.fromhex("05058280") and text["sh_addralign"] == 2
    assert cli.main(["asm", str(src), "-o", str(out)]) == 0  # default: no C
    elf = ELFFile(io.BytesIO(out.read_bytes()))
    assert elf["e_flags"] == 0 and len(elf.get_section_by_name(".text").data()) == 8


def test_bad_march_is_a_usage_error(tmp_path, capsys):
    src = tmp_path / "c.s"
    src.write_text("nop\n")
    for march, words in (("rv32gc", "floating point"), ("rv64i", "RV32 only"),
                         ("rv32e", "RV32E"), ("rv32i_zba", "zba unknown")):
        try:
            code = cli.main(["asm", str(src), "-march", march])
        except SystemExit as exc:
            code = exc.code
        assert code == 2
        assert words in capsys.readouterr().err


def test_dis_usage_errors(capsys):
    assert cli.main(["dis"]) == 2
    assert "give FILE.elf or --hex WORD" in capsys.readouterr().err


def test_disassemble_word_api():
    assert disassemble_word(0x00000013) == "nop"
    assert disassemble_word(0xFFC12503) == "lw a0,-4(sp)"
    assert disassemble_word(0x0000006F, pc=0x80400010, symbols={0x80400000: "start"}) == \
        "j 80400010 <start+0x10>"
    assert disassemble_word(0x10002573) == "csrr a0,sstatus"
    assert disassemble_word(0xC0102573) == "rdtime a0"
    assert disassemble_word(0x1EC5A52F) == "sc.w.aqrl a0,a2,(a1)"


def test_dis_names_a_symbol_only_for_an_address_in_a_section(tmp_path, capsys):
    """Issue 10: a constant (a device address) is not shown as `<stack_top+0x8fbfef40>`."""
    path = tmp_path / "n.elf"
    path.write_bytes(assemble_text("""
        .globl _start
    _start:
        li      a0, 0x10000004          # lui + addi: a constant, outside every section
        la      a1, msg                 # auipc + addi: an address in .rodata
        lw      a2, 8(zero)             # absolute: objdump notes it too
        .section .rodata
    msg: .string "hi"
    """))
    assert cli.main(["dis", str(path)]) == 0
    out = capsys.readouterr().out
    assert "addi\ta0,a0,4 # 0x10000004\n" in out
    assert re.search(r"addi\ta1,a1,\d+ # [0-9a-f]{8} <msg>\n", out)
    assert "lw\ta2,8(zero) # 0x8\n" in out
