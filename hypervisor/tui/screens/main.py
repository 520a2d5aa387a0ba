"""The main screen: the instance table (VMs and containers), the host memory map, CPU
sparklines, and the selected instance's console, exits by cause (a container: its system
calls) and trap timeline.  Its keys steer the selected instance.

Two layouts, picked from the terminal's size at each resize:

    full     (at least 120x38)  table / memory map | sparklines / detail / console | exits | timeline
    compact  (anything smaller) table / detail / console | one side panel, `v` picks which
                                (exits, timeline, memory map, CPU sparklines)

The console gets the width first: 80 characters (a Linux console's, a shell's) if the
terminal has room for that beside the side panels at their least widths, and the panels
share what is left up to their own widths (console_widths()).

Every panel draws from the same Snapshot (sampler.py): the one taken at the last poll, with
the states re-read after a key.  So the table and the panels never disagree."""
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input

from ...lifecycle import CREATED, PAUSED, RUNNING
from ...memory import PAGE_SIZE
from ..sampler import fmt_bytes
from ..widgets import LinePanel, colour_of, set_titles, state_style
from ..widgets.console_view import ConsoleView
from ..widgets.exits_panel import ExitsPanel
from ..widgets.key_bar import KeyBar
from ..widgets.memory_map import MemoryMap
from ..widgets.sparklines import CpuSparklines
from ..widgets.trap_timeline import TrapTimeline
from ..widgets.vm_table import VMTable, state_rank
from .command import CommandScreen
from .confirm_kill import ConfirmKillScreen
from .help import HelpScreen
from .picker import PickerScreen
from .step import StepScreen

MIN_WEIGHT, MAX_WEIGHT = 16, 16384
FULL_SIZE = (120, 38)           # the smallest terminal for the full layout
SIDE_PANELS = ("exits", "timeline", "memmap-c", "sparks-c")
SIDE_CYCLE = SIDE_PANELS + ("none",)    # v: the next; none gives the console the width
SIDE_NAMES = {"exits": "exits", "timeline": "timeline", "memmap-c": "memory map",
              "sparks-c": "CPU sparklines", "none": "none (the console the whole width)"}
FULL_BOTTOM, COMPACT_BOTTOM = 15, 8     # the least height of the bottom row

# the key bar, most useful first (what does not fit is dropped from the end; the help screen
# has them all)
TABLE_KEYS = (("⏎", "console", "console"), ("p", "pause", "pause"), ("k", "kill", "kill"),
              ("v", "panel", "side_panel"), ("s", "step", "step"), ("r", "restart", "restart"),
              ("n", "new", "new"), ("+-", "weight", "weight(2)"), ("c", "cap", "cap"),
              ("m", "map", "map_zoom"), ("/", "filter", "filter"), ("<>", "sort", "sort_column(1)"),
              ("x", "remove", "remove"), ("z", "full console", "zoom"))
CONSOLE_KEYS = (("^]", "back to the table", "leave_console"), ("pgup pgdn", "scroll", ""))
CONSOLE_WANT = 82               # 80 characters and the border
SIDE_WIDTH = (32, 38)           # compact: the side panel's least and most width
EXITS_WIDTH = 34                # full: the exits panel (fixed) and the timeline (least, most)
TIMELINE_WIDTH = (30, 46)


def console_widths(width, compact):
    """{panel id: width} for the bottom row: the console gets CONSOLE_WANT first when the
    panels can keep their least widths; they share the rest, up to their most."""
    if compact:
        return {"side": max(SIDE_WIDTH[0], min(SIDE_WIDTH[1], width - CONSOLE_WANT))}
    timeline = max(TIMELINE_WIDTH[0], min(TIMELINE_WIDTH[1], width - EXITS_WIDTH - CONSOLE_WANT))
    return {"exits": EXITS_WIDTH, "timeline": timeline}


def next_cap(cap):
    """none -> 75% -> 50% -> 25% -> none (a cap set on the command line joins the cycle)."""
    if cap is None:
        return 0.75
    if cap > 0.5:
        return 0.5
    if cap > 0.25:
        return 0.25
    return None


