"""The host memory map: the host's page array drawn as cells coloured by owning VM.

Each cell stands for a run of consecutive host pages (as many as it takes to fit the whole
array in the widget).  Its colour is the owner holding most of those pages (the monitor, or a
VM); its glyph says how full the run is:

    ·  free     ░  up to 1/4    ▒  up to 1/2    ▓  more than 1/2    █  every page used

It is redrawn from ``engine.memory.owner`` (one int32 per host page) at each poll, so pages
show up as guests touch them (demand allocation) and go back to free when a VM ends.
"""
import numpy as np
from rich.text import Text
from textual.widget import Widget

from ...memory import PAGE_SIZE
from ..sampler import fmt_bytes
from . import FREE_COLOUR, MONITOR_COLOUR, vm_colour

GLYPHS = "·░▒▓█"


def _glyph(used, total):
    if used == 0:
        return 0
    if used == total:
        return 4
    f = used / total
    return 1 if f <= 0.25 else 2 if f <= 0.5 else 3


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


class MemoryMap(Widget):
    """Needs ``engine`` (HostMemory at engine.memory, VMs at engine.vms)."""

    def __init__(self, engine, **kwargs):
        super().__init__(**kwargs)
        self.engine = engine
        self.border_title = "host memory"

    def render(self):
        mem = self.engine.memory
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 0:
            return Text("")
        owner = mem.owner.copy()                 # a snapshot: workers allocate meanwhile
        legend = self._legend(owner, width)
        rows = max(1, height - len(legend))
        ppc, dominant, used, size = summarise(owner, width * rows)
        subtitle = (f"{mem.npages} pages · 1 cell = {ppc} page{'s' * (ppc > 1)} "
                    f"({fmt_bytes(ppc * PAGE_SIZE)})")
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle     # changes only when the widget is resized
        text = Text(no_wrap=True, overflow="crop")
        styles = {-1: FREE_COLOUR, -2: MONITOR_COLOUR}
        run, run_style = [], None
        for i in range(dominant.size):
            if i and i % width == 0:
                run.append("\n")
            d = int(dominant[i])
            style = styles.get(d) or vm_colour(d)
            if style != run_style and run:
                text.append("".join(run), run_style)
                run = []
            run_style = style
            run.append(GLYPHS[_glyph(int(used[i]), int(size[i]))])
        if run:
            text.append("".join(run), run_style)
        for line in legend:
            text.append("\n")
            text.append_text(line)
        return text

    def _legend(self, owner, width):
        ids, counts = np.unique(owner, return_counts=True)
        pages = dict(zip(ids.tolist(), counts.tolist()))
        items = [(MONITOR_COLOUR, "monitor", pages.get(-2, 0))]
        for vm in list(self.engine.vms.values()):
            if pages.get(vm.id):
                items.append((vm_colour(vm.id), vm.name, pages[vm.id]))
        items.append((FREE_COLOUR, "free", pages.get(-1, 0)))
        lines, line = [], Text()
        for colour, name, n in items:
            piece = Text.assemble(("█ ", colour), f"{name} {fmt_bytes(n * PAGE_SIZE)}  ")
            if line.cell_len and line.cell_len + piece.cell_len > width:
                lines.append(line)
                line = Text()
            line.append_text(piece)
        lines.append(line)
        return lines
