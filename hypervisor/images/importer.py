"""`hv image import TAR NAME[:TAG]` (as `docker import`): a root file system tar, plain or
compressed, becomes a one-layer image; `-c` instructions (CMD, ENTRYPOINT, ENV, WORKDIR,
USER, LABEL, EXPOSE, STOPSIGNAL) set its config.  Also seeds the bundled base image."""
import os

from . import buildfile as bf
from .newlayer import add_layer, apply_changes
from .errors import OCIError
from .image import new_config, timestamp, write
from .layers import unpack
from .tarsafe import Limits


def changes_config(config, instructions):
    """Apply Dockerfile-style instructions (metadata only) to a config."""
    run = config.setdefault("config", {})
    for n, text in enumerate(instructions, 1):
        step = bf.parse("FROM scratch\n" + text, f"--change {n}")[-1]
        env = dict(e.split("=", 1) for e in run.get("Env") or [] if "=" in e)
        bf.understand(step, env, f"--change {n}")
        i, a = step.instruction, step.args
        if i == "ENV":
            env.update(a["pairs"])
            run["Env"] = [f"{k}={v}" for k, v in env.items()]
        elif i == "LABEL":
            run["Labels"] = {**(run.get("Labels") or {}), **dict(a["pairs"])}
        elif i in ("CMD", "ENTRYPOINT"):
            run["Cmd" if i == "CMD" else "Entrypoint"] = a["argv"]
        elif i in ("WORKDIR", "USER", "STOPSIGNAL"):
            run[{"WORKDIR": "WorkingDir", "USER": "User", "STOPSIGNAL": "StopSignal"}[i]] = \
                a["value"]
        elif i == "EXPOSE":
            run["ExposedPorts"] = {**(run.get("ExposedPorts") or {}),
                                   **{p: {} for p in a["ports"]}}
        else:
            raise OCIError(f"--change {n}: {i} changes files; only config instructions here")
    return config


def _compression(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return "none"


def import_tar(store, tar_path, ref, changes=(), message="", epoch=None, created_by=None,
               run_config=None):
    """A one-layer image from a rootfs tar; `changes` are instructions (`CMD [...]`),
    `run_config` a dict of run-config fields (newlayer.apply_changes)."""
    if os.path.isdir(tar_path):         # docker import takes a tarball too, not a directory
        raise OCIError(f"{tar_path}: is a directory (import takes a tar of a root file "
                       f"system: tar -C {tar_path} -cf rootfs.tar .)")
    if not os.path.isfile(tar_path):
        raise OCIError(f"{tar_path}: no such file")
    created = timestamp(epoch)
    config = changes_config(new_config(created), changes)
    if run_config:
        apply_changes(config, run_config)
    with store.writing():
        with open(tar_path, "rb") as f:
            plain, _, _ = unpack(f, _compression(tar_path), Limits.from_env(),
                                 os.path.basename(tar_path))
        config, layers, _ = add_layer(store, config, [], plain,
                                      created_by or f"hv image import {os.path.basename(tar_path)}",
                                      message, created=created)
        return write(store, config, layers, ref)

