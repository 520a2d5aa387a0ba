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
"""
import argparse
import hashlib
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

from .store import ContainerStore, default_root

IDLE_SECONDS = float(os.environ.get("HV_DAEMON_IDLE", "600"))


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
    os.makedirs(base, mode=0o700, exist_ok=True)
    return os.path.join(base, f"hvd-{tag}.sock")


def connect(path, timeout=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def ensure(store_root=None, wait=15.0):
    """A connected socket to the daemon of this store, starting it if needed."""
    path = socket_path(store_root)
    try:
        return connect(path)
    except OSError:
        pass
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
    end = time.time() + wait
    while time.time() < end:
        try:
            return connect(path)
        except OSError:
            if proc.poll() is not None:
                try:
                    return connect(path)    # another daemon won the race
                except OSError:
                    break
            time.sleep(0.05)
    raise OSError(f"the hvlab daemon did not start (see {root / 'hvd.log'})")


class Channel:
    """JSON lines over a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.lock = threading.Lock()

    def send(self, **msg):
        data = (json.dumps(msg) + "\n").encode()
        with self.lock:
            self.sock.sendall(data)

    def recv(self):
        line = self.rfile.readline()
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


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hvd")
    ap.add_argument("--store")
    ap.add_argument("--socket")
    args = ap.parse_args(argv)
    from .service import Service
    store = ContainerStore(args.store)
    path = args.socket or socket_path(args.store)
    if os.path.exists(path):
        try:
            connect(path).close()
            return 0                            # another daemon serves this store
        except OSError:
            os.unlink(path)
    service = Service(store)
    server = Server(path, Handler)
    server.daemon = service
    service.server = server
    threading.Thread(target=service.watch_idle, args=(IDLE_SECONDS,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        service.shutdown()
        server.server_close()
        try:
            os.unlink(path)
        except OSError:
            pass
    return 0

if __name__ == "__main__":
    sys.exit(main())
