"""The widgets of `hv top`'s main screen (one per file) and the colours they share."""
from .. import sampler

# one colour per VM (by id), reused in the table, the memory map and the sparklines
VM_COLOURS = ("#5fafff", "#ffaf5f", "#87d787", "#d787d7", "#ffd75f", "#5fd7d7", "#ff8787",
              "#afafff", "#d7af87", "#87afaf", "#afd75f", "#ff87d7")
MONITOR_COLOUR = "#ffffff"
FREE_COLOUR = "#4e4e4e"

# one colour per exit cause (state.EXIT_NAMES order), shared by the exits panel and timeline
CAUSE_COLOURS = ("#5f87ff", "#5fafff", "#af87ff", "#8a8a8a", "#d787af", "#87d787",
                 "#ffd75f", "#ffaf5f", "#5fd7d7", "#d7d787", "#ff5f5f", "#afaf87")

STATE_STYLES = {"running": "green", "idle": "cyan", "paused": "yellow", "created": "blue",
                "halted": "bright_black", "crashed": "bold red"}


def vm_colour(vm_id):
    return VM_COLOURS[(vm_id - 1) % len(VM_COLOURS)]


def vm_state(vm):
    """The state word shown for a VM: its status, or 'idle' while it waits in wfi."""
    if vm.status == "running" and vm.idle:
        return "idle"
    return vm.status


__all__ = ["sampler", "vm_colour", "vm_state"]
