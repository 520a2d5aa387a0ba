"""OCI images: hvlab against skopeo and umoci, side by side, alternating round by round.

    python bench/images.py [--rounds 5] [--bundle DIR]

  * build: `hv image build` (FROM busybox:1.35, COPY a program) vs `umoci insert` of the same
    file onto the same base (the peer's way of adding one layer)
  * push to / pull from a local docker-registry (distribution 2.8): `hv push` / `hv pull` vs
    `skopeo copy` of the same image in the same round, into empty registry repositories and
    stores each time (every blob really travels)
  * bytes stored for busybox:1.35 + an image built on it + linux-vm:6.1 (which shares busybox's
    layer) vs the sum of their sizes

The BusyBox base comes from the bundled userland (hypervisor/guest_images/userland.tar, or
--bundle DIR holding userland.tar and linux.Image); without it a small base is imported.
Whole processes are timed (what a user waits for), medians over the rounds.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def timed(argv, env):
    t0 = time.perf_counter()
    p = subprocess.run([str(a) for a in argv], env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{argv[:4]} failed: {p.stderr.strip()[-300:]}")
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bundle", help="a directory with userland.tar and linux.Image")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hvlab-bench-images-"))
    if args.bundle:         # before hypervisor.catalog is imported, here and in the children
        os.environ["HVLAB_IMAGES"] = str(Path(args.bundle).resolve())
    env = dict(os.environ, PYTHONPATH=str(ROOT), HV_STORE=str(tmp / "store"))
    hv = [sys.executable, "-m", "hypervisor.cli"]
    from oci_helpers import Registry
    reg = Registry(tmp)
    try:
        run(args, tmp, env, hv, reg)
    finally:
        reg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp, env, hv, reg):
    ctx = tmp / "ctx"
    ctx.mkdir()
    program = ctx / "hello"
    program.write_bytes(os.urandom(200_000))        # stands for a static demo program
    os.chmod(program, 0o755)
    (ctx / "Buildfile").write_text("FROM busybox:1.35\nCOPY hello /usr/local/bin/hello\n"
                                   'CMD ["/usr/local/bin/hello"]\n')
    startup = statistics.median(timed(hv + ["image", "ls"], env) for _ in range(3))
    print(f"hv startup (hv image ls on an empty store, whole process): {startup:.2f} s")
    t_seed = timed(hv + ["image", "inspect", "busybox:1.35"], env)
    print(f"seed busybox:1.35 from the bundled userland: {t_seed:.2f} s (first use)")
    builds, inserts, pushes, skopeo_pushes, pulls, skopeo_pulls = [], [], [], [], [], []
    layout = tmp / "umoci"
    subprocess.run(["skopeo", "copy", f"oci:{tmp / 'store'}:busybox:1.35",
                    f"oci:{layout}:base"], check=True, capture_output=True)
    for r in range(args.rounds):
        builds.append(timed(hv + ["image", "build", "--no-cache", "-t", f"demo:{r}", ctx],
                            env))
        subprocess.run(["umoci", "tag", "--image", f"{layout}:base", f"r{r}"], check=True)
        inserts.append(timed(["umoci", "insert", "--image", f"{layout}:r{r}", program,
                              "/usr/local/bin/hello"], env))
        pushes.append(timed(hv + ["push", "demo:0", f"{reg.host}/hv{r}/demo:1", "--insecure"],
                            env))
        skopeo_pushes.append(timed(["skopeo", "copy", "--dest-tls-verify=false",
                                    f"oci:{tmp / 'store'}:demo:0",
                                    f"docker://{reg.host}/sk{r}/demo:1"], env))
        pulls.append(timed(hv + ["pull", f"{reg.host}/hv{r}/demo:1", "--insecure", "--store",
                                 tmp / f"pull{r}"], env))
        skopeo_pulls.append(timed(["skopeo", "copy", "--src-tls-verify=false",
                                   f"docker://{reg.host}/sk{r}/demo:1",
                                   f"oci:{tmp / f'skpull{r}'}:demo:1"], env))
    med = statistics.median
    print(f"build FROM busybox:1.35 + COPY 200 kB (whole hv process): {med(builds):.2f} s; "
          f"umoci insert of the same file: {med(inserts):.2f} s "
          f"(hv / umoci {med(b / i for b, i in zip(builds, inserts)):.2f})")
    print(f"push (every blob new): hv {med(pushes):.2f} s, skopeo {med(skopeo_pushes):.2f} s "
          f"(hv / skopeo {med(a / b for a, b in zip(pushes, skopeo_pushes)):.2f})")
    print(f"pull into an empty store: hv {med(pulls):.2f} s, skopeo {med(skopeo_pulls):.2f} s "
          f"(hv / skopeo {med(a / b for a, b in zip(pulls, skopeo_pulls)):.2f})")
    storage(tmp, env, hv)


def storage(tmp, env, hv):
    from hypervisor import images
    store = images.open_store(tmp / "store")
    names = ["busybox:1.35", "demo:0"]
    try:
        images.open_image("linux-vm:6.1", store)        # seeded: busybox's layer + a kernel
        names.append("linux-vm:6.1")
    except images.OCIError as exc:
        print(f"(no linux-vm:6.1: {exc})")
    from hypervisor.images.gc import prune
    for d in list(store.tags()):
        if d not in names and d != "busybox:latest" and d != "linux-vm:latest":
            store.untag(name=d)
    prune(store)
    total = sum(images.open_image(n, store).size for n in names)
    stored = sum(p.stat().st_size for p in store.blobs.iterdir())
    print(f"stored for {', '.join(names)}: {stored:,} bytes; the sum of their sizes "
          f"{total:,} bytes ({stored / total:.2f} of it: shared layers are stored once)")


if __name__ == "__main__":
    main()
