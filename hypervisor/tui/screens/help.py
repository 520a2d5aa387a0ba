"""The `?` (or F1) help screen: every key, the state words, how to read the panels, and the
legend of every exit cause (from exitcauses.py, the one source hv run --stats=all and
docs/exits.md share).  It scrolls (arrows, page up/down, home/end, the mouse wheel) and fits
any terminal down to 80x24."""
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...exitcauses import EXIT_CAUSES, __doc__ as EXITS_DOC

KEYS = (
    ("↑ ↓ pgup pgdn", "select a VM or a container (the keys below act on it)"),
    ("enter", "type into its console (a container's: its terminal); ctrl+] or f12 comes "
              "back, esc goes to the guest (vi needs it). z: the same, full screen"),
    ("p", "pause / resume (starts a created VM)"),
    ("k", "kill (asks first); it stays listed, as killed"),
    ("r", "restart: stop it wherever it is, give its memory back, boot its image again "
          "(a container: its command runs again, its file changes kept, as docker restart)"),
    ("n", "new VM from a bundled image, or new container from an image of the local "
          "store (then its command line)"),
    ("+ -", "weight ×2 / ÷2: its CPU shares (1024 is the default, 16 … 16384)"),
    ("c", "cap: none → 75% → 50% → 25% of one core → none"),
    ("s", "single-step a paused VM: the next instruction and the registers"),
    ("x", "remove an ended VM from the list"),
    ("/", "filter the table by name (enter keeps it, esc clears it)"),
    ("< > o", "sort by the column left / right; o reverses (or click a header)"),
    ("→ ←", "open / close the rows under an instance (a container's processes)"),
    ("v", "small terminals: which panel shows beside the console (exits, trap "
          "timeline, memory map, CPU, none: the console the whole width)"),
    ("m", "memory map: zoom on the pages in use / the whole host"),
    ("? f1", "this help (in the console, f1)"),
    ("q ctrl+q", "quit: every VM and container stops, the host threads end (in the "
                 "console, ctrl+q)"),
)

STATES = (
    ("running", "on a host core or waiting for one"),
    ("idle", "running, but waiting in wfi for an interrupt: it uses no host time"),
    ("paused", "stopped by p (or s): resume with p"),
    ("created", "built, never started: p starts it"),
    ("passed", "the guest powered off reporting success (SBI shutdown, test finisher); "
               "a container: its first process exited with 0"),
    ("failed (code N)", "the guest powered off reporting failure code N; a container: "
                        "its first process exited with N (128 + the signal if killed)"),
    ("sleeping zombie", "a container's process (a row under it): sleeping in a system "
                        "call; exited, not yet waited for (running, stopped as above)"),
    ("crashed", "the monitor stopped it: an unhandled trap, out of host memory, ... "
                "(the reason column and the line under the table say which)"),
    ("killed", "ended by k (or by the program running hvlab)"),
    ("timed out", "still running when hv run's --timeout ran out"),
    ("stopped by --max-insns", "it retired the --max-insns instructions it was allowed"),
)

PANELS = (
    ("VMs", "CPU% is host time on one core over the last second (100% = a whole core, "
            "the most one VM, one hart, can use); MIPS and exits/s are over the last "
            "second; mem/RAM is the pages the guest touched (host memory it holds) / its "
            "RAM; host% its share of host memory. Columns drop, the least useful first, "
            "when the terminal is narrow. A container's exits/s are its system calls and "
            "page faults, its top its busiest call; → opens its processes: each one's "
            "memory and system calls per second."),
    ("host memory", "the host's page array (--host-mem SIZE sets its size). A cell is a "
                    "run of pages (a power of two) in the colour of the owner of most of "
                    "them (white: the monitor; VMs in cool colours, containers in warm "
                    "ones, named under their kind in the legend); · free  ░ ≤¼  ▒ ≤½  ▓ "
                    "more  █ every page "
                    "used. It is zoomed on the pages in use (m: the whole host), and a VM "
                    "too small to be the majority anywhere still gets a cell."),
    ("CPU", "each VM's share of one core over the last minute, and its CPU% now."),
    ("exits", "why the hart stopped for the guest, by cause: the total since boot and "
              "per second (the causes are below). For a container: its system calls per "
              "second, the busiest, the missing ones (not implemented by the shared "
              "kernel: answered ENOSYS), and its page faults."),
    ("trap timeline", "exits by cause in each 100 ms poll interval, newest on the right: "
                      "░ 1+ ▒ 10+ ▓ 100+ █ 1000+ (the hart counts exits; the UI samples the "
                      "counters, so there is no timestamp per exit)."),
)


def _grid(rows, key_width):
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, width=key_width)
    grid.add_column(ratio=1)
    for key, what in rows:
        grid.add_row(key, what)
    return grid


def _exit_causes():
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, width=13)
    grid.add_column(style="dim", no_wrap=True, width=7)
    grid.add_column(ratio=1)
    grid.add_row(Text("cause", style="underline"), Text("by", style="underline"),
                 Text("what it is", style="underline"))
    for name, (_short, where, text) in EXIT_CAUSES.items():
        grid.add_row(name, where, text)
    return grid


def _heading(text):
    return Text(f"\n{text}", style="bold underline")


def help_renderable():
    intro = " ".join(EXITS_DOC.split("\n\n")[1].replace("*", "").split())
    return Group(
        Text.from_markup("[b]hv top[/b] — watch and steer the VMs and containers sharing "
                         "this host. Numbers are read from their state rows 10 times a "
                         "second; the UI never waits for one."),
        _heading("Keys"), _grid(KEYS, 13),
        _heading("States"), _grid(STATES, 22),
        _heading("Panels"), _grid(PANELS, 13),
        _heading("Exit causes"), Text(intro, style="dim"), _exit_causes(),
        Text("\nesc, q or ? closes this screen; ↑ ↓ pgup pgdn home end scroll it",
             style="dim"))


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "close")]

    def compose(self):
        with VerticalScroll(id="help-box"):
            yield Static(help_renderable(), id="help-text")

    def on_mount(self):
        self.query_one("#help-box").focus()
