"""Helpers for the shared-kernel tests: a rootfs with the committed container programs; the same
files as a newc cpio (a Linux VM's --initrd) or as an OCI layer tar (over a container's image)."""
import io
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

PROGS = Path(__file__).resolve().parent.parent / "guests" / "containers"


def make_rootfs(path, extra=None, progs=()):
    """A small root: /bin/conform, /bin/tool (and the container programs named in ``progs``),
    /etc/hostname, /work (empty), /tmp."""
    for d in ("bin", "etc", "work", "tmp", "root"):
        (path / d).mkdir(parents=True, exist_ok=True)
    for name in ("conform", "tool", *progs):
        shutil.copy(PROGS / name, path / "bin" / name)
        os.chmod(path / "bin" / name, 0o755)
    (path / "etc" / "hostname").write_text("inside\n")
    for rel, data in (extra or {}).items():
        (path / rel).write_bytes(data)
    return path


def run_in_linux_batch(files, timeout=180):
    """Boot the bundled linux-batch with ``files`` (newc entries) as an extra initrd and
    /opt/run.sh as its command; its console text (CRLF as LF) once it passed."""
    from hypervisor.engine import Engine
    engine = Engine(128 << 20)
    try:
        vm = engine.create("linux-batch", mem=64 << 20, initrd=newc(files),
                           bootargs='run="/opt/run.sh | cat"')
        engine.start(vm)
        assert engine.wait(timeout), vm.console.text()[-2000:]
    finally:
        engine.shutdown()
    text = vm.console.text().replace("\r\n", "\n")
    assert vm.outcome == "passed" and "[run] exit status 0" in text, text[-2000:]
    return text


def run(engine, image, argv, timeout=60, **kw):
    from hypervisor.kernel import runtime
    c = runtime.run(engine, image if isinstance(image, (list, tuple)) else str(image), argv,
                    **kw)
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


def newc(files):
    """An uncompressed newc cpio of {path: (mode, data)} (what Linux's --initrd takes)."""
    from hypervisor.images.cpio import header
    out = io.BytesIO()
    for ino, (name, (mode, data)) in enumerate(files.items(), 1):
        out.write(header(ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data),
                         name.encode()))
        out.write(data + b"\0" * (-len(data) % 4))
    out.write(header(0, 0, 0, 0, 1, 0, 0, b"TRAILER!!!"))
    return out.getvalue()


def layer(files, path):
    """The same {path: (mode, data)} as an OCI layer tar at ``path``."""
    with tarfile.open(path, "w") as t:
        for name, (mode, data) in files.items():
            info = tarfile.TarInfo(name)
            info.mode = mode & 0o7777
            if stat.S_ISDIR(mode):
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return path
