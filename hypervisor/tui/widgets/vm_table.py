"""The VM table: one row per VM, keyed columns, sortable (header click, `<` `>` `o`), filtered
by name.  Cells are updated in place at each poll, only where the text changed."""
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from ..sampler import fmt_bytes, fmt_count, short_cause
from . import STATE_STYLES, vm_colour, vm_state

_STATE_ORDER = {"running": 0, "idle": 1, "paused": 2, "created": 3, "halted": 4, "crashed": 5}


def _right(text, style=""):
    return Text(text, style=style, justify="right")


def _exits(m):
    if m is None or m.exit_rate <= 0:
        return Text(f"{'0':>6}")
    return Text.assemble((f"{fmt_count(m.exit_rate):>6} ", ""),
                         (f"{short_cause(m.top_cause):<9}", "dim"))


# key, label, width, cell(vm, metrics) -> renderable, sort key(vm, metrics)
COLUMNS = (
    ("id", "id", 3, lambda vm, m: _right(str(vm.id)), lambda vm, m: vm.id),
    ("name", "name", 10, lambda vm, m: Text(vm.name[:10], style=vm_colour(vm.id)),
     lambda vm, m: vm.name),
    ("state", "state", 7, lambda vm, m: Text(vm_state(vm), style=STATE_STYLES[vm_state(vm)]),
     lambda vm, m: _STATE_ORDER[vm_state(vm)]),
    ("cpu", "CPU%", 5, lambda vm, m: _right(f"{100 * m.cpu:.1f}" if m else "-"),
     lambda vm, m: m.cpu if m else 0),
    ("mips", "MIPS", 6, lambda vm, m: _right(f"{m.mips:.1f}" if m else "-"),
     lambda vm, m: m.mips if m else 0),
    ("insns", "instrs", 6, lambda vm, m: _right(fmt_count(m.instructions) if m else "-"),
     lambda vm, m: m.instructions if m else 0),
    ("exits", "exits/s  top", 16, lambda vm, m: _exits(m), lambda vm, m: m.exit_rate if m else 0),
    ("mem", "mem alloc/rsv", 13,
     lambda vm, m: _right(f"{fmt_bytes(vm.pages * 4096)} / {fmt_bytes(vm.mem)}"),
     lambda vm, m: vm.pages),
    ("host", "host%", 5,
     lambda vm, m: _right(f"{100 * m.host_share:.1f}" if m else "-"),
     lambda vm, m: vm.pages),
    ("weight", "weight", 6, lambda vm, m: _right(str(vm.weight)), lambda vm, m: vm.weight),
    ("cap", "cap", 4,
     lambda vm, m: _right(f"{round(100 * vm.cap)}%" if vm.cap else "-"),
     lambda vm, m: vm.cap or 2.0),
    ("reason", "reason", 20,
     lambda vm, m: Text(vm.reason or "", style="italic", overflow="ellipsis", no_wrap=True),
     lambda vm, m: vm.reason or ""),
)
COLUMN_KEYS = tuple(c[0] for c in COLUMNS)


class VMTable(DataTable):
    """DataTable of VMs.  ``sync(vms, metrics)`` makes the rows match ``vms`` (already filtered).
    The reason column takes the width the others leave, so the table never scrolls sideways."""

    BINDINGS = [Binding("enter", "select_cursor", "console", key_display="⏎")]

    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.sort_column = "id"
        self.sort_reverse = False
        self._cells = {}                # vm id -> {column key: plain text shown}
        self._order = []                # vm ids in the order shown
        for key, label, width, _, _ in COLUMNS:
            self.add_column(label, width=width, key=key)

    def on_resize(self, event):
        self._fit_reason()

    def _fit_reason(self):
        fixed = sum(width + 2 * self.cell_padding for key, _, width, *_ in COLUMNS
                    if key != "reason")
        room = self.scrollable_content_region.width - fixed - 2 * self.cell_padding - 1
        column = self.columns.get("reason")
        if column is not None and room != column.width:
            column.width = max(8, room)
            self._require_update_dimensions = True
            self.refresh()

    @property
    def selected_id(self):
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:               # noqa: BLE001  (cursor outside the rows)
            return None
        return int(key.value)

    def select_id(self, vm_id):
        try:
            self.move_cursor(row=self.get_row_index(str(vm_id)))
        except Exception:               # noqa: BLE001  (not in the table)
            pass

    def sync(self, vms, metrics):
        keep = self.selected_id
        wanted = {str(vm.id) for vm in vms}
        for key in [k.value for k in self.rows]:
            if key not in wanted:
                self.remove_row(key)
                self._cells.pop(int(key), None)
                self._order.remove(int(key))
        for vm in vms:
            m = metrics.get(vm.id)
            shown = self._cells.get(vm.id)
            cells = [cell(vm, m) for _, _, _, cell, _ in COLUMNS]
            plain = [c.plain + str(c.style) for c in cells]
            if shown is None:
                self.add_row(*cells, key=str(vm.id))
                self._order.append(vm.id)
            else:
                for (key, _, width, _, _), cell, text, old in zip(COLUMNS, cells, plain, shown):
                    if text != old:
                        self.update_cell(str(vm.id), key, cell)
            self._cells[vm.id] = plain
        self._fit_reason()
        self._sort({vm.id: vm for vm in vms}, metrics)
        if keep is not None and str(keep) in wanted:
            if self.selected_id != keep:
                self.select_id(keep)

    def _sort(self, by_id, metrics):
        sort_key = dict((c[0], c[4]) for c in COLUMNS)[self.sort_column]

        def key(vm_id):
            vm = by_id[vm_id]
            return (sort_key(vm, metrics.get(vm_id)), vm_id)
        # DataTable caches its row order by (row count, update count), which add_row and
        # remove_row may leave unchanged, so the order shown is tracked here (self._order)
        wanted = sorted(by_id, key=key, reverse=self.sort_reverse)
        if wanted != self._order:
            self.sort("id", key=lambda cell: key(int(cell.plain)), reverse=self.sort_reverse)
            self._order = wanted

    def ordered_row_keys(self):
        return [RowKey(str(i)) for i in self._order]

    def set_sort(self, column, reverse=None):
        """Sort by ``column``; the same column again flips the order."""
        if reverse is None:
            reverse = (not self.sort_reverse) if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column, reverse

    def sort_label(self):
        label = dict((c[0], c[1]) for c in COLUMNS)[self.sort_column].split()[0]
        return f"{label} {'▼' if self.sort_reverse else '▲'}"
