"""The trap timeline: the selected VM's recent exits laid out in time, one row per cause.

The hart keeps a counter per exit cause and no timestamps (a timestamp per exit would cost in
its hot loop).  The sampler reads the counters at every poll, so each column here is one poll
interval (100 ms), newest on the right, and each cell says how many exits of that cause came in
that interval:  ░ 1+   ▒ 10+   ▓ 100+   █ 1000+."""
import numpy as np

from ... import state as S
from . import CAUSE_COLOURS, LinePanel

SHADES = np.array(list(" ░▒▓█"))


def shades(counts):
    """The shade index of each count: 0 none, 1 for 1+, 2 for 10+, 3 for 100+, 4 for 1000+."""
    c = np.asarray(counts)
    return np.where(c <= 0, 0, np.minimum(4, 1 + np.floor(np.log10(np.maximum(c, 1))))).astype(int)


class TrapTimeline(LinePanel):
    def __init__(self, sampler, **kwargs):
        super().__init__(**kwargs)
        self.sampler = sampler
        self.vm_id = None
        period = int(round(sampler.period * 1000))
        self.border_title = f"trap timeline · sampled every {period} ms"
        self.border_subtitle = "░ 1+ ▒ 10+ ▓ 100+ █ 1k+ per interval"

    def show(self, vm):
        self.vm_id = vm.id if vm is not None else None
        self.update_view()

    def build(self):
        width = max(1, self.content_size.width)
        deltas = self.sampler.exit_deltas(self.vm_id, width) if self.vm_id is not None \
            else np.zeros((width, S.N_EXITS), dtype=np.int64)
        left = f"-{width * self.sampler.period:.1f}s"
        lines = [[(left + "now".rjust(width - len(left)), "dim")]]
        grid = SHADES[shades(deltas)]
        for i in range(S.N_EXITS):
            lines.append([("".join(grid[:, i]), f"{CAUSE_COLOURS[i]} on #1c1c1c")])
        return lines
