"""Figures: matplotlib with its headless Agg backend, imported only when a lab draws.

matplotlib is the `labs` extra (pip install 'hvlab[labs]'); without it `hv lab run` says so in
one line before it starts.
"""
from .base import LabError

MISSING = ("matplotlib is not installed; hv lab draws its figures with it: "
           "pip install 'hvlab[labs]' (or pip install matplotlib)")

# one colour per exit class / VM, readable on paper in grey too
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def pyplot():
    try:
        import matplotlib
    except ImportError:
        raise LabError(MISSING) from None
    matplotlib.use("Agg", force=True)     # no display needed, same pixels everywhere
    import matplotlib.pyplot as plt
    return plt


def figure(ctx, name, caption, draw):
    """Draw one figure with ``draw(plt) -> fig`` into ctx.out/NAME and embed it in the report.
    Nothing is drawn when the run writes no files (hv lab answers)."""
    if ctx.out is None:
        return None
    plt = pyplot()
    fig = draw(plt)
    path = ctx.out / name
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    ctx.figures.append(name)
    ctx.say(f"![{caption}]({name})\n\n*Figure: {caption}*")
    return path
