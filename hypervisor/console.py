"""A VM's console: the bytes it wrote, kept in a bounded ring buffer, and passed on as they come.

The ring keeps the last ``capacity`` bytes (scrollback for the TUI); ``total`` counts every byte
ever written.  ``listeners`` get each chunk as it arrives (hv run prints them).
"""
import threading


class Console:
    def __init__(self, capacity=8192):
        self.capacity = capacity
        self._buf = bytearray()
        self.total = 0
        self.listeners = []
        self._lock = threading.Lock()

    def write(self, data):
        with self._lock:
            self._buf += data
            if len(self._buf) > self.capacity:
                del self._buf[:len(self._buf) - self.capacity]
            self.total += len(data)
        for listener in self.listeners:
            listener(data)

    def text(self):
        """The scrollback as text (undecodable bytes shown as U+FFFD)."""
        with self._lock:
            return self._buf.decode("utf-8", errors="replace")

    def tail(self, n):
        with self._lock:
            return bytes(self._buf[-n:])

    def since(self, total):
        """(total now, the bytes written after the first ``total``, complete?) in one read under
        the lock, so a reader that follows the console (hv top) misses and repeats nothing.
        Not complete when some of them are already out of the scrollback, or when ``total`` is
        not a point of this console's history (it was cleared): then all it keeps is given."""
        with self._lock:
            new = self.total - total
            if 0 <= new <= len(self._buf):
                return self.total, bytes(self._buf[len(self._buf) - new:]), True
            return self.total, bytes(self._buf), False

    def clear(self):
        with self._lock:
            self._buf.clear()
            self.total = 0


class LinePrefixer:
    """Turns a byte stream into whole lines with a prefix (`[vm1] `), for several VMs at once.

    A guest that never prints a newline must not make the host hold its output: a partial line
    is flushed (as a line of its own) once it reaches ``limit`` bytes, cut at a UTF-8 character
    boundary.  Each write costs O(its own bytes): only the new data is searched for newlines."""

    def __init__(self, prefix, emit, limit=4096):
        self.prefix = prefix
        self.emit = emit            # callable(str): one finished line, newline included
        self.limit = limit
        self._partial = bytearray()

    def __call__(self, data):
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            self._partial += data[start:nl]
            self._line(self._partial)
            self._partial.clear()
            start = nl + 1
        self._partial += data[start:]
        while len(self._partial) >= self.limit:
            cut = _char_boundary(self._partial, self.limit)
            self._line(self._partial[:cut])
            del self._partial[:cut]

    def _line(self, raw):
        self.emit(self.prefix + raw.decode("utf-8", errors="replace").rstrip("\r") + "\n")

    def flush(self):
        if self._partial:
            self._line(self._partial)
            self._partial.clear()


def _char_boundary(buf, limit):
    """The largest cut <= limit that does not split a UTF-8 sequence (any cut if none)."""
    if limit >= len(buf):
        return limit
    cut = limit
    while cut > limit - 4 and cut > 0 and buf[cut] & 0xC0 == 0x80:   # a continuation byte
        cut -= 1
    return cut if cut > limit - 4 and cut > 0 else limit
