"""Concurrent `hv` processes on one store: two builds at once, builds racing prunes, and
many processes tagging at once never corrupt it or lose an update."""
import os
import subprocess
import sys
import time
from pathlib import Path

from hypervisor import images
from hypervisor.images.union import view
from oci_helpers import _own_store, make_context  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def hv_proc(*argv, store):
    env = dict(os.environ, HV_STORE=str(store), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "hypervisor.cli", *map(str, argv)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def context(tmp_path, name, megabytes):
    files = {f"data/{i}": os.urandom(256 << 10) for i in range(megabytes * 4)}
    lines = "".join(f"COPY data/{i} /data/{i}\n" for i in range(0, megabytes * 4, 2))
    return make_context(tmp_path / name, {"Buildfile": f"FROM scratch\n{lines}COPY data "
                                          "/all\n".encode(), **files})


def test_two_builds_and_prunes_at_once(tmp_path):
    store = tmp_path / "shared"
    images.open_store(store)
    a, b = context(tmp_path, "a", 3), context(tmp_path, "b", 3)
    builds = [hv_proc("image", "build", "-t", "a:1", a, store=store),
              hv_proc("image", "build", "-t", "b:1", b, store=store)]
    prunes = 0
    while any(p.poll() is None for p in builds):
        p = hv_proc("image", "prune", store=store)
        assert p.wait(60) == 0, p.stderr.read()
        prunes += 1
    for p in builds:
        assert p.wait() == 0, p.stderr.read()
    assert prunes >= 1
    check = hv_proc("image", "check", store=store)
    assert check.wait(60) == 0 and check.stdout.read() == "store is sound\n"
    for tag, ctx in (("a:1", a), ("b:1", b)):
        img = images.open_image(tag, store)
        with view(img) as u:
            assert u.read(u.get("all/0")) == (ctx / "data" / "0").read_bytes()
    # a prune with nothing running leaves both images whole
    assert hv_proc("image", "prune", store=store).wait(60) == 0
    assert hv_proc("image", "check", store=store).wait(60) == 0


def test_concurrent_tagging_loses_no_update(tmp_path):
    store = tmp_path / "shared"
    ctx = make_context(tmp_path / "ctx", {"Buildfile": b"FROM scratch\nCOPY f /f\n",
                                          "f": b"x"})
    assert hv_proc("image", "build", "-q", "-t", "t:0", ctx, store=store).wait(60) == 0
    script = ("import sys\nfrom hypervisor.images.store import Store\ns = Store(sys.argv[1])\n"
              "d = s.resolve('t:0')\nfor i in range(25):\n    s.tag(f't:{sys.argv[2]}-{i}', d)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(store), str(n)], env=env,
                              cwd=ROOT) for n in range(4)]
    t0 = time.monotonic()
    for p in procs:
        assert p.wait(120) == 0
    tags = images.open_store(store).tags()
    assert len(tags) == 1 + 4 * 25, f"lost updates ({time.monotonic() - t0:.1f} s)"
