"""What `hv run`, `hv demo` and `hv top` share: printing from several threads, the VMs' names,
the end of a run in words, and the exit status that goes with them.

The words are Instance.outcome's (passed, failed (code N), crashed: REASON, killed, timed out,
stopped by --max-insns); the exit status of `hv run` follows from them:

    0    every guest passed
    1    a guest failed or crashed, or hvlab ended one that could never go on
    124  --timeout ran out, or a guest was stopped by --max-insns
    130  the user stopped hvlab (Ctrl-C, Ctrl-A x)
    2    a bad command line or image (before anything ran)
"""
import os
import sys
import threading

from . import output
from .output import OutputError

_print_lock = threading.Lock()


def emit(text, stream=None):
    """Write to stdout (or ``stream``); raises output.OutputError when it cannot."""
    with _print_lock:
        output.write(stream if stream is not None else sys.stdout, text)


def emit_bytes(data, stream=None):
    """A guest's console bytes exactly as written (one VM's console on the terminal)."""
    stream = stream if stream is not None else sys.stdout
    buffer = getattr(stream, "buffer", None)
    with _print_lock:
        if buffer is not None:
            output.write(buffer, data)
        else:
            output.write(stream, data.decode("utf-8", errors="replace"))


def quiet(write):
    """A console listener runs on a worker thread: a write error is only recorded (the main
    thread ends the run: waiting.wait_for), it must never reach the guest or the worker."""
    def listener(data):
        try:
            write(data)
        except OutputError:
            pass
    return listener


def vm_names(images):
    """One name per VM, the same in every command: the image's name (a bundled name, or a
    file's name without directory and extension), then name-2, name-3, ... for more copies."""
    names = []
    for image in images:
        names.append(next_name(image, names))
    return names


def next_name(image, taken):
    """The name for one more VM of ``image`` beside VMs named ``taken`` (hv top's new VMs)."""
    base = os.path.splitext(os.path.basename(str(image).rstrip("/")))[0] or "vm"
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def exit_status(vms, interrupted=False):
    """The exit status of a run from its VMs' outcomes (the table in this module's doc)."""
    if interrupted:
        return 130
    words = [vm.outcome for vm in vms]
    if any(w.startswith(("failed", "crashed", "killed")) for w in words):
        return 1
    if any(w != "passed" for w in words):
        return 124                          # timed out, --max-insns, or still running
    return 0


def describe(vm):
    """The end of one VM in one line: its outcome, and how it came to it."""
    outcome, reason = vm.outcome, vm.reason or ""
    if outcome.startswith("failed"):
        how = reason.split(": failure code")[0]
        return f"{outcome}, by {how}" if how else outcome
    if outcome.startswith("crashed") or not reason or reason in outcome or reason == "killed":
        return outcome
    return f"{outcome}: {reason}"


RVC_HINT = ("the image has compressed (RVC) instructions, which this hart does not run: "
            "rebuild it with -march=rv32ima_zicsr_zifencei")


def compressed_hint(vm):
    """For a VM that died on an illegal instruction: the image's ELF header says it was built
    with the C extension (EF_RISCV_RVC), and the faulting parcel is a 16-bit one.  Checked on
    the crash, so it stays true once the hart runs RVC (then such images no longer crash)."""
    if not vm.outcome.startswith("crashed") or "illegal instruction" not in vm.reason:
        return None
    blob = getattr(getattr(vm, "image", None), "blob", b"")
    if len(blob) < 0x28 or not int.from_bytes(blob[0x24:0x28], "little") & 0x1:
        return None
    if "stval 0x" in vm.reason:
        word = vm.reason.split("stval 0x", 1)[1][:8]
        if all(c in "0123456789abcdefABCDEF" for c in word) and word and int(word, 16) & 3 == 3:
            return None                     # a 32-bit instruction: not a compressed one
    return RVC_HINT
