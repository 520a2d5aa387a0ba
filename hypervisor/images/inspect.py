"""What `hv image ls / inspect / history / diff / tree` show, as data (the CLI prints it)."""
import time
from datetime import datetime

from .errors import short
from .store import ref_name
from .tarsafe import human
from .union import mode_string, view


def split_name(name):
    """"reg:5000/a/b:tag" -> ("reg:5000/a/b", "tag")."""
    if not name:
        return "<none>", "<none>"
    if "@" in name:
        return name.split("@", 1)[0], "<none>"
    slash = name.rfind("/")
    colon = name.rfind(":")
    return (name[:colon], name[colon + 1:]) if colon > slash else (name, "<none>")


def ago(created):
    try:
        t = datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S")
        seconds = time.time() - (t - datetime(1970, 1, 1)).total_seconds()
    except (TypeError, ValueError):
        return "unknown"
    if created.startswith("1970-01-01T00:00:00"):
        return "reproducible"           # epoch 0: a build without SOURCE_DATE_EPOCH
    for unit, size in (("years", 31536000), ("months", 2592000), ("weeks", 604800),
                       ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now" if seconds < 60 else "about a minute ago"


def inspect(image, users=()):
    """One image as `docker image inspect` shows it, plus its OCI descriptors."""
    c = image.config
    return {
        "Id": image.id,
        "RepoTags": image.names,
        "RepoDigests": sorted({f"{split_name(n)[0]}@{image.digest}" for n in image.names}),
        "Created": c.get("created", ""),
        "Author": c.get("author", ""),
        "Architecture": image.architecture,
        "Os": image.os,
        "Variant": c.get("variant", ""),
        "Config": image.runconfig,
        "Size": image.size,
        "RootFS": {"Type": "layers", "Layers": image.diff_ids},
        "History": c.get("history", []),
        "Manifest": {"Digest": image.digest, "MediaType": image.media_type,
                     "Size": len(image.manifest_bytes)},
        "Layers": [{"Digest": d["digest"], "MediaType": d["mediaType"], "Size": d["size"]}
                   for d in image.layers],
        "UsedBy": list(users),
    }


def history(image):
    """Rows newest first: (layer id or <missing>, created, created_by, size, comment)."""
    rows, layers = [], iter(image.layers)
    for h in image.config.get("history") or []:
        layer = None if h.get("empty_layer") else next(layers, None)
        rows.append((short(layer["digest"]) if layer else "<missing>",
                     ago(h.get("created", "")), h.get("created_by", ""),
                     human(layer["size"]) if layer else "0 B", h.get("comment", "")))
    for layer in layers:                        # layers without a history entry
        rows.append((short(layer["digest"]), "", "", human(layer["size"]), ""))
    return rows[::-1]


def _describe(u, node):
    link = f" -> {node.link}" if node.kind == "symlink" else ""
    return f"{mode_string(node)} {node.uid}:{node.gid} {node.size:>8} {link}".rstrip()


def diff(image_a, image_b):
    """[(op, path, what)]: A added in b, D gone from b, C changed (what changed)."""
    with view(image_a) as ua, view(image_b) as ub:
        a, b = dict(ua.walk()), dict(ub.walk())
        out = []
        for path in sorted(set(a) | set(b), key=lambda p: p.split("/")):
            x, y = a.get(path), b.get(path)
            if x is None:
                out.append(("A", "/" + path, ""))
            elif y is None:
                out.append(("D", "/" + path, ""))
            else:
                what = []
                if x.kind != y.kind:
                    what.append(f"type {x.kind} -> {y.kind}")
                if x.mode != y.mode:
                    what.append(f"mode {x.mode:04o} -> {y.mode:04o}")
                if (x.uid, x.gid) != (y.uid, y.gid):
                    what.append(f"owner {x.uid}:{x.gid} -> {y.uid}:{y.gid}")
                if x.link != y.link:
                    what.append(f"link {x.link} -> {y.link}")
                if x.kind == y.kind == "file" and (x.size != y.size or
                                                   ua.digest(x) != ub.digest(y)):
                    what.append(f"content ({x.size} -> {y.size} bytes)")
                if what:
                    out.append(("C", "/" + path, ", ".join(what)))
        return out


def tree(image):
    """Per layer: (descriptor, history text, [(op, path)]), op A add, C change, D whiteout,
    O opaque directory."""
    texts = [h.get("created_by", "") for h in image.config.get("history") or []
             if not h.get("empty_layer")]
    with view(image) as u:
        return [(d, texts[i] if i < len(texts) else "", u.changes[i])
                for i, d in enumerate(image.layers)]


def names_by_digest(store):
    out = {}
    for d in store.entries():
        out.setdefault(d["digest"], []).append(ref_name(d))
    return out
