"""One image: an image manifest (manifest.md) and its image config (config.md), read from the
store with every field hvlab relies on checked, or written to it.

An image index (image-index.md, or Docker's manifest list) is resolved to the manifest for
linux/riscv32, the platform hvlab runs; other platforms can be stored, inspected, saved and
pushed, but `check_platform` refuses to run them.
"""
import json
import time
from datetime import datetime, timezone

from . import mediatypes as mt
from .digest import check
from .errors import OCIError, short
from .store import canonical, ref_name


def timestamp(epoch=None):
    """RFC 3339 UTC time (config.md `created`).  Builds use $SOURCE_DATE_EPOCH or 0, so the
    same Buildfile gives the same config digest on any machine and at any time."""
    if epoch is None:
        epoch = time.time()
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_config(created):
    return {"created": created, "architecture": mt.ARCH, "os": mt.OS, "config": {},
            "rootfs": {"type": "layers", "diff_ids": []}, "history": []}


def _obj(data, what):
    try:
        obj = json.loads(data)
    except ValueError as exc:
        raise OCIError(f"{what}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise OCIError(f"{what}: not a JSON object")
    return obj


def check_descriptor(d, what, types=None):
    """descriptor.md: mediaType, digest and size are REQUIRED."""
    if not isinstance(d, dict):
        raise OCIError(f"{what}: descriptor is not an object")
    check(d.get("digest"), f"digest of {what}")
    if not isinstance(d.get("size"), int) or d["size"] < 0:
        raise OCIError(f"{what}: descriptor has no valid size")
    if types is not None and d.get("mediaType") not in types:
        raise OCIError(f"{what}: unsupported media type {d.get('mediaType')!r}")
    return d


def parse_manifest(data, what="manifest"):
    """manifest.md: schemaVersion 2, a config descriptor, layer descriptors in order."""
    m = _obj(data, what)
    if m.get("schemaVersion") != 2:
        raise OCIError(f"{what}: schemaVersion {m.get('schemaVersion')!r} is not supported "
                       "(hvlab reads image manifest schema 2)")
    if m.get("mediaType", mt.MANIFEST) not in mt.MANIFESTS:
        raise OCIError(f"{what}: media type {m.get('mediaType')!r} is not an image manifest")
    check_descriptor(m.get("config"), f"{what} config", mt.CONFIGS)
    layers = m.get("layers")
    if not isinstance(layers, list):
        raise OCIError(f"{what}: no layers list")
    for i, layer in enumerate(layers):
        check_descriptor(layer, f"{what} layer {i + 1}", mt.LAYERS)
    return m


def parse_index(data, what="image index"):
    idx = _obj(data, what)
    if idx.get("schemaVersion") != 2 or not isinstance(idx.get("manifests"), list):
        raise OCIError(f"{what}: not an image index (schemaVersion 2 with manifests)")
    for i, d in enumerate(idx["manifests"]):
        check_descriptor(d, f"{what} entry {i + 1}")
    return idx


def parse_config(data, layers, what="image config"):
    """config.md: architecture, os and rootfs (type "layers", one diff_id per layer) are
    REQUIRED; config (Entrypoint, Cmd, Env, WorkingDir, User, Labels) is optional."""
    c = _obj(data, what)
    for key in ("architecture", "os"):
        if not isinstance(c.get(key), str):
            raise OCIError(f"{what}: no {key}")
    rootfs = c.get("rootfs")
    if not isinstance(rootfs, dict) or rootfs.get("type") != "layers" \
            or not isinstance(rootfs.get("diff_ids"), list):
        raise OCIError(f"{what}: rootfs must be {{type: layers, diff_ids: [...]}}")
    for d in rootfs["diff_ids"]:
        check(d, f"diff_id in {what}")
    if len(rootfs["diff_ids"]) != layers:
        raise OCIError(f"{what}: {len(rootfs['diff_ids'])} diff_ids for {layers} layers")
    run = c.get("config") or {}
    if not isinstance(run, dict):
        raise OCIError(f"{what}: config is not an object")
    for key in ("Entrypoint", "Cmd", "Env"):
        if run.get(key) is not None and (not isinstance(run[key], list) or
                                         not all(isinstance(x, str) for x in run[key])):
            raise OCIError(f"{what}: config.{key} must be a list of strings")
    return c


def pick_platform(index, what):
    """The riscv32/linux entry of an image index, or its only entry."""
    entries = [d for d in index["manifests"] if d.get("mediaType", mt.MANIFEST) in mt.MANIFESTS]
    for d in entries:
        p = d.get("platform") or {}
        if p.get("architecture") == mt.ARCH and p.get("os") == mt.OS:
            return d
    if len(entries) == 1:
        return entries[0]
    have = ", ".join(f"{(d.get('platform') or {}).get('os')}/"
                     f"{(d.get('platform') or {}).get('architecture')}" for d in entries)
    raise OCIError(f"{what}: no {mt.OS}/{mt.ARCH} image (has: {have or 'nothing'})")


class Image:
    """A manifest and its config, checked.  `digest` is the manifest's, `id` the config's."""

    def __init__(self, store, digest, manifest_bytes, config_bytes, names=()):
        self.store, self.digest, self.names = store, digest, list(names)
        self.manifest_bytes, self.config_bytes = manifest_bytes, config_bytes
        self.manifest = parse_manifest(manifest_bytes, f"manifest {short(digest)}")
        self.layers = self.manifest["layers"]
        self.config = parse_config(config_bytes, len(self.layers),
                                   f"config of {short(digest)}")
        self.id = self.manifest["config"]["digest"]

    @property
    def media_type(self):
        return self.manifest.get("mediaType", mt.MANIFEST)

    @property
    def runconfig(self):
        """The execution parameters: Entrypoint, Cmd, Env, WorkingDir, User, Labels..."""
        return dict(self.config.get("config") or {})

    @property
    def labels(self):
        return dict(self.runconfig.get("Labels") or {})

    @property
    def architecture(self):
        return self.config["architecture"]

    @property
    def os(self):
        return self.config["os"]

    @property
    def diff_ids(self):
        return list(self.config["rootfs"]["diff_ids"])

    @property
    def size(self):
        """Bytes of the image's blobs as stored (compressed layers + config + manifest)."""
        return (sum(d["size"] for d in self.layers) + self.manifest["config"]["size"]
                + len(self.manifest_bytes))

    @property
    def name(self):
        return self.names[0] if self.names else short(self.digest)

    def descriptor(self):
        return {"mediaType": self.media_type, "digest": self.digest,
                "size": len(self.manifest_bytes),
                "platform": {"architecture": self.architecture, "os": self.os}}

    def check_platform(self):
        if (self.architecture, self.os) != (mt.ARCH, mt.OS):
            raise OCIError(f"image {self.name} is for {self.os}/{self.architecture}; "
                           f"hvlab runs {mt.OS}/{mt.ARCH} images")
        return self

    def open_layers(self, limits=None):
        """Each layer in order as an uncompressed tar file object, digest and diff_id checked
        and unsafe entries refused or stripped (layers.open_layer).  The caller closes them."""
        from .layers import open_layer
        for desc, diff_id in zip(self.layers, self.diff_ids):
            yield open_layer(self.store, desc, diff_id, limits)


def load(store, text):
    """The Image a tag, digest or id names in `store`; a bundled base image (seed.py) is
    imported on first use."""
    try:
        desc = store.resolve(text)
    except OCIError:
        from .seed import seed
        image = seed(store, text)
        if image is None:
            raise
        return image
    return from_descriptor(store, desc, text)


def from_descriptor(store, desc, what):
    digest = check_descriptor(desc, what)["digest"]
    data = store.read_blob(digest, what=f"manifest of {what}")
    kind = desc.get("mediaType")
    if kind not in mt.INDEXES and kind not in mt.MANIFESTS:    # found by digest alone
        kind = mt.INDEX if "manifests" in _obj(data, f"manifest of {what}") else mt.MANIFEST
    if kind in mt.INDEXES:
        index = parse_index(data, f"image index of {what}")
        desc = pick_platform(index, what)
        digest = desc["digest"]
        data = store.read_blob(digest, what=f"manifest of {what}")
    manifest = parse_manifest(data, f"manifest of {what}")
    config_digest = manifest["config"]["digest"]
    config = store.read_blob(config_digest, what=f"config of {what}")
    names = sorted(ref_name(d) for d in store.entries() if d["digest"] == desc["digest"]
                   and ref_name(d))
    return Image(store, digest, data, config, names)


def write(store, config, layers, name=None, annotations=None):
    """Store a config and an OCI manifest over already-stored layer blobs; tag it `name`."""
    config_bytes = canonical(config)
    parse_config(config_bytes, len(layers))
    config_digest = store.put_blob(config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": mt.MANIFEST,
                "config": {"mediaType": mt.CONFIG, "digest": config_digest,
                           "size": len(config_bytes)},
                "layers": [dict(d) for d in layers]}
    if annotations:
        manifest["annotations"] = dict(annotations)
    manifest_bytes = canonical(manifest)
    digest = store.put_blob(manifest_bytes)
    image = Image(store, digest, manifest_bytes, config_bytes)
    if name:
        store.tag(name, image.descriptor())
        image.names = [name]
    return image
