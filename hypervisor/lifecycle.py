"""A VM's lifecycle states (vm.py), in a module light enough for any command to import.

    created --start--> running <--pause/resume--> paused
                          +--> halted (powered off: pass or fail with a code)
                          +--> crashed (unhandled trap, out of memory, ...: with a reason)
"""
CREATED, RUNNING, PAUSED, HALTED, CRASHED = "created", "running", "paused", "halted", "crashed"
DONE = (HALTED, CRASHED)
