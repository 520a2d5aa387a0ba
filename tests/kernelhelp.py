"""Helpers for the shared-kernel tests: a rootfs with the committed container programs."""
import os
import shutil
from pathlib import Path

import pytest

PROGS = Path(__file__).resolve().parent.parent / "guests" / "containers"


def make_rootfs(path, extra=None):
    """A small root: /bin/conform, /bin/tool, /etc/hostname, /work (empty), /tmp."""
    for d in ("bin", "etc", "work", "tmp", "root"):
        (path / d).mkdir(parents=True, exist_ok=True)
    for name in ("conform", "tool"):
        shutil.copy(PROGS / name, path / "bin" / name)
        os.chmod(path / "bin" / name, 0o755)
    (path / "etc" / "hostname").write_text("inside\n")
    for rel, data in (extra or {}).items():
        (path / rel).write_bytes(data)
    return path


def run(engine, image, argv, timeout=60, **kw):
    from hypervisor.kernel import runtime
    c = runtime.run(engine, str(image), argv, **kw)
    assert engine.wait(timeout=timeout, vms=[c]), f"{argv} did not finish: {c.outcome}"
    return c


def busybox():
    """A BusyBox 1.35 static rv32 binary: HV_BUSYBOX, or the linux stream's userland."""
    path = os.environ.get("HV_BUSYBOX")
    if path and os.path.exists(path):
        return path
    pytest.skip("no BusyBox binary (set HV_BUSYBOX, or the bundled userland lands)")
