"""`n`: pick an image for a new instance: a bundled VM image, or a container image of the local
OCI store (then its command line, screens/command.py).  Dismisses with the chosen ImageChoice
or None."""
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

HEADINGS = {"vm": "VM images (bundled)",
            "container": "container images (local store; a shell on a terminal by default)"}


class PickerScreen(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, choices):
        super().__init__()
        self.choices = list(choices)

    def compose(self):
        kinds = [c.kind for c in self.choices]
        options = []
        for kind in ("vm", "container"):
            if kind not in kinds:
                continue
            if len(set(kinds)) > 1:             # a heading per kind when both are offered
                if options:
                    options.append(None)        # a separator
                options.append(Option(Text(HEADINGS[kind], style="bold"), disabled=True))
            # one line per image (the description cut to fit), so 80x24 shows a dozen
            options += [Option(Text.assemble((f"{c.name:<14} ", "bold"), c.description,
                                             no_wrap=True, overflow="ellipsis"), id=str(i))
                        for i, c in enumerate(self.choices) if c.kind == kind]
        with Vertical(id="picker-box"):
            yield Static("New VM or container from an image  "
                         "[dim](enter: start it, esc: cancel)[/dim]")
            yield OptionList(*options, id="picker-list")

    def on_mount(self):
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event):
        self.dismiss(self.choices[int(event.option.id)])

    def action_cancel(self):
        self.dismiss(None)
