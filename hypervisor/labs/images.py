"""Lab 5, images and copy-on-write: what is stored once and what per container.

1. N containers from one image (busybox:1.35): bytes on disk (the image's layers, once; a
   writable layer each) and pages in memory (the host pages each container holds, split into
   its page cache, page tables and its processes' own pages; the image's files, held once by
   the shared kernel for every container of the image).
2. Copy-on-write fork against exec, in a container (the shared kernel's frame counters) and
   in a Linux VM (Linux's own counters, /proc/meminfo).
3. A container's changes as a layer, committed onto linux-vm:6.1 as a new image; the diff.
4. Stored once: the three images of the store and the blobs they share.
5. Push to a local registry and pull into a second store ("another host"); `hv image save`
   and `load` when no registry program is installed.
6. The same image run as a container and booted as a VM.

Every container is stepped on this thread until it waits for input (``Engine.step``), so the
pages are read at the same point on every machine; images live in stores made for the run
(never the user's).  Sizes of layers and counts are counts; digests of what the lab commits
carry the commit's time, and the transfers' durations are time.
"""
import hashlib
import io
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from . import images_report
from .base import COUNT, TIME, Lab, LabError
from .faults import Watch
from .runner import engine

MiB = 1 << 20
EPOCH = 1735689600              # the bundled userland's mtime (guests/linux/build.sh)
WORDS = ("bonjour", "hallo", "ciao", "hola", "salut", "hej", "ahoj", "moi", "ola", "szia")
CHANGE = ("/etc/profile", "/etc/hostname", "/etc/inittab")   # (/etc/hosts is the kernel's)
DELETE = ("/etc/shells", "/etc/os-release")
TAG = "course/greeting:1"


