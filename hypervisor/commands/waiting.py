"""Waiting for the VMs of a run, and ending the ones still going when the run ends.

A run ends when every VM has ended ("done"), when --timeout runs out ("timeout"), when the user
quits ("quit": Ctrl-A x, or Ctrl-C on a terminal where it stops hvlab), or on SIGINT
("interrupted").  Meanwhile a VM that can never run again is ended at once instead of waited
for: it sleeps in wfi with no timer armed and no more console input can come (inputs.py), so
no interrupt will ever wake it.  Ending a VM gives its pages back, so the host's free-page count
after a run adds up whatever the ending.
"""
import time

from .. import state as S
from ..lifecycle import RUNNING
from . import output

POLL = 0.1                  # seconds between looks at the quit keys and stuck VMs


def wait_for(engine, vms, timeout, inputs=None):
    """'done', 'timeout' or 'quit'; raises output.OutputError as soon as the output has failed
    (`hv run hello | head -1`): the caller's finally stops every VM."""
    end = None if timeout is None else time.perf_counter() + timeout
    suspects = {}               # vm id -> instructions retired when first seen stuck
    while True:
        left = POLL if end is None else min(POLL, end - time.perf_counter())
        if left <= 0:
            return "timeout"
        if engine.wait(left, vms):
            return "done"
        if output.failed() is not None:
            raise output.failed()
        if inputs is not None and inputs.quit.is_set():
            return "quit"
        if inputs is not None:
            _end_stuck(engine, vms, inputs, suspects)


def stuck(vm, inputs):
    return (vm.status == RUNNING and vm.idle and int(vm.st[S.TIMECMP]) < 0
            and inputs.ended(vm))


def _end_stuck(engine, vms, inputs, suspects):
    for vm in vms:
        if not stuck(vm, inputs):
            suspects.pop(vm.id, None)
            continue
        retired = int(vm.st[S.INSTRET])
        if suspects.get(vm.id) != retired:
            suspects[vm.id] = retired           # seen twice, a poll apart, unchanged: stuck
            continue
        engine.kill(vm)
        vm.reason = inputs.no_input_reason(vm)


def finish(engine, vms, how, timeout, quit_reason):
    """End every VM still going: timed out, or killed by the user's quit."""
    for vm in vms:
        if vm.done:
            continue
        if how == "timeout":
            vm.timed_out = True
            engine.kill(vm)
            vm.reason = f"still running after --timeout {timeout:g} s"
        else:
            engine.kill(vm)
            vm.reason = f"stopped by {quit_reason}" if quit_reason else "killed"
    engine.wait(2.0, vms)                       # their pages come back as they leave the cores