class TitleBar(LinePanel):
    """The top line: how many instances in which states, the host's memory, the poll period;
    the parts on the right go first when the terminal is narrow."""
    snapshot = None
    period = 0.1

    def build(self):
        snap = self.snapshot
        width = self.content_size.width
        if snap is None or width <= 0:
            return [[(" hv top", "bold")]]
        kinds = [m.kind for m in snap.vms.values()]
        n, k = kinds.count("vm"), kinds.count("container")
        what = f" · {n} VM{'s' * (n != 1)}"
        if k:
            what += f", {k} container{'s' * (k != 1)}"
        counts = {}
        for m in snap.vms.values():
            word = m.word.split(" ")[0]
            counts[word] = counts.get(word, 0) + 1
        states = ", ".join(f"{counts[w]} {w}" for w in sorted(counts, key=state_rank))
        used = (snap.npages - snap.free_pages) * PAGE_SIZE
        parts = [(" hv top", "bold"), (what, ""),
                 (f": {states}" if states else "", ""),
                 (f" · host memory {fmt_bytes(used)} of {fmt_bytes(snap.npages * PAGE_SIZE)}",
                  ""), (f" · every {int(self.period * 1000)} ms", "dim")]
        while len(parts) > 2 and sum(len(t) for t, _ in parts) > width:
            parts.pop(2 if len(parts) == 3 else -1)
        return [parts]


class DetailLine(LinePanel):
    """One line about the selected instance: name, image, state in words (and why), pc."""
    sample = None

    def build(self):
        m = self.sample
        if m is None:
            return [[("no VM selected", "dim")]]
        line = [(f" {m.name} ", f"bold {colour_of(m)}")]
        container = m.kind == "container"
        if m.kind != "vm":
            line.append((f"{m.kind} ", "dim"))
        if m.image:
            line.append((f"{m.image}  ", "dim"))
        line.append((m.outcome, state_style(m.word)))
        if m.detail and m.detail not in m.outcome:
            line.append((f" ({m.detail})", "dim"))
        if m.word == "idle":
            line.append((" (every process sleeps)" if container else " (waiting in wfi)",
                         "dim"))
        if container:
            line.append((f"  {m.nprocs} process{'es' * (m.nprocs != 1)}", "dim"))
            if not m.done and m.pid is not None:
                line.append((f"  on the hart: pid {m.pid} {m.process}", "dim"))
            if m.command:
                line.append((f"  $ {m.command}", "dim"))
        elif not m.done:
            line.append((f"  pc {m.pc:#010x} {m.priv}-mode", "dim"))
        return [line]


