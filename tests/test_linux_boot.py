"""Loading real kernel files (bootimage.py): the RISC-V Linux Image header (Linux,
Documentation/riscv/boot-image-header.rst), a vmlinux linked at PAGE_OFFSET, the initrd in the
device tree, and one-line errors (exit 2) for malformed headers.  Images are made here by hand
(struct) so each defect is exactly the one named; the real kernel then boots both ways."""
import re
import struct
from pathlib import Path

import fdt
import pytest

from hypervisor.bootimage import PAGE_OFFSET, load_kernel
from hypervisor.catalog import IMAGES_DIR, bundled
from hypervisor.cli import main
from hypervisor.devicetree import build_dtb
from hypervisor.engine import Engine
from hypervisor.loader import ImageError, load_image

RAM_BASE, RAM = 0x80000000, 8 << 20
J_PAST_HEADER = 0x0400006F          # jal x0, 64 (imm[10:1] = 32 in bits 30:21)
CODE = struct.pack("<3I", 0x00100513,    # li a0, 1
                   0x00800893,           # li a7, 8   (SBI legacy shutdown)
                   0x00000073)           # ecall


def make_image(code=CODE, text_offset=0x400000, image_size=None, flags=0, magic=b"RISCV\0\0\0",
               magic2=b"RSC\x05", version=2):
    body = code
    size = 64 + len(body) if image_size is None else image_size
    header = struct.pack("<IIQQQIIQ8s4sI", J_PAST_HEADER, 0, text_offset, size, flags, version,
                         0, 0, magic, magic2, 0)
    assert len(header) == 64
    return header + body


def make_vmlinux(body, memsz, entry=PAGE_OFFSET, paddr=0):
    """An ELF32 RISC-V executable with one PT_LOAD linked at PAGE_OFFSET, p_paddr ``paddr``."""
    ehsize, phsize = 52, 32
    offset = 0x1000
    vaddr = (PAGE_OFFSET + paddr) & 0xFFFFFFFF
    ph = struct.pack("<8I", 1, offset, vaddr, paddr, len(body), memsz, 7, 0x1000)
    ident = b"\x7fELF" + bytes((1, 1, 1, 0)) + bytes(8)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, entry, ehsize, 0, 0, ehsize, phsize,
                                 1, 40, 0, 0)
    return (header + ph).ljust(offset, b"\0") + body


def test_image_is_loaded_at_the_start_of_ram_with_image_size_of_memory():
    blob = make_image(image_size=0x3000)
    image = load_image(blob, RAM_BASE, RAM, name="k")
    assert image.entry == RAM_BASE
    seg, = image.segments
    assert (seg.paddr, seg.memsz, seg.data, seg.executable) == (RAM_BASE, 0x3000, blob, True)


def test_a_hand_made_image_boots(tmp_path):
    path = tmp_path / "Image"
    path.write_bytes(make_image())
    assert main(["run", str(path)]) == 0


def test_vmlinux_segments_go_to_ram_base_plus_p_paddr():
    body = make_image()[:64] + CODE
    image = load_image(make_vmlinux(body, 0x5000, entry=PAGE_OFFSET + 0), RAM_BASE, RAM)
    assert image.entry == RAM_BASE
    seg, = image.segments
    assert (seg.paddr, seg.memsz, seg.data) == (RAM_BASE, 0x5000, body)
    # a vmlinux whose p_paddr is inside RAM is an ordinary ELF: p_paddr is used as it is
    assert load_kernel(make_vmlinux(body, 0x5000, paddr=RAM_BASE), RAM_BASE, RAM, RAM) is None


def test_a_hand_made_vmlinux_boots(tmp_path):
    path = tmp_path / "vmlinux"
    path.write_bytes(make_vmlinux(make_image(), 0x2000))
    assert main(["run", str(path)]) == 0


