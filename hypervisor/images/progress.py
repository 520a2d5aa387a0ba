"""What long operations (build, push, pull, load) show while they work.

Lines go to stderr.  On a terminal a byte counter is redrawn in place for big layers and
blobs (rich's progress bar); elsewhere (a pipe, CI, a test) only whole lines are written, so
the output stays readable in a log.
"""
import contextlib
import sys
import time


class Reporter:
    def __init__(self, stream=None, live=None, quiet=False):
        self.stream = stream if stream is not None else sys.stderr
        self.live = (self.stream.isatty() if live is None else live) and not quiet
        self.quiet = quiet
        self.start = time.monotonic()

    def line(self, text):
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def warn(self, text):
        print(f"warning: {text}", file=self.stream, flush=True)

    def elapsed(self):
        return time.monotonic() - self.start

    @contextlib.contextmanager
    def bytes(self, what, total=None):
        """A callable advance(n) for a byte stream; a live bar on a terminal."""
        if not self.live or (total is not None and total < (1 << 20)):
            yield lambda n: None
            return
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TransferSpeedColumn)
        with Progress(TextColumn("      {task.description}"), BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), transient=True,
                      console=Console(file=self.stream, force_terminal=True)) as bar:
            task = bar.add_task(what, total=total)
            yield lambda n: bar.advance(task, n)
