"""`hv top [IMAGE ...]`: boot guest images (default: a mix of the bundled guests) in VMs and
watch and steer them in a live TUI."""
import sys
import time

from ..cli import UsageError
from ..commands.run import add_machine_options, build
from ..catalog import manifest
from ..memory import parse_size

DEFAULT_MIX = ("spinner", "worker", "hello", "timer", "compute", "echo", "rogue")


def register(sub):
    p = sub.add_parser("top", help="a live TUI: watch and steer the VMs (CPU, memory map, "
                       "exits, consoles)", description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="*", metavar="IMAGE",
                   help="bundled image names or ELF/.s files (default: "
                        + " ".join(DEFAULT_MIX) + ", those installed)")
    p.add_argument("-n", type=int, default=1, metavar="N", help="boot N copies of each image")
    add_machine_options(p)
    p.add_argument("--virtual-time", dest="wall_clock", action="store_false",
                   help="guest time driven by instructions (default in hv top: wall clock)")
    p.set_defaults(func=cmd_top, wall_clock=True)


def default_images():
    """The default mix: those of DEFAULT_MIX that are installed, else the first few bundled."""
    names = [e.get("name") for e in manifest() if e.get("name")]
    mix = [n for n in DEFAULT_MIX if n in names]
    return mix or names[:5]


def cmd_top(args):
    from ..vm import CRASHED
    from .app import HvTop, vm_name

    if args.n < 1:
        raise UsageError("-n must be at least 1")
    images = list(args.images) or default_images()
    if not images:
        raise UsageError("no IMAGE given and no bundled images installed (see `hv images`)")
    images = [img for img in images for _ in range(args.n)]
    engine = build(args, images)
    for vm, image in zip(engine.vms.values(), images):
        vm.name = vm_name(image, vm.id)
    app = HvTop(engine, mem=parse_size(args.mem))
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
        if vm.status == CRASHED or vm.outcome.startswith("failed"):
            print(f"hv top: {vm.name}: {vm.outcome}", file=sys.stderr)
    print(f"hv top: {len(app.sampler.rings)} VMs retired {total:,} instructions in "
          f"{seconds:.1f} s ({total / seconds / 1e6:.0f} MIPS in all)", file=sys.stderr)
    return 0