BAD = {
    "truncated header": (make_image()[:0x3C], "truncated Linux Image header"),
    "no magic2": (make_image(magic2=b"\0\0\0\0"), "without magic2"),
    "image_size 0": (make_image(image_size=0), "image_size 0"),
    "image_size < file": (make_image(image_size=16), "smaller than the file"),
    "big-endian": (make_image(flags=1), "big-endian"),
    "odd text_offset": (make_image(text_offset=0x123), "text_offset"),
    "too big for RAM": (make_image(image_size=64 << 20), "--mem 64M"),
    "vmlinux too big": (make_vmlinux(CODE, 16 << 20), "--mem 16M"),
    "vmlinux truncated": (make_vmlinux(CODE, 0x1000)[:-4], "truncated"),
    "vmlinux entry": (make_vmlinux(CODE, 0x1000, entry=PAGE_OFFSET + 0x2000), "entry point"),
    "vmlinux misaligned": (make_vmlinux(CODE, 0x1000, paddr=0x1000), "not 4 MiB aligned"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_kernel_file_one_line_exit_2(tmp_path, capsys, name):
    blob, text = BAD[name]
    path = tmp_path / "bad"
    path.write_bytes(blob)
    status = main(["run", str(path), "--mem", "8M"])
    err = capsys.readouterr().err
    assert status == 2
    assert text in err and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_kernel_file_writes_no_host_memory(name):
    engine = Engine(4 << 20)
    with pytest.raises(ImageError):
        engine.create(BAD[name][0], mem=RAM)
    assert not engine.memory.ram.any()


def test_device_tree_describes_the_initrd():
    start, end = 0x83F00000, 0x83F12345
    tree = fdt.parse_dtb(build_dtb(RAM_BASE, 64 << 20, "quiet", initrd=(start, end)))
    chosen = tree.get_node("/chosen")
    assert list(chosen.get_property("linux,initrd-start").data) == [0, start]
    assert list(chosen.get_property("linux,initrd-end").data) == [0, end]
    plain = fdt.parse_dtb(build_dtb(RAM_BASE, 64 << 20, "quiet")).get_node("/chosen")
    assert plain.get_property("linux,initrd-start") is None


def test_initrd_lies_below_the_device_tree_in_ram_pages():
    engine = Engine(128 << 20)
    payload = bytes(range(256)) * 40
    vm = engine.create(make_image(), mem=16 << 20, initrd=payload)
    tree = fdt.parse_dtb(vm.read_guest(int(vm.st[11]), 4096))
    chosen = tree.get_node("/chosen")
    start = chosen.get_property("linux,initrd-start").data[1]
    end = chosen.get_property("linux,initrd-end").data[1]
    assert end - start == len(payload) and start % 4096 == 0
    assert start > RAM_BASE + 64 and end <= int(vm.st[11])
    assert vm.read_guest(start, len(payload)) == payload


# ---- the real kernel, as an Image and as a vmlinux ---------------------------------------------
LINUX = bundled("linux")
needs_linux = pytest.mark.skipif(LINUX is None or not (IMAGES_DIR / LINUX["file"]).exists(),
                                 reason="the Linux image is not installed (make -C guests linux)")
VMLINUX = Path(__file__).resolve().parent.parent / "guests/build/linux/linux-obj/vmlinux"


def _boot_text(capsys, path, append):
    status = main(["run", str(path), "--append", append])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


@needs_linux
def test_the_linux_image_file_boots_by_path_like_the_bundled_name(tmp_path, capsys):
    append = 'console=ttyS0 quiet run="uname -m"'
    by_path = _boot_text(capsys, IMAGES_DIR / LINUX["file"], append)
    assert re.search(r"^riscv32\r?$", by_path, re.M)
    # the same bytes wrapped as a vmlinux (one PT_LOAD at PAGE_OFFSET, p_paddr 0) boot the same
    blob = (IMAGES_DIR / LINUX["file"]).read_bytes()
    image_size, = struct.unpack_from("<Q", blob, 16)
    wrapped = tmp_path / "vmlinux"
    wrapped.write_bytes(make_vmlinux(blob, image_size))
    assert _boot_text(capsys, wrapped, append) == by_path


@needs_linux
@pytest.mark.skipif(not VMLINUX.exists(), reason="no guests/build/linux/linux-obj/vmlinux "
                                                 "(make -C guests linux builds it)")
def test_the_real_vmlinux_boots(capsys):
    out = _boot_text(capsys, VMLINUX, 'console=ttyS0 quiet run="uname -m"')
    assert re.search(r"^riscv32\r?$", out, re.M)
