"""Driving the GNU toolchain as a reference, for the tests (and for anyone checking our output).

The fair comparison: GNU as assembles each file on its own (into a relocatable .o, where
addresses are not known yet), so we link those objects with GNU ld at exactly the addresses
our assembler chose, and compare the bytes of each loaded section.  `as -mno-relax` and
`ld --no-relax` keep every instruction sequence as written (linker relaxation would shorten
call/la sequences, which our one-step assembler never does).  GNU ld also checks that our
placement is consistent with GNU's alignment rules: if it were not, the bytes would move.

GNU as with relaxation on (its default) gives the same bytes too, except where code is
aligned: it then pads with the most nops that could be needed (R_RISCV_ALIGN) and leaves it
to linker relaxation to delete the extra ones, which `ld --no-relax` cannot do.

`march` is passed to GNU as as -march (default: ours, rv32ima_zicsr_zifencei).
"""
import os
import shutil
import subprocess
import tempfile

from .layout import output_name
from .march import DEFAULT_MARCH

PREFIX = "riscv64-unknown-elf-"


def tool(name):
    return shutil.which(PREFIX + name)


def available():
    return all(tool(t) for t in ("as", "ld", "objdump"))


def _run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return proc


def alloc_sections(elf_bytes):
    """{name: (addr, bytes or None for NOBITS, size)} of the allocated sections of an ELF."""
    import io
    from elftools.elf.elffile import ELFFile
    elf = ELFFile(io.BytesIO(elf_bytes))
    out = {}
    for sec in elf.iter_sections():
        if sec["sh_flags"] & 2 and sec["sh_size"]:
            nobits = sec["sh_type"] == "SHT_NOBITS"
            out[sec.name] = (sec["sh_addr"], None if nobits else sec.data(), sec["sh_size"])
    return out


def linker_script(sections):
    """A GNU ld script putting each output section where ours is."""
    lines = ["SECTIONS {"]
    for name, (addr, _data, _size) in sections.items():
        patterns = f"{name} {name}.*" if output_name(name + ".x") == name else name
        lines.append(f"  {name} {addr:#x} : {{ *({patterns}) }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def gnu_build(paths, ours, workdir=None, relax=False, march=DEFAULT_MARCH):
    """Assemble `paths` with GNU as (`-mno-relax` unless relax) and link them with GNU ld
    at the addresses of our ELF `ours`; returns (elf bytes, as stderr)."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        objects, warnings = [], ""
        for i, path in enumerate(paths):
            obj = os.path.join(tmp, f"{i}.o")
            options = [f"-march={march}", "-mabi=ilp32"] + ([] if relax else ["-mno-relax"])
            warnings += _run([tool("as"), *options, path, "-o", obj]).stderr
            objects.append(obj)
        script = os.path.join(tmp, "layout.ld")
        with open(script, "w") as f:
            f.write(linker_script(alloc_sections(ours)))
        out = os.path.join(tmp, "out.elf")
        _run([tool("ld"), "-m", "elf32lriscv", "--no-relax", "-e", "0", "-T", script,
              *objects, "-o", out])
        with open(out, "rb") as f:
            return f.read(), warnings


def gnu_errors(text, march=DEFAULT_MARCH, workdir=None):
    """{line: message} of the errors GNU as reports for a source text (it reports all)."""
    import re
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        src = os.path.join(tmp, "in.s")
        with open(src, "w") as f:
            f.write(text)
        proc = subprocess.run([tool("as"), f"-march={march}", "-mabi=ilp32", "-mno-relax", src,
                               "-o", os.path.join(tmp, "out.o")], capture_output=True, text=True)
    out = {}
    for line in proc.stderr.splitlines():
        m = re.match(r".*?:(\d+): Error: (.*)", line)
        if m:
            out.setdefault(int(m.group(1)), m.group(2))
    return out


def objdump(elf_bytes, *options):
    """`objdump -d` text of an ELF image."""
    with tempfile.NamedTemporaryFile(suffix=".elf", delete=False) as f:
        f.write(elf_bytes)
    try:
        return _run([tool("objdump"), "-d", *options, f.name]).stdout
    finally:
        os.unlink(f.name)
