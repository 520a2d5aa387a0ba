"""The main screen: VM table, host memory map, CPU sparklines, and the selected VM's console,
exits by cause and trap timeline.  Its keys steer the selected VM."""
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from ...memory import PAGE_SIZE
from ...vm import CREATED, PAUSED, RUNNING
from ..sampler import fmt_bytes
from ..widgets import STATE_STYLES, LinePanel, set_titles, vm_colour, vm_state
from ..widgets.console_view import ConsoleView
from ..widgets.exits_panel import ExitsPanel
from ..widgets.memory_map import MemoryMap
from ..widgets.sparklines import CpuSparklines
from ..widgets.trap_timeline import TrapTimeline
from ..widgets.vm_table import COLUMN_KEYS, VMTable
from .confirm_kill import ConfirmKillScreen
from .help import HelpScreen
from .picker import PickerScreen
from .step import StepScreen

TABLE_EVERY = 5         # the table's figures are redrawn every 5th poll (2 a second): a
                        # DataTable repaints every cell on any change, the costliest thing here
MIN_WEIGHT, MAX_WEIGHT = 16, 16384


def next_cap(cap):
    """none -> 75% -> 50% -> 25% -> none (a cap set on the command line joins the cycle)."""
    if cap is None:
        return 0.75
    if cap > 0.5:
        return 0.5
    if cap > 0.25:
        return 0.25
    return None


class DetailLine(LinePanel):
    """One line about the selected VM: its image, state and why, where its hart is."""
    vm = None

    def build(self):
        vm = self.vm
        if vm is None:
            return [[("no VM selected", "dim")]]
        state = vm_state(vm)
        line = [(f" {vm.name} ", f"bold {vm_colour(vm.id)}"), (f"{vm.image.name}  ", "dim"),
                (state, STATE_STYLES[state])]
        if vm.reason:
            line.append((f": {vm.reason}", STATE_STYLES[state]))
        if not vm.done:
            st = vm.st
            line.append((f"  pc {int(st[32]):#010x} {'S' if st[33] else 'U'}-mode", "dim"))
        return [line]


