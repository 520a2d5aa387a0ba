"""Base images that need no network: the bundled root file systems (package data in
hypervisor/guest_images/, built reproducibly by guests/) become images in the store the first
time a name asks for them, as `docker run busybox` pulls on first use.

    busybox:1.35, busybox:latest    the musl + BusyBox userland (userland.tar): one layer
    linux-vm:6.1, linux-vm:latest   that layer, plus one with the Linux kernel at /boot/Image
                                    and the label org.hvlab.kernel naming it, so the image
                                    boots as a VM (hv run --image) or runs as a container:
                                    the two images share their first layer, stored once

Seeded images are reproducible (created = the newest time among the tar's entries, which its
build script fixes), so every machine seeds the same digests.
"""
import io
import tarfile

from . import mediatypes as mt
from .errors import OCIError

SEEDS = {
    "busybox": {"tags": ("1.35", "latest"), "rootfs": "userland.tar",
                "config": {"Cmd": ["/bin/sh"],
                           "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}},
    "linux-vm": {"tags": ("6.1", "latest"), "base": "busybox:1.35", "kernel": "linux.Image",
                 "kernel_path": "boot/Image", "append": "console=ttyS0 quiet"},
}


def bundled_dir():
    from ..catalog import IMAGES_DIR
    return IMAGES_DIR


def available():
    """The bundled base images whose files are installed: ["busybox:1.35", ...]."""
    out = []
    for name, spec in SEEDS.items():
        files = [spec.get("rootfs"), spec.get("kernel"),
                 SEEDS.get(spec.get("base", "").split(":")[0], {}).get("rootfs")]
        if all(f is None or (bundled_dir() / f).is_file() for f in files):
            out += [f"{name}:{t}" for t in spec["tags"]]
    return out


def seed(store, ref):
    """Import the bundled image `ref` names into `store`: its Image, or None."""
    name, _, tag = ref.partition(":")
    spec = SEEDS.get(name)
    if spec is None or (tag or "latest") not in spec["tags"] or \
            f"{name}:{spec['tags'][0]}" not in available():
        return None
    refs = [f"{name}:{t}" for t in spec["tags"]]
    if "rootfs" in spec:
        from .importer import import_tar
        path = bundled_dir() / spec["rootfs"]
        image = import_tar(store, str(path), refs[0], message=f"hvlab bundled {spec['rootfs']}",
                           epoch=_epoch(path), created_by=f"ADD {spec['rootfs']} /",
                           run_config=spec["config"])
    else:
        from .image import load
        image = _with_kernel(store, load(store, spec["base"]), spec, refs[0])
    for r in refs[1:]:
        store.tag(r, image.descriptor())
    image.names = refs
    return image


def _with_kernel(store, base, spec, ref):
    import copy
    from .image import write
    from .newlayer import add_layer, apply_changes
    data = (bundled_dir() / spec["kernel"]).read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        head = spec["kernel_path"].rsplit("/", 1)[0]
        for entry, payload in ((head, None), (spec["kernel_path"], data)):
            t = tarfile.TarInfo(entry)
            t.mtime = _epoch_of(base)
            if payload is None:
                t.type, t.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(t)
            else:
                t.size, t.mode = len(payload), 0o644
                tf.addfile(t, io.BytesIO(payload))
    buf.seek(0)
    with store.writing():
        config, layers, _ = add_layer(store, copy.deepcopy(base.config), list(base.layers), buf,
                                      f"ADD {spec['kernel']} /{spec['kernel_path']}",
                                      "hvlab bundled kernel", created=base.config["created"])
        apply_changes(config, {"Labels": {mt.KERNEL_LABEL: "/" + spec["kernel_path"],
                                          mt.APPEND_LABEL: spec["append"]}})
        return write(store, config, layers, ref)


def _epoch(path):
    """The newest mtime among the tar's entries: the date its build script fixed."""
    try:
        with tarfile.open(path) as tf:
            return max((int(m.mtime) for m in tf), default=0)
    except (OSError, tarfile.TarError) as exc:
        raise OCIError(f"bundled {path}: {exc}") from None


def _epoch_of(image):
    from datetime import datetime, timezone
    t = datetime.strptime(image.config["created"][:19], "%Y-%m-%dT%H:%M:%S")
    return int(t.replace(tzinfo=timezone.utc).timestamp())
