"""Helpers for the image tests (tests/test_images_*.py): building tars entry by entry, running
`hv` in-process, and a real OCI distribution registry (Debian's docker-registry, CNCF
distribution 2.8) on a free loopback port."""
import io
import os
import shutil
import socket
import subprocess
import tarfile
import time

import pytest

from hypervisor.cli import main

REGISTRY_BIN = shutil.which("docker-registry") or shutil.which("registry")


def hv(capsys, *argv):
    """(status, stdout, stderr) of `hv ARGV` run in this process."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """An uncompressed tar from (name, kind, payload, **fields) tuples; kind is "file",
    "dir", "symlink", "hardlink", "chr", "blk", "fifo"; payload is file bytes or a link
    target."""
    buf = io.BytesIO()
    types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE,
             "fifo": tarfile.FIFOTYPE}
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for entry in entries:
            name, kind, payload = entry[:3]
            fields = entry[3] if len(entry) > 3 else {}
            t = tarfile.TarInfo(name)
            t.type = types[kind]
            t.mode = fields.get("mode", 0o755 if kind == "dir" else 0o644)
            t.uid, t.gid = fields.get("uid", 0), fields.get("gid", 0)
            t.mtime = fields.get("mtime", 1000)
            if "pax" in fields:
                t.pax_headers = fields["pax"]
            data = None
            if kind == "file":
                t.size = len(payload)
                data = io.BytesIO(payload)
            elif kind in ("symlink", "hardlink"):
                t.linkname = payload
            tf.addfile(t, data)
    return buf.getvalue()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """A running docker-registry; `uploads()` counts blob uploads in its own access log."""

    def __init__(self, tmp):
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.dir = tmp
        config = tmp / "config.yml"
        config.write_text(f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {tmp / "data"}
  delete:
    enabled: true
http:
  addr: {self.host}
""")
        self.log = open(tmp / "access.log", "w+b")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"docker-registry did not start: {self.read_log()[-500:]}")

    def read_log(self):
        self.log.flush()
        with open(self.dir / "access.log", "rb") as f:
            return f.read().decode("utf-8", "replace")

    def requests(self):
        """(method, path) of every request in the access log so far."""
        out = []
        for line in self.read_log().splitlines():
            if '"' in line and " HTTP/1.1" in line:
                method, path = line.split('"')[1].split(" ")[:2]
                out.append((method, path))
        return out

    def uploads(self):
        """Blob uploads the registry saw: the monolithic PUT .../blobs/uploads/...?digest="""
        return [p for m, p in self.requests() if m == "PUT" and "/blobs/uploads/" in p]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    if not REGISTRY_BIN:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    reg = Registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture(autouse=True)
def _own_store(tmp_path, monkeypatch):
    """Every image test gets its own default store, never the user's."""
    monkeypatch.setenv("HV_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    for var in ("HV_IMAGE_MAX_BLOB", "HV_IMAGE_MAX_LAYER", "HV_IMAGE_MAX_ENTRY",
                "HV_IMAGE_MAX_ENTRIES"):
        monkeypatch.delenv(var, raising=False)


def make_context(root, files):
    """A build context from {relative path: bytes | ("symlink", target) | ("mode", bytes, m)}."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, spec in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, tuple) and spec[0] == "symlink":
            os.symlink(spec[1], path)
        elif isinstance(spec, tuple) and spec[0] == "mode":
            path.write_bytes(spec[1])
            os.chmod(path, spec[2])
        else:
            path.write_bytes(spec)
    return root
