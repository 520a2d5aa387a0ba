"""`hv run IMAGE ...`: boot guest images in VMs side by side and wait for them to power off.

Each VM is named after its image (hello, hello-2, ...).  One VM's console is the terminal's;
several VMs' lines are tagged `[name] `.  stdin (a terminal, a pipe or a file) goes to one VM:
see --input-to.  On a terminal, Ctrl-A x quits, Ctrl-A n types into the next VM and Ctrl-A h
lists the keys.

Exit status: 0 when every guest passed (powered off with success), 1 when any failed or
crashed, 124 when --timeout or --max-insns ran out first, 130 when stopped with Ctrl-C or
Ctrl-A x, 2 for a bad command line or a bad image.
"""
import argparse
import os
import sys
import threading
import time

from ..errors import UsageError
from ..catalog import is_interactive, manifest, suggested_mem
from .inputs import Inputs, add_input_options, decode, input_targets
from . import output
from .session import compressed_hint, describe, emit, exit_status, vm_names
from .units import human_size

MAX_MEM = 0x7000_0000           # guest RAM from 0x8000_0000 up to the top of the 32-bit space
DEFAULT_MEM = "64M"
PAGE_SIZE = 4096                # memory.PAGE_SIZE, without importing numpy for `hv images`


def register(sub):
    p = sub.add_parser("run", help="boot guest images in VMs and wait for them to power off",
                       description=__doc__.split("\n\n")[0] + "\n\n" +
                       __doc__.split("\n\n")[1],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="*", metavar="IMAGE",
                   help="a bundled image name (see `hv images`), an ELF file or a .s file")
    add_machine_options(p)
    p.add_argument("-n", type=int, default=1, metavar="N", help="boot N copies of each image")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="stop every VM still running after this many seconds (status 124)")
    p.add_argument("--stats", action="store_const", const="table",
                   help="print a per-VM table on stderr at the end")
    p.add_argument("--stats=all", dest="stats", action="store_const", const="all",
                   help="the table, then every exit cause with its count and what it means")
    p.add_argument("--trace", metavar="DIR", help="write a trap log per VM into DIR/NAME.trace")
    p.add_argument("--initrd", metavar="FILE",
                   help="an initial ramdisk for every VM (Linux: an uncompressed newc cpio, "
                        "unpacked over the kernel's built-in initramfs)")
    p.add_argument("--image", metavar="NAME[:TAG]",   # issue 14 item 6 (kernel stream)
                   help="boot an OCI image of the store that names a kernel (label "
                        "org.hvlab.kernel): its layers become the initramfs (docs/images.md)")
    add_input_options(p)
    p.epilog = ("exit status: 0 all passed, 1 a guest failed or crashed, 124 --timeout or "
                "--max-insns ran out, 130 Ctrl-C or Ctrl-A x, 2 bad command line or image")
    p.set_defaults(func=cmd_run)

    q = sub.add_parser("images", help="list the bundled guest images",
                       description="List the guest images bundled with hvlab: `hv run NAME` "
                                   "boots one with the RAM shown unless --mem says otherwise.")
    q.set_defaults(func=cmd_images)


def add_machine_options(p, wall_clock_default=False):
    p.add_argument("--mem", metavar="SIZE",
                   help=f"guest RAM per VM (default: the image's RAM in `hv images`, "
                        f"{DEFAULT_MEM} for a file)")
    p.add_argument("--host-mem", default="256M", metavar="SIZE",
                   help="host memory shared by all VMs (default 256M)")
    p.add_argument("--prealloc", action="store_true",
                   help="give each VM all its pages at boot instead of on first touch")
    p.add_argument("--append", default="", metavar="BOOTARGS",
                   help="the kernel command line: /chosen bootargs in the device tree")
    p.add_argument("--max-insns", type=int, metavar="N",
                   help="stop each VM after N instructions")
    p.add_argument("--threads", type=int, metavar="N",
                   help="host threads running VMs (default: one per core)")
    p.add_argument("--weights", metavar="W,W,...",
                   help="CPU shares per VM, one value or one per VM (default 1024 each)")
    p.add_argument("--caps", metavar="P,P,...",
                   help="CPU cap per VM in percent of one core, one value or one per VM")
    if wall_clock_default:
        p.add_argument("--wall-clock", action="store_true", default=True,
                       help="guest time follows the host clock (the default here)")
    else:
        p.add_argument("--wall-clock", action="store_true",
                       help="guest time follows the host clock (default: it follows the "
                            "instructions the guest ran, so runs are reproducible)")
    p.add_argument("--trap-via-monitor", action="store_true",
                   help="route every guest exception through the monitor (no delegation)")
    p.add_argument("--isa", choices=("rv32imac", "rv32ima"), default="rv32imac",
                   help="the guests' ISA: rv32imac (default) or rv32ima (compressed "
                        "instructions illegal, 4-byte aligned jumps)")
    p.add_argument("--debug", action="store_true",
                   help="log internal errors with their tracebacks on stderr (also: HVLAB_DEBUG=1)")


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


