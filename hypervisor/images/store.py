"""The local image store: one OCI image layout directory (image-spec image-layout.md).

    STORE/oci-layout            {"imageLayoutVersion": "1.0.0"}
    STORE/index.json            an image index: one descriptor per tag, the tag in the
                                `org.opencontainers.image.ref.name` annotation (annotations.md);
                                a descriptor without that annotation is a dangling image
    STORE/blobs/sha256/<hex>    every manifest, config and layer, named by its digest, once
    STORE/.hvlab/               hvlab's own files (ignored by skopeo and umoci): locks, temp
                                files, the build step cache, and which containers use which image

So `skopeo inspect oci:STORE:name:tag` and `umoci unpack --image STORE:name:tag` read it as is.

Safety between concurrent `hv` processes:
* every file is written to `.hvlab/tmp/` and renamed into place (rename is atomic within a
  file system), so a reader never sees half a blob or half an index;
* a blob is renamed into `blobs/` only after its digest has been checked;
* read-modify-write of index.json happens under an exclusive fcntl lock (`.hvlab/index.lock`);
* a process that writes blobs it has not yet referenced from the index (a build, a load, a
  pull) holds `.hvlab/gc.lock` shared; `prune` takes it exclusively, so it never deletes a blob
  that another process is about to reference.
"""
import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from pathlib import Path

from . import mediatypes as mt
from .digest import check, of, verify
from .errors import OCIError

STATE = ".hvlab"
MAX_JSON = 4 << 20          # a manifest, config or index larger than this is refused
_HOLDER = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def default_root():
    """`$HV_STORE`, else `<user data dir>/hvlab/images` (platformdirs)."""
    env = os.environ.get("HV_STORE")
    if env:
        return Path(env).expanduser()
    import platformdirs
    return Path(platformdirs.user_data_dir("hvlab", appauthor=False)) / "images"


