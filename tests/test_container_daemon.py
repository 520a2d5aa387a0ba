"""The container daemon's races, each checked deterministically in-process (the CLI tests in
test_container_cli.py run the real thing): a client never loses a container's first output or
its status, the daemon listens before it loads the engine, and its idle exit never meets a
client that is connecting."""
import os
import socket
import threading

import pytest

from kernelhelp import make_rootfs


class FakeChannel:
    """What the service sends to one client."""

    def __init__(self):
        self.sent = []

    def send(self, **msg):
        self.sent.append(msg)

    def recv(self):
        return None


@pytest.fixture
def service(tmp_path):
    from hypervisor.kernel.service import Service
    from hypervisor.kernel.store import ContainerStore
    s = Service(ContainerStore(tmp_path / "containers"))
    yield s
    s.shutdown()


def test_attached_run_gets_all_output_first_ok_and_the_true_status(service, tmp_path):
    """The client's watcher is in place before the container starts, and its end is sent only
    once the record is saved: 20 quick containers in a row, each printing at once or dying at
    once, never lose a byte or report a wrong status."""
    root = str(make_rootfs(tmp_path / "root"))
    for i in range(20):
        argv, out, status = (["/bin/tool", "cat", "/etc/hostname"],
                             "/etc/hostname: inside\n\n", 0) if i % 2 else \
            (["/bin/tool", "segv"], "about to fault\n", 139)
        ch = FakeChannel()
        service.op_run(ch, {"spec": dict(image=root, cmd=argv, env=[], memory=8 << 20,
                                         rm=True)})
        assert "ok" in ch.sent[0], ch.sent
        assert "".join(m["out"] for m in ch.sent if "out" in m) == out
        assert ch.sent[-1] == {"exit": status}


def test_the_daemon_listens_before_it_loads_the_engine(tmp_path, monkeypatch):
    """A client connects while the daemon is still building its engine (seconds on a busy
    machine) and is answered once it is ready, instead of timing out."""
    from hypervisor.kernel import daemon, service
    ready, building = threading.Event(), threading.Event()
    real = service.Service

    class SlowService(real):
        def __init__(self, store):
            building.set()
            assert ready.wait(30)
            super().__init__(store)
    monkeypatch.setattr(service, "Service", SlowService)
    path = str(tmp_path / "d.sock")
    t = threading.Thread(target=daemon.main, args=(["--store", str(tmp_path / "c"),
                                                     "--socket", path],), daemon=True)
    t.start()
    assert building.wait(30)
    ch = daemon.Channel(daemon.connect(path, timeout=30))     # connects now: it listens
    ch.send(op="ping")
    ready.set()
    assert ch.recv() == {"ok": "pong"}
    c2 = daemon.Channel(daemon.connect(path, timeout=30))
    c2.send(op="shutdown")
    assert c2.recv() == {"ok": "bye"}
    t.join(30)
    assert not t.is_alive() and not os.path.exists(path)


def test_idle_exit_waits_for_a_connecting_client(tmp_path):
    """While a client holds its lock (from before connect until its first answer) the daemon
    does not exit idle; once free, it unlinks its socket first, so a later client starts a new
    daemon instead of talking to one that is going away."""
    from hypervisor.kernel import daemon
    path = str(tmp_path / "d.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    ino = os.stat(path).st_ino
    hold = daemon.client_lock(path)
    assert daemon.idle_exit(path, ino, busy=lambda: False) is False
    assert os.path.exists(path)
    hold.close()
    assert daemon.idle_exit(path, ino, busy=lambda: True) is False      # busy: stays
    assert daemon.idle_exit(path, ino, busy=lambda: False) is True
    assert not os.path.exists(path)
    srv.close()


def test_a_daemon_never_unlinks_a_newer_daemons_socket(tmp_path):
    from hypervisor.kernel import daemon
    path = str(tmp_path / "d.sock")
    old = socket.socket(socket.AF_UNIX)
    old.bind(path)
    old_ino = os.stat(path).st_ino
    os.unlink(path)                                 # the old one went idle...
    new = socket.socket(socket.AF_UNIX)
    new.bind(path)                                  # ...and a new one took the path
    daemon._unlink_own(path, old_ino)               # the old one's exit
    assert os.path.exists(path)
    old.close()
    new.close()


def test_a_deep_runtime_dir_still_gives_a_socket_path(tmp_path, monkeypatch):
    """sun_path holds 107 bytes (unix(7)): a deeper runtime dir falls back to a short one."""
    from hypervisor.kernel import daemon
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("HV_RUNTIME_DIR", str(deep))
    path = daemon.socket_path(tmp_path / "store")
    assert len(os.fsencode(path)) <= 107
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    os.unlink(path)