def _size(option, text):
    from ..memory import parse_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def guest_mems(args, images):
    """Guest RAM per VM: --mem, else each bundled image's own, else DEFAULT_MEM."""
    if args.mem is not None:
        mem = _size("--mem", args.mem)
        if mem % PAGE_SIZE:
            raise UsageError(f"--mem {args.mem}: not a whole number of 4 KiB pages")
        if mem > MAX_MEM:
            raise UsageError(f"--mem {args.mem}: guest RAM is at most {human_size(MAX_MEM)} "
                             f"(it starts at 0x80000000 in a 32-bit address space)")
        return [mem] * len(images)
    return [suggested_mem(img) or _size("--mem", DEFAULT_MEM) for img in images]


def check_machine(args, mems):
    """The machine options that do not need an engine, in words a user can act on."""
    host_mem = _size("--host-mem", args.host_mem)
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    if args.max_insns is not None and args.max_insns < 0:
        raise UsageError("--max-insns must not be negative")
    cores = os.cpu_count() or 1
    if args.threads is not None and args.threads > cores:
        emit(f"hv: warning: --threads {args.threads} is more than this machine's {cores} "
             f"core{'s' * (cores > 1)}: the threads take turns, nothing runs faster\n",
             sys.stderr)
    if args.prealloc and sum(mems) > host_mem - PAGE_SIZE:
        raise UsageError(f"--prealloc: {len(mems)} VM{'s' * (len(mems) > 1)} need "
                         f"{human_size(sum(mems))} of RAM at boot, the host has "
                         f"{human_size(host_mem - PAGE_SIZE)} for guests (--host-mem "
                         f"{args.host_mem})")
    return host_mem


def build(args, images, names=None):
    """An engine with one VM per image (not started), the hart compiled.  Errors: UsageError,
    one line."""
    from ..engine import Engine, EngineError    # here: numba loads in 0.3 s; `hv asm` needs none
    from ..loader import ImageError
    from .warmup import compile_hart
    mems = guest_mems(args, images)
    host_mem = check_machine(args, mems)
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
        raise UsageError(f"--host-mem {args.host_mem}: this machine cannot allocate "
                         f"{human_size(host_mem)}") from None
    initrd = getattr(args, "initrd_data", None) or _read_initrd(getattr(args, "initrd", None))
    compile_hart()                          # before any VM: compile time is no VM's time
    trace_dir = getattr(args, "trace", None)
    names = names or vm_names(images)
    try:
        for i, image in enumerate(images):
            trace = _open_trace(trace_dir, names[i]) if trace_dir else None
            vm = engine.create(image, name=names[i], mem=mems[i], bootargs=args.append,
                               prealloc=args.prealloc, weight=weights[i] or 1024,
                               cap=caps[i] / 100 if caps[i] else None,
                               trap_via_monitor=args.trap_via_monitor, trace=trace,
                               initrd=initrd, isa=args.isa)
            vm.image_name = os.path.splitext(os.path.basename(str(image)))[0]
            vm.interactive = is_interactive(image)
    except (ImageError, EngineError) as exc:
        raise UsageError(str(exc)) from None
    return engine


def _open_trace(trace_dir, name):
    """The trace file of one VM in --trace DIR (made if missing); a UsageError if it cannot."""
    if os.path.exists(trace_dir) and not os.path.isdir(trace_dir):
        raise UsageError(f"--trace {trace_dir}: not a directory")
    try:
        os.makedirs(trace_dir, exist_ok=True)
        return open(os.path.join(trace_dir, f"{name}.trace"), "w")
    except OSError as exc:
        raise UsageError(f"--trace {trace_dir}: {exc.strerror or exc}") from None


