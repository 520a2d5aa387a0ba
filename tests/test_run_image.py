"""`hv run --image NAME:TAG` (issue 14 item 6): an OCI image whose config names a kernel boots
as a VM, its layers packed into the initramfs (hypervisor/images/vmimage.py).  linux-vm:6.1 is
seeded from the bundled userland and Linux Image; what it prints comes from Linux and BusyBox
(the image's /etc/os-release, the kernel's machine name)."""
import re

import pytest

from hypervisor.catalog import IMAGES_DIR, bundled
from hypervisor.cli import main

pytestmark = pytest.mark.skipif(bundled("linux") is None or
                                not (IMAGES_DIR / bundled("linux")["file"]).exists(),
                                reason="the Linux image is not installed (make -C guests linux)")


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("HV_STORE", str(tmp_path / "store"))
    return tmp_path / "store"


def test_hv_run_image_boots_linux_vm(capsys):
    status = main(["run", "--image", "linux-vm:6.1", "--append",
                   'run="cat /etc/os-release; uname -m; ls /boot"'])
    out, err = capsys.readouterr()
    out = out.replace("\r\n", "\n")
    assert status == 0, err
    assert 'PRETTY_NAME="hvlab Linux' in out and re.search(r"^riscv32$", out, re.M)
    assert "[run] exit status 0" in out
    # the kernel is not packed again into the initramfs: /boot is there, empty
    assert out.split("riscv32\n", 1)[1].startswith("[run] exit status 0")


@pytest.mark.parametrize("argv, text", [
    (["run", "--image", "nothere:1"], "no image 'nothere:1'"),
    (["run", "--image", "busybox:1.35"], "names no kernel"),
    (["run", "--image", "linux-vm:6.1", "hello"], "give no IMAGE or --initrd with it"),
])
def test_hv_run_image_errors_are_one_line(capsys, argv, text):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1 and "Traceback" not in err
