"""`hv image save` / `hv image load`: images in one tar file, to carry between hosts.

save writes an OCI image layout as a tar (image-layout.md: "This layout MAY be used in a
variety of different transport mechanisms: archive formats (e.g. tar...)"), with Docker's
`manifest.json` beside it (as `docker save` since Docker 25 does), so `docker load`, `skopeo
copy oci-archive:` and `hv image load` all read it.  The tar is reproducible: entries sorted,
owner 0, mtime 0.

load reads that, any OCI layout tar (skopeo's oci-archive), or the classic `docker save`
format (manifest.json naming a config JSON and layer tars per image; the config's rootfs
diff_ids are the layer tars' digests).  Every blob is checked before anything is written: a
digest mismatch or an unsafe layer aborts the load with the store unchanged.
"""
import io
import json
import tarfile

from . import mediatypes as mt
from .digest import Hasher, check, of
from .errors import DigestMismatch, OCIError, short
from .image import from_descriptor, parse_config, parse_index, parse_manifest
from .layers import CHUNK, check_layer_file, compression_of, store_layer, unpack
from .reference import familiar, local_name
from .store import MAX_JSON, canonical
from .tarsafe import Limits


# -- save ----------------------------------------------------------------------------------
def save(store, refs, path):
    """Write the images `refs` name into the tar `path`; returns the images."""
    from .image import load
    images = [load(store, r) for r in refs]
    blobs, index, docker = {}, [], []
    for img, ref in zip(images, refs):
        for d in [img.manifest["config"], *img.layers]:
            blobs[d["digest"]] = d["size"]
        blobs[img.digest] = len(img.manifest_bytes)
        named = _try_local(ref)
        tags = [named] if named in img.names else list(img.names)   # by tag, or by id: all
        for t in tags or [None]:
            entry = img.descriptor()
            if t:
                entry["annotations"] = {mt.REF_NAME: t}
            index.append(entry)
        docker.append({"Config": f"blobs/sha256/{img.id[7:]}", "RepoTags": tags,
                       "Layers": [f"blobs/sha256/{d['digest'][7:]}" for d in img.layers]})
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        _add_bytes(tf, "blobs", None)
        _add_bytes(tf, "blobs/sha256", None)
        for digest in sorted(blobs):
            with open(store.blob_path(digest), "rb") as f:
                info = _info(f"blobs/sha256/{digest[7:]}", blobs[digest])
                h = _HashCheck(f, digest)
                tf.addfile(info, h)
                h.done()
        _add_bytes(tf, "index.json", canonical({"schemaVersion": 2, "mediaType": mt.INDEX,
                                                "manifests": index}))
        _add_bytes(tf, "manifest.json", json.dumps(docker, separators=(",", ":")).encode())
        _add_bytes(tf, "oci-layout", canonical({"imageLayoutVersion":
                                                mt.OCI_LAYOUT_VERSION}))
    return images


def _try_local(ref):
    try:
        return local_name(ref)
    except OCIError:
        return ref


class _HashCheck:
    """Read a stored blob into the archive, checking it is what its name says."""

    def __init__(self, f, digest):
        self._f, self._digest, self._h = f, digest, Hasher()

    def read(self, n=-1):
        data = self._f.read(n)
        self._h.update(data)
        return data

    def done(self):
        if self._h.digest != self._digest:
            raise DigestMismatch("blob in the store", self._digest, self._h.digest)


def _info(name, size, directory=False):
    t = tarfile.TarInfo(name)
    t.size, t.mtime, t.uid, t.gid, t.uname, t.gname = size, 0, 0, 0, "", ""
    t.mode = 0o755 if directory else 0o644
    if directory:
        t.type, t.size = tarfile.DIRTYPE, 0
    return t


def _add_bytes(tf, name, data):
    if data is None:
        tf.addfile(_info(name, 0, directory=True))
    else:
        tf.addfile(_info(name, len(data)), io.BytesIO(data))


