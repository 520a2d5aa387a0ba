"""Progress of a lab on stderr: one line per step, with its duration, and a percentage that
updates in place for long steps when stderr is a terminal (plain lines otherwise)."""
import sys
import time


class Progress:
    def __init__(self, prefix, stream=None, quiet=False):
        self.prefix = prefix
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._text = ""
        self._t0 = 0.0
        self._last = 0.0

    def _write(self, text):
        if not self.quiet:
            self.stream.write(text)
            self.stream.flush()

    def begin(self, text):
        self._text = text
        self._t0 = self._last = time.perf_counter()
        self._write(f"{self.prefix}: {text} ..." + ("" if self.tty else "\n"))

    def update(self, fraction, note=""):
        """Long steps call this now and then; at most 5 redraws a second."""
        now = time.perf_counter()
        if not self.tty or now - self._last < 0.2:
            return
        self._last = now
        self._write(f"\r{self.prefix}: {self._text} ... {100 * min(1, fraction):3.0f}% {note}"
                    "\033[K")

    def end(self, note=""):
        took = time.perf_counter() - self._t0
        tail = f" done in {took:.1f} s" + (f" ({note})" if note else "")
        if self.tty:
            self._write(f"\r{self.prefix}: {self._text} ...{tail}\033[K\n")
        else:
            self._write(f"{self.prefix}:   {tail.strip()}\n")

    def step(self, text):
        return _Step(self, text)


class _Step:
    def __init__(self, progress, text):
        self.progress, self.text = progress, text

    def __enter__(self):
        self.progress.begin(self.text)
        return self.progress

    def __exit__(self, *exc):
        if exc[0] is None:
            self.progress.end()
        elif self.progress.tty:
            self.progress._write("\n")
        return False
