"""The container store: what a container keeps between `hv` commands, as Docker's do.

    <store>/<id>/config.json    name, image, command, options, state, exit code, times
    <store>/<id>/upper.tar      its writable layer (an OCI layer tar with whiteouts), saved
                                when it stops, applied over its image when it starts again
    <store>/<id>/log            everything it wrote to stdout/stderr (`hv container logs`)

<store> is ``.hvlab/containers`` inside the image store of issue 14 (``$HV_STORE``, else
``<user data dir>/hvlab/images``): one HV_STORE holds a user's images and containers, in the
state directory the OCI layout keeps for hvlab (its "which container uses which image" list
is there too).  Writes are atomic (a temporary file, then rename).  Images are never written.
"""
import io
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path

from .layers import diff_tar

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


class StoreError(Exception):
    """A request about a container that cannot be served (one line)."""


def default_root():
    try:
        from ..images.store import Store
    except ImportError:
        Store = None
    if Store is not None:
        return Store().state / "containers"    # makes the OCI layout first if it is new
    env = os.environ.get("HV_STORE")
    if env:
        return Path(env).expanduser() / ".hvlab" / "containers"
    import platformdirs
    return Path(platformdirs.user_data_dir("hvlab", appauthor=False)) / "images" / ".hvlab" \
        / "containers"


def _atomic(path, data):
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class ContainerStore:
    def __init__(self, root=None):
        self.root = Path(root) if root else default_root()
        self.root.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- records
    def new(self, record):
        name = record.get("name")
        if name:
            if not NAME.fullmatch(name):
                raise StoreError(f"invalid container name {name!r}: letters, digits, _ . -")
            if self.find(name, missing_ok=True) is not None:
                raise StoreError(f"the container name {name!r} is already in use")
        cid = secrets.token_hex(6)
        record = dict(record, id=cid, name=name or f"hv_{cid[:6]}", created=time.time(),
                      state="created", exit_code=None)
        (self.root / cid).mkdir()
        self.save(record)
        return record

    def save(self, record):
        _atomic(self.root / record["id"] / "config.json", json.dumps(record, indent=1).encode())

    def load(self, cid):
        try:
            return json.loads((self.root / cid / "config.json").read_text())
        except (OSError, ValueError):
            return None

    def all(self):
        out = []
        for d in sorted(self.root.iterdir()) if self.root.exists() else ():
            r = self.load(d.name) if d.is_dir() else None
            if r is not None:
                out.append(r)
        return sorted(out, key=lambda r: r["created"])

    def find(self, ref, missing_ok=False):
        """A container by name, id or unique id prefix (docker's rule)."""
        records = self.all()
        for r in records:
            if r["name"] == ref or r["id"] == ref:
                return r
        hits = [r for r in records if r["id"].startswith(ref)] if len(ref) >= 3 else []
        if len(hits) == 1:
            return hits[0]
        if missing_ok:
            return None
        raise StoreError(f"No such container: {ref}")

    def remove(self, record):
        shutil.rmtree(self.root / record["id"], ignore_errors=True)

    # ---------------------------------------------------------------- layer and log
    def save_layer(self, record, container):
        buf = io.BytesIO()
        diff_tar(container.ns.root, container.ns.image_root, buf)
        _atomic(self.root / record["id"] / "upper.tar", buf.getvalue())

    def layer(self, record):
        path = self.root / record["id"] / "upper.tar"
        return path.read_bytes() if path.exists() else None

    def layer_path(self, record):
        return self.root / record["id"] / "upper.tar"

    def append_log(self, record, data):
        with open(self.root / record["id"] / "log", "ab") as f:
            f.write(data)

    def log(self, record):
        path = self.root / record["id"] / "log"
        return path.read_bytes() if path.exists() else b""
