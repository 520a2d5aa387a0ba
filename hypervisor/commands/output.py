"""Writing to the terminal when nobody may be reading any more.

`hv run hello | head -1`, `hv demo > /dev/full`, `hv images >&-`: hv behaves as well-behaved
Unix tools do.  When the reader of a pipe has gone (EPIPE) hv stops quietly with status 141,
the status a shell reports for a process ended by SIGPIPE (128 + 13), which is what `yes` or
`cat` give in the same place.  Any other failure to write (a full disk, a closed descriptor)
is one line on stderr and status 1.  Either way every VM is stopped first.

Console output is written from the scheduler's worker threads: a failed write there must not
reach the guest or the worker, so it is only recorded (``failed``), and the command's main
thread, which polls it, ends the run.
"""
import errno
import os
import sys
import threading

EPIPE_STATUS = 141


class OutputError(Exception):
    """Writing to stdout or stderr failed; ``status`` is what hv exits with."""

    def __init__(self, what, exc=None):
        self.broken_pipe = isinstance(exc, BrokenPipeError) or \
            getattr(exc, "errno", None) == errno.EPIPE
        if exc is None:
            detail = "it is closed"
        else:
            detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        super().__init__(f"cannot write to {what}: {detail}" if what else
                         f"write error: {detail}")
        self.status = EPIPE_STATUS if self.broken_pipe else 1


_lock = threading.Lock()
_first = None               # the first OutputError of this command


def reset():
    global _first
    _first = None


def failed():
    """The first write error so far (an OutputError), or None."""
    return _first


def _record(error):
    global _first
    with _lock:
        if _first is None:
            _first = error
    return _first


def write(stream, data):
    """Write ``data`` (str or bytes) to ``stream`` and flush it.  Raises OutputError, always
    the first one: after a failure nothing more is written."""
    if _first is not None:
        raise _first
    what = "standard error" if stream is not None and stream is sys.stderr else \
        "standard output"
    if stream is None:                  # Python's sys.stdout when fd 1 was closed at start
        raise _record(OutputError(what))
    try:
        stream.write(data)
        stream.flush()
    except (OSError, ValueError) as exc:   # ValueError: "I/O operation on closed file"
        raise _record(OutputError(what, exc if isinstance(exc, OSError) else None)) from None


class ClosedStream:
    """Stands for sys.stdout when descriptor 1 was closed before hv started (`hv ... >&-`),
    where Python leaves sys.stdout None and print() silently drops everything."""

    encoding = "utf-8"

    def write(self, data):
        if data:
            raise _record(OutputError("standard output"))
        return 0

    def flush(self):
        pass                            # nothing was ever buffered

    def isatty(self):
        return False

    def fileno(self):
        raise ValueError("standard output is closed")


WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF)


def write_error(exc):
    """The OutputError for an OSError that escaped a command, if it is a failed write (to
    stdout when what failed is still buffered there, else to some file); None otherwise."""
    if isinstance(exc, BrokenPipeError):
        return _record(OutputError("standard output", exc))
    try:
        sys.stdout.flush()              # what failed may still be buffered: it fails again
    except (OSError, ValueError) as again:
        return _record(OutputError("standard output", again if isinstance(again, OSError)
                                   else None))
    if exc.errno in WRITE_ERRNOS:
        return _record(OutputError(None, exc))
    return None


def finish(error):
    """Report ``error`` (one line unless the pipe's reader went away) and return the exit
    status.  stdout is pointed at /dev/null first, so that Python's own flush at exit of
    what is still buffered cannot fail a second time with a traceback."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):
        pass                            # no stdout at all: nothing is buffered for it
    if not error.broken_pipe:
        try:
            print(f"hv: {error}", file=sys.stderr, flush=True)
        except (OSError, ValueError, AttributeError):
            pass                        # stderr is gone too: the status says it
    return error.status
