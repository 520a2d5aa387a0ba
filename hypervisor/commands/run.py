"""`hv run IMAGE ...`: boot guest images in VMs side by side and wait for them to power off.

Exit status: 0 when every guest powered off with success, 1 when any failed or crashed, 124
when --timeout or --max-insns ran out first, 2 for a bad command line or a bad image.
"""
import os
import sys
import threading
import time

from ..errors import UsageError
from ..catalog import manifest
from ..loader import ImageError
from ..memory import parse_size
from . import output
from .session import attach_console, emit, exit_status, flush_all, outcome, stats_table, wait


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
    trace_dir = getattr(args, "trace", None)
    try:
        for i, image in enumerate(images):
            name = f"vm{i + 1}"
            trace = _open_trace(trace_dir, name) if trace_dir else None
            engine.create(image, name=name, mem=mem, bootargs=args.append,
                          prealloc=args.prealloc, weight=weights[i] or 1024,
                          cap=caps[i] / 100 if caps[i] else None,
                          trap_via_monitor=args.trap_via_monitor, trace=trace)
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


def parse_input(text):
    """--input TEXT as bytes: backslash escapes as in Python strings (\\n, \\x41, \\\\),
    other characters as UTF-8.  A UsageError for a bad escape or one that is not a byte."""
    try:
        chars = text.encode().decode("unicode_escape")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--input: bad escape ({exc.reason}) in \"{text}\"") from None
    try:
        return chars.encode("latin-1")  # each char is a byte: UTF-8 text or an escape < 256
    except UnicodeEncodeError as exc:
        bad = chars[exc.start]
        raise UsageError(f"--input: {bad!r} (U+{ord(bad):04X}) is not a byte: use \\xNN "
                         f"escapes for bytes, or type the character itself") from None


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


def cmd_run(args):
    if args.n < 1:
        raise UsageError("-n must be at least 1")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    images = [img for img in args.images for _ in range(args.n)]
    data = parse_input(args.input)
    t0 = time.perf_counter()
    try:
        engine = load_within(args.timeout, lambda: build(args, images))
    except LoadTimeout as exc:
        emit(f"hv: {exc}\n", sys.stderr)
        return 124
    left = None if args.timeout is None else max(0.0, args.timeout - (time.perf_counter() - t0))
    vms = list(engine.vms.values())
    prefixers = [attach_console(vm, prefixed=len(vms) > 1) for vm in vms]
    if len(vms) == 1 and sys.stdin is not None and sys.stdin.isatty():
        _forward_stdin(engine, vms[0])
    for vm in vms:
        if data:
            vm.send_input(data)
        engine.start(vm)
    try:
        finished = wait(engine, left)
    finally:
        engine.shutdown()
        flush_all(prefixers)
    for vm in vms:
        if vm.trace is not None:
            vm.trace.close()
    if output.failed() is not None:     # the last console bytes could not be written
        raise output.failed()
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
        emit(f"{e['name']:<{width}}  {e.get('mem', ''):>5}  {e.get('description', '')}\n")
    return 0