# -- load ----------------------------------------------------------------------------------
class _Archive:
    def __init__(self, path):
        try:
            self.tf = tarfile.open(path, "r:*")
            self.members = {}
            for m in self.tf.getmembers():
                name = "/".join(p for p in m.name.split("/") if p not in ("", "."))
                self.members[name] = m
            # tarfile ends the member list quietly at a truncated or garbled header after the
            # first: a cut archive loaded what was left (index.json gone: as a docker save).
            # After the last member, a tar has zero blocks or nothing (POSIX ustar: two zero
            # blocks end it); anything else is where the archive broke, as GNU tar reports
            self.tf.fileobj.seek(self.tf.offset)
            block = self.tf.fileobj.read(tarfile.BLOCKSIZE)
            if block.strip(b"\0"):
                raise OCIError(f"{path}: truncated or damaged tar archive (a bad header at "
                               f"byte {self.tf.offset})")
        except tarfile.ReadError as exc:
            # "r:*" tries each compression and lists every failure on its own line: the
            # standard is one line, so name the last (the plain tar's) reason only
            why = str(exc).strip().splitlines()[-1].strip("- )")
            raise OCIError(f"{path}: not a readable tar archive ({why})") from None
        except (OSError, tarfile.TarError) as exc:
            raise OCIError(f"{path}: not a readable tar archive ({exc})") from None
        self.path = path

    def open(self, name):
        m = self.members.get(name)
        f = self.tf.extractfile(m) if m is not None else None
        if f is None:
            raise OCIError(f"{self.path}: {name} is missing from the archive")
        return f

    def read(self, name, limit=MAX_JSON):
        data = self.open(name).read(limit + 1)
        if len(data) > limit:
            raise OCIError(f"{self.path}: {name} is larger than {limit} bytes")
        return data

    def blob(self, digest):
        return self.open(f"blobs/sha256/{check(digest)[7:]}")


def load(store, path, reporter=None):
    """Load every image of the archive; returns [(name or None, Image)]."""
    arc = _Archive(path)
    with arc.tf, store.writing():
        if "index.json" in arc.members and "oci-layout" in arc.members:
            return _load_oci(store, arc, reporter)
        if "manifest.json" in arc.members:
            return _load_docker(store, arc, reporter)
    raise OCIError(f"{path}: neither an OCI layout (index.json, oci-layout) nor a docker "
                   "save archive (manifest.json)")


def _verify_blob(arc, desc, limits, what):
    """Hash a blob in the archive against its descriptor (size and digest)."""
    h, f = Hasher(), arc.blob(desc["digest"])
    for chunk in iter(lambda: f.read(CHUNK), b""):
        h.update(chunk)
        if h.size > limits.max_blob:
            raise OCIError(f"{what}: past the limit of {limits.max_blob} bytes")
    if h.digest != desc["digest"]:
        raise DigestMismatch(what, desc["digest"], h.digest)
    if h.size != desc["size"]:
        raise OCIError(f"{what}: {h.size} bytes, its descriptor says {desc['size']}")


def _load_oci(store, arc, reporter):
    limits = Limits.from_env()
    index = parse_index(arc.read("index.json"), f"{arc.path}: index.json")
    plan, names = {}, []            # digest -> (descriptor, kind); [(name, descriptor)]
    for d in index["manifests"]:
        names.append((_name_of(d), d))
        _plan(arc, d, plan, limits)
    for digest, (desc, kind, diff_id) in plan.items():     # everything checked first
        what = f"{kind} {short(digest)} in {arc.path}"
        _verify_blob(arc, desc, limits, what)
        if kind == "layer":
            with store.temp() as (f, tmp):
                _copy(arc.blob(digest), f)
                f.flush()
                spool, _, findings = check_layer_file(tmp, desc, diff_id, limits, what)
                spool.close()
                for x in findings:
                    if reporter:
                        reporter.warn(f"layer {short(digest)}: {x}")
    if True:                # (under load's store.writing())
        for digest, (desc, kind, _) in plan.items():
            if not store.has_blob(digest):
                with store.temp() as (f, tmp):
                    _copy(arc.blob(digest), f)
                    f.flush()
                    store.adopt(tmp, digest)
        out = []
        for name, d in names:
            image = from_descriptor(store, d, name or short(d["digest"]))
            entry = {k: d[k] for k in ("mediaType", "digest", "size", "platform") if k in d}
            if name:
                store.tag(name, entry)
            else:
                _keep_dangling(store, entry)
            out.append((name, image))
    return out


def _name_of(d):
    ann = d.get("annotations") or {}
    full = ann.get("io.containerd.image.name")      # containerd / Docker 25: full name there
    name = full or ann.get(mt.REF_NAME)
    if not name:
        return None
    try:
        return local_name(familiar(name))
    except OCIError:
        return name if all(c.isalnum() or c in "-._:@/+" for c in name) else None


