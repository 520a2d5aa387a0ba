"""What `hv run` and `hv demo` share: booting VMs with their consoles on the terminal, waiting,
and the end-of-run table and verdicts."""
import sys
import threading
import time

from ..console import LinePrefixer
from ..lifecycle import CRASHED, HALTED
from . import output
from .output import OutputError

_print_lock = threading.Lock()


def emit(text, stream=None):
    """Write to stdout (or ``stream``); raises output.OutputError when it cannot."""
    with _print_lock:
        output.write(stream if stream is not None else sys.stdout, text)


def _quiet(write):
    """A console listener runs on a worker thread: a write error is only recorded (the main
    thread ends the run, see wait), it must never reach the guest or the worker."""
    def listener(data):
        try:
            write(data)
        except OutputError:
            pass
    return listener


def attach_console(vm, prefixed, out=None):
    """Show the VM's console on the terminal: raw for one VM, `[name] ` lines for several."""
    out = out if out is not None else sys.stdout
    if prefixed:
        prefixer = LinePrefixer(f"[{vm.name}] ", lambda line: emit(line, out))
        vm.console.listeners.append(_quiet(prefixer))
        return prefixer
    buffer = getattr(out, "buffer", None)

    def raw(data):
        with _print_lock:
            if buffer is not None:
                output.write(buffer, data)
            else:
                output.write(out, data.decode("utf-8", errors="replace"))
    vm.console.listeners.append(_quiet(raw))
    return None


def wait(engine, timeout):
    """engine.wait(timeout), but ending early (OutputError) when the output has failed."""
    end = None if timeout is None else time.perf_counter() + timeout
    while True:
        left = 0.1 if end is None else min(0.1, end - time.perf_counter())
        if left <= 0:
            return False
        if engine.wait(left):
            return True
        if output.failed() is not None:
            raise output.failed()


def flush_all(prefixers):
    """The partial lines still held, at the end of a run (nothing if the output failed)."""
    for p in prefixers:
        if p is not None:
            try:
                p.flush()
            except OutputError:
                return


def outcome(vm):
    """('pass' | 'fail' | 'crash' | 'limit' | 'running', one-line description)."""
    if vm.status == HALTED and vm.exit_code == 0:
        return "pass", vm.reason
    if vm.status == HALTED and getattr(vm, "limited", False):
        return "limit", vm.reason
    if vm.status == HALTED and vm.exit_code is not None:
        return "fail", vm.reason
    if vm.status == CRASHED:
        return "crash", vm.reason
    if vm.status == HALTED:
        return "fail", vm.reason or "stopped"
    return "running", f"still {vm.status} when the run ended"


def exit_status(vms):
    """0: every guest powered off with success; 1: any failed or crashed; 124: out of time."""
    kinds = [outcome(vm)[0] for vm in vms]
    if any(k in ("fail", "crash") for k in kinds):
        return 1
    if any(k in ("limit", "running") for k in kinds):
        return 124
    return 0


def _mips(s):
    return s["instructions"] / s["host_seconds"] / 1e6 if s["host_seconds"] > 0 else 0.0


def stats_table(vms):
    """The per-VM table printed by --stats and at the end of hv demo."""
    rows = [vm.stats() for vm in vms]
    head = (f"{'vm':<10} {'status':<8} {'instructions':>13} {'MIPS':>7} {'host s':>7} "
            f"{'pages':>13} {'exits':>9}  top exits")
    lines = [head, "-" * len(head)]
    for s in rows:
        exits = s["exits"]
        total = sum(exits.values())
        top = sorted(((v, k) for k, v in exits.items() if v), reverse=True)[:4]
        top_text = ", ".join(f"{k} {v}" for v, k in top) or "-"
        pages = f"{max(s['pages_allocated'], s['pages_peak'])}/{s['pages_reserved']}"
        lines.append(f"{s['name']:<10} {s['status']:<8} {s['instructions']:>13,} "
                     f"{_mips(s):>7.1f} {s['host_seconds']:>7.2f} {pages:>13} {total:>9,}  "
                     f"{top_text}")
    return "\n".join(lines) + "\n"
