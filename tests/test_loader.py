"""Malformed guest images: one line, exit status 2, no traceback, nothing written to host memory.

The images are made here by hand (struct), so each defect is exactly the one named."""
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypervisor.cli import main
from hypervisor.engine import Engine
from hypervisor.loader import ImageError, load_image

RAM_BASE, RAM = 0x80000000, 8 << 20
CODE = struct.pack("<3I", 0x00100513,    # li a0, 1
                   0x00800893,           # li a7, 8   (SBI legacy shutdown)
                   0x00000073)           # ecall


def make_elf(segments, entry=0x80400000, cls=1, data=1, machine=243, etype=2):
    """An ELF32 with the given segments: (p_type, paddr, bytes, memsz) each."""
    ehsize, phsize = 52, 32
    offset = ehsize + phsize * len(segments)
    phdrs, blobs = b"", b""
    for p_type, paddr, blob, memsz in segments:
        phdrs += struct.pack("<8I", p_type, offset + len(blobs), paddr, paddr, len(blob), memsz,
                             7, 4)
        blobs += blob
    ident = b"\x7fELF" + bytes((cls, data, 1, 0)) + bytes(8)
    header = ident + struct.pack("<HHIIIIIHHHHHH", etype, machine, 1, entry, ehsize, 0, 0,
                                 ehsize, phsize, len(segments), 40, 0, 0)
    return header + phdrs + blobs


GOOD = make_elf([(1, 0x80400000, CODE, len(CODE))])

BAD = {
    "elf64": (make_elf([(1, 0x80400000, CODE, 12)], cls=2), "64-bit RISC-V (RV64)"),
    "x86-64": (make_elf([(1, 0x80400000, CODE, 12)], cls=2, machine=62),
               "x86-64 ELF64 file, not a 32-bit RISC-V"),
    "big-endian": (make_elf([(1, 0x80400000, CODE, 12)], data=2), "not little-endian"),
    "x86": (make_elf([(1, 0x80400000, CODE, 12)], machine=62), "x86-64 ELF32 file, not RISC-V"),
    "relocatable": (make_elf([(1, 0x80400000, CODE, 12)], etype=1), "not an executable"),
    "below RAM": (make_elf([(1, 0x1000, CODE, 12)], entry=0x1000),
                  "below RAM, which starts at 0x80000000: link the image at 0x80000000"),
    "past RAM": (make_elf([(1, 0x83FFFFF8, CODE, 12)], entry=0x83FFFFF8),
                 "past the end of RAM at 0x84000000: it needs --mem 65M"),
    "overlap": (make_elf([(1, 0x80400000, CODE, 12), (1, 0x80400008, CODE, 12)]), "overlap"),
    "filesz > memsz": (make_elf([(1, 0x80400000, CODE, 4)]), "filesz"),
    "wraps": (make_elf([(1, 0xFFFFF000, CODE, 0x2000)], entry=0xFFFFF000), "wraps"),
    "no PT_LOAD": (make_elf([(4, 0x80400000, CODE, 12)]), "no loadable"),
    "truncated": (GOOD[:-4], "truncated"),
    "entry outside": (make_elf([(1, 0x80400000, CODE, 12)], entry=0x80500000), "entry point"),
    "not ELF": (b"#!/bin/sh\necho hi\n", "not an ELF"),
    "empty": (b"", "not an ELF"),
}


def test_the_good_image_boots(tmp_path, capsys):
    path = tmp_path / "good.elf"
    path.write_bytes(GOOD)
    assert main(["run", str(path)]) == 0


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_image_one_line_exit_2(tmp_path, capsys, name):
    blob, text = BAD[name]
    path = tmp_path / "bad.elf"
    path.write_bytes(blob)
    status = main(["run", str(path)])
    out, err = capsys.readouterr()
    assert status == 2
    assert text in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_image_writes_no_host_memory(name):
    engine = Engine(4 << 20)
    with pytest.raises(ImageError):
        engine.create(BAD[name][0], mem=RAM)
    assert not engine.memory.ram.any()
    assert engine.memory.free_pages == engine.memory.npages - 1


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(GOOD)),
       patches=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)),
                        max_size=6))
def test_mutated_images_never_raise_anything_else(cut, patches):
    blob = bytearray(GOOD[:cut] if cut < len(GOOD) else GOOD)
    for pos, value in patches:
        if pos < len(blob):
            blob[pos] = value
    try:
        image = load_image(bytes(blob), RAM_BASE, RAM)
    except ImageError as exc:
        assert "\n" not in str(exc)
        return
    for seg in image.segments:                  # what was accepted is really inside RAM
        assert RAM_BASE <= seg.paddr and seg.paddr + seg.memsz <= RAM_BASE + RAM
        assert len(seg.data) <= seg.memsz
