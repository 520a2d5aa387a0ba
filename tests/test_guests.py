"""The bundled guest images: each boots under `hv run` to its expected console text and exit
status, rogue is contained beside a neighbour, the images rebuild byte for byte, hv demo runs."""
import hashlib
import importlib.util
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from hypervisor.cli import main
from hypervisor.engine import Engine
from hypervisor.catalog import IMAGES_DIR, manifest
from guestbuild import build

GUESTS = Path(__file__).resolve().parent.parent / "guests"
_spec = importlib.util.spec_from_file_location("boot_test", GUESTS / "tools" / "boot_test.py")
boot_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(boot_test)
CASES = [c for c in boot_test.CASES if c.only in (None, "hv")]


def test_manifest_lists_every_image_with_a_matching_hash():
    entries = manifest()
    assert {e["name"] for e in entries} >= {"hello", "compute", "timer", "echo", "memhog",
                                           "rogue", "trapstorm", "panic", "bench"}
    for e in entries:
        data = (IMAGES_DIR / e["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"], e["name"]
        assert e["description"] and e["mem"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bundled_image_boots(capsys, case):
    argv = ["run", case.image, "--mem", case.mem, "--timeout", "120"]
    if case.append:
        argv += ["--append", case.append]
    if case.stdin:
        argv += ["--input", case.stdin]
    status = main(argv)
    out, err = capsys.readouterr()
    text = (out + err).replace("\r\n", "\n")
    assert status == case.rc, text[-2000:]
    for pattern in case.hv_expect:
        assert re.search(pattern, text), f"no /{pattern}/ in:\n{text[-2000:]}"
    if case.image == "rogue":
        assert not re.search(r"NOT CONTAINED|WRONG", text)


NEIGHBOUR = """
    li t0, 0x80500000       # 64 KiB of a pattern, then "R" and spin
    li t1, 0x80510000
    li t2, 0x12340000
1:  sw t2, 0(t0)
    addi t2, t2, 7
    addi t0, t0, 4
    bltu t0, t1, 1b
    li a7, 1
    li a0, 'R'
    ecall
2:  j 2b
"""


def _hash(engine, vm):
    h = hashlib.sha256()
    for page in np.sort(vm.gmap[vm.gmap >= 0]):
        h.update(engine.memory.page(int(page)).tobytes())
    return h.hexdigest()


def test_rogue_beside_a_neighbour_leaves_it_untouched():
    engine = Engine(64 << 20)
    neighbour = engine.create(build(NEIGHBOUR), name="neighbour", mem=16 << 20)
    rogue = engine.create("rogue", name="rogue", mem=16 << 20)
    engine.start(neighbour)
    end = time.time() + 20
    while "R" not in neighbour.console.text():
        assert time.time() < end
        time.sleep(0.01)
    engine.pause(neighbour)
    engine._off_cpu(neighbour)
    before = _hash(engine, neighbour)
    engine.resume(neighbour)
    engine.start(rogue)
    assert engine.wait(60, [rogue])
    engine.pause(neighbour)
    engine._off_cpu(neighbour)
    after = _hash(engine, neighbour)
    engine.shutdown()
    assert rogue.exit_code == 0, rogue.console.text()[-1500:]
    assert "everything was contained" in rogue.console.text()
    assert before == after and neighbour.peak_pages >= 16


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None or not shutil.which("make"),
                    reason="riscv64-unknown-elf-gcc (Debian gcc-riscv64-unknown-elf) is not "
                           "installed: the images cannot be rebuilt here")
def test_images_rebuild_byte_for_byte():
    proc = subprocess.run(["make", "-C", str(GUESTS), "check"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "byte-identical" in proc.stdout


def test_hv_demo_short_runs_to_completion(capsys):
    status = main(["demo", "--short"])
    out, err = capsys.readouterr()
    assert status == 0, out[-3000:]
    assert "ok   rogue" in out and "ok   panic" in out and "ok   hello" in out
    assert "[hello] " in out and "top exits" in out
