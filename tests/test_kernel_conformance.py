"""The syscall conformance suite (guests/containers/conform.c) on hvlab's shared kernel gives
exactly what real Linux gives (qemu-riscv32 user mode passes each call to the host kernel)."""
import shutil
import subprocess

import pytest

from kernelhelp import PROGS, make_rootfs, run


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=64 << 20)
    yield e
    e.shutdown()


def linux_reference(tmp_path):
    qemu = shutil.which("qemu-riscv32")
    if qemu is None:
        pytest.skip("qemu-riscv32 (qemu-user) is not installed: no Linux reference")
    work = tmp_path / "qemu-work"
    work.mkdir()
    out = subprocess.run([qemu, str(PROGS / "conform")], cwd=work, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode()


def test_conformance_suite_matches_linux(engine, tmp_path):
    expected = linux_reference(tmp_path)
    root = make_rootfs(tmp_path / "root")
    c = run(engine, root, ["/bin/conform"], workdir="/work", memory=16 << 20)
    assert c.exit_code == 0, c.klog
    got = c.console.text()
    assert got.splitlines() == expected.splitlines()
    assert len(got.splitlines()) > 120 and got.endswith("done\n")
    # the one unknown call was answered with ENOSYS and counted by number
    assert c.stats()["missing_syscalls"] == {"syscall_4000": 1}
