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
    """A BusyBox 1.35 static rv32 binary: HV_BUSYBOX, or the bundled userland's
    (hypervisor/guest_images/userland.tar, built by guests/)."""
    path = os.environ.get("HV_BUSYBOX")
    if path and os.path.exists(path):
        return path
    import tarfile
    import tempfile
    bundled = PROGS.parent.parent / "hypervisor" / "guest_images" / "userland.tar"
    if bundled.exists():
        out = Path(tempfile.gettempdir()) / f"hv-busybox-{bundled.stat().st_mtime_ns}"
        if not out.exists():
            with tarfile.open(bundled) as t:
                for name in ("bin/busybox", "./bin/busybox", "usr/bin/busybox"):
                    try:
                        data = t.extractfile(name).read()
                        break
                    except (KeyError, AttributeError):
                        continue
                else:
                    pytest.skip("the bundled userland has no bin/busybox")
            tmp = out.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, out)
        return str(out)
    pytest.skip("no BusyBox binary (set HV_BUSYBOX, or build the bundled userland)")
