"""The bundled Linux rebuilds byte for byte (guests/linux/build.sh, `make -C guests linux-check`):
minutes of compiling, so slow-marked; skipped when a toolchain it needs is missing."""
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

GUESTS = Path(__file__).resolve().parent.parent / "guests"
MISSING = [what for what, ok in (
    ("riscv64-linux-gnu-gcc (apt: gcc-riscv64-linux-gnu)",
     shutil.which("riscv64-linux-gnu-gcc")),
    ("/usr/src/linux-source-6.1.tar.xz (apt: linux-source-6.1)",
     os.path.exists("/usr/src/linux-source-6.1.tar.xz")),
    ("zig (pip: ziglang, the [build] extra)", importlib.util.find_spec("ziglang")),
    ("apt-get (for `apt-get source busybox`)", shutil.which("apt-get")),
    ("make, bc, flex, bison", all(shutil.which(t) for t in ("make", "bc", "flex", "bison"))),
) if not ok]


@pytest.mark.slow
@pytest.mark.skipif(bool(MISSING), reason=f"missing: {', '.join(MISSING)}")
def test_linux_rebuilds_byte_for_byte():
    run = subprocess.run(["make", "-C", str(GUESTS), "linux-check"], capture_output=True,
                         text=True, timeout=3600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "byte-identical" in run.stdout
