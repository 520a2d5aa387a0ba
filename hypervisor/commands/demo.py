"""`hv demo`: boot a set of bundled guests side by side, show their consoles, and end with the
per-VM stats table and a one-line verdict per VM."""
import sys

from ..errors import UsageError
from ..catalog import bundled
from .run import LoadTimeout, add_machine_options, build, load_within
from .session import attach_console, emit, flush_all, outcome, stats_table, wait

# image, what should happen, what that shows
LINEUP = (
    ("hello", "pass", "booted, read its device tree, printed through SBI, DBCN and the UART"),
    ("timer", "pass", "took timer interrupts and idled in wfi between them"),
    ("compute", "pass", "computed and checked its results while sharing the host"),
    ("rogue", "pass", "attacked its partition; every attempt trapped inside its own VM"),
    ("panic", "crash", "crashed on purpose; only its own VM died"),
)
SHORT = ("hello", "rogue", "panic")


def register(sub):
    p = sub.add_parser("demo", help="boot the sample guests side by side and compare them",
                       description=__doc__)
    add_machine_options(p)
    p.add_argument("--short", action="store_true", help="a quick lineup (hello, rogue, panic)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    p.set_defaults(func=cmd_demo, trace=None)


def cmd_demo(args):
    lineup = [entry for entry in LINEUP if not args.short or entry[0] in SHORT]
    missing = [name for name, _, _ in lineup if bundled(name) is None]
    if missing:
        raise UsageError(f"bundled images missing: {', '.join(missing)} (see guests/README)")
    try:
        engine = load_within(args.timeout, lambda: build(args, [name for name, _, _ in lineup]))
    except LoadTimeout as exc:
        emit(f"hv: {exc}\n", sys.stderr)
        return 124
    vms = list(engine.vms.values())
    for vm, (name, _, _) in zip(vms, lineup):
        vm.name = name
    emit(f"hv demo: {len(vms)} VMs on {engine.scheduler.nthreads} host core(s), "
         f"{engine.memory.npages} host pages of 4 KiB\n\n")
    prefixers = [attach_console(vm, prefixed=True) for vm in vms]
    for vm in vms:
        engine.start(vm)
    try:
        wait(engine, args.timeout)
    finally:
        engine.shutdown()
        flush_all(prefixers)
    emit("\n" + stats_table(vms) + "\n")
    good = True
    for vm, (name, expected, shows) in zip(vms, lineup):
        kind, why = outcome(vm)
        ok = kind == expected
        good &= ok
        mark = "ok  " if ok else "FAIL"
        detail = shows if ok else f"expected {expected}, got {kind}: {why}"
        emit(f"{mark} {name:<8} {detail}\n")
        if ok and kind == "crash":
            emit(f"     {'':<8} ({why})\n")
    free = engine.memory.free_pages
    emit(f"\nhost pages free after the run: {free} of {engine.memory.npages - 1}\n")
    return 0 if good else 1
