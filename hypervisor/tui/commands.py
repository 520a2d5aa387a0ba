"""`hv top [IMAGE ...] [--container "IMAGE [CMD ...]" ...]`: boot guest images (default: a mix
of the bundled guests) in VMs, run containers beside them, and watch and steer them all in a
live TUI: pause, step, kill, restart, weights and caps (`?` in the TUI lists the keys).  Guest
time follows the host clock here, so idle guests wait in real time; --virtual-time makes it
follow the instructions, as `hv run` does."""
import shlex
import sys
import time

from ..errors import UsageError
from ..commands.run import DEFAULT_MEM, add_machine_options, build
from ..catalog import manifest

DEFAULT_MIX = ("spinner", "worker", "hello", "timer", "compute", "echo", "rogue")


def register(sub):
    p = sub.add_parser("top", help="a live TUI: watch and steer the VMs (CPU, memory map, "
                       "exits, consoles)", description=__doc__.split("\n\n")[0],
                       epilog="the TUI's memory map draws --host-mem: a smaller one shows "
                              "each VM's pages larger")
    p.add_argument("images", nargs="*", metavar="IMAGE",
                   help="bundled image names or ELF/.s files (default: "
                        + " ".join(DEFAULT_MIX) + ", those installed)")
    p.add_argument("-n", type=int, default=1, metavar="N",
                   help="boot N copies of each image (and each --container)")
    p.add_argument("--container", action="append", default=[], metavar='"IMAGE [CMD ...]"',
                   help="also run a container of IMAGE (a local store image such as "
                        "busybox:1.35, or a rootfs path) with CMD (default: the image's), on "
                        "a terminal; one quoted argument, split as a shell would; repeatable. "
                        "Its memory limit is --mem")
    add_machine_options(p, wall_clock_default=True)
    p.add_argument("--virtual-time", dest="wall_clock", action="store_false",
                   help="guest time follows the instructions the guest ran, as in hv run")
    p.set_defaults(func=cmd_top, wall_clock=True)


def default_images():
    """The default mix: those of DEFAULT_MIX that are installed, else the first few bundled."""
    names = [e.get("name") for e in manifest() if e.get("name")]
    mix = [n for n in DEFAULT_MIX if n in names]
    return mix or names[:5]


def cmd_top(args):
    from ..commands.session import describe
    from ..memory import parse_size
    from .app import HvTop

    if args.n < 1:
        raise UsageError("-n must be at least 1")
    specs = [_container_spec(text) for text in args.container]
    images = list(args.images) or ([] if specs else default_images())
    if not images and not specs:
        raise UsageError("no IMAGE given and no bundled images installed (see `hv images`)")
    images = [img for img in images for _ in range(args.n)]
    engine = build(args, images)            # names: the image's, as in hv run and hv demo
    app = HvTop(engine, mem=parse_size(args.mem or DEFAULT_MEM))
    for ref, argv in specs:
        for _ in range(args.n):
            made = app.new_container(ref, argv, start=False)
            if isinstance(made, str):
                engine.shutdown()
                print(f"hv top: {made}", file=sys.stderr)
                return 125              # docker run's status for a runtime error
    t0 = time.perf_counter()
    try:
        for vm in list(engine.vms.values()):
            engine.start(vm)
        app.run()
    finally:
        app.stop_engine()
        engine.shutdown()
    seconds = time.perf_counter() - t0
    app.sampler.sample()
    total = app.sampler.instructions_total()
    for vm in engine.vms.values():
        if vm.outcome.startswith(("crashed", "failed")):
            print(f"hv top: {vm.name}: {describe(vm)}", file=sys.stderr)
    kinds = [inst.kind for inst in engine.vms.values() if inst.id in app.sampler.rings]
    n, k = kinds.count("vm"), kinds.count("container")
    what = f"{n} VM{'s' * (n != 1)}" + (f" and {k} container{'s' * (k != 1)}" if k else "")
    print(f"hv top: {what} retired {total:,} instructions in "
          f"{seconds:.1f} s ({total / seconds / 1e6:.0f} MIPS in all)", file=sys.stderr)
    return 0


def _container_spec(text):
    """'IMAGE [CMD ...]' -> (IMAGE, [CMD ...]); a usage error when it cannot be split."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"--container {text!r}: {exc}") from None
    if not words:
        raise UsageError("--container needs an IMAGE (e.g. --container busybox:1.35)")
    return words[0], words[1:]
