"""`hv top [IMAGE ...]`: boot guest images (default: a mix of the bundled guests) in VMs and
watch and steer them in a live TUI: pause, step, kill, restart, weights and caps (`?` in the
TUI lists the keys).  Guest time follows the host clock here, so idle guests wait in real
time; --virtual-time makes it follow the instructions, as `hv run` does."""
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
    p.add_argument("-n", type=int, default=1, metavar="N", help="boot N copies of each image")
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
    images = list(args.images) or default_images()
    if not images:
        raise UsageError("no IMAGE given and no bundled images installed (see `hv images`)")
    images = [img for img in images for _ in range(args.n)]
    engine = build(args, images)            # names: the image's, as in hv run and hv demo
    app = HvTop(engine, mem=parse_size(args.mem or DEFAULT_MEM))
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
    print(f"hv top: {len(app.sampler.rings)} VMs retired {total:,} instructions in "
          f"{seconds:.1f} s ({total / seconds / 1e6:.0f} MIPS in all)", file=sys.stderr)
    return 0
