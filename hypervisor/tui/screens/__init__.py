"""The screens of `hv top`, one per file: main, help, confirm-kill, picker, step."""