class MainScreen(Screen):
    BINDINGS = [
        Binding("p", "pause", "pause/resume"),
        Binding("k", "kill", "kill"),
        Binding("r", "restart", "restart"),
        Binding("n", "new", "new VM"),
        Binding("plus,equals_sign", "weight(2)", "weight↑", key_display="+"),
        Binding("minus", "weight(0.5)", "weight↓", key_display="-"),
        Binding("c", "cap", "cap"),
        Binding("enter", "console", "console", key_display="⏎"),
        Binding("z", "zoom", "zoom console", show=False),
        Binding("s", "step", "step"),
        Binding("slash", "filter", "filter", key_display="/"),
        Binding("x", "remove", "remove", show=False),
        Binding("less_than_sign", "sort_column(-1)", "sort <", show=False),
        Binding("greater_than_sign", "sort_column(1)", "sort >", show=False),
        Binding("o", "sort_reverse", "reverse order", show=False),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self):
        super().__init__()
        self.filter_text = ""
        self.polls = 0

    def compose(self):
        app = self.app
        yield Header(show_clock=False)
        yield VMTable(id="vms")
        with Horizontal(id="middle"):
            yield MemoryMap(app.engine, id="memmap")
            yield CpuSparklines(app.engine, app.sampler, id="sparks")
        yield DetailLine(id="detail")
        with Horizontal(id="bottom"):
            yield ConsoleView(id="console")
            yield ExitsPanel(app.sampler, id="exits")
            yield TrapTimeline(app.sampler, id="timeline")
        yield Input(placeholder="filter VMs by name (enter: keep, esc: clear)", id="filter")
        yield Footer()

    def on_mount(self):
        self.table.focus()
        self.update_view()

    # ------------------------------------------------------------------ parts
    @property
    def table(self):
        return self.query_one(VMTable)

    @property
    def console(self):
        return self.query_one(ConsoleView)

    def selected_vm(self):
        vm_id = self.table.selected_id
        return self.app.engine.vms.get(vm_id) if vm_id is not None else None

    def visible_vms(self):
        vms = list(self.app.engine.vms.values())
        if self.filter_text:
            vms = [vm for vm in vms if self.filter_text.lower() in vm.name.lower()]
        return vms

    # ------------------------------------------------------------------ refreshing
    def update_view(self, poll=False):
        """Show the latest sample and the VMs' current states.  Called at each poll (the table
        then only every TABLE_EVERY polls) and, for everything, after each key."""
        app = self.app
        engine, sampler = app.engine, app.sampler
        table = self.table
        if poll:
            self.polls += 1
        vms = self.visible_vms()
        if not poll or self.polls % TABLE_EVERY == 1 or table.row_count != len(vms):
            table.sync(vms, sampler.metrics)
            set_titles(table, f"VMs · sorted by {table.sort_label()}" + (
                f" · filter: {self.filter_text}" if self.filter_text else ""))
            height = min(len(vms), 12) + 3
            if table.styles.height is None or table.styles.height.value != height:
                table.styles.height = height          # a layout change: only when it changes
        vm = self.selected_vm()
        sparks = self.query_one(CpuSparklines)
        sparks.vm_ids = [int(k.value) for k in table.ordered_row_keys()]
        self.console.follow(vm)
        detail = self.query_one(DetailLine)
        detail.vm = vm
        detail.update_view()
        self.query_one(ExitsPanel).show(vm)
        self.query_one(TrapTimeline).show(vm)
        self.query_one(MemoryMap).update_view()
        sparks.update_view()
        mem = engine.memory
        used = mem.npages - mem.free_pages
        running = sum(1 for v in engine.vms.values() if v.status == RUNNING)
        self.sub_title = (f"{len(engine.vms)} VMs, {running} running · host memory "
                          f"{fmt_bytes(used * PAGE_SIZE)} of {fmt_bytes(mem.npages * PAGE_SIZE)}"
                          f" · polled every {int(sampler.period * 1000)} ms")

    def on_data_table_row_highlighted(self, event):
        self.update_view()

    def on_data_table_row_selected(self, event):
        self.action_console()

    def on_data_table_header_selected(self, event):
        self.table.set_sort(event.column_key.value)
        self.update_view()

    # ------------------------------------------------------------------ console
    def action_console(self):
        if self.selected_vm() is not None:
            self.console.focus()

    def action_zoom(self):
        """The console full screen (escape comes back)."""
        if self.selected_vm() is not None:
            self.console.focus()
            self.maximize(self.console)

    def on_console_view_leave(self, event):
        if self.maximized is not None:
            self.minimize()
        self.table.focus()

    def on_console_view_typed(self, event):
        vm = self.app.engine.vms.get(self.console.vm_id)
        if vm is not None and not vm.done:
            self.app.engine.send_input(vm, event.data)

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
            self.notify(f"{vm.name} has {vm.status}: r restarts it", severity="warning")
        self.update_view()

    def action_kill(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        if vm.done:
            self.notify(f"{vm.name} has already {vm.status}: x removes it from the list")
            return

        def answer(yes):
            if yes and not vm.done:
                self.app.engine.kill(vm)
            self.update_view()
        self.app.push_screen(ConfirmKillScreen(vm), answer)

    def action_restart(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        try:
            self.app.engine.restart(vm)
        except Exception as exc:        # noqa: BLE001  (out of memory at boot, ...)
            self.notify(f"{vm.name}: restart failed: {exc}", severity="error")
        self.update_view()

    def action_remove(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        if not vm.done or vm.on_cpu:
            self.notify(f"{vm.name} is {vm.status}: kill it first (k)", severity="warning")
            return
        engine = self.app.engine
        with engine.scheduler.cond:         # the workers iterate engine.vms under this lock
            engine.remove(vm)
        self.update_view()

    def action_weight(self, factor):
        vm = self._vm_or_say()
        if vm is None:
            return
        vm.weight = int(min(MAX_WEIGHT, max(MIN_WEIGHT, round(vm.weight * float(factor)))))
        self.update_view()

    def action_cap(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        vm.cap = next_cap(vm.cap)
        self.update_view()

    def action_new(self):
        choices = self.app.image_choices()
        if not choices:
            self.notify("no bundled images are installed (see `hv images`)", severity="error")
            return

        def picked(choice):
            if choice is None:
                return
            vm = self.app.new_vm(choice)
            if isinstance(vm, str):
                self.notify(vm, severity="error")
                return
            self.update_view()
            self.table.select_id(vm.id)
            self.update_view()
        self.app.push_screen(PickerScreen(choices), picked)

    def action_step(self):
        vm = self._vm_or_say()
        if vm is None:
            return
        if vm.status not in (PAUSED, CREATED):
            self.notify(f"{vm.name} is {vm.status}: pause it first (p) to single-step it",
                        severity="warning")
            return
        self.app.push_screen(StepScreen(vm), lambda _: self.update_view())

    def action_sort_column(self, delta):
        table = self.table
        i = (COLUMN_KEYS.index(table.sort_column) + int(delta)) % len(COLUMN_KEYS)
        table.set_sort(COLUMN_KEYS[i], reverse=table.sort_reverse)
        self.update_view()

    def action_sort_reverse(self):
        self.table.set_sort(self.table.sort_column)
        self.update_view()

    def action_help(self):
        self.app.push_screen(HelpScreen())

