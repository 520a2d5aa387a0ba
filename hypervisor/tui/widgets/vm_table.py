"""The instance table: one row per VM and per container, a container's processes in rows
under it, drawn line by line from one Snapshot.

Columns drop by priority when the table is narrow: name and state always stay, then CPU%,
MIPS, memory, exits/s, id, the top exit cause, weight, cap, kind, instructions, host%, and
the reason column takes what is left (it goes first).  While a container is listed, the kind
column moves up to just before `top`, so VMs and containers can be told apart at 80 columns.
Which columns show is worked out from the width at each draw, so a resize (or leaving the
full-screen console) never leaves a column squeezed.  Sort with a header click, `<` `>` (the
column) and `o` (the order); a row with rows under it (a container's processes) opens with
`→` and closes with `←`.

For a container, exits/s is its system calls and page faults per second (each is one exit to
the shared kernel) and `top` is its busiest system call.  A process row (in tree order, under
its parent) shows its pid and command, its state in words (ps's R S T Z: running, sleeping,
stopped, zombie), its resident memory and its system calls per second.
"""
from textual.binding import Binding
from textual.message import Message

from ..sampler import fmt_bytes, fmt_count, short_cause
from . import LinePanel, colour_of, set_titles, state_style

GAP = 2                 # spaces between columns
MIN_FLEX = 10           # the reason column shows only with at least this much room

_STATE_ORDER = {"running": 0, "idle": 1, "paused": 2, "created": 3, "passed": 4, "failed": 5,
                "killed": 6, "timed": 7, "stopped": 8, "crashed": 9}


def state_rank(word):
    """Where a state word sorts: running first, crashed last."""
    return _STATE_ORDER.get(word.split(" ")[0], 10)


class Column:
    """key, header label, width (None: as wide as its widest cell), priority (1 stays
    longest), right-aligned?, cell(sample) -> (text, style), sort key(sample)."""

    def __init__(self, key, label, width, priority, right, cell, sort, flex=False):
        self.key, self.label, self.width, self.priority = key, label, width, priority
        self.right, self.cell, self.sort, self.flex = right, cell, sort, flex


def _cap(m):
    return f"{round(100 * m.cap)}%" if m.cap else "-"


def top_label(m):
    """What most of an instance's exits were over the last second: the exit cause (short
    name), or for a container its busiest system call."""
    if m.kind == "container":
        return m.calls[0][0] if m.calls and m.calls[0][2] > 0 else ""
    return short_cause(m.top_cause)