class Images(Lab):
    number = 5
    name = "images"
    title = "Images and copy-on-write: what is stored once, what per container"
    summary = "N containers from one image: stored once, copy-on-write, commit, push and pull"
    doc = "docs/labs/05-images.md"

    def params(self, rng, quick):
        return {"n": 3 if quick else rng.randint(3, 6), "k": 8 if quick else rng.randint(8, 16),
                "greeting": f"{rng.choice(WORDS)} {rng.randint(10, 99)}",
                "change": rng.choice(CHANGE), "delete": rng.choice(DELETE),
                "container_mem": 16 * MiB, "vm_mem": 64 * MiB, "tag": TAG}

    def run(self, ctx):
        from .. import images
        from ..catalog import IMAGES_DIR
        if not (IMAGES_DIR / "userland.tar").is_file() or not \
                (IMAGES_DIR / "linux.Image").is_file():
            raise LabError("lab 5 needs the bundled Linux guest and userland "
                           "(hypervisor/guest_images/linux.Image, userland.tar)")
        tmp = Path(tempfile.mkdtemp(prefix="hv-lab5-"))
        try:
            a = images.open_store(tmp / "host-a")
            with ctx.progress.step("seeding busybox:1.35 and linux-vm:6.1 into a new store"):
                bb = images.open_image("busybox:1.35", a)
                vmi = images.open_image("linux-vm:6.1", a)
            eng = engine(host_mem=ctx.params["vm_mem"] + 256 * MiB, threads=1)
            try:
                with ctx.progress.step(f"{ctx.params['n']} containers from busybox:1.35"):
                    self._containers(ctx, eng, bb)
                with ctx.progress.step("fork and exec in a container"):
                    self._fork_exec(ctx, eng, bb)
                with ctx.progress.step(f"a container's changes, committed as {TAG}"):
                    new = self._commit(ctx, eng, a, vmi)
                self._stored(ctx, a)
                with ctx.progress.step("push to a local registry, pull into a second store"):
                    b = self._transfer(ctx, a, tmp)
                with ctx.progress.step(f"{TAG} as a container and as a VM"):
                    self._both(ctx, eng, images.open_image(TAG, b), tmp)
            finally:
                eng.shutdown()
            images_report.report(ctx, new)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------ 1. N containers
    def _containers(self, ctx, eng, bb):
        from ..images.union import view
        p = ctx.params
        cs = [_waiting(eng, bb, f"echo note {i + 1} > /root/note; exec cat", f"c{i + 1}",
                       p["container_mem"]) for i in range(p["n"])]
        layers = [_upper(c) for c in cs]
        with view(bb) as u:
            files = {path: n for path, n in u.walk() if n.kind == "file"}
        stats = [c.stats() for c in cs]
        ctx.record("containers", {
            "pages": [s["pages_allocated"] for s in stats],
            "rss": [sum(q["pages"] for q in s["process_list"]) for s in stats],
            "processes": [s["process_list"][0]["command"] for s in stats],
            # page cache, page tables and the processes' own pages (kernel/container.py)
            "memory": [s["memory_stat"] for s in stats],
            "busybox_bytes": files["bin/busybox"].size,
            "upper_bytes": [len(x) for x in layers],
            "upper_entries": [_names(x) for x in layers],
            # one read-only tree per image, shared by every container of it (the runtime's)
            "image_trees": len({id(c.config.tree) for c in cs}),
            "image_files": len(files), "image_file_bytes": sum(n.size for n in files.values()),
            "image_layer_bytes": sum(d["size"] for d in bb.layers),
        }, COUNT)
        for c in cs:
            eng.remove(c)

    # ------------------------------------------------------------------ 2. fork and exec
    def _fork_exec(self, ctx, eng, bb):
        k, mem = ctx.params["k"], 64 * MiB          # room for k processes and more
        # (a background job reads /dev/null unless told otherwise: the terminal, here)
        wait = "read x < /dev/tty"
        runs = {"base": wait,                                   # one sh, waiting
                "forked": f"{wait} & " * k + wait,              # k copies of it (fork)
                "execed": "cat < /dev/tty & " * k + wait}       # k cats (fork + exec)
        out = {}
        for name, script in runs.items():
            c = _waiting(eng, bb, script, name, mem)
            s = c.stats()
            out[name] = {"pages": s["pages_allocated"], "processes": s["processes"],
                         "rss": sum(q["pages"] for q in s["process_list"]),
                         "process_rss": [q["pages"] for q in s["process_list"]],
                         "memory": s["memory_stat"],
                         "clone": s["syscalls_by_name"].get("clone", 0),
                         "execve": s["syscalls_by_name"].get("execve", 0)}
            eng.remove(c)
        ctx.record("fork_exec", out, COUNT)

    # ------------------------------------------------------------------ 3. commit and diff
    def _commit(self, ctx, eng, store, vmi):
        from .. import images
        from ..images import inspect
        from ..kernel.imageref import StoreImage
        from ..kernel import runtime
        p = ctx.params
        script = (f"mkdir /srv && echo '{p['greeting']}' > /srv/greeting && "
                  f"echo '# lab 5' >> {p['change']} && rm {p['delete']}")
        c = runtime.create(eng, StoreImage(vmi), ["/bin/sh", "-c", script], name="changer",
                           memory=p["container_mem"])
        _step(eng, c, until=lambda: c.done)
        if c.exit_code != 0:
            raise LabError(f"lab 5: the changing container failed: {c.outcome}: "
                           f"{c.console.text()[-200:]}")
        upper = _normalized(_upper(c))
        eng.remove(c)
        new = images.commit("linux-vm:6.1", io.BytesIO(upper),
                            {"Cmd": ["/bin/cat", "/srv/greeting"]}, TAG,
                            comment="hv lab 5: the changer container", store=store)
        changes = inspect.diff(vmi, new)
        ctx.record("commit", {
            "upper_bytes": len(upper), "upper_entries": _names(upper),
            "layer": new.layers[-1], "layers": len(new.layers),
            "diff": [list(x) for x in changes],
            "history": [h.get("created_by", "") for h in new.config.get("history") or []],
        }, COUNT)
        ctx.record("commit_digest", new.digest, TIME)
        return new

    # ------------------------------------------------------------------ 4. stored once
    def _stored(self, ctx, store):
        from .. import images
        refs = ("busybox:1.35", "linux-vm:6.1", TAG)
        imgs = [images.open_image(r, store) for r in refs]
        blobs = {}
        for ref, img in zip(refs, imgs):
            for d in [*img.layers, img.manifest["config"]]:
                blobs.setdefault(d["digest"], {"size": d["size"], "used_by": []})
                blobs[d["digest"]]["used_by"].append(ref)
            blobs.setdefault(img.digest, {"size": len(img.manifest_bytes), "used_by": [ref]})
        on_disk = sum(f.stat().st_size for f in store.blobs.iterdir())
        layers = {d["digest"]: d["size"] for img in imgs for d in img.layers}
        ctx.record("stored", {
            "images": {r: {"size": i.size, "layers": [d["size"] for d in i.layers]}
                       for r, i in zip(refs, imgs)},
            "sum_of_sizes": sum(i.size for i in imgs), "blob_bytes": on_disk,
            "blobs": len(list(store.blobs.iterdir())),
            "layer_uses": sum(len(i.layers) for i in imgs), "distinct_layers": len(layers),
            "shared_layers": sorted(layers[d] for d, b in blobs.items()
                                    if d in layers and len(b["used_by"]) > 1),
        }, COUNT)

    # ------------------------------------------------------------------ 5. another host
    def _transfer(self, ctx, a, tmp):
        from .. import images
        from . import registry
        b = images.open_store(tmp / "host-b")
        binary = registry.which()
        if binary is None:
            from ..images import archive
            path = tmp / "greeting.tar"
            t0 = time.perf_counter()
            archive.save(a, [TAG], str(path))
            archive.load(b, str(path))
            ctx.record("transfer", {"how": "save-load", "archive_bytes": path.stat().st_size,
                                    "why": "docker-registry is not on PATH "
                                           "(apt-get install docker-registry)"}, COUNT)
            if ctx.timed:
                ctx.record("transfer_seconds", time.perf_counter() - t0, TIME)
            return b
        from ..images import registry as oci
        from ..images.progress import Reporter
        quiet = Reporter(quiet=True)
        with registry.LocalRegistry(tmp / "registry", binary) as reg:
            t0 = time.perf_counter()
            pushes = []
            for local, remote in (("busybox:1.35", "course/busybox:1.35"), (TAG, TAG)):
                # as `docker tag` + `docker push`: the local name says which registry has
                # which blob, so a later push can mount a blob instead of sending it
                a.tag(f"{reg.host}/{remote}", images.open_image(local, a).descriptor())
                pushes.append(oci.push(a, f"{reg.host}/{remote}", insecure=True,
                                       reporter=quiet))
            in_registry = reg.blobs()
            pulls = []
            for remote, local in ((TAG, TAG), ("course/busybox:1.35", "busybox:1.35")):
                before = _blob_set(b)
                img = oci.pull(b, f"{reg.host}/{remote}", insecure=True, reporter=quiet)
                pulls.append({"ref": remote, "downloaded": len(_blob_set(b) - before),
                              "digest_same": img.digest == images.open_image(local, a).digest})
                b.tag(local, img.descriptor())      # its name on this "host"
            seconds = time.perf_counter() - t0
        ctx.record("transfer", {
            "how": "registry",
            "pushes": [{"uploaded": len(r.uploaded), "mounted": len(r.mounted),
                        "skipped": len(r.skipped), "bytes": r.bytes} for r in pushes],
            "registry_blobs": len(in_registry), "registry_bytes": sum(in_registry.values()),
            "pulls": pulls}, COUNT)
        if ctx.timed:
            ctx.record("transfer_seconds", seconds, TIME)
        return b

    # ------------------------------------------------------------------ 6. container and VM
    def _both(self, ctx, eng, img, tmp):
        from ..catalog import IMAGES_DIR
        from ..images.vmimage import boot_parts
        from ..kernel import runtime
        from ..kernel.imageref import StoreImage
        p, k = ctx.params, ctx.params["k"]
        show = "cat /srv/greeting; uname -r; uname -v"
        c = runtime.create(eng, StoreImage(img), ["/bin/sh", "-c", show], name="as-container",
                           memory=p["container_mem"])
        _step(eng, c, until=lambda: c.done)
        cs = c.stats()
        eng.remove(c)
        kernel, initrd, append = boot_parts(img)
        kpath = tmp / "Image"
        kpath.write_bytes(kernel)
        free = "echo lab: free $(grep MemFree /proc/meminfo)"
        # a batch VM's shell has no terminal of its own (/dev/tty): its console is one
        run = (f"{show}; {free}; {'read x < /dev/console & ' * k}sleep 1; {free}; "
               f"{'cat < /dev/console & ' * k}sleep 1; {free}")
        vm = eng.create(str(kpath), name="as-vm", mem=p["vm_mem"], initrd=initrd,
                        bootargs=f'{append} run="{run}"')
        w = Watch(vm)
        eng.start(vm)
        if not eng.wait(120, vms=[vm]):
            eng.kill(vm)
            raise LabError("lab 5: the image booted as a VM did not power off in 120 s")
        vs = vm.stats()
        eng.remove(vm)
        lines = [line for _, line in w.lines]
        free_kib = [int(line.split()[3]) for line in lines if line.startswith("lab: free ")]
        ctx.record("both", {
            "container": {"output": c.console.text().splitlines(), "pages": cs["pages_peak"],
                          "instructions": cs["instructions"], "outcome": cs["outcome"]},
            "vm": {"output": [x for x in lines if not x.startswith(("lab: ", "hvlab Linux",
                                                                     "[run] exit", "["))],
                   "pages": vs["pages_peak"],
                   "instructions": vs["instructions"], "outcome": vs["outcome"],
                   "free_kib": free_kib},
            "kernel_bytes": len(kernel), "initramfs_bytes": len(initrd), "append": append,
            "kernel_is_bundled": hashlib.sha256(kernel).digest() == hashlib.sha256(
                (IMAGES_DIR / "linux.Image").read_bytes()).digest(),
        }, COUNT)


