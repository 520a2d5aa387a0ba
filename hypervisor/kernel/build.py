"""`RUN` of `hv image build`: one command in a container on the shared kernel; the container's
writable layer becomes the build step's layer (the interface hypervisor/images/runtime.py
documents).  Each step has its own engine: a build needs no daemon."""
import io
import os
import tarfile
import tempfile

from .layers import diff_tar
from .runtime import ContainerError, create

STEP_MEMORY = 256 << 20
HOST_MEMORY = 320 << 20


class _Layers:
    def __init__(self, layers, config):
        self.layers, self.config, self.name, self.key = list(layers), {}, "build step", None


def run_step(layers, config, argv, env, workdir, user, log):
    """Run ``argv``; (exit status, path of the writable layer tar or None)."""
    from ..engine import Engine
    engine = Engine(host_mem=HOST_MEMORY)
    try:
        try:
            c = create(engine, _Layers(layers, config), argv, env=env, workdir=workdir or "/",
                       memory=STEP_MEMORY)
        except ContainerError as exc:
            log(f"{exc}\n".encode())
            return exc.status, None
        c.console.listeners.append(log)
        c.close_input()
        engine.start(c)
        engine.wait(vms=[c])
        status = c.exit_code if c.exit_code is not None else 125
        if c.reason and status:
            log(f"[hvlab] {c.name}: {c.outcome}\n".encode())
        buf = io.BytesIO()
        diff_tar(c.ns.root, c.ns.image_root, buf)
        with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as t:
            if not t.getmembers():
                return status, None
        fd, path = tempfile.mkstemp(suffix=".tar", prefix="hv-run-")
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        return status, path
    finally:
        engine.shutdown()