COLUMNS = (
    Column("id", "id", 3, 7, True, lambda m: (str(m.id), "dim"), lambda m: m.id),
    Column("name", "name", 10, 1, False, lambda m: (m.name[:10], colour_of(m)),
           lambda m: m.name),
    Column("kind", "kind", None, 11, False, lambda m: (m.kind, "dim"), lambda m: m.kind),
    Column("state", "state", None, 2, False, lambda m: (m.word, state_style(m.word)),
           lambda m: state_rank(m.word)),
    Column("cpu", "CPU%", 5, 3, True, lambda m: (f"{100 * m.cpu:.1f}", ""), lambda m: m.cpu),
    Column("mips", "MIPS", 6, 4, True, lambda m: (f"{m.mips:.1f}", ""), lambda m: m.mips),
    Column("insns", "instrs", 6, 12, True, lambda m: (fmt_count(m.instructions), ""),
           lambda m: m.instructions),
    Column("exits", "exits/s", 7, 6, True, lambda m: (fmt_count(m.exit_rate), ""),
           lambda m: m.exit_rate),
    Column("top", "top", 7, 8, False, lambda m: (top_label(m), "dim"), top_label),
    Column("mem", "mem/RAM", 11, 5, True,
           lambda m: (f"{fmt_bytes(m.alloc_bytes)}/{fmt_bytes(m.mem)}", ""), lambda m: m.pages),
    Column("host", "host%", 5, 13, True, lambda m: (f"{100 * m.host_share:.1f}", ""),
           lambda m: m.pages),
    Column("weight", "weight", 6, 9, True, lambda m: (str(m.weight), ""), lambda m: m.weight),
    Column("cap", "cap", 4, 10, True, lambda m: (_cap(m), ""), lambda m: m.cap or 2.0),
    Column("reason", "reason", None, 14, False, lambda m: (m.detail, "italic"),
           lambda m: m.detail, flex=True),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
BY_KEY = {c.key: c for c in COLUMNS}
KIND_WITH_CONTAINERS = 7.5      # the kind column's priority while a container is listed


def fit_columns(width, widths, priority=None):
    """The columns that fit in ``width`` cells, in display order: taken by priority until one
    does not fit; the flexible one (reason) gets the rest if that is at least MIN_FLEX.
    ``widths``: key -> the width each column needs.  Returns [(column, width)]."""
    priority = priority or {}
    chosen, used = {}, 0
    for col in sorted(COLUMNS, key=lambda c: priority.get(c.key, c.priority)):
        if col.flex:
            continue
        need = widths[col.key] + (GAP if chosen else 0)
        if used + need > width:
            break
        chosen[col.key] = widths[col.key]
        used += need
    flex = [c for c in COLUMNS if c.flex]
    for col in flex:
        room = width - used - GAP
        if room >= MIN_FLEX and len(chosen) == len(COLUMNS) - len(flex):
            chosen[col.key] = room
    return [(c, chosen[c.key]) for c in COLUMNS if c.key in chosen]


class Row:
    """A line of the table: an instance (depth 0) or a row under one (depth 1)."""
    __slots__ = ("key", "vm_id", "depth", "sample", "child")

    def __init__(self, key, vm_id, depth, sample, child=None):
        self.key, self.vm_id, self.depth, self.sample, self.child = key, vm_id, depth, sample, child


class VMTable(LinePanel, can_focus=True):
    """``show(snapshot, filter_text)`` at each poll; ``selected_id`` is the instance under the
    cursor.  Posts ``VMTable.Chosen`` on enter (the screen opens its console)."""

    BINDINGS = [Binding("enter", "choose", "console", key_display="⏎", show=False),
                Binding("up", "move(-1)", show=False), Binding("down", "move(1)", show=False),
                Binding("pageup", "page(-1)", show=False),
                Binding("pagedown", "page(1)", show=False),
                Binding("home", "move(-1000000)", show=False),
                Binding("end", "move(1000000)", show=False),
                Binding("right", "expand(True)", show=False),
                Binding("left", "expand(False)", show=False)]

    class Chosen(Message):
        """Enter on a row."""

    class Moved(Message):
        """The cursor moved to another instance."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sort_column = "id"
        self.sort_reverse = False
        self.snapshot = None
        self.filter_text = ""
        self.rows = []                  # the Rows shown, in order
        self.cursor = 0
        self.top = 0                    # first row shown (scrolling)
        self.expanded = set()           # ids of instances whose rows under them are shown
        self.columns = []               # [(Column, width)] of the last draw
        self.containers = 0             # containers listed (the kind column moves up)

    # ------------------------------------------------------------------ data
    def show(self, snapshot, filter_text=""):
        keep, keep_key = self.selected_id, self.selected_key
        self.snapshot, self.filter_text = snapshot, filter_text
        samples = [m for m in snapshot.vms.values()
                   if not filter_text or filter_text.lower() in m.name.lower()]
        sort = BY_KEY[self.sort_column].sort
        samples.sort(key=lambda m: (sort(m), m.id), reverse=self.sort_reverse)
        rows = []
        for m in samples:
            rows.append(Row(str(m.id), m.id, 0, m))
            if m.id in self.expanded:
                rows += [Row(c.key, m.id, 1, m, c) for c in m.children]
        self.rows = rows
        if keep is not None:
            # the same row again: a process row stays selected while it lives (then its
            # container's row)
            at = [i for i, r in enumerate(rows) if r.key == keep_key]
            if at:
                self.cursor = at[0]
            else:
                self.select_id(keep, redraw=False)
        self.cursor = max(0, min(self.cursor, len(rows) - 1))
        kinds = [m.kind for m in snapshot.vms.values()]
        self.containers = kinds.count("container")
        what = "VMs"
        if self.containers:
            n = len(kinds) - self.containers
            what = (f"{n} VM{'s' * (n != 1)} · {self.containers} "
                    f"container{'s' * (self.containers != 1)}")
        set_titles(self, f"{what} · sorted by {self.sort_label()}" + (
            f" · filter: {filter_text}" if filter_text else ""))
        self.update_view()

    @property
    def selected_key(self):
        """The key of the row under the cursor: an instance's id, or "<id>/<pid>"."""
        if not self.rows:
            return None
        return self.rows[min(self.cursor, len(self.rows) - 1)].key

    @property
    def selected_child(self):
        """The process row under the cursor (a sampler.Child), or None."""
        if not self.rows:
            return None
        return self.rows[min(self.cursor, len(self.rows) - 1)].child

    @property
    def selected_id(self):
        if not self.rows:
            return None
        return self.rows[min(self.cursor, len(self.rows) - 1)].vm_id

    def select_id(self, vm_id, redraw=True):
        for i, row in enumerate(self.rows):
            if row.vm_id == vm_id and row.depth == 0:
                self.cursor = i
                break
        if redraw:
            self.update_view()

    def ordered_ids(self):
        return [r.vm_id for r in self.rows if r.depth == 0]

    def set_sort(self, column, reverse=None):
        """Sort by ``column``; the same column again flips the order."""
        if reverse is None:
            reverse = (not self.sort_reverse) if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column, reverse

    def sort_label(self):
        return f"{BY_KEY[self.sort_column].label} {'▼' if self.sort_reverse else '▲'}"

    def visible_keys(self):
        """The keys of the columns shown at the current width."""
        return [c.key for c, _ in self.columns]

    def cells(self, vm_id):
        """{column key: text} of an instance's row, for every column (tests, the detail line)."""
        for row in self.rows:
            if row.vm_id == vm_id and row.depth == 0:
                return {c.key: c.cell(row.sample)[0] for c in COLUMNS}
        return None

    # ------------------------------------------------------------------ keys and mouse
    def action_move(self, delta):
        self._move_to(self.cursor + int(delta))

    def action_page(self, direction):
        self._move_to(self.cursor + int(direction) * max(1, self.content_size.height - 2))

    def _move_to(self, i):
        before = self.selected_id
        self.cursor = max(0, min(i, len(self.rows) - 1))
        self.update_view()
        if self.selected_id != before:
            self.post_message(self.Moved())

    def action_choose(self):
        if self.rows:
            self.post_message(self.Chosen())

    def action_expand(self, yes):
        vm_id = self.selected_id
        if vm_id is None:
            return
        if yes and self.rows[self.cursor].sample.children:
            self.expanded.add(vm_id)
        elif not yes:
            self.expanded.discard(vm_id)
            self.select_id(vm_id, redraw=False)
        if self.snapshot is not None:
            self.show(self.snapshot, self.filter_text)
        self.post_message(self.Moved())         # the screen refits the table's height

    def on_click(self, event):
        at = event.get_content_offset(self)
        if at is None:
            return
        if at.y == 0:                   # the header: sort by the column clicked
            x = 1
            for col, width in self.columns:
                if x <= at.x < x + width + GAP:
                    self.set_sort(col.key)
                    self.show(self.snapshot, self.filter_text)
                    self.post_message(self.Moved())
                    return
                x += width + GAP
        elif self.top + at.y - 1 < len(self.rows):
            self._move_to(self.top + at.y - 1)

    def on_mouse_scroll_down(self, event):
        self._move_to(self.cursor + 1)

    def on_mouse_scroll_up(self, event):
        self._move_to(self.cursor - 1)

    def on_resize(self, event):
        # rebuild now, outside a paint: the subtitle ("1–3 of 6") depends on the height
        self._lines = None
        self._strips.clear()
        self.update_view()
        self.refresh()

    def on_focus(self):
        self.update_view()

    def on_blur(self):
        self.update_view()

    # ------------------------------------------------------------------ drawing
    def build(self):
        width, height = self.content_size.width - 1, self.content_size.height
        if width <= 0 or height <= 0:
            return []               # hidden (the console full screen): nothing to fit
        widths = {}
        for col in COLUMNS:
            if col.key == "name":       # wider (up to 16) for process rows' "└ pid command"
                kids = [len(_child_cell("name", r.child)[0]) for r in self.rows if r.depth]
                widths["name"] = max([col.width] + [min(16, n) for n in kids])
            elif col.width is not None:
                widths[col.key] = max(col.width, len(col.label))
            else:
                texts = [col.cell(r.sample)[0] if r.depth == 0 else
                         _child_cell(col.key, r.child)[0] for r in self.rows]
                widths[col.key] = max([len(col.label)] + [len(t) for t in texts])
        self.columns = fit_columns(width, widths, {"kind": KIND_WITH_CONTAINERS}
                                   if self.containers else None)
        shown = max(1, height - 1)
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + shown:
            self.top = self.cursor - shown + 1
        self.top = max(0, min(self.top, max(0, len(self.rows) - shown)))
        header = [(" ", "")]
        for col, w in self.columns:
            label = col.label
            if col.key == self.sort_column:
                label += "▼" if self.sort_reverse else "▲"
            header.append((_pad(label, w, col.right) + " " * GAP, "bold"))
        lines = [header]
        for i in range(self.top, min(len(self.rows), self.top + shown)):
            lines.append(self._line(self.rows[i], i == self.cursor))
        subtitle = (f"{self.top + 1}–{min(len(self.rows), self.top + shown)} of {len(self.rows)}"
                    if len(self.rows) > shown else "")
        set_titles(self, subtitle=subtitle)
        return lines

    def _line(self, row, selected):
        bg = (" on #2d4f7c" if self.has_focus else " on #3a3a3a") if selected else ""
        pieces = [(" ", bg.strip())]
        for col, w in self.columns:
            if row.depth == 0:
                text, style = col.cell(row.sample)
            else:
                text, style = _child_cell(col.key, row.child)
            if col.key == "name" and row.depth == 0 and row.sample.children:
                text = ("▾" if row.vm_id in self.expanded else "▸") + text[:w - 1]
            pieces.append((_pad(text, w, col.right) + " " * GAP, (style + bg).strip()))
        if bg:
            pieces.append((" " * self.content_size.width, bg.strip()))    # the whole line
        return pieces


def _child_cell(key, child):
    """A process row's cell: (text, style)."""
    if key == "name":
        return f"{' ' * child.depth}└ {child.pid} {child.name}", "dim"
    if key == "state":
        return child.state, state_style(child.state)
    if key == "mem":
        return fmt_bytes(child.pages * 4096), "dim"
    if key == "exits":
        return fmt_count(child.rate), "dim"
    if key == "cpu":
        return f"{100 * child.cpu:.1f}", "dim"
    if key == "mips":
        return f"{child.mips:.1f}", "dim"
    if key == "kind":
        return "process", "dim"
    return "", ""


def _pad(text, width, right):
    if len(text) > width:
        text = text[:max(0, width - 1)] + "…"
    return text.rjust(width) if right else text.ljust(width)