# ---------------------------------------------------------------------- helpers
def _step(eng, c, until, window=100_000, limit=20_000):
    """Step an instance on this thread until ``until()`` (deterministic: no other thread)."""
    for _ in range(limit):
        if until() or c.done:
            return
        eng.step(c, window)
    raise LabError(f"lab 5: {c.name} did not get there in {limit * window:,} instructions")


def _waiting(eng, image, script, name, memory):
    """A container of ``image`` running ``sh -c script``, stepped until every process of it
    waits (for input that never comes: ``cat`` on the terminal)."""
    from ..kernel import runtime
    from ..kernel.imageref import StoreImage
    c = runtime.create(eng, StoreImage(image), ["/bin/sh", "-c", script], name=name,
                       memory=memory)
    _step(eng, c, until=lambda: c.idle)
    return c


def _upper(c):
    """The container's writable layer as an OCI layer tar (what `hv container commit` saves)."""
    from ..kernel.layers import diff_tar
    buf = io.BytesIO()
    diff_tar(c.ns.root, c.ns.image_root, buf)
    return buf.getvalue()


def _names(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.getnames()


def _normalized(data):
    """The layer with every mtime set to the userland's, as `hv image build` does
    ($SOURCE_DATE_EPOCH): the files' times are the container's clock, which is this run's."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as src, \
            tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            m.mtime = EPOCH
            m.pax_headers = {k: v for k, v in m.pax_headers.items()
                             if k not in ("mtime", "atime", "ctime")}
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    return out.getvalue()


def _blob_set(store):
    return {p.name for p in store.blobs.iterdir()}


Images.questions = images_report.QUESTIONS
