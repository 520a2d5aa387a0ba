"""The end-of-run figures: the per-VM table (`hv run --stats`, `hv demo`), every exit cause
with its explanation (`hv run --stats=all`), and docs/exits.md, all from exitcauses.py.

The table fits in 80 columns: the outcome column holds the state's first words (the reason of
a crash is in the message above it), memory is the most the VM ever had (in binary units), and
the busiest exits fill what is left of the line, by their short labels.
"""
import textwrap

from ..exitcauses import EXIT_CAUSES
from .units import short_size

PAGE = 4096


def _mips(s):
    return s["instructions"] / s["host_seconds"] / 1e6 if s["host_seconds"] > 0 else 0.0


def short_outcome(outcome):
    """'crashed: unhandled trap ...' -> 'crashed'; the other words as they are."""
    return outcome.split(":", 1)[0]


def table(vms, width=80):
    rows = [vm.stats() for vm in vms]
    cells = []
    for s in rows:
        exits = s["exits"]
        cells.append((s["name"], short_outcome(s["outcome"]), f"{s['instructions']:,}",
                       f"{_mips(s):.1f}", f"{s['host_seconds']:.2f}",
                       short_size(max(s["pages_allocated"], s["pages_peak"]) * PAGE),
                       f"{sum(exits.values()):,}"))
    heads = ("vm", "outcome", "instructions", "MIPS", "host s", "memory", "exits")
    align = "<<>>>>>"
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    head = "  ".join(f"{h:{a}{w}}" for h, a, w in zip(heads, align, widths))
    room = max(12, width - len(head) - 2)
    lines = [head + "  top exits", "-" * min(width, len(head) + 2 + room)]
    for s, row in zip(rows, cells):
        top = sorted(((v, k) for k, v in s["exits"].items() if v), reverse=True)
        line = "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths))
        lines.append(f"{line}  {_top_exits(top, room)}")
    return "\n".join(lines) + "\n"


def _top_exits(top, room):
    """'mmio 212, sbi 117' by short label, as many as fit in ``room`` columns."""
    text = ""
    for count, name in top:
        item = f"{EXIT_CAUSES[name][0] if name in EXIT_CAUSES else name} {count:,}"
        candidate = f"{text}, {item}" if text else item
        if len(candidate) > room:
            break
        text = candidate
    return text or "-"


def causes(vms, width=80):
    """Every exit cause: its counts per VM, where it is handled, and what it means."""
    stats = [vm.stats() for vm in vms]
    out = ["", "exit causes (each explained in docs/exits.md):"]
    for name, (_label, where, text) in EXIT_CAUSES.items():
        counts = ", ".join(f"{s['name']} {s['exits'].get(name, 0):,}" for s in stats)
        out += textwrap.wrap(f"{name} (handled in the {where}): {counts}", width,
                             initial_indent="  ", subsequent_indent="      ")
        out += textwrap.wrap(text, width, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(out) + "\n"


DOC_BEGIN = "<!-- exit causes: generated from hypervisor/exitcauses.py by " \
            "`python -m hypervisor.commands.stats`; a test keeps them equal -->"
DOC_END = "<!-- end of the generated table -->"


def markdown():
    """The table of docs/exits.md (between DOC_BEGIN and DOC_END)."""
    rows = [DOC_BEGIN, "", "| counter | short label | handled in | what it means |",
            "|---|---|---|---|"]
    for name, (label, where, text) in EXIT_CAUSES.items():
        cell = text.replace("|", "\\|")
        rows.append(f"| `{name}` | {label} | {where} | {cell} |")
    rows += ["", DOC_END]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