def _plan(arc, d, plan, limits, depth=0):
    """Read (and check) the manifest tree under descriptor d into `plan`."""
    if depth > 4:
        raise OCIError(f"{arc.path}: image indexes nested too deep")
    digest = d["digest"]
    if d.get("mediaType") not in mt.INDEXES + mt.MANIFESTS:
        # descriptor.md: mediaType is REQUIRED and names what the blob is; one that is
        # neither a manifest nor an index was loaded (and tagged with that type) as a manifest
        raise OCIError(f"{arc.path}: manifest {short(digest)} has media type "
                       f"{d.get('mediaType')!r}, not an image manifest or index")
    _verify_blob(arc, d, limits, f"manifest {short(digest)} in {arc.path}")
    data = arc.blob(digest).read(MAX_JSON + 1)
    plan[digest] = (d, "manifest", None)
    if d.get("mediaType") in mt.INDEXES:
        for child in parse_index(data, f"index {short(digest)}")["manifests"]:
            _plan(arc, child, plan, limits, depth + 1)
        return
    m = parse_manifest(data, f"manifest {short(digest)} in {arc.path}")
    cfg = m["config"]
    _verify_blob(arc, cfg, limits, f"config {short(cfg['digest'])} in {arc.path}")
    config = parse_config(arc.blob(cfg["digest"]).read(MAX_JSON + 1), len(m["layers"]))
    plan[cfg["digest"]] = (cfg, "config", None)
    for layer, diff_id in zip(m["layers"], config["rootfs"]["diff_ids"]):
        compression_of(layer.get("mediaType"))
        plan[layer["digest"]] = (layer, "layer", diff_id)


def _keep_dangling(store, entry):
    with store.locked():
        index = store.read_index()
        if not any(d["digest"] == entry["digest"] for d in index["manifests"]):
            index["manifests"].append(entry)
            store._write_index(index)


def _copy(src, dst):
    for chunk in iter(lambda: src.read(CHUNK), b""):
        dst.write(chunk)


def _load_docker(store, arc, reporter):
    """The classic `docker save` layout: manifest.json = [{Config, RepoTags, Layers}]."""
    limits = Limits.from_env()
    try:
        entries = json.loads(arc.read("manifest.json"))
        assert isinstance(entries, list) and all(isinstance(e, dict) for e in entries)
    except (ValueError, AssertionError):
        raise OCIError(f"{arc.path}: manifest.json is not a docker save manifest") from None
    planned = []
    for e in entries:
        cfg_name, layer_names = e.get("Config"), e.get("Layers")
        if not isinstance(cfg_name, str) or not isinstance(layer_names, list):
            raise OCIError(f"{arc.path}: manifest.json entry without Config and Layers")
        cfg = arc.read(cfg_name)
        stem = cfg_name.rsplit("/", 1)[-1].removesuffix(".json")
        if len(stem) == 64 and of(cfg)[7:] != stem:     # the file is named by its digest
            raise DigestMismatch(f"config {cfg_name} in {arc.path}", "sha256:" + stem, of(cfg))
        config = parse_config(cfg, len(layer_names), f"config {cfg_name}")
        layers = []
        for name, diff_id in zip(layer_names, config["rootfs"]["diff_ids"]):
            f = arc.open(name)
            spool, got, _ = unpack(f, _sniff_compression(arc, name), limits, name)
            if got != diff_id:
                spool.close()
                raise DigestMismatch(f"layer {name} in {arc.path} (its diff_id)", diff_id, got)
            from .tarsafe import scan
            for x in scan(spool, name, limits):
                if reporter:
                    reporter.warn(f"layer {name}: {x}")
            layers.append(spool)
        tags = [local_name(familiar(t)) for t in e.get("RepoTags") or []
                if isinstance(t, str)]
        planned.append((tags, cfg, layers))
    out = []
    if True:                # (under load's store.writing())
        for tags, cfg, spools in planned:
            descs = []
            for spool in spools:
                desc, _ = store_layer(store, spool, "gzip")
                spool.close()
                descs.append(desc)
            image = _write_exact(store, cfg, descs)
            for t in tags:
                store.tag(t, image.descriptor())
            image.names = list(tags)
            out.append((image.names[0] if image.names else None, image))
            if not tags:
                _keep_dangling(store, image.descriptor())
    return out


def _write_exact(store, config_bytes, layers):
    """A manifest over the config bytes as they came (so the image id is Docker's)."""
    from .image import Image
    cdigest = store.put_blob(config_bytes)
    manifest = canonical({"schemaVersion": 2, "mediaType": mt.MANIFEST,
                          "config": {"mediaType": mt.CONFIG, "digest": cdigest,
                                     "size": len(config_bytes)}, "layers": layers})
    return Image(store, store.put_blob(manifest), manifest, config_bytes)


def _sniff_compression(arc, name):
    head = arc.open(name).read(4)
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return "none"

