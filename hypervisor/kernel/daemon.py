"""hvd: the long-lived owner of the shared kernel that `hv container` commands talk to.

Containers started by separate `hv` commands must share one kernel, so, as with Docker, one
process owns the engine and its kernel and every `hv container` command is its client.  `hv`
starts the daemon on demand (``ensure``); it listens on a unix socket under the user's runtime
directory (one daemon per container store), keeps each container's record, writable layer and
log in the store (store.py), and exits by itself after HV_DAEMON_IDLE seconds (default 600)
with no container running and no client.  Its containers follow the host clock (--wall-clock),
as a user of `sleep 5` expects; the in-process API (runtime.py) needs no daemon.

Protocol: one JSON object per line each way.  A request is {"op": ..., ...}; the answer is
{"ok": ...} or {"error": "one line", "status": N}; `run`/`start -a`/`exec`/`logs -f` then
stream {"out": text} (latin-1) and end with {"exit": status}; the client may send
{"stdin": text} and {"eof": true}.

Races this file closes (each once made a client fail on a loaded machine):
* start-up: the daemon binds its socket before it imports the engine and numba (seconds under
  load), so a client connects at once and its request waits in the backlog; the client waits
  as long as the daemon process lives.  Two daemons starting for one store: a start lock.
* idle exit: a client holds a shared lock on ``<socket>.lock`` from before it connects until
  the first answer arrives; the daemon exits idle only while it holds that lock exclusively,
  and unlinks its socket under it, so a request is never sent to a daemon that is going away
  (the client finds no socket and starts a new daemon).  A daemon removes the socket path at
  exit only if it is still its own.
"""
import argparse
import fcntl
import hashlib
import json
import os
import select
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

from .store import ContainerStore, default_root

IDLE_SECONDS = float(os.environ.get("HV_DAEMON_IDLE", "600"))


SUN_PATH_MAX = 107                      # sockaddr_un.sun_path less its NUL (unix(7))
START_WAIT = 120.0                      # how long a client waits for a live daemon to listen
SLOW_FIRST = 1.5                        # a new daemon's first answer later than this: say why
SLOW_MESSAGE = ("hv: starting the container daemon (the first start after an install "
                "compiles the hart: ~10 s)")


def socket_path(store_root=None):
    root = str(Path(store_root or default_root()).resolve())
    tag = hashlib.sha1(root.encode()).hexdigest()[:10]
    base = os.environ.get("HV_RUNTIME_DIR")
    if not base:
        import platformdirs
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = platformdirs.user_runtime_dir("hvlab", appauthor=False)
    path = os.path.join(base, f"hvd-{tag}.sock")
    if len(os.fsencode(path)) > SUN_PATH_MAX:   # a deep runtime dir: a short one of our own
        base = os.path.join("/tmp", f"hvlab-{os.getuid()}")
        path = os.path.join(base, f"hvd-{tag}.sock")
    os.makedirs(base, mode=0o700, exist_ok=True)
    return path


def connect(path, timeout=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def _lock(path, mode, block=True):
    """An flock on ``path`` (made if missing); the open file (close it to unlock) or None."""
    f = open(path, "a+b")
    try:
        fcntl.flock(f, mode | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        f.close()
        return None
    return f


def client_lock(path):
    """The shared lock a client holds from before it connects until its first answer."""
    return _lock(path + ".lock", fcntl.LOCK_SH)


def ensure(store_root=None, wait=START_WAIT, started=None):
    """A connected socket to the daemon of this store, starting it if needed (then True is
    appended to the list ``started``).  Call it while holding ``client_lock`` (Channel
    releases it at the first answer)."""
    path = socket_path(store_root)
    try:
        return connect(path)
    except OSError:
        pass
    if started is not None:
        started.append(True)
    root = Path(store_root or default_root())
    root.mkdir(parents=True, exist_ok=True)
    log = open(root / "hvd.log", "ab")
    env = dict(os.environ)              # the daemon runs this very hvlab package
    pkg_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent] + [p for p in env.get(
        "PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.Popen([sys.executable, "-m", "hypervisor.kernel.daemon", "--store",
                             str(root), "--socket", path], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True, cwd="/", env=env)
    log.close()
    end = time.time() + wait
    while time.time() < end:
        try:
            return connect(path)
        except OSError:
            if proc.poll() is not None:     # it exited: another daemon won the race, or
                try:                        # it failed (its log says why)
                    return connect(path)
                except OSError:
                    break
            time.sleep(0.05)
    raise OSError(f"the hvlab daemon did not start (see {root / 'hvd.log'})")


class Channel:
    """JSON lines over a socket.  ``hold``: a client's lock (client_lock), let go at the first
    message received."""

    def __init__(self, sock, hold=None, slow=None):
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.lock = threading.Lock()
        self.hold = hold
        self.slow = slow                # called once if the first answer takes SLOW_FIRST s

    def send(self, **msg):
        data = (json.dumps(msg) + "\n").encode()
        with self.lock:
            self.sock.sendall(data)

    def recv(self):
        if self.slow is not None:
            slow, self.slow = self.slow, None
            if not select.select([self.sock], [], [], SLOW_FIRST)[0]:
                slow()
        try:
            line = self.rfile.readline()
        finally:
            if self.hold is not None:
                self.hold.close()
                self.hold = None
        return json.loads(line) if line else None


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        daemon = self.server.daemon
        ch = Channel(self.request)
        daemon.clients += 1
        try:
            msg = ch.recv()
            if msg is not None:
                daemon.serve(ch, msg)
        except (OSError, ValueError):
            pass
        finally:
            daemon.clients -= 1
            daemon.last_activity = time.time()


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 64             # clients queue here while the engine loads


def idle_exit(path, ino, busy):
    """Called by the service when it has been idle: True when the daemon may go, with its
    socket unlinked (no client is between connecting and its first answer)."""
    held = _lock(path + ".lock", fcntl.LOCK_EX, block=False)
    if held is None:
        return False                    # a client is connecting
    try:
        if busy():
            return False
        _unlink_own(path, ino)
        return True
    finally:
        held.close()


def _unlink_own(path, ino):
    try:
        if os.stat(path).st_ino == ino:
            os.unlink(path)
    except OSError:
        pass


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hvd")
    ap.add_argument("--store")
    ap.add_argument("--socket")
    args = ap.parse_args(argv)
    store = ContainerStore(args.store)
    path = args.socket or socket_path(args.store)
    with _lock(path + ".start", fcntl.LOCK_EX):    # one daemon starts at a time
        if os.path.exists(path):
            try:
                connect(path).close()
                return 0                        # another daemon serves this store
            except OSError:
                os.unlink(path)
        server = Server(path, Handler)          # listening now: clients wait in the backlog
    ino = os.stat(path).st_ino
    try:
        from .service import Service            # the engine, numba: seconds on a busy host
        service = Service(store)
        # compile (or load) the hart before serving: requests wait in the backlog, and no
        # container's first slice, nor its host time, includes the compile (hvd.log says so)
        from ..commands.warmup import compile_hart
        compile_hart(sys.stderr)
        server.daemon = service
        service.server = server
        service.may_exit = lambda busy: idle_exit(path, ino, busy)
        threading.Thread(target=service.watch_idle, args=(IDLE_SECONDS,), daemon=True).start()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            service.shutdown()
    finally:
        server.server_close()
        _unlink_own(path, ino)
    return 0


if __name__ == "__main__":
    sys.exit(main())
