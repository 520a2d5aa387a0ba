"""CPU sparklines: one line per VM, its share of one host core over the last minute.

Each column is the mean of the poll intervals it covers (60 s / width); the bar height is
absolute (a full bar is 100 % of one core), so VMs can be compared line by line."""
import numpy as np
from rich.text import Text
from textual.widget import Widget

from ..sampler import HISTORY
from . import vm_colour

BARS = " ▁▂▃▄▅▆▇█"


def columns(series, width, intervals):
    """Mean of ``series`` (oldest first, up to ``intervals`` long) in ``width`` columns covering
    the last ``intervals`` intervals; NaN where there is no data yet."""
    padded = np.full(intervals, np.nan)
    if len(series):
        padded[-len(series):] = series[-intervals:]
    edges = np.linspace(0, intervals, width + 1).astype(int)[:-1]
    present = ~np.isnan(padded)
    sums = np.add.reduceat(np.where(present, padded, 0.0), edges)
    counts = np.add.reduceat(present.astype(int), edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def bars(values):
    out = []
    for v in values:
        if np.isnan(v):
            out.append(" ")
        elif v <= 0:
            out.append(" ")
        else:
            out.append(BARS[max(1, min(8, int(np.ceil(v * 8 - 1e-9))))])
    return "".join(out)


class CpuSparklines(Widget):
    """Needs ``engine`` and ``sampler``; ``vm_ids`` (set by the screen) orders the lines."""

    def __init__(self, engine, sampler, **kwargs):
        super().__init__(**kwargs)
        self.engine = engine
        self.sampler = sampler
        self.vm_ids = []
        self.border_title = f"CPU % of one core · last {HISTORY:.0f} s"

    def render(self):
        width, height = self.content_size.width, self.content_size.height
        text = Text(no_wrap=True, overflow="crop")
        name_w, pct_w = 10, 6
        spark_w = max(4, width - name_w - pct_w - 2)
        intervals = int(round(HISTORY / self.sampler.period))
        ids = [i for i in self.vm_ids if i in self.engine.vms][:max(0, height)]
        for n, vm_id in enumerate(ids):
            vm = self.engine.vms[vm_id]
            colour = vm_colour(vm_id)
            m = self.sampler.metrics.get(vm_id)
            series = self.sampler.cpu_series(vm_id)
            line = bars(columns(series, spark_w, intervals))
            if n:
                text.append("\n")
            text.append(f"{vm.name[:name_w]:<{name_w}} ", colour)
            text.append(line, f"{colour} on #262626")
            text.append(f" {100 * m.cpu if m else 0:>{pct_w - 1}.0f}%")
        if not ids:
            text.append("no VMs", "dim")
        return text
