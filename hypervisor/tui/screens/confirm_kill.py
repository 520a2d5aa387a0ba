"""`k`: are you sure?  Dismisses with True (kill) or False."""
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmKillScreen(ModalScreen[bool]):
    BINDINGS = [Binding("y", "answer(True)", "kill"),
                Binding("n,escape", "answer(False)", "cancel")]

    def __init__(self, vm):
        super().__init__()
        self.vm = vm

    def compose(self):
        with Vertical(id="confirm-box"):
            yield Static(f"Kill [b]{self.vm.name}[/b] (id {self.vm.id})?  Its memory goes back "
                         f"to the host; it stays listed as halted.", id="confirm-text")
            with Horizontal(id="confirm-buttons"):
                yield Button("Kill (y)", variant="error", id="yes")
                yield Button("Cancel (n)", variant="primary", id="no")

    def on_mount(self):
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event):
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes):
        self.dismiss(bool(yes))
