"""The host memory map: the host's page array drawn as cells coloured by owning VM.

Each cell stands for a run of consecutive host pages (as many as it takes to fit the whole
array in the widget).  Its colour is the owner holding most of those pages (the monitor, or a
VM); its glyph says how full the run is:

    ·  free     ░  up to 1/4    ▒  up to 1/2    ▓  more than 1/2    █  every page used

It is redrawn from ``engine.memory.owner`` (one int32 per host page) at each poll, so pages
show up as guests touch them (demand allocation) and go back to free when a VM ends.
"""
import numpy as np

from ...memory import PAGE_SIZE
from ..sampler import fmt_bytes
from . import FREE_COLOUR, MONITOR_COLOUR, LinePanel, vm_colour

GLYPHS = np.array(list("·░▒▓█"))


def glyphs(used, size):
    """The glyph index of each cell from pages used / pages in it."""
    f = used / np.maximum(size, 1)
    g = np.where(f <= 0.25, 1, np.where(f <= 0.5, 2, 3))
    g[used == size] = 4
    g[used == 0] = 0
    return g


def summarise(owner, cells):
    """Split ``owner`` into ``cells`` runs of pages: (pages per cell, dominant owner per cell,
    pages used per cell, pages per cell (the last may be short))."""
    npages = owner.size
    ppc = max(1, -(-npages // max(1, cells)))
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
    return ppc, dominant, used, size


class MemoryMap(LinePanel):
    """Needs ``engine`` (HostMemory at engine.memory, VMs at engine.vms)."""

    def __init__(self, engine, **kwargs):
        super().__init__(**kwargs)
        self.engine = engine
        self.border_title = "host memory"

    def build(self):
        mem = self.engine.memory
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 0:
            return []
        owner = mem.owner.copy()                 # a snapshot: workers allocate meanwhile
        legend = self._legend(owner, width)
        rows = max(1, height - len(legend))
        ppc, dominant, used, size = summarise(owner, width * rows)
        subtitle = (f"{mem.npages} pages · 1 cell = {ppc} page{'s' * (ppc > 1)} "
                    f"({fmt_bytes(ppc * PAGE_SIZE)})")
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle     # changes only when the widget is resized
        chars = GLYPHS[glyphs(used, size)]
        styles = {-1: FREE_COLOUR, -2: MONITOR_COLOUR}
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
        items = [(MONITOR_COLOUR, "monitor", pages.get(-2, 0))]
        for vm in list(self.engine.vms.values()):
            if pages.get(vm.id):
                items.append((vm_colour(vm.id), vm.name, pages[vm.id]))
        items.append((FREE_COLOUR, "free", pages.get(-1, 0)))
        lines, line, used = [], [], 0
        for colour, name, n in items:
            label = f"{name} {fmt_bytes(n * PAGE_SIZE)}  "
            if used and used + 2 + len(label) > width:
                lines.append(line)
                line, used = [], 0
            line += [("█ ", colour), (label, "")]
            used += 2 + len(label)
        lines.append(line)
        return lines
