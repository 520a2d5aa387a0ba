"""The selected VM's exits by cause: total since boot and the rate over the last second.

An exit is any time the hart stopped to have something done for the guest: the compiled hart
itself emulates CSR accesses, sret, wfi and sfence.vma, and the Python monitor handles SBI
calls, demand paging (gstage), device accesses (mmio) and exceptions routed through it."""
from ... import state as S
from ..sampler import fmt_count
from . import CAUSE_COLOURS, LinePanel, set_titles


class ExitsPanel(LinePanel):
    def __init__(self, sampler, **kwargs):
        super().__init__(**kwargs)
        self.sampler = sampler
        self.vm_id = None
        self.border_title = "exits by cause"

    def show(self, vm):
        """Follow ``vm`` (None: nothing) and refresh."""
        self.vm_id = vm.id if vm is not None else None
        m = self.sampler.metrics.get(self.vm_id)
        set_titles(self, f"exits by cause · {vm.name}" if vm is not None else "exits by cause",
                   f"{fmt_count(m.exit_rate)}/s in all" if m is not None else "")
        self.update_view()

    def build(self):
        m = self.sampler.metrics.get(self.vm_id)
        lines = [[(f"{'cause':<15}{'total':>7}{'per s':>7}", "bold")]]
        for i, name in enumerate(S.EXIT_NAMES):
            total = int(m.exit_totals[i]) if m is not None else 0
            rate = float(m.exit_rates[i]) if m is not None else 0.0
            lines.append([("■ ", CAUSE_COLOURS[i]),
                          (f"{name:<13}{fmt_count(total):>7}{fmt_count(rate):>7}",
                           "" if total else "dim")])
        return lines
