"""The trap timeline: the selected VM's recent exits laid out in time, one row per cause.

The hart keeps a counter per exit cause and no timestamps (a timestamp per exit would cost in
its hot loop).  The sampler reads the counters at every poll, so each column here is one poll
interval (100 ms), newest on the right, and each cell says how many exits of that cause came in
that interval:  ░ 1+   ▒ 10+   ▓ 100+   █ 1000+."""
import numpy as np
from rich.text import Text
from textual.widget import Widget

from ... import state as S
from . import CAUSE_COLOURS

SHADES = " ░▒▓█"


def shade(n):
    if n <= 0:
        return 0
    return min(4, 1 + int(np.log10(n)))


class TrapTimeline(Widget):
    def __init__(self, sampler, **kwargs):
        super().__init__(**kwargs)
        self.sampler = sampler
        self.vm_id = None
        period = int(round(sampler.period * 1000))
        self.border_title = f"trap timeline · sampled every {period} ms"
        self.border_subtitle = "░ 1+ ▒ 10+ ▓ 100+ █ 1k+ per interval"

    def show(self, vm):
        self.vm_id = vm.id if vm is not None else None
        self.refresh()

    def render(self):
        width = max(1, self.content_size.width)
        deltas = self.sampler.exit_deltas(self.vm_id, width) if self.vm_id is not None \
            else np.zeros((width, S.N_EXITS), dtype=np.int64)
        span = width * self.sampler.period
        text = Text(no_wrap=True, overflow="crop")
        left = f"-{span:.1f}s"
        text.append(left + "now".rjust(width - len(left)), "dim")
        for i in range(S.N_EXITS):
            text.append("\n")
            column = deltas[:, i]
            row = "".join(SHADES[shade(int(n))] for n in column)
            text.append(row, f"{CAUSE_COLOURS[i]} on #1c1c1c")
        return text