def canonical(obj):
    """JSON bytes with sorted keys and no spaces: the same object always has the same digest."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ref_name(descriptor):
    return (descriptor.get("annotations") or {}).get(mt.REF_NAME)


class Store:
    def __init__(self, root=None):
        self.root = Path(root).expanduser() if root else default_root()
        self.blobs = self.root / "blobs" / "sha256"
        self.state = self.root / STATE
        self.tmp = self.state / "tmp"
        self.cache = self.state / "cache"
        self.users_dir = self.state / "users"
        self._init()

    def __repr__(self):
        return f"Store({str(self.root)!r})"

    # -- layout ------------------------------------------------------------------------------
    def _init(self):
        layout = self.root / "oci-layout"
        if layout.exists():
            try:
                version = json.loads(layout.read_bytes())["imageLayoutVersion"]
            except (OSError, ValueError, KeyError, TypeError):
                raise OCIError(f"{self.root}: oci-layout is not an OCI layout file") from None
            if not str(version).startswith("1."):
                raise OCIError(f"{self.root}: image layout version {version} is not supported")
        elif self.root.exists() and (not self.root.is_dir() or any(self.root.iterdir())):
            raise OCIError(f"{self.root}: exists and is not an OCI image layout "
                           "(give --store an empty or new directory)")
        try:
            for d in (self.blobs, self.tmp, self.cache, self.users_dir):
                d.mkdir(parents=True, exist_ok=True)
            if not layout.exists():
                self._atomic_write(layout, canonical({"imageLayoutVersion":
                                                      mt.OCI_LAYOUT_VERSION}))
            if not (self.root / "index.json").exists():
                with self.locked():
                    if not (self.root / "index.json").exists():
                        self._write_index({"schemaVersion": 2, "mediaType": mt.INDEX,
                                           "manifests": []})
        except PermissionError as exc:
            raise OCIError(f"{self.root}: cannot write the image store: {exc.strerror}") \
                from None

    def _atomic_write(self, path, data, sync=True):
        fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix="w-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                if sync:
                    os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # -- locks -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _flock(self, name, mode):
        with open(self.state / name, "a+b") as f:
            try:
                fcntl.flock(f.fileno(), mode)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def locked(self):
        """Exclusive lock for a read-modify-write of index.json or the users table."""
        return self._flock("index.lock", fcntl.LOCK_EX)

    def writing(self):
        """Held (shared) while this process writes blobs not yet referenced from the index."""
        return self._flock("gc.lock", fcntl.LOCK_SH)

    def _collecting(self, wait=True):
        """Exclusive: no other process is writing unreferenced blobs (yields False when
        `wait` is False and one is)."""
        return self._flock("gc.lock", fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))

    # -- blobs -------------------------------------------------------------------------------
    def blob_path(self, digest):
        return self.blobs / check(digest)[7:]

    def has_blob(self, digest):
        return self.blob_path(digest).is_file()

    def blob_size(self, digest):
        try:
            return self.blob_path(digest).stat().st_size
        except FileNotFoundError:
            raise OCIError(f"blob {digest} is missing from the store {self.root}") from None

    def read_blob(self, digest, limit=MAX_JSON, what=None):
        """A small blob's bytes (a manifest, a config), checked against its digest."""
        path = self.blob_path(digest)
        try:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
        except FileNotFoundError:
            raise OCIError(f"blob {digest} is missing from the store {self.root}") from None
        if len(data) > limit:
            raise OCIError(f"{what or 'blob ' + digest}: larger than {limit} bytes")
        return verify(data, digest, what or f"blob in the store {path}")

    def put_blob(self, data):
        """Store bytes under their digest (once: an existing blob is not written again)."""
        digest = of(data)
        path = self.blob_path(digest)
        if not path.is_file():
            self._atomic_write(path, data)
        return digest

    @contextlib.contextmanager
    def temp(self, suffix=""):
        """(binary file, path) of a temp file in the store, deleted unless adopted."""
        fd, path = tempfile.mkstemp(dir=self.tmp, prefix="b-", suffix=suffix)
        f = os.fdopen(fd, "w+b")
        try:
            yield f, path
        finally:
            f.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def adopt(self, path, digest):
        """Move a temp file whose content the caller has checked to be `digest` into blobs/."""
        target = self.blob_path(digest)
        if target.is_file():
            os.unlink(path)
            return
        with open(path, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(path, 0o644)
        os.replace(path, target)

    # -- index -------------------------------------------------------------------------------
    def read_index(self):
        try:
            index = json.loads(self.read_raw("index.json"))
        except ValueError as exc:
            raise OCIError(f"{self.root}/index.json: not JSON ({exc})") from None
        if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
            raise OCIError(f"{self.root}/index.json: not an image index")
        for d in index["manifests"]:
            if not isinstance(d, dict):
                raise OCIError(f"{self.root}/index.json: a manifest entry is not an object")
            check(d.get("digest"), "digest in index.json")
        return index

    def read_raw(self, name):
        with open(self.root / name, "rb") as f:
            data = f.read(MAX_JSON + 1)
        if len(data) > MAX_JSON:
            raise OCIError(f"{self.root}/{name}: larger than {MAX_JSON} bytes")
        return data

    def _write_index(self, index):
        self._atomic_write(self.root / "index.json", canonical(index))

    def entries(self):
        return self.read_index()["manifests"]

    def tags(self):
        """{ref name: descriptor} for every tagged image."""
        return {ref_name(d): d for d in self.entries() if ref_name(d)}

    def resolve(self, text):
        """The index descriptor of a tag, a full digest or a unique id prefix, else OCIError."""
        from .reference import parse
        entries = self.entries()
        for d in entries:
            if ref_name(d) == text:
                return d
        if re.fullmatch(r"(sha256:)?[a-f0-9]{4,64}", text):
            return self._by_id(text, entries)
        name = str(parse(text))
        for d in entries:
            if ref_name(d) == name:
                return d
        raise OCIError(f"no image {text!r} in the store {self.root} (see `hv image ls`)")

    def _by_id(self, text, entries):
        prefix = text.removeprefix("sha256:")
        found = {d["digest"]: d for d in entries if d["digest"][7:].startswith(prefix)}
        if not found:   # an image id is its config digest, as Docker's are
            for d in entries:
                with contextlib.suppress(OCIError, ValueError, KeyError, TypeError):
                    config = json.loads(self.read_blob(d["digest"]))["config"]["digest"]
                    if config[7:].startswith(prefix):
                        found[d["digest"]] = d
        if len(found) > 1:
            raise OCIError(f"image id {text!r} is ambiguous ({len(found)} images)")
        if not found:
            if len(prefix) == 64 and self.has_blob("sha256:" + prefix):
                return {"mediaType": _sniff(self.read_blob("sha256:" + prefix)),
                        "digest": "sha256:" + prefix,
                        "size": self.blob_size("sha256:" + prefix)}
            raise OCIError(f"no image with id {text!r} in the store {self.root}")
        return next(iter(found.values()))

    def tag(self, name, descriptor):
        """Point tag `name` at `descriptor`; an image losing its last tag stays, dangling."""
        entry = {k: descriptor[k] for k in ("mediaType", "digest", "size", "platform")
                 if k in descriptor}
        entry["annotations"] = {mt.REF_NAME: name}
        with self.locked():
            index = self.read_index()
            kept = []
            for d in index["manifests"]:
                if ref_name(d) == name or (not ref_name(d) and d["digest"] == entry["digest"]):
                    if d["digest"] != entry["digest"] and not any(
                            e["digest"] == d["digest"] and ref_name(e) != name
                            for e in index["manifests"]):
                        kept.append({k: v for k, v in d.items() if k != "annotations"})
                    continue
                kept.append(d)
            kept.append(entry)
            index["manifests"] = kept
            self._write_index(index)

    def untag(self, name=None, digest=None):
        """Remove a tag (or every entry of a digest); returns the removed descriptors."""
        with self.locked():
            index = self.read_index()
            gone = [d for d in index["manifests"]
                    if (name is not None and ref_name(d) == name)
                    or (digest is not None and d["digest"] == digest)]
            index["manifests"] = [d for d in index["manifests"] if d not in gone]
            self._write_index(index)
        return gone

    # -- which containers use which image ----------------------------------------------------
    def register_use(self, digest, holder):
        if not _HOLDER.fullmatch(holder or ""):
            raise OCIError(f"bad container id {holder!r} (letters, digits, '_', '.', '-')")
        check(digest)
        with self.locked():
            self._atomic_write(self.users_dir / f"{holder}.json",
                               canonical({"digest": digest, "since": int(time.time())}))

    def unregister_use(self, holder):
        if not _HOLDER.fullmatch(holder or ""):
            return
        with self.locked(), contextlib.suppress(FileNotFoundError):
            os.unlink(self.users_dir / f"{holder}.json")

    def users(self):
        """{container id: manifest digest} for every registered use."""
        found = {}
        for path in self.users_dir.glob("*.json"):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError, OCIError):
                found[path.stem] = check(json.loads(path.read_bytes())["digest"])
        return found


def _sniff(data):
    """The media type of a manifest-like blob found only by digest."""
    try:
        obj = json.loads(data)
    except ValueError:
        raise OCIError("that blob is not an image manifest") from None
    if isinstance(obj, dict) and "manifests" in obj:
        return obj.get("mediaType", mt.INDEX)
    if isinstance(obj, dict) and "layers" in obj:
        return obj.get("mediaType", mt.MANIFEST)
    raise OCIError("that blob is not an image manifest")