class MainScreen(Screen):
    ALLOW_IN_MAXIMIZED_VIEW = "KeyBar"
    BINDINGS = [
        Binding("p", "pause", show=False),
        Binding("k", "kill", show=False),
        Binding("r", "restart", show=False),
        Binding("n", "new", show=False),
        Binding("plus,equals_sign", "weight(2)", show=False),
        Binding("minus", "weight(0.5)", show=False),
        Binding("c", "cap", show=False),
        Binding("z", "zoom", show=False),
        Binding("s", "step", show=False),
        Binding("v", "side_panel", show=False),
        Binding("m", "map_zoom", show=False),
        Binding("slash", "filter", show=False),
        Binding("x", "remove", show=False),
        Binding("less_than_sign", "sort_column(-1)", show=False),
        Binding("greater_than_sign", "sort_column(1)", show=False),
        Binding("o", "sort_reverse", show=False),
        Binding("question_mark,f1", "help", show=False),
        Binding("q", "app.quit", show=False),
    ]

    def __init__(self):
        super().__init__()
        self.filter_text = ""
        self.side = "exits"             # the side panel of the compact layout
        self.compact = None

    def compose(self):
        app = self.app
        yield TitleBar(id="title")
        yield VMTable(id="vms")
        with Horizontal(id="middle"):
            yield MemoryMap(id="memmap")
            yield CpuSparklines(app.sampler, id="sparks")
        yield DetailLine(id="detail")
        with Horizontal(id="bottom"):
            yield ConsoleView(id="console")
            yield ExitsPanel(id="exits")
            yield TrapTimeline(app.sampler, id="timeline")
            yield MemoryMap(id="memmap-c")
            yield CpuSparklines(app.sampler, id="sparks-c")
        yield Input(placeholder="filter VMs by name (enter: keep, esc: clear)", id="filter")
        yield KeyBar(id="keys")

    def on_mount(self):
        self.query_one(TitleBar).period = self.app.sampler.period
        self.table.focus()
        self._layout()
        self.refresh_view()

    # ------------------------------------------------------------------ parts
    @property
    def table(self):
        return self.query_one(VMTable)

    @property
    def console(self):
        return self.query_one(ConsoleView)

    @property
    def snapshot(self):
        return self.app.sampler.snapshot

    def selected_vm(self):
        vm_id = self.table.selected_id
        return self.app.engine.vms.get(vm_id) if vm_id is not None else None

    # ------------------------------------------------------------------ layout
    def on_resize(self, event):
        self._layout()

    def _layout(self):
        width, height = self.size
        if width <= 0 or height <= 0:
            return
        compact = width < FULL_SIZE[0] or height < FULL_SIZE[1]
        self.compact = compact
        self.set_class(not compact, "-full")
        self.set_class(compact, "-compact")
        for name in SIDE_PANELS:
            self.set_class(compact and self.side == name, f"-side-{name}")
        widths = console_widths(width, compact)
        for name in SIDE_PANELS:
            want = widths.get("side") if compact else widths.get(name)
            if want is None:
                continue
            panel = self.query_one(f"#bottom > #{name}")
            if panel.styles.width is None or panel.styles.width.value != want:
                panel.styles.width = want       # a layout change: only when it changes
        self._fit_table()
        self.update_keys()

    def _fit_table(self):
        """The table as tall as its rows, leaving the rest of the screen its least height."""
        height = self.size.height
        if height <= 0:
            return
        rest = 3 + (10 + FULL_BOTTOM if not self.compact else COMPACT_BOTTOM)
        rows = len(self.table.rows) or 1
        want = max(4, min(rows + 3, height - rest))
        if self.table.styles.height is None or self.table.styles.height.value != want:
            self.table.styles.height = want       # a layout change: only when it changes

    def update_keys(self):
        """The key bar for the mode: the table's keys, or the console's while it has them."""
        if self.console.has_focus:
            hints = [(k, label, action, False) for k, label, action in CONSOLE_KEYS]
            hints += [("f1", "help", "help", True), ("^q", "quit", "app.quit", True)]
        else:
            hints = [(k, label, action, False) for k, label, action in TABLE_KEYS
                     if action != "side_panel" or self.compact]
            hints += [("?", "help", "help", True), ("q", "quit", "app.quit", True)]
        self.query_one(KeyBar).show(hints)

    def on_descendant_focus(self, event):
        self.update_keys()

    def on_descendant_blur(self, event):
        self.update_keys()

    # ------------------------------------------------------------------ refreshing
    def refresh_view(self):
        """After a key: re-read the instances' states into the snapshot and redraw."""
        self.app.sampler.restate()
        self.update_view()

    def update_view(self):
        """Draw every panel from the current snapshot (a poll made it)."""
        snap = self.snapshot
        table = self.table
        table.show(snap, self.filter_text)
        self._fit_table()
        m = snap.vms.get(table.selected_id)
        self.console.follow(self.app.engine.vms.get(m.id) if m is not None else None)
        detail = self.query_one(DetailLine)
        detail.sample = m
        detail.update_view()
        self.query_one(ExitsPanel).show(m)
        self.query_one(TrapTimeline).show(m)
        for memmap in self.query(MemoryMap):
            memmap.show(snap)
        order = table.ordered_ids()
        for sparks in self.query(CpuSparklines):
            sparks.show(snap, order)
        title = self.query_one(TitleBar)
        title.snapshot = snap
        title.update_view()

    def on_vmtable_moved(self, event):
        self.update_view()

    def on_vmtable_chosen(self, event):
        self.action_console()

    # ------------------------------------------------------------------ console
    def action_console(self):
        if self.selected_vm() is not None:
            self.console.focus()

    def action_zoom(self):
        """The console full screen (ctrl+] comes back)."""
        if self.selected_vm() is not None:
            self.console.focus()
            self.maximize(self.console)

    def action_leave_console(self):
        if self.maximized is not None:
            self.minimize()
        self.table.focus()

    def on_console_view_leave(self, event):
        self.action_leave_console()

    def on_console_view_typed(self, event):
        vm = self.app.engine.vms.get(self.console.vm_id)
        if vm is not None and not vm.done:
            self.app.engine.send_input(vm, event.data)

    # ------------------------------------------------------------------ panels
    def action_side_panel(self):
        """Compact layout: show the next side panel."""
        i = SIDE_CYCLE.index(self.side)
        self.side = SIDE_CYCLE[(i + 1) % len(SIDE_CYCLE)]
        self._layout()
        if self.compact:
            self.notify(f"side panel: {SIDE_NAMES[self.side]} (v: next)", timeout=1.5)

    def action_map_zoom(self):
        for memmap in self.query(MemoryMap):
            memmap.toggle_zoom()

    # ------------------------------------------------------------------ filter
    def action_filter(self):
        box = self.query_one("#filter", Input)
        box.value = self.filter_text
        box.add_class("shown")
        box.focus()

    def on_input_changed(self, event):
        self.filter_text = event.value.strip()
        self.update_view()

    def on_input_submitted(self, event):
        self._close_filter()

    def on_key(self, event):
        box = self.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            box.value = ""
            self.filter_text = ""
            self._close_filter()
            event.stop()

    def _close_filter(self):
        self.query_one("#filter", Input).remove_class("shown")
        self.table.focus()
        self.update_view()

    # ------------------------------------------------------------------ steering
    def _vm_or_say(self):
        vm = self.selected_vm()
        if vm is None:
            self.notify("no VM selected", severity="warning")
        return vm

    def action_pause(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        engine = self.app.engine
        if vm.status == RUNNING:
            engine.pause(vm)
        elif vm.status == PAUSED:
            engine.resume(vm)
        elif vm.status == CREATED:
            engine.start(vm)
        else:
            self.notify(f"{vm.name} has ended ({vm.outcome}): r restarts it",
                        severity="warning")
        self.refresh_view()

    def action_kill(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        if vm.done:
            self.notify(f"{vm.name} has ended ({vm.outcome}): x removes it from the list")
            return

        def answer(yes):
            if yes and not vm.done:
                self.app.engine.kill(vm)
            self.refresh_view()
        self.app.push_screen(ConfirmKillScreen(vm), answer)

    def action_restart(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        if vm.kind == "container":
            new = self.app.restart_container(vm)
            if isinstance(new, str):
                self.notify(new, severity="error")
            self.refresh_view()
            if not isinstance(new, str):
                self.table.select_id(new.id)
                self.update_view()
            return
        try:
            self.app.engine.restart(vm)
        except Exception as exc:        # noqa: BLE001  (out of memory at boot, ...)
            self.notify(f"{vm.name}: restart failed: {exc}", severity="error")
        self.refresh_view()

    def action_remove(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        if not vm.done or vm.on_cpu:
            self.notify(f"{vm.name} is {vm.outcome}: kill it first (k)", severity="warning")
            return
        # Engine.remove takes the VM's lock, then the scheduler's (whose workers iterate
        # engine.vms under it) to drop the VM: holding the scheduler's here first would take
        # the two in the other order than everywhere else
        self.app.engine.remove(vm)
        self.refresh_view()

    def action_weight(self, factor):
        vm = self._vm_or_say()
        if vm is None:
            return
        vm.weight = int(min(MAX_WEIGHT, max(MIN_WEIGHT, round(vm.weight * float(factor)))))
        self.refresh_view()

    def action_cap(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        vm.cap = next_cap(vm.cap)
        self.refresh_view()

    def action_new(self):
        choices = self.app.image_choices()
        if not choices:
            self.notify("no bundled images are installed (see `hv images`)", severity="error")
            return

        def picked(choice):
            if choice is None:
                return
            if choice.kind == "container":
                self.app.push_screen(CommandScreen(choice),
                                     lambda argv: self._run_container(choice, argv))
                return
            self.made(self.app.new_vm(choice))
        self.app.push_screen(PickerScreen(choices), picked)

    def _run_container(self, choice, argv):
        """Make the container in a worker thread (resolving an image may seed it into the
        store first, a second or so), then select it."""
        if argv is None:
            return
        app = self.app
        self.notify(f"starting a container of {choice.name}…", timeout=2)

        def work():
            made = app.new_container(choice.source, argv)
            app.call_from_thread(self.made, made)
        self.run_worker(work, thread=True, group="containers", name=f"run {choice.name}")

    def made(self, inst):
        """A VM or container was made from the picker: select it (or say why not)."""
        if isinstance(inst, str):
            self.notify(inst, severity="error")
            return
        self.refresh_view()
        self.table.select_id(inst.id)
        self.update_view()

    def action_step(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        if vm.status not in (PAUSED, CREATED):
            self.notify(f"{vm.name} is {vm.outcome}: pause it first (p) to single-step it",
                        severity="warning")
            return
        self.app.push_screen(StepScreen(vm), lambda _: self.refresh_view())

    def action_sort_column(self, delta):
        table = self.table
        keys = table.visible_keys() or [table.sort_column]
        i = keys.index(table.sort_column) if table.sort_column in keys else -1
        table.set_sort(keys[(i + int(delta)) % len(keys)], reverse=table.sort_reverse)
        self.update_view()

    def action_sort_reverse(self):
        self.table.set_sort(self.table.sort_column)
        self.update_view()

    def action_help(self):
        self.app.push_screen(HelpScreen())
