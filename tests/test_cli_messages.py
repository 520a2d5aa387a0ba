"""Help and messages: each command's own usage, --version, every option described, warnings,
sizes in binary units, loader messages that fit the case, `hv images`."""
import argparse
import platform
import re
import sys
from importlib.metadata import PackageNotFoundError, version

import pytest

from hypervisor import __version__
from hypervisor.cli import build_parser, main
from guestbuild import write
from test_loader import CODE, make_elf


def run(capsys, *argv):
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:               # argparse's own exits (--help, --version, errors)
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_unknown_option_shows_the_commands_usage(capsys):
    status, out, err = run(capsys, "run", "hello", "--bogus")
    assert status == 2
    assert err.startswith("usage: hv run ") and "hv run: error: unrecognized arguments: --bogus" in err
    status, out, err = run(capsys, "images", "--bogus")
    assert status == 2 and err.startswith("usage: hv images")


def test_version_is_the_packages(capsys):
    status, out, err = run(capsys, "--version")
    assert status == 0
    try:
        expected = version("hvlab")
    except PackageNotFoundError:
        expected = f"{__version__} (not installed)"
    assert out == f"hv (hvlab) {expected}\n"
    assert expected.split()[0] == __version__          # pyproject reads it from __init__.py


def test_every_option_of_every_command_is_described():
    parser = build_parser()
    for name in ("run", "images", "demo", "top", "asm", "dis"):
        for action in parser.commands[name]._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
    assert parser.description and parser.epilog


def test_hv_top_help_does_not_contradict_itself(capsys):
    status, out, err = run(capsys, "top", "--help")
    assert status == 0
    text = " ".join(out.split())
    assert "--wall-clock guest time follows the host clock (the default here)" in text
    assert "default: it follows the instructions" not in text
    assert "--virtual-time guest time follows the instructions the guest ran" in text


def test_more_threads_than_cores_warns(capsys, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    status, out, err = run(capsys, "run", "hello", "--threads", "8")
    assert status == 0
    assert err == ("hv: warning: --threads 8 is more than this machine's 2 cores: the threads "
                   "take turns, nothing runs faster\n")


@pytest.mark.parametrize("argv, message", [
    (["--mem", "1000"], "hv run: error: --mem 1000: not a whole number of 4 KiB pages"),
    (["--mem", "3G"], "hv run: error: --mem 3G: guest RAM is at most 1.75 GiB"),
    (["--prealloc", "--host-mem", "32M"],
     "hv run: error: --prealloc: 1 VM need 64 MiB of RAM at boot, the host has 32 MiB for "
     "guests (--host-mem 32M)"),
    (["--mem", "4K"], "past the end of RAM at 0x80001000: it needs --mem 5M or more"),
    (["--mem", "12Q"], "hv run: error: --mem: bad size '12Q'"),
])
def test_sizes_in_binary_units(capsys, argv, message):
    status, out, err = run(capsys, "run", "hello", *argv)
    assert status == 2
    assert message in err and err.count("\n") == 1


def test_a_directory_is_a_directory(capsys, tmp_path):
    status, out, err = run(capsys, "run", tmp_path)
    assert status == 2
    assert err == f"hv run: error: {tmp_path}: is a directory, not an image (give an ELF " \
                  f"file, a .s file or a bundled image name)\n"


def test_a_host_executable_names_its_machine(capsys):
    machine = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(platform.machine())
    if machine is None or not sys.executable:
        pytest.skip(f"no expected wording for a {platform.machine()} host")
    status, out, err = run(capsys, "run", sys.executable)
    assert status == 2
    assert f"{machine}" in err and "ELF64 file, not a 32-bit RISC-V (RV32) image" in err


def test_below_ram_is_not_a_question_of_mem(capsys, tmp_path):
    path = tmp_path / "low.elf"
    path.write_bytes(make_elf([(1, 0x1000, CODE, 12)], entry=0x1000))
    status, out, err = run(capsys, "run", path)
    assert status == 2
    assert "is below RAM, which starts at 0x80000000: link the image at 0x80000000 or above" \
        in err and "--mem" not in err


def test_compressed_instructions_are_named_in_the_crash(capsys, tmp_path):
    # c.li a0, 1 then c.nop (one 32-bit word of two RVC parcels), in an image whose ELF header
    # says RVC (e_flags bit 0: EF_RISCV_RVC), as gcc -march=rv32imac writes it
    path = write(tmp_path, ".word 0x00014505\n1: j 1b\n", name="rvc.elf")
    blob = bytearray(path.read_bytes())
    blob[0x24] |= 1
    path.write_bytes(bytes(blob))
    argv = ["run", path, "--timeout", "10"]
    if "--isa" in build_parser(["run"]).commands["run"]._option_string_actions:
        argv += ["--isa", "rv32ima"]        # once the hart runs RVC, only with C turned off
    status, out, err = run(capsys, *argv)
    assert status == 1
    lines = err.splitlines()
    assert lines[0].startswith("hv: rvc: crashed: unhandled trap: illegal instruction")
    assert lines[1] == ("hv: rvc: the image has compressed (RVC) instructions, which this hart "
                        "does not run: rebuild it with -march=rv32ima_zicsr_zifencei")
    # the same crash in an image without the flag says nothing of RVC
    blob[0x24] &= ~1
    path.write_bytes(bytes(blob))
    status, out, err = run(capsys, *argv)
    assert status == 1 and "RVC" not in err


def test_assembler_errors_say_error_once(capsys, tmp_path):
    src = tmp_path / "bad.s"
    src.write_text("foo bar\n")
    status, out, err = run(capsys, "run", src)
    assert status == 2
    assert err.count("error:") == 1 and f"{src}:1:1: " in err and err.count("\n") == 1


def test_hv_images_has_a_header_and_fits(capsys):
    status, out, err = run(capsys, "images")
    assert status == 0
    lines = out.splitlines()
    assert re.match(r"IMAGE +RAM  DESCRIPTION$", lines[0])
    assert max(len(line) for line in lines) <= 80
    assert re.search(r"^echo +16M  Echoes UART input", out, re.M)
    assert "(interactive: reads the keyboard)" in out


def test_the_ram_column_is_what_a_bundled_image_gets(capsys):
    status, out, err = run(capsys, "run", "rogue")                  # 16M in the manifest
    assert status == 0 and "RAM is 0x80000000..0x80ffffff (16 MiB)" in out
    status, out, err = run(capsys, "run", "rogue", "--mem", "32M")  # --mem wins
    assert status == 0 and "(32 MiB)" in out


def test_each_command_is_found_by_importing_only_its_module():
    from hypervisor.cli import PROVIDES
    everything = build_parser()
    assert set(everything.commands) == set(PROVIDES)        # a new command module: list it
    for name in PROVIDES:
        assert name in build_parser([name]).commands
