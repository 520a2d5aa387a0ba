"""The selected VM's exits by cause: total since boot and the rate over the last second.

An exit is any time the hart stopped to have something done for the guest: the compiled hart
itself emulates CSR accesses, sret, wfi and sfence.vma, and the Python monitor handles SBI
calls, demand paging (gstage), device accesses (mmio) and exceptions routed through it.  The
help screen explains each cause (exitcauses.py).  When the panel is too short for all twelve,
it lists the causes that happened, in the same order, and says how many more there are."""
from ... import state as S
from ..sampler import fmt_count
from . import CAUSE_COLOURS, LinePanel, set_titles


def shown_causes(totals, rows):
    """The exit causes (indexes) to list in ``rows`` lines, and how many are left out: every
    cause when they fit, else those with a non-zero total (in order), as many as fit with a
    line left to say how many more."""
    every = list(range(S.N_EXITS))
    if rows >= S.N_EXITS:
        return every, 0
    active = [i for i in every if totals is not None and totals[i] > 0]
    if len(active) > rows:
        keep = active[:max(0, rows - 1)]
    else:
        keep = active
    return keep, S.N_EXITS - len(keep)


class ExitsPanel(LinePanel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sample = None
        self.border_title = "exits by cause"

    def show(self, sample):
        """Show a VMSample (None: nothing)."""
        self.sample = m = sample
        set_titles(self, f"exits · {m.name}" if m is not None else "exits by cause",
                   f"{fmt_count(m.exit_rate)}/s in all" if m is not None else "")
        self.update_view()

    def build(self):
        m = self.sample
        height = self.content_size.height
        if height <= 0:
            return []
        lines = [[(f"{'cause':<15}{'total':>7}{'per s':>7}", "bold")]]
        totals = m.exit_totals if m is not None else None
        keep, left = shown_causes(totals, height - 1)
        for i in keep:
            name = S.EXIT_NAMES[i]
            total = int(totals[i]) if m is not None else 0
            rate = float(m.exit_rates[i]) if m is not None else 0.0
            lines.append([("■ ", CAUSE_COLOURS[i]),
                          (f"{name:<13}{fmt_count(total):>7}{fmt_count(rate):>7}",
                           "" if total else "dim")])
        if left and len(lines) < height:
            busy = any(totals[i] > 0 for i in range(S.N_EXITS) if i not in keep) \
                if totals is not None else False
            lines.append([(f"  +{left} more" if busy else f"  +{left} causes at 0", "dim")])
        return lines
