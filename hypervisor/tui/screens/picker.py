"""`n`: pick a bundled image for a new VM.  Dismisses with the chosen ImageChoice or None."""
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class PickerScreen(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, choices):
        super().__init__()
        self.choices = list(choices)

    def compose(self):
        with Vertical(id="picker-box"):
            yield Static("New VM from a bundled image  [dim](enter: boot it, esc: cancel)[/dim]")
            # one line per image (the description cut to fit), so 80x24 shows a dozen
            yield OptionList(*[Option(Text.assemble((f"{c.name:<12} ", "bold"), c.description,
                                                    no_wrap=True, overflow="ellipsis"),
                                      id=str(i))
                               for i, c in enumerate(self.choices)], id="picker-list")

    def on_mount(self):
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event):
        self.dismiss(self.choices[int(event.option.id)])

    def action_cancel(self):
        self.dismiss(None)
