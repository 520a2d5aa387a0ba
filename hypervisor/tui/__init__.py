"""`hv top`: a live Textual TUI to watch and steer the VMs of one engine.

    commands.py     the `hv top` subcommand: build the engine, start the VMs, run the app
    app.py          HvTop, the Textual App: owns the engine, the sampler and the poll timer
    sampler.py      reads every VM's counters at each poll (10 per second), keeps a minute
                    of history (CPU %, MIPS, exit rates by cause, the trap timeline) and makes
                    the one Snapshot every panel draws from
    screens/        one screen per file: main, help, confirm-kill, picker, step
    widgets/        vm table, host memory map, CPU sparklines, console, exits panel, timeline,
                    key bar
    app.tcss        the styling

The UI never waits for a VM: it reads the state rows (numpy) and a few Python attributes the
workers write, and a torn read of a counter is harmless.  Nothing is added to the hart's loop.
"""
