"""The host's pages seen from the host side (lab 2): runs of a G-stage map, the check that every
VM's map agrees with ``HostMemory.owner``, and the figures of pages over time and of the
partition of the host array."""
import numpy as np

from ..devices.layout import RAM_BASE
from ..memory import FREE, MONITOR, PAGE_SIZE
from .plots import COLOURS

def runs(gmap):
    rows, start = [], None
    idx = [i for i in range(gmap.size) if gmap[i] >= 0]
    for j, i in enumerate(idx):
        if start is None:
            start = j
        last = j == len(idx) - 1 or idx[j + 1] != i + 1 or gmap[idx[j + 1]] != gmap[i] + 1
        if last:
            a, b = idx[start], i
            rows.append([f"{a:#x}" + (f"-{b:#x}" if b > a else ""),
                         f"{RAM_BASE + a * PAGE_SIZE:#x}" + (f"-{RAM_BASE + b * PAGE_SIZE + 0xFFF:#x}"
                                                            if b >= a else ""),
                         f"{int(gmap[a])}" + (f"-{int(gmap[b])}" if b > a else "")])
            start = None
    return rows


def consistent(eng, vms):
    """The wall, checked from the host's side: each VM's G-stage map points at exactly the host
    pages ``owner`` gives it, so no page is in two maps and no VM reaches a page not its own."""
    owner = eng.memory.owner
    for vm in vms:
        mapped = np.sort(vm.gmap[vm.gmap >= 0])
        if not np.array_equal(mapped, np.flatnonzero(owner == vm.id)):
            return False
    return True


def partition_text(owner, vms, held, agree):
    lines = ["The partition at the fullest moment, from `engine.memory.owner` (one entry per "
             "host page: its VM's id, -1 free, -2 the monitor):", "",
             "| owner | host pages |", "|---|---|",
             f"| monitor | {int(np.sum(owner == MONITOR))} |"]
    lines += [f"| {n} (id {vm.id}) | {held[n]} |" for n, vm in vms.items()]
    lines.append(f"| free | {int(np.sum(owner == FREE))} |")
    lines.append("")
    lines.append("Each VM's G-stage map points at exactly the pages `owner` gives it: " +
                 ("**yes**, so no host page is in two maps." if agree else
                  "**NO: a host page is in two maps, or a map points at a page not its VM's.**"))
    return "\n".join(lines) + "\n"


def partition_figure(plt, owner, vms):
    from matplotlib.colors import ListedColormap
    cols = 128 if owner.size > 2048 else 64
    rows = -(-owner.size // cols)
    grid = np.full(rows * cols, -3, dtype=np.int64)
    grid[:owner.size] = owner
    names = list(vms)
    codes = np.zeros_like(grid)            # 0 padding, 1 monitor, 2 free, 3.. VMs
    codes[grid == MONITOR] = 1
    codes[grid == FREE] = 2
    for i, n in enumerate(names):
        codes[grid == vms[n].id] = 3 + i
    cmap = ListedColormap(["#ffffff", "#000000", "#eeeeee"] + COLOURS[:len(names)])
    fig, ax = plt.subplots(figsize=(8, min(8, max(2.5, rows / 8))))
    ax.imshow(codes.reshape(rows, cols), cmap=cmap, vmin=0, vmax=2 + len(names),
              aspect="auto", interpolation="nearest")
    ax.set_xlabel(f"host page number mod {cols}")
    ax.set_ylabel(f"host page number // {cols}")
    from matplotlib.patches import Patch
    handles = [Patch(color="#000000", label=f"monitor ({int(np.sum(owner == MONITOR))})"),
               Patch(facecolor="#eeeeee", edgecolor="k", label=f"free ({int(np.sum(owner == FREE))})")]
    handles += [Patch(color=COLOURS[i], label=f"{n} ({int(np.sum(owner == vms[n].id))})")
                for i, n in enumerate(names)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=5,
              fontsize=8)
    ax.set_title("the host array, page by page: whose is each page", fontsize=10)
    return fig


def pages_figure(plt, samples, mem):
    fig, ax = plt.subplots(figsize=(8, 3.4))
    for i, (name, style) in enumerate((("demand", "-"), ("prealloc", "--"))):
        xs = [row[i][0] / 100 / 1000 for row in samples]
        ys = [row[i][1] for row in samples]
        ax.plot(xs, ys, style, color=COLOURS[i], label=name, lw=1.5)
    ax.axhline(mem // PAGE_SIZE, color="grey", lw=0.8, ls=":")
    ax.text(0, mem // PAGE_SIZE, " --mem", va="bottom", fontsize=8, color="grey")
    ax.set_xlabel("guest time, ms (virtual)")
    ax.set_ylabel("host pages held")
    ax.legend(fontsize=8)
    return fig


def overcommit_figure(plt, series, order, npages, window):
    fig, ax = plt.subplots(figsize=(8, 3.6))
    xs = [(r + 1) * window / 1000 for r in range(len(series))]
    for i, vm in enumerate(order):
        ax.plot(xs, [s[i] for s in series], ("-", "--", ":")[i % 3], color=COLOURS[i],
                label=vm.name, lw=2.5 - i * 0.6)
    used = [npages - s[-1] for s in series]
    ax.plot(xs, used, color="k", lw=1, ls="--", label="all pages in use")
    ax.axhline(npages, color="grey", lw=0.8, ls=":")
    ax.text(0, npages, " host memory", va="bottom", fontsize=8, color="grey")
    ax.set_xlabel(f"thousands of instructions each VM has run (lockstep, {window} per round)")
    ax.set_ylabel("host pages")
    ax.legend(fontsize=8)
    return fig
