"""Building small test guests from assembly text.

Uses hvlab's own assembler when it is there, else GNU as + ld (linked at 0x80400000); a test
that needs a guest is skipped when neither is available.
"""
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BASE = 0x80400000

# a shutdown through SBI SRST with reason in a1 (0 = success)
SHUTDOWN = """
    li a0, 0
    li a6, 0
    li a7, 0x53525354
    ecall
"""


def _gnu(text):
    with tempfile.TemporaryDirectory() as d:
        src, obj, elf = Path(d, "g.s"), Path(d, "g.o"), Path(d, "g.elf")
        src.write_text(text)
        subprocess.run(["riscv64-unknown-elf-as", "-march=rv32ima_zicsr_zifencei", "-mabi=ilp32",
                        str(src), "-o", str(obj)], check=True, capture_output=True)
        subprocess.run(["riscv64-unknown-elf-ld", "-m", "elf32lriscv", f"-Ttext={BASE:#x}",
                        "--no-relax", str(obj), "-o", str(elf)], check=True, capture_output=True)
        return elf.read_bytes()


def build(text):
    """ELF bytes for an assembly program (`_start` is the entry)."""
    if "_start" not in text:
        text = "    .globl _start\n_start:\n" + text
    try:
        from hypervisor.asm import assemble_text
    except ImportError:
        assemble_text = None
    if assemble_text is not None:
        return assemble_text(text, base=BASE)
    if shutil.which("riscv64-unknown-elf-as"):
        return _gnu(text)
    pytest.skip("no assembler: neither hvlab's nor riscv64-unknown-elf-as")


def write(tmp_path, text, name="guest.elf"):
    path = Path(tmp_path, name)
    path.write_bytes(build(text))
    return path
