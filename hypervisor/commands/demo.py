"""`hv demo`: boot a set of bundled guests side by side, show their consoles, and end with the
per-VM stats table and a one-line verdict per VM.

Made for a laptop's 80-column terminal: every line fits the terminal's width (80 columns when
the output is not a terminal), and the tags and verdicts are coloured on a terminal.
"""
import os
import shutil
import sys
import textwrap

from ..errors import UsageError
from ..catalog import bundled
from .run import LoadTimeout, add_machine_options, build, load_within
from .session import emit
from .units import human_size

# image, what should happen, what that shows
LINEUP = (
    ("hello", "passed", "booted, read its device tree, printed via SBI, DBCN and the UART"),
    ("timer", "passed", "took timer interrupts and idled in wfi between them"),
    ("compute", "passed", "computed and checked its results while sharing the host"),
    ("rogue", "passed", "attacked its partition; every attempt trapped inside its own VM"),
    ("panic", "crashed", "crashed on purpose; only its own VM died"),
)
SHORT = ("hello", "rogue", "panic")


def register(sub):
    p = sub.add_parser("demo", help="boot the sample guests side by side and compare them",
                       description=__doc__.split("\n\n")[0])
    add_machine_options(p)
    p.add_argument("--short", action="store_true", help="a quick lineup (hello, rogue, panic)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="stop the guests still running after this long (default 60)")
    p.set_defaults(func=cmd_demo, trace=None)


def output_width(stream):
    """The terminal's width, or $COLUMNS, or 80."""
    try:
        if stream.isatty():
            return max(40, shutil.get_terminal_size((80, 24)).columns)
    except (AttributeError, ValueError):
        pass
    try:
        return max(40, int(os.environ.get("COLUMNS", "80")))
    except ValueError:
        return 80


def cmd_demo(args):
    from .consoles import Consoles, use_colour
    from .stats import table
    from .waiting import finish, wait_for
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    lineup = [entry for entry in LINEUP if not args.short or entry[0] in SHORT]
    missing = [name for name, _, _ in lineup if bundled(name) is None]
    if missing:
        raise UsageError(f"bundled images missing: {', '.join(missing)} (`hv images` lists "
                         f"those installed; `make -C guests` builds them)")
    out = sys.stdout
    width, colour = output_width(out), use_colour(out)
    try:
        engine = load_within(args.timeout, lambda: build(args, [name for name, _, _ in lineup]))
    except LoadTimeout as exc:
        emit(f"hv: {exc}\n", sys.stderr)
        return 124
    vms = list(engine.vms.values())
    memory = engine.memory
    threads = engine.scheduler.nthreads
    _say(f"hv demo: {len(vms)} VMs on {threads} host thread{'s' * (threads > 1)}, "
         f"{human_size(memory.npages * 4096)} of host memory in 4 KiB pages", width)
    emit("\n")
    consoles = Consoles(vms, width=width, colour=colour, strip_own_name=True,
                        align=True).attach()
    how = "interrupted"
    try:
        for vm in vms:
            engine.start(vm)
        how = wait_for(engine, vms, args.timeout)
    finally:
        finish(engine, vms, how, args.timeout, None if how != "interrupted" else "Ctrl-C")
        engine.shutdown()
        consoles.flush()
    emit("\n" + table(vms, width) + "\n")
    good = True
    for vm, (name, expected, shows) in zip(vms, lineup):
        ok = vm.outcome.split(":")[0] == expected
        good &= ok
        mark = _paint("ok  ", "green", colour) if ok else _paint("FAIL", "red", colour)
        detail = shows if ok else f"expected {expected}, got {vm.outcome}"
        lead = f"{mark} {name:<8} "
        rows = textwrap.wrap(detail, width - 14) or [""]
        emit(lead + rows[0] + "\n" + "".join(" " * 14 + r + "\n" for r in rows[1:]))
        if ok and expected == "crashed":
            for r in textwrap.wrap(f"({vm.reason})", width - 14):
                emit(" " * 14 + r + "\n")
    emit("\n")
    _say(_pages_line(engine, vms), width)
    return 0 if good else 1


def _pages_line(engine, vms):
    """Free pages after the run, and who holds the rest: the figures add up to the total."""
    memory = engine.memory
    guest_pages = memory.npages - 1          # page 0 is the monitor's
    free = memory.free_pages
    line = f"host pages free after the run: {free:,} of {guest_pages:,}"
    held = [(vm.name, vm.pages) for vm in vms if vm.pages]
    if not held:
        return line + " (every VM's pages came back)"
    return line + "; still held: " + ", ".join(f"{n} {p:,}" for n, p in held)


def _say(text, width):
    emit("\n".join(textwrap.wrap(text, width, subsequent_indent="  ")) + "\n")


def _paint(text, colour, on):
    if not on:
        return text
    from rich.color import ColorSystem
    from rich.style import Style
    return Style(color=colour, bold=True).render(text, color_system=ColorSystem.STANDARD)
