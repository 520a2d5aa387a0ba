"""VM images (a kernel named by a label, the rest packed as the initramfs) and the bundled
base images seeded into the store on first use."""
import shutil
import subprocess

import pytest

from hypervisor import catalog, images
from hypervisor.images import seed
from hypervisor.images.errors import OCIError
from hypervisor.images.vmimage import boot_parts
from oci_helpers import _own_store, hv, make_context, tar_bytes  # noqa: F401

CPIO = shutil.which("cpio")


def vm_image(capsys, tmp_path):
    kernel = b"RISCV\0" + bytes(range(256)) * 40
    ctx = make_context(tmp_path / "ctx", {
        "Buildfile": b"FROM scratch\nCOPY Image /boot/Image\nCOPY init /init\n"
                     b"LABEL org.hvlab.kernel=/boot/Image org.hvlab.append=\"quiet\"\n",
        "Image": kernel, "init": ("mode", b"#!/bin/sh\n", 0o755)})
    assert hv(capsys, "image", "build", "-t", "vm:1", ctx)[0] == 0
    return images.open_image("vm:1"), kernel


def test_a_vm_image_gives_its_kernel_and_the_rest_as_an_initramfs(tmp_path, capsys):
    img, kernel = vm_image(capsys, tmp_path)
    got, initramfs, append = boot_parts(img)
    assert got == kernel and append == "quiet"
    if CPIO:
        names = subprocess.run([CPIO, "-t", "--quiet"], input=initramfs, capture_output=True,
                               check=True).stdout.decode().split()
        assert sorted(names) == ["boot", "init"]            # the kernel is not packed twice


def test_an_image_without_a_kernel_label_is_no_vm(tmp_path, capsys):
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"FROM scratch\nCOPY f /f\n",
                                          "f": b""})
    assert hv(capsys, "image", "build", "-t", "c:1", ctx)[0] == 0
    with pytest.raises(OCIError, match="names no kernel"):
        boot_parts(images.open_image("c:1"))


def fake_bundle(tmp_path, monkeypatch):
    d = tmp_path / "guest_images"
    d.mkdir()
    (d / "userland.tar").write_bytes(tar_bytes([
        ("bin", "dir", None, {"mtime": 1735689600}),
        ("bin/busybox", "file", b"\x7fELF busybox", {"mode": 0o755, "mtime": 1735689600}),
        ("bin/sh", "symlink", "busybox", {"mtime": 1735689600})]))
    (d / "linux.Image").write_bytes(b"Linux kernel image")
    monkeypatch.setattr(catalog, "IMAGES_DIR", d)
    return d


def test_bundled_base_images_are_seeded_on_first_use(tmp_path, capsys, monkeypatch):
    fake_bundle(tmp_path, monkeypatch)
    assert seed.available() == ["busybox:1.35", "busybox:latest", "linux-vm:6.1",
                                "linux-vm:latest"]
    assert hv(capsys, "image", "ls", "-q")[1] == ""
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"FROM busybox:1.35\nCOPY app /app\n",
                                          "app": b"x"})
    status, out, err = hv(capsys, "image", "build", "-t", "mine:1", ctx)
    assert status == 0, err
    bb = images.open_image("busybox:latest")
    assert bb.names == ["busybox:1.35", "busybox:latest"]
    assert bb.runconfig["Cmd"] == ["/bin/sh"] and bb.config["created"] == "2025-01-01T00:00:00Z"
    vm = images.open_image("linux-vm:6.1")      # shares busybox's layer, adds the kernel
    assert vm.layers[0] == bb.layers[0] and len(vm.layers) == 2
    kernel, initramfs, append = boot_parts(vm)
    assert kernel == b"Linux kernel image" and append == "console=ttyS0 quiet"
    # the same bundled files seed the same digests in another store
    other = images.open_image("linux-vm:6.1", tmp_path / "other")
    assert other.digest == vm.digest


def test_no_bundle_no_seed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(catalog, "IMAGES_DIR", tmp_path / "none")
    assert seed.available() == []
    status, _, err = hv(capsys, "image", "inspect", "busybox:1.35")
    assert status == 1 and "no image 'busybox:1.35'" in err
