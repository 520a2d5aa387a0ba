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
