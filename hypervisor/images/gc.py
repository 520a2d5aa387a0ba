"""Garbage collection and checking of a store: which blobs are reachable, `prune`, `check`.

Roots are the index's descriptors (tagged and dangling) and the images containers use
(store.users()); from each manifest or index the walk follows its config, layers and child
manifests.  `prune` runs holding gc.lock exclusively (see store.py), so no other process is
between writing a blob and referencing it.
"""
import contextlib
import json
import os

from .errors import OCIError, short
from .store import ref_name


def reachable(store, roots):
    """Every digest reachable from `roots`; unreadable manifests are reported, not followed."""
    seen, todo, problems = set(), list(roots), []
    while todo:
        digest = todo.pop()
        if digest in seen:
            continue
        seen.add(digest)
        try:
            obj = json.loads(store.read_blob(digest))
        except (OCIError, ValueError) as exc:
            problems.append(f"manifest {short(digest)}: {exc}")
            continue
        if not isinstance(obj, dict):
            continue
        for d in obj.get("manifests") or []:
            if isinstance(d, dict) and isinstance(d.get("digest"), str):
                todo.append(d["digest"])
        config = obj.get("config")
        if isinstance(config, dict) and isinstance(config.get("digest"), str):
            seen.add(config["digest"])
        for d in obj.get("layers") or []:
            if isinstance(d, dict) and isinstance(d.get("digest"), str):
                seen.add(d["digest"])
    return seen, problems


def prune(store, dangling=True, dry_run=False, wait=True):
    """Remove dangling images (not in use) and every unreachable blob; (removed, bytes), or
    None when `wait` is False and another process is writing blobs."""
    with store._collecting(wait) as free:
        if not free:
            return None
        return _prune(store, dangling, dry_run)


def _prune(store, dangling, dry_run):
    with store.locked():
        index = store.read_index()
        users = set(store.users().values())
        if dangling:
            index["manifests"] = [d for d in index["manifests"]
                                  if ref_name(d) or d["digest"] in users]
        roots = [d["digest"] for d in index["manifests"]] + sorted(users)
        keep, _ = reachable(store, roots)
        removed, freed = [], 0
        for path in sorted(store.blobs.iterdir()):
            digest = "sha256:" + path.name
            if digest not in keep:
                removed.append(digest)
                freed += path.stat().st_size
                if not dry_run:
                    os.unlink(path)
        if not dry_run:
            store._write_index(index)
            for path in store.tmp.iterdir():        # nobody is writing: leftovers of crashes
                with contextlib.suppress(OSError):
                    os.unlink(path)
            for path in store.cache.glob("*.json"):
                with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                    state = json.loads(path.read_bytes())
                    if any(d["digest"] not in keep for d in state["layers"]):
                        os.unlink(path)
    return removed, freed


def check(store):
    """Problems found in the store: blobs whose content does not match their name, missing
    blobs, manifests that cannot be read.  An empty list means the store is sound."""
    from .image import from_descriptor
    problems = []
    for path in sorted(store.blobs.iterdir()):
        if path.name.startswith("."):
            continue
        from .digest import Hasher
        h = Hasher()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.digest != "sha256:" + path.name:
            problems.append(f"blob {path.name[:12]}: content is {h.digest} (corrupt)")
    for d in store.entries():
        name = ref_name(d) or short(d["digest"])
        try:
            image = from_descriptor(store, d, name)
        except OCIError as exc:
            problems.append(f"{name}: {exc}")
            continue
        for layer in image.layers:
            if not store.has_blob(layer["digest"]):
                problems.append(f"{name}: layer {short(layer['digest'])} is missing")
            elif store.blob_size(layer["digest"]) != layer["size"]:
                problems.append(f"{name}: layer {short(layer['digest'])} has the wrong size")
    return problems


def disk_usage(store):
    """Bytes the store's blobs take, each counted once."""
    return sum(p.stat().st_size for p in store.blobs.iterdir())

