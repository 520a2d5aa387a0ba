"""`hv image build`: a Buildfile and a context into an image, one layer per step that
changes files (COPY, ADD, RUN, WORKDIR of a new directory), metadata steps only edit the
config (they get an `empty_layer` history entry, as config.md describes).

The step cache: before a layer step runs, its key is sha256(parent state, the step as
understood, and for COPY/ADD the digest of the uncompressed layer it would add); a hit reuses
the stored layer blob ("cached"), so an unchanged rebuild writes no new blob.  RUN's key has no
content part, as in Docker: change the RUN line (or a step before it) to run it again.
"""
import json
import os
import posixpath
import time

from . import buildfile as bf
from .newlayer import add_layer
from .context import Context, LayerBuilder
from .digest import of
from .errors import OCIError, short
from .image import load, new_config, timestamp, write
from .layers import store_layer
from .progress import Reporter
from .store import canonical
from .tarsafe import human
from .union import Union


def build_epoch():
    value = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        return int(value)
    except ValueError:
        raise OCIError(f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds") from None


class Builder:
    def __init__(self, store, text, context, tag=None, name="Buildfile", compression="gzip",
                 use_cache=True, reporter=None):
        self.store, self.tag, self.name = store, tag, name
        self.steps = bf.parse(text, name)
        self.ctx = Context(context)
        self.compression, self.use_cache = compression, use_cache
        self.report = reporter or Reporter()
        self.epoch = build_epoch()
        self.created = timestamp(self.epoch)
        self.config, self.layers, self.view = None, [], None
        self.counts = {"built": 0, "cached": 0}

    # -- state and cache ---------------------------------------------------------------------
    def state_id(self):
        return of(canonical({"config": self.config, "layers": self.layers}))

    def _cache_path(self, key):
        return self.store.cache / f"{key[7:]}.json"

    def cache_get(self, key):
        if not self.use_cache:
            return None
        try:
            state = json.loads(self._cache_path(key).read_bytes())
        except (OSError, ValueError):
            return None
        if not all(self.store.has_blob(d["digest"]) for d in state.get("layers", [])):
            return None
        return state

    def cache_put(self, key):
        self.store._atomic_write(self._cache_path(key),
                                 canonical({"config": self.config, "layers": self.layers}),
                                 sync=False)

    # -- the build ---------------------------------------------------------------------------
    def run(self):
        with self.store.writing():
            total = len(self.steps)
            for n, step in enumerate(self.steps, 1):
                bf.understand(step, self.env(), self.name)
                self.report.line(f"[{n}/{total}] {step}")
                getattr(self, "do_" + step.instruction.lower())(step)
            self.config["created"] = self.created
            if self.view:
                self.view.close()
            image = write(self.store, self.config, self.layers, self.tag)
        size = sum(d["size"] for d in self.layers)
        self.report.line(f"built {self.tag or short(image.digest)} {image.digest} "
                         f"({len(self.layers)} layers, {human(size)}; "
                         f"{self.counts['built']} built, {self.counts['cached']} cached) "
                         f"in {self.report.elapsed():.2f} s")
        return image

    def env(self):
        run = (self.config or {}).get("config") or {}
        return dict(e.split("=", 1) if "=" in e else (e, "") for e in run.get("Env") or [])

    def run_config(self):
        return self.config.setdefault("config", {})

    def history(self, step, empty):
        entry = {"created": self.created, "created_by": str(step), "comment": "hv image build"}
        if empty:
            entry["empty_layer"] = True
        self.config.setdefault("history", []).append(entry)

    def union(self):
        """The union view of the layers so far (for COPY's destination and WORKDIR)."""
        if self.view is None:
            self.view = Union()
            image_layers = list(zip(self.layers, self.config["rootfs"]["diff_ids"]))
            from .layers import open_layer
            for desc, diff_id in image_layers:
                self.view.apply(open_layer(self.store, desc, diff_id), desc["digest"])
        return self.view

    def _layer_step(self, step, key_extra, make):
        key = of(f"{self.state_id()}\n{step.key()}\n{key_extra}\n{self.compression}".encode())
        before = len(self.layers)
        cached = self.cache_get(key)
        if cached is not None:
            self.config, self.layers = cached["config"], cached["layers"]
            self.counts["cached"] += 1
            made = f" {short(self.layers[-1]['digest'])}" if len(self.layers) > before else ""
            self.report.line(f"      cached{made}")
        else:
            t0 = time.monotonic()
            make()
            self.cache_put(key)
            self.counts["built"] += 1
            took = f"({time.monotonic() - t0:.2f} s)"
            if len(self.layers) > before:
                d = self.layers[-1]
                self.report.line(f"      layer {short(d['digest'])} {human(d['size'])} {took}")
            else:
                self.report.line(f"      no change, no layer {took}")
        if self.view is not None:
            self.view.close()
            self.view = None

    def _add_tar(self, step, tar):
        self.config, self.layers, findings = add_layer(
            self.store, self.config, self.layers, tar, str(step), "hv image build",
            created=self.created, compression=self.compression, reporter=self.report)
        self.config["history"][-1]["comment"] = "hv image build"
        for f in findings:
            self.report.warn(f"{step.instruction} at {self.name}:{step.line}: {f}")

    # -- instructions ------------------------------------------------------------------------
    def do_from(self, step):
        ref = step.args["image"]
        if ref == "scratch":
            self.config = new_config(self.created)
            return
        base = load(self.store, ref)
        self.config = json.loads(base.config_bytes)
        self.config.setdefault("history", [])
        self.config.setdefault("config", {})
        self.layers = [dict(d) for d in base.layers]

    def do_copy(self, step):
        self._copy(step, unpack=False)

    def do_add(self, step):
        self._copy(step, unpack=True)

    def _copy(self, step, unpack):
        where = f"{self.name}:{step.line}"
        try:
            self._copy_in(step, unpack, where)
        except OCIError as exc:
            if str(exc).startswith(self.name):
                raise
            raise OCIError(f"{where}: {step.instruction}: {exc}") from None

    def _copy_in(self, step, unpack, where):
        a = step.args
        owner = tuple(int(x) for x in (a["chown"].split(":") * 2)[:2]) if "chown" in a \
            else (0, 0)
        lb = LayerBuilder(self.epoch, owner, int(a["chmod"], 8) if "chmod" in a else None)
        dest = a["dest"]
        workdir = self.run_config().get("WorkingDir") or "/"
        dest_abs = posixpath.normpath(posixpath.join(workdir, dest))
        sources = [p for s in a["sources"] for p in self.ctx.sources(s, where)]
        view = self.union()
        existing = view.get(dest_abs, follow=True)
        into = dest.endswith("/") or len(sources) > 1 or (existing is not None and
                                                          existing.kind == "dir")
        base = view.resolve(dest_abs, follow=into)[2]      # into a directory: follow it
        needs_dir = into
        for src in sources:
            if os.path.isdir(src):
                lb.host_tree(base, src, self.ctx)
                needs_dir = True
            elif unpack and _is_tar(src):
                lb.tar_members(base, src, where)
                needs_dir = True
            else:
                rel = os.path.basename(src.rstrip("/"))
                lb.host_file(f"{base}/{rel}".lstrip("/") if into else base, src)
        self._parents(lb, view, base if needs_dir else posixpath.dirname(base), where)
        for f in lb.findings:
            self.report.warn(f)
        tar = lb.write()
        self._layer_step(step, _digest_of(tar), lambda: self._add_tar(step, tar))

    def _parents(self, lb, view, path, where):
        """Directory entries for `path` and its parents where the image has none yet; an
        implied directory the image already has keeps its own metadata."""
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            node = view.get(p)
            if node is None:
                lb.dir(p)
            elif node.kind == "dir":
                if p in lb.implicit:
                    del lb.entries[p]
            else:
                raise OCIError(f"{where}: /{p} exists in the image and is not a directory")

    def do_workdir(self, step):
        path = posixpath.normpath(posixpath.join(self.run_config().get("WorkingDir") or "/",
                                                 step.args["value"]))
        self.run_config()["WorkingDir"] = path
        view = self.union()
        if view.get(path, follow=True) is not None:
            self.history(step, empty=True)
            return
        lb = LayerBuilder(self.epoch)
        self._parents(lb, view, view.resolve(path)[2], f"{self.name}:{step.line}")
        tar = lb.write()
        self._layer_step(step, _digest_of(tar), lambda: self._add_tar(step, tar))

    def do_env(self, step):
        env = self.env()
        env.update(step.args["pairs"])
        self.run_config()["Env"] = [f"{k}={v}" for k, v in env.items()]
        self.history(step, empty=True)

    def do_label(self, step):
        labels = dict(self.run_config().get("Labels") or {})
        labels.update(step.args["pairs"])
        self.run_config()["Labels"] = labels
        self.history(step, empty=True)

    def do_user(self, step):
        self.run_config()["User"] = step.args["value"]
        self.history(step, empty=True)

    def do_stopsignal(self, step):
        self.run_config()["StopSignal"] = step.args["value"]
        self.history(step, empty=True)

    def do_expose(self, step):
        ports = dict(self.run_config().get("ExposedPorts") or {})
        ports.update({p: {} for p in step.args["ports"]})
        self.run_config()["ExposedPorts"] = ports
        self.history(step, empty=True)

    def do_cmd(self, step):
        self.run_config()["Cmd"] = step.args["argv"]
        self.history(step, empty=True)

    def do_entrypoint(self, step):
        self.run_config()["Entrypoint"] = step.args["argv"]
        if step.args["form"] == "shell":
            self.run_config().pop("Cmd", None)   # Docker: a shell-form ENTRYPOINT ignores CMD
        self.history(step, empty=True)

    def do_run(self, step):
        from .runtime import runner
        run_step = runner()             # one clear line now if there is no container runtime
        run = self.run_config()
        env = [f"{k}={v}" for k, v in self.env().items()]

        def make():
            layers = [open_layer_for(self.store, d, i) for d, i in
                      zip(self.layers, self.config["rootfs"]["diff_ids"])]
            try:
                status, upper = run_step(layers, dict(run), step.args["argv"], env,
                                         run.get("WorkingDir") or "/", run.get("User") or "",
                                         lambda chunk: self.report.line(
                                             chunk.decode("utf-8", "replace").rstrip("\n")))
            finally:
                for f in layers:
                    f.close()
            if status != 0:
                raise OCIError(f"{self.name}:{step.line}: RUN {step.text} failed with "
                               f"exit status {status}")
            if upper is None:
                self.history(step, empty=True)
                return
            try:
                self._add_tar(step, upper)
            finally:
                os.unlink(upper)
        self._layer_step(step, "", make)


def open_layer_for(store, desc, diff_id):
    from .layers import open_layer
    return open_layer(store, desc, diff_id)


def _is_tar(path):
    import tarfile
    try:
        return os.path.isfile(path) and tarfile.is_tarfile(path)
    except OSError:
        return False


def _digest_of(f):
    from .digest import Hasher
    h = Hasher()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
    f.seek(0)
    return h.digest


def build(store, buildfile, context, tag=None, **kw):
    """Build `buildfile` (a path) with `context` (a directory); returns the Image."""
    try:
        with open(buildfile, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise OCIError(f"{buildfile}: cannot read: {getattr(exc, 'strerror', exc)}") from None
    return Builder(store, text, context, tag, os.path.basename(buildfile), **kw).run()


__all__ = ["Builder", "build", "store_layer"]
