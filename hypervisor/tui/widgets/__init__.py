"""The widgets of `hv top`'s main screen (one per file), the colours they share, and
LinePanel, the base of the panels drawn line by line."""
import functools

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

# one colour per instance (by id), reused in the table, the memory map and the sparklines.
# The two kinds get two families, so the memory map tells VM pages from container pages at
# a glance (and for most colour-blind eyes too: blue-violet against orange-yellow-green):
# VMs cool colours, containers warm ones.
VM_COLOURS = ("#5fafff", "#af87ff", "#5fd7d7", "#8787ff", "#d787d7", "#87afd7", "#00afd7",
              "#afafff")
CONTAINER_COLOURS = ("#ffaf5f", "#d7d75f", "#87d787", "#ff8787", "#d7af87", "#afd75f",
                     "#ffd75f", "#ff875f")
MONITOR_COLOUR = "#ffffff"
FREE_COLOUR = "#4e4e4e"

# one colour per exit cause (state.EXIT_NAMES order), shared by the exits panel and timeline
CAUSE_COLOURS = ("#5f87ff", "#5fafff", "#af87ff", "#8a8a8a", "#d787af", "#87d787",
                 "#ffd75f", "#ffaf5f", "#5fd7d7", "#d7d787", "#ff5f5f", "#afaf87")

# the state words (sampler.state_words, from Instance.outcome), by their first word
STATE_STYLES = {"running": "green", "idle": "cyan", "paused": "yellow", "created": "blue",
                "passed": "bold green", "failed": "bold red", "crashed": "bold red",
                "killed": "bright_black", "timed": "yellow", "stopped": "bright_black",
                "halted": "bright_black", "sleeping": "cyan", "zombie": "bright_black"}


def state_style(word):
    return STATE_STYLES.get(word.split(" ", 1)[0], "")


def set_titles(widget, title=None, subtitle=None):
    """Set a widget's border title and subtitle, only if they change (each set repaints)."""
    if title is not None and widget.border_title != title:
        widget.border_title = title
    if subtitle is not None and widget.border_subtitle != subtitle:
        widget.border_subtitle = subtitle


def vm_colour(vm_id, kind="vm"):
    """The colour of instance ``vm_id``: from the VMs' family, or the containers' one."""
    family = CONTAINER_COLOURS if kind == "container" else VM_COLOURS
    return family[(vm_id - 1) % len(family)]


def colour_of(sample):
    """The colour of a VMSample (its id and kind)."""
    return vm_colour(sample.id, getattr(sample, "kind", "vm"))



@functools.lru_cache(maxsize=512)
def parse_style(text):
    return Style.parse(text) if text else Style()


class LinePanel(Widget):
    """A widget drawn line by line (Textual's line API) from ``build()``: a list of lines, each
    a list of (text, style string) pieces.  It is rebuilt at each poll, but repainted only
    when a piece changed, and it skips Rich Text and markup altogether: painting is what costs
    here, and the UI thread shares the host's cores with the VMs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lines = None
        self._strips = {}

    def build(self):
        raise NotImplementedError

    def update_view(self):
        lines = self.build()
        if lines != self._lines:
            self._lines = lines
            self._strips.clear()
            self.refresh()

    def on_resize(self, event):
        self._lines = None
        self._strips.clear()
        self.refresh()

    def render_line(self, y):
        if self._lines is None:
            self._lines = self.build()
        width = self.content_size.width
        base = self.rich_style
        key = (y, width, base)
        strip = self._strips.get(key)
        if strip is None:
            pieces = self._lines[y] if y < len(self._lines) else ()
            strip = Strip([Segment(t, parse_style(st)) for t, st in pieces])
            strip = strip.crop_extend(0, width, None).apply_style(base)
            self._strips[key] = strip
        return strip

    def plain(self):
        """The text shown (for tests)."""
        lines = self._lines if self._lines is not None else self.build()
        return "\n".join("".join(t for t, _ in line) for line in lines)
