"""CPU sparklines: one line per VM, its share of one host core over the last minute.

Each column is the mean of the poll intervals it covers (60 s / width); the bar height is
absolute (a full bar is 100 % of one core), so VMs can be compared line by line."""
import numpy as np

from ..sampler import HISTORY
from . import LinePanel, colour_of

BARS = np.array(list(" ▁▂▃▄▅▆▇█"))


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
    """A bar per value in 0..1 (blank: no data or zero; any use shows at least ▁)."""
    v = np.nan_to_num(values, nan=0.0)
    idx = np.where(v > 0, np.clip(np.ceil(v * 8 - 1e-9), 1, 8), 0).astype(int)
    return "".join(BARS[idx])


class CpuSparklines(LinePanel):
    """Draws ``show(snapshot, vm_ids)``: a line per instance, in the table's order.  The
    percentage at the end is the snapshot's CPU% (the table's figure)."""

    def __init__(self, sampler, **kwargs):
        super().__init__(**kwargs)
        self.sampler = sampler
        self.snapshot = None
        self.vm_ids = []
        self.border_title = f"CPU % of one core · last {HISTORY:.0f} s"

    def show(self, snapshot, vm_ids):
        self.snapshot, self.vm_ids = snapshot, list(vm_ids)
        self.update_view()

    def build(self):
        width, height = self.content_size.width, self.content_size.height
        if self.snapshot is None or width <= 0:
            return []
        name_w, pct_w = 10, 6
        spark_w = max(4, width - name_w - pct_w - 2)
        intervals = int(round(HISTORY / self.sampler.period))
        vms = self.snapshot.vms
        ids = [i for i in self.vm_ids if i in vms]
        more = len(ids) - height
        ids = ids[:height - 1] if more > 0 else ids
        lines = []
        for vm_id in ids:
            m = vms[vm_id]
            colour = colour_of(m)
            series = self.sampler.cpu_series(vm_id)
            lines.append([(f"{m.name[:name_w]:<{name_w}} ", colour),
                          (bars(columns(series, spark_w, intervals)), f"{colour} on #262626"),
                          (f" {100 * m.cpu:>{pct_w - 2}.0f}%", "")])
        if more > 0:
            lines.append([(f"+{more + 1} more (the table's first {len(ids)} shown)", "dim")])
        return lines or [[("no VMs", "dim")]]
