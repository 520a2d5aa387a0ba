"""`hv run IMAGE ...`: boot guest images in VMs side by side and wait for them to power off.

Exit status: 0 when every guest powered off with success, 1 when any failed or crashed, 124
when --timeout or --max-insns ran out first, 2 for a bad command line or a bad image.
"""
import os
import sys
import threading

from ..errors import UsageError
from ..catalog import manifest
from ..loader import ImageError
from ..memory import parse_size
from .session import attach_console, emit, exit_status, outcome, stats_table


def register(sub):
    p = sub.add_parser("run", help="boot guest images in VMs and wait for them to power off",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="a bundled image name (see `hv images`), an ELF file or a .s file")
    add_machine_options(p)
    p.add_argument("-n", type=int, default=1, metavar="N", help="boot N copies of each image")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="give up after this long")
    p.add_argument("--stats", action="store_true", help="print a per-VM table at the end")
    p.add_argument("--trace", metavar="DIR", help="write a trap log per VM into DIR")
    p.add_argument("--input", metavar="TEXT", default="",
                   help="bytes typed at every VM's console (\\n for newline)")
    p.add_argument("--initrd", metavar="FILE",
                   help="an initial ramdisk for every VM (Linux: an uncompressed newc cpio, "
                        "unpacked over the kernel's built-in initramfs)")
    p.set_defaults(func=cmd_run)

    q = sub.add_parser("images", help="list the bundled guest images")
    q.set_defaults(func=cmd_images)


def add_machine_options(p):
    p.add_argument("--mem", default="64M", metavar="SIZE", help="guest RAM per VM (default 64M)")
    p.add_argument("--host-mem", default="256M", metavar="SIZE",
                   help="host memory shared by all VMs (default 256M)")
    p.add_argument("--prealloc", action="store_true",
                   help="give each VM all its pages at boot instead of on first touch")
    p.add_argument("--append", default="", metavar="BOOTARGS", help="/chosen bootargs")
    p.add_argument("--max-insns", type=int, metavar="N", help="stop each VM after N instructions")
    p.add_argument("--threads", type=int, metavar="N", help="host cores to use (default: all)")
    p.add_argument("--weights", metavar="W,W,...", help="CPU shares per VM (default 1024 each)")
    p.add_argument("--caps", metavar="P,P,...", help="CPU cap per VM, percent of one core")
    p.add_argument("--wall-clock", action="store_true",
                   help="guest time follows the host clock (default: instruction-driven)")
    p.add_argument("--trap-via-monitor", action="store_true",
                   help="route every guest exception through the monitor (no delegation)")


def _per_vm(text, count, what, convert):
    if not text:
        return [None] * count
    try:
        values = [convert(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"bad {what} list {text!r}") from None
    if len(values) == 1:
        values *= count
    if len(values) != count:
        raise UsageError(f"{what}: {len(values)} values for {count} VMs")
    return values


def build(args, images):
    """An engine with one VM per image (not started).  Errors: UsageError, one line."""
    from ..engine import Engine, EngineError    # here: numba loads in 0.3 s; `hv asm` needs none
    try:
        mem, host_mem = parse_size(args.mem), parse_size(args.host_mem)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.threads is not None and args.threads < 1 or args.max_insns is not None \
            and args.max_insns < 0:
        raise UsageError("--threads and --max-insns must be positive")
    weights = _per_vm(args.weights, len(images), "--weights", int)
    caps = _per_vm(args.caps, len(images), "--caps", float)
    if any(w is not None and w <= 0 for w in weights) or \
            any(c is not None and not 0 < c <= 100 for c in caps):
        raise UsageError("weights must be positive and caps in (0, 100]")
    try:
        engine = Engine(host_mem, threads=args.threads, wall_clock=args.wall_clock,
                        max_insns=args.max_insns)
    except ValueError as exc:
        raise UsageError(f"--host-mem: {exc}") from None
    except MemoryError:
        raise UsageError(f"--host-mem {args.host_mem}: this machine cannot allocate it") from None
    initrd = _read_initrd(getattr(args, "initrd", None))
    trace_dir = getattr(args, "trace", None)
    if trace_dir:
        os.makedirs(trace_dir, exist_ok=True)
    try:
        for i, image in enumerate(images):
            name = f"vm{i + 1}"
            trace = open(os.path.join(trace_dir, f"{name}.trace"), "w") if trace_dir else None
            engine.create(image, name=name, mem=mem, bootargs=args.append,
                          prealloc=args.prealloc, weight=weights[i] or 1024,
                          cap=caps[i] / 100 if caps[i] else None,
                          trap_via_monitor=args.trap_via_monitor, trace=trace, initrd=initrd)
    except (ImageError, EngineError) as exc:
        raise UsageError(str(exc)) from None
    return engine


def _read_initrd(path):
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"--initrd {path}: cannot read: {exc.strerror}") from None
    if not data:
        raise UsageError(f"--initrd {path}: the file is empty")
    return data


def cmd_run(args):
    if args.n < 1:
        raise UsageError("-n must be at least 1")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    images = [img for img in args.images for _ in range(args.n)]
    engine = build(args, images)
    vms = list(engine.vms.values())
    prefixers = [attach_console(vm, prefixed=len(vms) > 1) for vm in vms]
    if len(vms) == 1 and sys.stdin is not None and sys.stdin.isatty():
        _forward_stdin(engine, vms[0])
    data = args.input.encode().decode("unicode_escape").encode("latin-1")
    for vm in vms:
        if data:
            vm.send_input(data)
        engine.start(vm)
    try:
        finished = engine.wait(args.timeout)
    finally:
        engine.shutdown()
        for p in prefixers:
            if p is not None:
                p.flush()
    for vm in vms:
        if vm.trace is not None:
            vm.trace.close()
    status = exit_status(vms)
    if not finished and status == 0:
        status = 124
    _report(vms, finished, args)
    return status


def _report(vms, finished, args):
    for vm in vms:
        kind, why = outcome(vm)
        if kind == "running" and not finished:
            why = f"still running after --timeout {args.timeout:g} s"
        if kind != "pass":
            emit(f"hv: {vm.name} ({vm.image.name}): {kind}: {why}\n", sys.stderr)
    if args.stats:
        emit(stats_table(vms), sys.stderr)


def _forward_stdin(engine, vm):
    def pump():
        for line in sys.stdin:
            vm.send_input(line.encode())
    threading.Thread(target=pump, daemon=True, name="hv-stdin").start()


def cmd_images(args):
    entries = manifest()
    if not entries:
        print("no bundled images found", file=sys.stderr)
        return 1
    width = max(len(e["name"]) for e in entries)
    for e in entries:
        print(f"{e['name']:<{width}}  {e.get('mem', ''):>5}  {e.get('description', '')}")
    return 0
