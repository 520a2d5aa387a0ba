"""After a container image in the picker: its command line, split as a shell would
(shlex), the image's own command (its Cmd) offered first.  Dismisses with the argv list
(empty: the image's command) or None (esc)."""
import shlex

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class CommandScreen(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, choice):
        super().__init__()
        self.choice = choice

    def compose(self):
        with Vertical(id="command-box"):
            yield Static(f"Run in a container of [b]{self.choice.name}[/b] (on a terminal: "
                         f"its console is the shell's)\n[dim]enter: run it · esc: cancel · "
                         f"empty: the image's command[/dim]")
            yield Input(value=shlex.join(self.choice.command), id="command-line",
                        placeholder="command and arguments, e.g. sh -c 'echo hi; sleep 5'")

    def on_mount(self):
        self.query_one(Input).focus()

    def on_input_submitted(self, event):
        try:
            argv = shlex.split(event.value)
        except ValueError as exc:           # an unbalanced quote
            self.notify(f"cannot split the command line: {exc}", severity="error")
            return
        self.dismiss(argv)

    def action_cancel(self):
        self.dismiss(None)
