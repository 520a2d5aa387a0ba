"""The `?` help screen: every key, and how to read the panels."""
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]hv top[/b] — watch and steer the VMs sharing this host

[b]Keys[/b] (they act on the VM selected in the table)
  [b]↑ ↓[/b]      select a VM              [b]p[/b]   pause / resume (starts a created VM)
  [b]k[/b]        kill (asks first)        [b]r[/b]   restart: reboot its image
  [b]n[/b]        new VM from a bundled image
  [b]+ -[/b]      weight ×2 / ÷2 (CPU shares, 1024 = default)
  [b]c[/b]        cap: none → 75% → 50% → 25% of one core → none
  [b]enter[/b]    type into its console (esc: back to the table)   [b]z[/b]  the same, full screen
  [b]s[/b]        single-step a paused VM: next instruction and registers
  [b]/[/b]        filter the table by name     [b]< >[/b]  sort column    [b]o[/b]  reverse order
  [b]x[/b]        remove a halted or crashed VM from the list
  [b]?[/b]        this help                [b]q[/b]   quit: every VM stops, the host threads end

[b]Panels[/b]
  [b]VMs[/b]: CPU% is host time on one core over the last second (100% = a whole core);
  MIPS and exits/s are over the last second; mem is pages the guest touched / its RAM.
  [b]host memory[/b]: the host's page array; a cell is a run of pages coloured by the owner of
  most of them (white: the monitor); · free  ░ ≤¼  ▒ ≤½  ▓ more  █ every page used.
  [b]CPU sparklines[/b]: each VM's share of one core over the last minute.
  [b]exits by cause[/b]: what stopped the hart, since boot and per second.
  [b]trap timeline[/b]: exits by cause in each 100 ms poll interval, newest on the right
  (the hart counts exits; the UI samples the counters, so no per-exit timestamps).

Numbers are read from the VMs' state rows 10 times a second; the UI never waits for a VM.
[dim]esc, q or ? closes this screen[/dim]"""


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self):
        with VerticalScroll(id="help-box"):
            yield Static(HELP, id="help-text")
