"""A new layer on an image: a container's writable layer committed onto a base image as a new
image (`docker commit`); `add_layer` is also what builds and `hv image import` use.

The layer is checked like any other (tarsafe), compressed into the store, appended to the base's
layers and diff_ids, and recorded in the config's history; `changes` edit the run config.
"""
import copy
import tempfile

from .errors import OCIError
from .image import load, new_config, timestamp, write
from .layers import SPOOL, copy_stream, store_layer
from .tarsafe import Limits, sanitize, scan

_LISTS = ("Cmd", "Entrypoint", "Env")
_STRINGS = ("WorkingDir", "User", "StopSignal")
_MAPS = ("ExposedPorts", "Volumes", "Labels")


def apply_changes(config, changes):
    """Edit config["config"] by a dict of run-config fields: Labels and Env merge by key, the
    others replace.  Unknown keys or wrong types: OCIError."""
    run = config.setdefault("config", {})
    for key, value in changes.items():
        if key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise OCIError(f"change {key}: must be a list of strings")
            if key == "Env":
                env = dict(e.split("=", 1) if "=" in e else (e, "") for e in run.get("Env")
                           or [])
                env.update(e.split("=", 1) if "=" in e else (e, "") for e in value)
                value = [f"{k}={v}" for k, v in env.items()]
            run[key] = list(value)
        elif key in _STRINGS:
            if not isinstance(value, str):
                raise OCIError(f"change {key}: must be a string")
            run[key] = value
        elif key in _MAPS:
            if not isinstance(value, dict):
                raise OCIError(f"change {key}: must be an object")
            if key == "Labels":
                if not all(isinstance(v, str) for v in value.values()):
                    raise OCIError("change Labels: values must be strings")
                run[key] = {**(run.get(key) or {}), **value}
            else:
                run[key] = {**(run.get(key) or {}), **{k: {} for k in value}}
        else:
            raise OCIError(f"unknown change {key!r} (Cmd, Entrypoint, Env, WorkingDir, User, "
                           "StopSignal, ExposedPorts, Volumes, Labels)")
    return config


def _seekable_tar(layer_tar):
    if isinstance(layer_tar, (str, bytes)) or hasattr(layer_tar, "__fspath__"):
        try:
            return open(layer_tar, "rb")
        except OSError as exc:
            raise OCIError(f"{layer_tar}: cannot read: {exc.strerror}") from None
    if layer_tar.seekable():
        return layer_tar
    spool = tempfile.SpooledTemporaryFile(SPOOL)
    copy_stream(layer_tar, spool)
    spool.seek(0)
    return spool


def add_layer(store, config, layers, layer_tar, created_by, comment="", author="",
              created=None, compression="gzip", limits=None, reporter=None):
    """Check and store one layer tar; returns (config, layers, findings) with it appended."""
    f = _seekable_tar(layer_tar)
    findings = scan(f, created_by[:40], limits or Limits.from_env())
    if findings:
        f = sanitize(f, findings)
    if reporter is None:
        desc, diff_id = store_layer(store, f, compression)
    else:
        size = f.seek(0, 2)
        f.seek(0)
        with reporter.bytes(f"{compression} layer", size) as advance:
            desc, diff_id = store_layer(store, f, compression, advance)
    config = copy.deepcopy(config)
    config["rootfs"]["diff_ids"].append(diff_id)
    entry = {"created": created or timestamp(), "created_by": created_by}
    if comment:
        entry["comment"] = comment
    if author:
        entry["author"] = author
    config.setdefault("history", []).append(entry)
    return config, layers + [desc], findings


def commit(store, base_ref, layer_tar, changes, new_ref, comment="", author=""):
    with store.writing():
        base = load(store, base_ref) if base_ref else None
        now = timestamp()
        config = copy.deepcopy(base.config) if base else new_config(now)
        config, layers, _ = add_layer(store, config, list(base.layers) if base else [],
                                      layer_tar, comment or "hv container commit", comment,
                                      author, now)
        apply_changes(config, changes)
        config["created"] = now
        if author:
            config["author"] = author
        return write(store, config, layers, new_ref)
