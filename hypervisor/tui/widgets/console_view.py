"""The selected VM's console: its scrollback (the last 8 KiB the guest wrote), followed live.

Focus it (enter on the table) and keys go to the VM's UART: printable characters as typed,
enter as CR, backspace as DEL, arrows as ANSI escapes.  Page up / page down (and the mouse
wheel) scroll back; escape gives the keys back to the table."""
import re

from textual.message import Message
from textual.widgets import Log

from . import set_titles

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NAMED = {"up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D",
          "enter": b"\r", "tab": b"\t", "backspace": b"\x7f"}


def clean(text):
    """Console bytes as Log text: no CRs, no escape sequences, no other control characters."""
    return _CONTROL.sub("", _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "")))


class ConsoleView(Log):
    """A Log that follows one VM's Console.  ``follow(vm)`` at each poll."""

    class Leave(Message):
        """Escape: the user is done typing into the console."""

    class Typed(Message):
        def __init__(self, data):
            super().__init__()
            self.data = data

    def __init__(self, **kwargs):
        super().__init__(max_lines=2000, auto_scroll=True, **kwargs)
        self.vm_id = None
        self._total = 0
        self._vm_console = None

    def follow(self, vm):
        """Show ``vm``'s console (None: nothing), appending only what is new since last time."""
        if vm is None:
            if self.vm_id is not None:
                self.vm_id, self._vm_console, self._total = None, None, 0
                self.clear()
                set_titles(self, "console")
            return
        console = vm.console
        total = console.total
        if vm.id != self.vm_id or console is not self._vm_console or total < self._total \
                or total - self._total > console.capacity:
            self.vm_id, self._vm_console = vm.id, console
            self.clear()
            self.write(clean(console.text()))
        elif total > self._total:
            self.write(clean(console.tail(total - self._total).decode("utf-8", "replace")))
        self._total = total
        set_titles(self, f"console · {vm.name}")

    def on_focus(self):
        self.border_subtitle = "typing goes to its UART · esc: back"

    def on_blur(self):
        self.border_subtitle = "enter: type here"

    def on_mount(self):
        self.border_title = "console"
        self.border_subtitle = "enter: type here"

    def on_key(self, event):
        key = event.key
        if key == "escape":
            self.post_message(self.Leave())
        elif key in ("pageup", "pagedown", "shift+up", "shift+down", "shift+home", "shift+end"):
            {"pageup": self.scroll_page_up, "pagedown": self.scroll_page_down,
             "shift+up": self.scroll_up, "shift+down": self.scroll_down,
             "shift+home": self.scroll_home, "shift+end": self.scroll_end}[key](animate=False)
        elif key in _NAMED:
            self.post_message(self.Typed(_NAMED[key]))
        elif event.character:
            data = event.character.encode("utf-8")
            self.post_message(self.Typed(b"\x7f" if data == b"\x08" else data))
        else:
            return
        event.stop()
        event.prevent_default()