def load_within(seconds, load):
    """Run ``load()`` (reading, checking and assembling images) within ``seconds`` (None:
    no limit): --timeout covers loading too, and a load that blocks (a FIFO named x.s) or
    crawls ends the run with status 124."""
    if seconds is None:
        return load()
    box = {}

    def target():
        try:
            box["value"] = load()
        except BaseException as exc:  # noqa: BLE001  (handed to the main thread)
            box["error"] = exc
    t = threading.Thread(target=target, name="hv-load", daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise LoadTimeout(f"still loading the images after --timeout {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


class LoadTimeout(Exception):
    """--timeout ran out while the images were loading."""


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


def _vm_image(args):
    """--image REF: (its kernel as a file, the initramfs of its layers, bootargs)."""
    from ..images import OCIError
    from ..images.vmimage import boot_file
    if args.images or args.initrd:
        raise UsageError("--image boots one store image: give no IMAGE or --initrd with it")
    try:
        kernel, initrd, append = boot_file(args.image)
    except OCIError as exc:
        raise UsageError(f"--image {args.image}: {exc}") from None
    return [kernel], initrd, " ".join(a for a in (append, args.append) if a)


def cmd_run(args):
    if getattr(args, "image", None):
        args.images, args.initrd_data, args.append = _vm_image(args)
    if not args.images:
        raise UsageError("an IMAGE is required (see `hv images`), or --image NAME:TAG")
    if args.n < 1:
        raise UsageError("-n must be at least 1")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if args.input_delay < 0:
        raise UsageError("--input-delay must not be negative")
    text = decode(args.input, "--input")
    after = [(decode(p, "--input-after"), decode(t, "--input-after")) for p, t in
             args.input_after]
    if any(not pattern for pattern, _ in after):
        raise UsageError("--input-after: the PATTERN must not be empty")
    images = [img for img in args.images for _ in range(args.n)]
    t0 = time.perf_counter()
    try:
        engine = load_within(args.timeout, lambda: build(args, images))
    except LoadTimeout as exc:
        emit(f"hv: {exc}\n", sys.stderr)
        return 124
    left = None if args.timeout is None else max(0.01, args.timeout - (time.perf_counter() - t0))
    vms = list(engine.vms.values())
    targets = input_targets(vms, [vm.interactive for vm in vms], args.input_to)
    from .consoles import Consoles
    from .waiting import finish, wait_for
    consoles = Consoles(vms)
    inputs = Inputs(targets, text=text, delay=args.input_delay, after=after,
                    ctrl_c=args.ctrl_c, interactive=any(vm.interactive for vm in targets),
                    vms=vms, on_switch=consoles.set_live, before_message=consoles.break_line)
    if inputs.terminal and len(targets) == 1:
        consoles.set_live(targets[0])
    consoles.attach()
    inputs.prepare()
    how = "interrupted"
    try:
        inputs.start()                  # raw mode and its hint first, then the guests
        for vm in vms:
            engine.start(vm)
        how = wait_for(engine, vms, left, inputs)
    except KeyboardInterrupt:
        inputs.quit_reason = inputs.quit_reason or "Ctrl-C"
    finally:
        inputs.stop()
        finish(engine, vms, how, args.timeout, inputs.quit_reason)
        engine.shutdown()
        consoles.flush()
        for vm in vms:
            if vm.trace is not None:
                vm.trace.close()
    if output.failed() is not None:     # the last console bytes could not be written
        raise output.failed()
    _report(vms, args)
    return exit_status(vms, interrupted=how in ("quit", "interrupted"))


def _report(vms, args):
    for vm in vms:
        if vm.outcome != "passed":
            emit(f"hv: {vm.name}: {describe(vm)}\n", sys.stderr)
            hint = compressed_hint(vm)
            if hint:
                emit(f"hv: {vm.name}: {hint}\n", sys.stderr)
    if args.stats:
        from . import stats
        text = stats.table(vms)
        if args.stats == "all":
            text += stats.causes(vms)
        emit(text, sys.stderr)


def cmd_images(args):
    import shutil
    import textwrap
    entries = manifest()
    if not entries:
        print("no bundled images found (hypervisor/guest_images/ is empty: `make -C guests` "
              "builds them)", file=sys.stderr)
        return 1
    width = shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80
    name_w = max(5, max(len(e["name"]) for e in entries))
    lead = name_w + 2 + 4 + 2
    lines = [f"{'IMAGE':<{name_w}}  {'RAM':>4}  DESCRIPTION"]
    for e in entries:
        desc = e.get("description", "")
        if e.get("interactive"):
            desc += " (interactive: reads the keyboard)"
        lines += textwrap.wrap(desc, max(20, width - 1),
                               initial_indent=f"{e['name']:<{name_w}}  {e.get('mem', ''):>4}  ",
                               subsequent_indent=" " * lead)
    lines += ["", "RAM: what `hv run NAME` gives the image unless --mem says otherwise."]
    emit("\n".join(lines) + "\n")
    return 0
