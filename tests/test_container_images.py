"""Containers from OCI images of the image store (issue 14): `RUN` of `hv image build` runs on
the shared kernel, its writable layer becomes the step's layer; containers start from the
built image, and `commit` turns a container's changes into a new image."""
import tarfile

import pytest

from kernelhelp import PROGS
from oci_helpers import hv, make_context


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=96 << 20)
    yield e
    e.shutdown()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("HV_STORE", str(tmp_path / "store"))
    return tmp_path / "store"


def _build(capsys, tmp_path):
    ctx = make_context(tmp_path / "ctx", {
        "Buildfile": b'FROM scratch\nCOPY tool /bin/tool\n'
                     b'RUN ["/bin/tool", "write", "/built", "by RUN"]\n'
                     b'CMD ["/bin/tool", "cat", "/built"]\n',
        "tool": ("mode", (PROGS / "tool").read_bytes(), 0o755)})
    status, out, err = hv(capsys, "image", "build", "-t", "tooled:1", ctx)
    assert status == 0, err
    return ctx


def test_run_step_layer_and_container_from_the_image(engine, store, tmp_path, capsys):
    _build(capsys, tmp_path)
    from hypervisor.images import image, store as oci
    img = image.load(oci.Store(), "tooled:1")
    assert len(img.layers) == 2                     # COPY's layer, RUN's layer
    last = list(img.open_layers())[-1]
    with tarfile.open(fileobj=last) as t:
        assert t.getnames() == ["built"]
        assert t.extractfile("built").read() == b"by RUN"
    from hypervisor.kernel import imageref, runtime
    c = runtime.run(engine, imageref.resolve("tooled:1"), [])       # the image's CMD
    assert engine.wait(timeout=30, vms=[c])
    assert c.console.text() == "/built: by RUN\n" and c.exit_code == 0


def test_a_failing_run_step_stops_the_build(store, tmp_path, capsys):
    ctx = make_context(tmp_path / "ctx", {
        "Buildfile": b'FROM scratch\nCOPY tool /bin/tool\nRUN ["/bin/tool", "segv"]\n',
        "tool": ("mode", (PROGS / "tool").read_bytes(), 0o755)})
    status, out, err = hv(capsys, "image", "build", "-t", "bad:1", ctx)
    assert status != 0 and "139" in err
