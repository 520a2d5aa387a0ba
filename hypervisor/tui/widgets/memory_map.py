"""The host memory map: the host's page array drawn as cells coloured by owning instance.

Each cell stands for a run of consecutive host pages, a power of two of them (1, 2, 4, ...).
Its colour is the owner holding most of those pages (the monitor, a VM or a container: VMs
in cool colours, containers in warm ones, and the legend names each under its kind); its
glyph says how full the run is:

    ·  free     ░  up to 1/4    ▒  up to 1/2    ▓  more than 1/2    █  every page used

By default the map is zoomed on the pages in use: from page 0 to the highest page any owner
holds (the free list hands out the lowest pages first, so that is where guests are), with
cells as small as that allows.  `m` switches to the whole host array (`--host-mem` sets its
size; a smaller host gives a finer map) and back.  A VM that holds pages but is the majority
in no cell still gets the cell where it has most of its pages, so no guest is ever hidden.

It is drawn from the snapshot's copy of ``engine.memory.owner`` (one int32 per host page), so
pages show up as guests touch them (demand allocation) and go back to free when a VM ends.
"""
import numpy as np

from ...memory import PAGE_SIZE
from ..sampler import fmt_bytes
from . import FREE_COLOUR, MONITOR_COLOUR, LinePanel, colour_of, set_titles, vm_colour

GLYPHS = np.array(list("·░▒▓█"))


def glyphs(used, size):
    """The glyph index of each cell from pages used / pages in it."""
    f = used / np.maximum(size, 1)
    g = np.where(f <= 0.25, 1, np.where(f <= 0.5, 2, 3))
    g[used == size] = 4
    g[used == 0] = 0
    return g


def cell_pages(span, cells):
    """The smallest power of two of pages per cell that fits ``span`` pages in ``cells``."""
    need = -(-span // max(1, cells))
    return 1 << max(0, int(need - 1).bit_length())


def summarise(owner, cells, ppc=None):
    """Split ``owner`` (or its first cells * ppc pages) into runs of ``ppc`` pages (by default
    as many as it takes to fit the whole array in ``cells``): (pages per cell, owner shown per
    cell (-2 monitor, -1 all free, else a VM id), pages used per cell, pages per cell)."""
    if ppc is None:
        ppc = max(1, -(-owner.size // max(1, cells)))
    owner = owner[:cells * ppc]
    npages = owner.size
    ncells = -(-npages // ppc)
    codes = owner.astype(np.int64) + 2          # monitor 0, free 1, VM id + 2
    k = int(codes.max()) + 1
    cell_of = np.arange(npages) // ppc
    counts = np.bincount(cell_of * k + codes, minlength=ncells * k).reshape(ncells, k)
    size = counts.sum(axis=1)
    used = size - counts[:, 1]
    counts[:, 1] = -1
    dominant = counts.argmax(axis=1) - 2         # -2 monitor, else a VM id (or -1: all free)
    dominant[used == 0] = -1
    _show_minorities(counts, dominant)
    return ppc, dominant, used, size


def _show_minorities(counts, dominant):
    """Give each VM that holds pages but is the majority nowhere the cell where it holds most,
    taken from an owner that keeps other cells (smallest VMs first)."""
    held = counts[:, 2:].clip(min=0)
    totals = held.sum(axis=0)
    owners, cells_of = np.unique(dominant, return_counts=True)
    n_cells = dict(zip(owners.tolist(), cells_of.tolist()))
    for code in np.argsort(totals, kind="stable"):
        vm_id = int(code)
        if totals[code] == 0 or n_cells.get(vm_id, 0) or vm_id < 1:
            continue
        for cell in np.argsort(-held[:, code], kind="stable"):
            if held[cell, code] == 0:
                break
            current = int(dominant[cell])
            if n_cells.get(current, 0) > 1:
                n_cells[current] -= 1
                dominant[cell] = vm_id
                n_cells[vm_id] = 1
                break


class MemoryMap(LinePanel):
    """Draws ``show(snapshot)``: the snapshot's page owners and its instances' names."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.snapshot = None
        self.whole = False              # False: zoomed on the pages in use
        self.border_title = "host memory"
        self.ppc = 1

    def show(self, snapshot):
        self.snapshot = snapshot
        self.update_view()

    def toggle_zoom(self):
        self.whole = not self.whole
        self.update_view()

    def build(self):
        snap = self.snapshot
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 0 or snap is None or snap.owner is None:
            return []
        owner = snap.owner
        legend = self._legend(owner, width)
        legend = legend[:max(0, height - 1)]
        cells = width * max(1, height - len(legend))
        if self.whole:
            span = owner.size
        else:
            in_use = np.flatnonzero(owner != -1)
            span = min(owner.size, max(cells, int(in_use[-1]) + 1 if in_use.size else 1))
        ppc = self.ppc = cell_pages(span, cells)
        ppc, dominant, used, size = summarise(owner, cells, ppc)
        shown = min(owner.size, cells * ppc)
        what = (f"all {owner.size} pages" if shown >= owner.size else
                f"pages 0–{shown - 1} of {owner.size}")
        cell = f"cell = {ppc} page{'s' * (ppc > 1)}"
        key = f"m: {'zoom' if self.whole else 'all'}"
        for subtitle in (f"{what} · {cell} ({fmt_bytes(ppc * PAGE_SIZE)}) · {key}",
                         f"{what} · {cell}", cell):
            if len(subtitle) + 4 <= width:
                break
        set_titles(self, subtitle=subtitle)
        chars = GLYPHS[glyphs(used, size)]
        styles = {-1: FREE_COLOUR, -2: MONITOR_COLOUR}
        styles.update({m.id: colour_of(m) for m in snap.vms.values()})
        lines = []
        for row in range(0, dominant.size, width):
            owners = dominant[row:row + width]
            cuts = np.flatnonzero(np.diff(owners)) + 1
            line = []
            for a, b in zip(np.r_[0, cuts], np.r_[cuts, owners.size]):
                d = int(owners[a])
                line.append(("".join(chars[row + a:row + b]), styles.get(d) or vm_colour(d)))
            lines.append(line)
        return lines + legend

    def _legend(self, owner, width):
        ids, counts = np.unique(owner, return_counts=True)
        pages = dict(zip(ids.tolist(), counts.tolist()))
        items = [(MONITOR_COLOUR, "monitor", pages.get(-2, 0), ""),
                 (FREE_COLOUR, "free", pages.get(-1, 0), "")]
        vms = [m for m in self.snapshot.vms.values() if pages.get(m.id)]
        mixed = any(m.kind == "container" for m in vms)     # say which kind is which
        for kind, heading in (("vm", "VMs: "), ("container", "containers: ")):
            group = [m for m in vms if m.kind == kind]
            heading = heading if mixed else ""
            for i, m in enumerate(group):
                items.append((colour_of(m), m.name, pages[m.id], heading if i == 0 else ""))
        lines, line, used = [], [], 0
        for colour, name, n, heading in items:
            label = f"{name} {fmt_bytes(n * PAGE_SIZE)}  "
            size = len(heading) + 2 + len(label)
            if used and used + size > width:
                lines.append(line)
                line, used = [], 0
            if heading:
                line.append((heading, "dim"))
            line += [("█ ", colour), (label, "")]
            used += size
        lines.append(line)
        return lines
