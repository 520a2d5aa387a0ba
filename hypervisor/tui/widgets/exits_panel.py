"""The selected VM's exits by cause: total since boot and the rate over the last second.

An exit is any time the hart stopped to have something done for the guest: the compiled hart
itself emulates CSR accesses, sret, wfi and sfence.vma, and the Python monitor handles SBI
calls, demand paging (gstage), device accesses (mmio) and exceptions routed through it.  The
help screen explains each cause (exitcauses.py).  When the panel is too short for all twelve,
it lists the causes that happened, in the same order, and says how many more there are.

For a container the exit causes say little (every system call and page fault is one exit to
the shared kernel: `exc_monitor`), so the panel shows what matters for it instead: its system
calls per second, the busiest calls, the top *missing* ones (the calls the shared kernel does
not implement and answers -ENOSYS: what a program needed and did not get), and its page
faults (demand paging and copy-on-write)."""
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
        if m is not None and m.kind == "container":
            set_titles(self, f"system calls · {m.name}",
                       f"{fmt_count(m.syscall_rate)} calls/s")
        else:
            set_titles(self, f"exits · {m.name}" if m is not None else "exits by cause",
                       f"{fmt_count(m.exit_rate)}/s in all" if m is not None else "")
        self.update_view()

    def build(self):
        m = self.sample
        height = self.content_size.height
        if height <= 0:
            return []
        if m is not None and m.kind == "container":
            return container_lines(m, height, self.content_size.width)
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


def _figure(label, total, rate, style="", width=15):
    return (f"{label[:width]:<{width}}{fmt_count(total):>7}{fmt_count(rate):>7}", style)


def container_lines(m, height, width=31):
    """The panel for a container, in ``height`` lines: the header, all calls, page faults,
    then the busiest calls and the top missing ones, sharing the rows left (missing calls
    get up to three, and always one line that says whether there are any)."""
    name_w = max(13, min(22, width - 16))     # "clock_nanosleep_time64" is 22
    lines = [[(f"{'system calls':<{name_w + 2}}{'total':>7}{'per s':>7}", "bold")],
             [_figure("all", m.syscalls, m.syscall_rate, width=name_w + 2)],
             [_figure("page faults", m.faults, m.fault_rate, width=name_w + 2)]]
    room = height - len(lines)
    missing = m.missing
    n_missing = min(len(missing), 3, max(0, room - 2))
    missing_rows = 1 + n_missing + (len(missing) > n_missing) if missing else 1
    calls = m.calls[:max(0, room - missing_rows - 1)]
    if calls:
        lines.append([("busiest", "bold")])
        for i, (name, total, rate) in enumerate(calls):
            lines.append([("■ ", CAUSE_COLOURS[i % len(CAUSE_COLOURS)]),
                          _figure(name, total, rate, "" if rate else "dim", name_w)])
    if not missing:
        lines.append([("missing (ENOSYS): none", "dim")])
    else:
        lines.append([("missing (ENOSYS)", "bold red")])
        for name, total, rate in missing[:n_missing]:
            lines.append([("■ ", "red"), _figure(name, total, rate, width=name_w)])
        if len(missing) > n_missing:
            lines.append([(f"  +{len(missing) - n_missing} more", "dim")])
    return lines[:height]
