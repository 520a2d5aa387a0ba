"""A client that had to start the container daemon says why its first answer is late (the
daemon compiles the hart before serving, once after an install), and only then."""
import socket
import threading
import time

from hypervisor.kernel import daemon


def _answer_after(sock, seconds):
    def serve():
        time.sleep(seconds)
        sock.sendall(b'{"ok": 1}\n')
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_a_late_first_answer_is_explained_once(monkeypatch):
    monkeypatch.setattr(daemon, "SLOW_FIRST", 0.2)
    said = []
    a, b = socket.socketpair()
    ch = daemon.Channel(a, slow=lambda: said.append(time.monotonic()))
    _answer_after(b, 0.6)
    assert ch.recv() == {"ok": 1} and len(said) == 1
    _answer_after(b, 0.4)                   # later answers are the command's own business
    assert ch.recv() == {"ok": 1} and len(said) == 1


def test_a_prompt_answer_says_nothing(monkeypatch):
    monkeypatch.setattr(daemon, "SLOW_FIRST", 2.0)
    said = []
    a, b = socket.socketpair()
    ch = daemon.Channel(a, slow=lambda: said.append(1))
    _answer_after(b, 0.0).join()
    assert ch.recv() == {"ok": 1} and said == []
