"""Helpers for the image tests (tests/test_images_*.py): building tars entry by entry, running
`hv` in-process, and a real OCI distribution registry (Debian's docker-registry, CNCF
distribution 2.8) on a free loopback port."""
import io
import os
import shutil
import tarfile

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


class Registry:
    """A running docker-registry (the labs' LocalRegistry, its access log on); `uploads()`
    counts blob uploads in that log."""

    def __init__(self, tmp):
        from hypervisor.labs.registry import LocalRegistry
        self.dir = tmp
        try:
            self.reg = LocalRegistry(tmp, REGISTRY_BIN, access_log=True, delete=True).__enter__()
        except OSError as exc:
            pytest.fail(f"docker-registry did not start: {exc}")
        self.host = self.reg.host
        self.port = int(self.host.rsplit(":", 1)[1])

    def read_log(self):
        self.reg.log.flush()
        with open(self.dir / "registry.log", "rb") as f:
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
        self.reg.__exit__(None, None, None)


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
