"""The trap timeline: the selected VM's recent exits laid out in time, one row per cause.

The hart keeps a counter per exit cause and no timestamps (a timestamp per exit would cost in
its hot loop).  The sampler reads the counters at every poll, so each column here is one poll
interval (100 ms), newest on the right, and each cell says how many exits of that cause came in
that interval:  ░ 1+   ▒ 10+   ▓ 100+   █ 1000+.  Each row is labelled with the cause's short
name (exitcauses.py); the rows are those of the exits panel, in the same order.

For a container the rows are what its exits were: system calls, page faults (both answered
by the shared kernel) and g-stage exits (a host page given to the container's window)."""
import numpy as np

from ... import state as S
from ..sampler import short_cause
from . import CAUSE_COLOURS, LinePanel, set_titles
from .exits_panel import shown_causes

SHADES = np.array(list(" ░▒▓█"))
LABEL = 8               # "g-stage " and the like


def shades(counts):
    """The shade index of each count: 0 none, 1 for 1+, 2 for 10+, 3 for 100+, 4 for 1000+."""
    c = np.asarray(counts)
    return np.where(c <= 0, 0, np.minimum(4, 1 + np.floor(np.log10(np.maximum(c, 1))))).astype(int)


class TrapTimeline(LinePanel):
    def __init__(self, sampler, **kwargs):
        super().__init__(**kwargs)
        self.sampler = sampler
        self.sample = None
        period = int(round(sampler.period * 1000))
        self.border_title = f"trap timeline · every {period} ms"
        self.border_subtitle = "░ 1+ ▒ 10+ ▓ 100+ █ 1k+"

    def show(self, sample):
        self.sample = sample
        if sample is not None:
            period = int(round(self.sampler.period * 1000))
            set_titles(self, f"trap timeline · {sample.name} · every {period} ms")
        self.update_view()

    def build(self):
        height = self.content_size.height
        width = max(1, self.content_size.width - LABEL)
        if height <= 0:
            return []
        m = self.sample
        deltas = self.sampler.exit_deltas(m.id, width) if m is not None \
            else np.zeros((width, S.N_EXITS), dtype=np.int64)
        left = f"-{width * self.sampler.period:.1f}s"
        lines = [[(" " * LABEL + left + "now".rjust(width - len(left)), "dim")]]
        if m is not None and m.kind == "container":
            kern = self.sampler.kernel_deltas(m.id, width)
            rows = (("syscall", kern[:, 0], CAUSE_COLOURS[0]),
                    ("fault", kern[:, 1], CAUSE_COLOURS[4]),
                    ("g-stage", deltas[:, S.EXIT_NAMES.index("gstage")], CAUSE_COLOURS[6]))
            for label, counts, colour in rows[:max(0, height - 1)]:
                lines.append([(f"{label:<{LABEL - 1}} ", colour),
                              ("".join(SHADES[shades(counts)]), f"{colour} on #1c1c1c")])
            return lines
        keep, more = shown_causes(m.exit_totals if m is not None else None, height - 1)
        grid = SHADES[shades(deltas)]
        for i in keep:
            lines.append([(f"{short_cause(S.EXIT_NAMES[i]):<{LABEL - 1}} ", CAUSE_COLOURS[i]),
                          ("".join(grid[:, i]), f"{CAUSE_COLOURS[i]} on #1c1c1c")])
        if more and len(lines) < height:
            lines.append([(f"  +{more} more causes", "dim")])
        return lines
