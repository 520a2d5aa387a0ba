"""The daemon's operations, one method per `hv container` verb (Docker's semantics).

A record in the store is the container as the user knows it (created, running, exited); a
live ``Container`` on the daemon's engine exists while it runs.  When one ends, its writable
layer and state are saved (and with --rm it is removed); `start` makes a new live container
from the record with that layer over the image, so its changes survive stop and start.
"""
import threading
import time
import traceback

from . import imageref, runtime
from . import signal as sig
from .runtime import ContainerError
from .store import StoreError

HOST_MEM = 512 << 20


def _text(data):
    return data.decode("latin-1")


class _Attached:
    """A client attached to a container's output: a watcher registered *before* the
    container starts (so no early output is lost), which holds what comes before the client's
    "ok" and sends it after, in order; None (from _reap, once the record is saved) ends it."""

    def __init__(self, ch):
        self.ch, self.done, self.lock = ch, threading.Event(), threading.Lock()
        self.pending, self.live = [], False

    def __call__(self, data):
        with self.lock:
            if not self.live:
                self.pending.append(data)
                return
        self._send(data)

    def go(self, ok):
        with self.lock:
            self.ch.send(ok=ok)
            for data in self.pending:
                self._send(data)
            self.pending, self.live = [], True

    def _send(self, data):
        if data is None:
            self.done.set()
            return
        try:
            self.ch.send(out=_text(data))
        except OSError:
            self.done.set()


class Service:
    def __init__(self, store):
        from ..engine import Engine
        self.store = store
        self.image_store = store.image_store()      # the OCI store this one lives in
        self.engine = Engine(host_mem=HOST_MEM, wall_clock=True)
        self.live = {}                  # record id -> Container
        self.watchers = {}              # record id -> [callables(bytes)]
        self.reaped = {}                # record id -> Event: its end is saved in the store
        self.lock = threading.RLock()
        self.clients = 0
        self.last_activity = time.time()
        self.server = None
        self._load_networks()
        for r in store.all():           # a daemon restart: what ran has exited
            if r["state"] == "running":
                r.update(state="exited", exit_code=r.get("exit_code") or 137,
                         finished=time.time())
                store.save(r)

    # ---------------------------------------------------------------- plumbing
    def serve(self, ch, msg):
        op = msg.get("op", "")
        fn = getattr(self, "op_" + op, None)
        if fn is None:
            ch.send(error=f"unknown request {op!r}", status=125)
            return
        try:
            fn(ch, msg)
        except (ContainerError, StoreError) as exc:
            ch.send(error=str(exc), status=getattr(exc, "status", 125) if isinstance(
                exc, ContainerError) else 1)
        except Exception as exc:        # a bug serving one request: one line to that client
            # (the standard: never a bare "the daemon closed the connection"); the traceback
            # goes to hvd.log, and the daemon and every other container run on
            traceback.print_exc()
            try:
                ch.send(error=f"internal error in the daemon: {type(exc).__name__}: {exc} "
                              "(traceback in hvd.log)", status=125)
            except OSError:
                pass

    def busy(self):
        with self.lock:
            return any(not c.done for c in self.live.values()) or self.clients > 0

    def may_exit(self, busy):
        """Replaced by the daemon (daemon.idle_exit: the socket goes first, under a lock)."""
        return not busy()

    def watch_idle(self, seconds):
        while True:
            time.sleep(min(1.0, seconds / 4))
            if self.busy():
                self.last_activity = time.time()
            elif time.time() - self.last_activity > seconds and self.may_exit(self.busy):
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                return

    def shutdown(self):
        for rid, c in list(self.live.items()):
            if not c.done:
                self.engine.kill(c)
        self.engine.wait(timeout=5)
        self.engine.shutdown()

    # ---------------------------------------------------------------- making and starting
    def _launch(self, record, watcher=None):
        # the image the container was made from, by the digest pinned at create (a re-tag
        # does not change a container's image, as in Docker)
        image = imageref.resolve(record.get("image_digest") or record["image"],
                                 self.image_store, name=record["image"])
        if record.get("kernel_bug_after") is not None:
            self.engine_kernel().inject_bug(record.pop("kernel_bug_after"))
        c = runtime.create(
            self.engine, image, record["cmd"], name=record["name"], env=record["env"],
            workdir=record.get("workdir"), hostname=record.get("hostname"),
            memory=record["memory"], pids_limit=record.get("pids_limit"),
            tty=record.get("tty", False), cpu_shares=record.get("cpu_shares") or 1024,
            cpus=record.get("cpus"), upper=self.store.layer(record),
            network=record.get("network"))
        rid = record["id"]
        self.live[rid] = c
        self.reaped[rid] = threading.Event()
        if watcher is not None:
            self.watchers.setdefault(rid, []).append(watcher)

        def out(data, rid=rid, record=record):
            self.store.append_log(record, data)
            for w in list(self.watchers.get(rid, ())):
                w(data)
        c.console.listeners.append(out)
        if not record.get("interactive") and not record.get("tty"):
            c.close_input()             # docker without -i: stdin is at end of file at once
        if record.get("publish"):
            from . import publish
            try:
                publish.publish(c, record["publish"])
            except (ValueError, OSError) as exc:
                self.engine.remove(c)
                self.live.pop(rid, None)
                self.reaped.pop(rid).set()
                if watcher is not None:
                    self.watchers[rid].remove(watcher)
                raise ContainerError(f"cannot publish {record['publish']}: {exc}") from None
        record.update(state="running", started=time.time(), exit_code=None)
        self.store.save(record)
        threading.Thread(target=self._reap, args=(record, c), daemon=True).start()
        self.engine.start(c)
        return c

    def _reap(self, record, c):
        self.engine.wait(vms=[c])
        with self.lock:
            try:
                self.store.save_layer(record, c)
            except OSError:
                pass
            code = c.exit_code if c.exit_code is not None else (137 if c.killed else 255)
            record.update(state="exited", exit_code=code, finished=time.time(),
                          reason=c.reason, crashed=c.exit_code is None and not c.killed)
            if self.store.load(record["id"]) is not None:
                self.store.save(record)
            if record.get("rm"):
                self._forget(record)
            self.engine.remove(c)
            for w in list(self.watchers.get(record["id"], ())):
                w(None)
            self.reaped[record["id"]].set()

    def _record(self, ref):
        return self.store.find(ref)

    def _forget(self, record):
        """The container is gone (rm, or --rm at its end): its record, layer and log, and its
        hold on its image."""
        self.store.remove(record)
        imageref.unregister(record["id"], self.image_store)

    def op_run(self, ch, msg):
        spec = msg["spec"]
        record = self.store.new(spec)
        try:                            # the record holds its image: `hv image rm` refuses
            record["image_digest"] = imageref.register(record["image"], record["id"],
                                                       self.image_store)
        except ContainerError:          # no such image: docker makes no container
            self._forget(record)
            raise
        self.store.save(record)
        att = None if spec.get("detach") else _Attached(ch)
        try:
            with self.lock:
                c = self._launch(record, att)
        except Exception:               # any failure: --rm leaves no "Created" record behind
            record.update(state="created", exit_code=None)     # docker: it stays "Created"
            self._forget(record) if record.get("rm") else self.store.save(record)
            raise
        if att is None:
            ch.send(ok=record["id"])
            return
        self._attach(ch, record, c, att, interactive=spec.get("interactive"))

    def op_start(self, ch, msg):
        record = self._record(msg["ref"])
        rid = record["id"]
        self._settle(record, ending=False)  # one that just ended: its end saved first
        record = self._record(rid)
        record["interactive"] = bool(msg.get("interactive"))
        att = _Attached(ch) if msg.get("attach") else None
        with self.lock:
            c = self.live.get(rid)
            if c is None or c.done:
                c = self._launch(record, att)
            elif att is not None:       # running: _reap has not broadcast its end yet
                self.watchers.setdefault(rid, []).append(att)
        if att is None:
            ch.send(ok=record["name"])
            return
        self._attach(ch, record, c, att, interactive=msg.get("interactive"))

    def _attach(self, ch, record, c, att, interactive=False):
        att.go(record["id"])
        if interactive:
            threading.Thread(target=self._pump_stdin, args=(ch, c), daemon=True).start()
        att.done.wait()
        with self.lock:
            self.watchers[record["id"]].remove(att)
        r = self.store.load(record["id"]) or record
        if r.get("crashed") and r.get("reason"):    # no process exit status to show: why
            ch.send(notice=f"container {r.get('name') or r['id'][:12]}: {r['reason']}")
        ch.send(exit=r.get("exit_code") if r.get("exit_code") is not None else 0)

    def _pump_stdin(self, ch, c, term=None):
        while True:
            try:
                msg = ch.recv()
            except (OSError, ValueError):
                return
            if msg is None or msg.get("eof"):
                with c.lock:
                    (term.hangup_input() if term else c.tty.hangup_input())
                return
            size = msg.get("winsize")
            if isinstance(size, list) and len(size) == 2 and \
                    all(isinstance(n, int) and 0 < n < 65536 for n in size):
                with c.lock:                # the client's window: SIGWINCH if it changed
                    (term or c.tty).resize(size[0], size[1])
            if "stdin" in msg:
                data = msg["stdin"].encode("latin-1")
                with c.lock:
                    if term is not None:
                        term.feed(data)
                    else:
                        c.tty.feed(data)

    # ---------------------------------------------------------------- the other verbs
    def _row(self, r):
        c = self.live.get(r["id"])
        row = dict(r)
        if c is not None and not c.done:
            row["state"] = "running"
        return row

    def op_ls(self, ch, msg):
        rows = [self._row(r) for r in self.store.all()]
        if not msg.get("all"):
            rows = [r for r in rows if r["state"] == "running"]
        ch.send(ok=rows)

    def _running(self, ref):
        record = self._record(ref)
        c = self.live.get(record["id"])
        if c is None or c.done:
            raise ContainerError(f"container {record['name']} is not running", 1)
        return record, c

    def op_stop(self, ch, msg):
        """docker stop: SIGTERM to pid 1, SIGKILL after the grace period."""
        record = self._record(msg["ref"])
        c = self.live.get(record["id"])
        if c is not None and not c.done:
            with c.lock:
                init = c.procs.get(1)
                if init is not None:
                    c.kernel.signals.send(c, init, sig.SIGTERM)
                    if c.idle:
                        c.idle = False
                        self.engine.wake(c)
            if not self.engine.wait(timeout=float(msg.get("time", 10)), vms=[c]):
                self.engine.kill(c)
            self.engine.wait(timeout=5, vms=[c])
            self._settle(record)
        ch.send(ok=record["name"])

    def _settle(self, record, ending=True, timeout=60.0):
        """Wait until the end of the container's last run is saved (_reap): one being
        stopped or killed (``ending``), else only one that has already ended."""
        with self.lock:
            c, ev = self.live.get(record["id"]), self.reaped.get(record["id"])
        if c is not None and ev is not None and (ending or c.done):
            ev.wait(timeout)

    def op_kill(self, ch, msg):
        record, c = self._running(msg["ref"])
        signo = int(msg.get("signal") or sig.SIGKILL)
        with c.lock:
            init = c.procs.get(1)
            if init is not None:
                c.kernel.signals.send(c, init, signo, forced=True)   # from outside its ns
                if c.idle:
                    c.idle = False
                    self.engine.wake(c)
        if signo == sig.SIGKILL:
            self.engine.wait(timeout=5, vms=[c])
            self._settle(record)
        ch.send(ok=record["name"])

    def op_rm(self, ch, msg):
        record = self._record(msg["ref"])
        c = self.live.get(record["id"])
        if c is not None and not c.done:
            if not msg.get("force"):
                raise ContainerError(f"cannot remove running container {record['name']}: "
                                     f"stop it first or use -f", 1)
            self.engine.kill(c)
            self.engine.wait(timeout=5, vms=[c])
            self._settle(record)
        self._forget(record)
        ch.send(ok=record["name"])

    def op_logs(self, ch, msg):
        record = self._record(msg["ref"])
        ch.send(ok=record["id"])
        ch.send(out=_text(self.store.log(record)))
        c = self.live.get(record["id"])
        if msg.get("follow") and c is not None and not c.done:
            done = threading.Event()

            def forward(data):
                if data is None:
                    done.set()
                else:
                    ch.send(out=_text(data))
            self.watchers.setdefault(record["id"], []).append(forward)
            done.wait()
            self.watchers[record["id"]].remove(forward)
        ch.send(exit=0)

    def op_exec(self, ch, msg):
        record, c = self._running(msg["ref"])
        done = threading.Event()

        def sink(data):
            try:
                ch.send(out=_text(data))
            except OSError:
                pass
        with c.lock:                    # the answer goes out before the process can write
            p = runtime.exec_in(c, msg["argv"], env=c.config.env + list(msg.get("env") or []),
                                workdir=msg.get("workdir") or "/", tty=msg.get("tty", False),
                                sink=sink)
            ch.send(ok=p.pid)
        if msg.get("interactive"):
            threading.Thread(target=self._pump_stdin, args=(ch, c, p.term), daemon=True).start()
        else:
            with c.lock:
                p.term.hangup_input()
        while p.state != "Z" and not c.done:
            done.wait(0.02)
        st = p.exit_status if p.state == "Z" else 137
        ch.send(exit=(st >> 8) & 0xFF if st & 0x7F == 0 else 128 + (st & 0x7F))

    def op_stats(self, ch, msg):
        rows = []
        for rid, c in list(self.live.items()):
            if not c.done:
                s = c.stats()
                s["record"] = rid
                rows.append(s)
        ch.send(ok=rows)

    def op_commit(self, ch, msg):
        record = self._record(msg["ref"])
        c = self.live.get(record["id"])
        if c is not None and not c.done:
            with c.lock:
                self.store.save_layer(record, c)
        path = self.store.layer_path(record)
        if not path.exists():
            raise ContainerError(f"container {record['name']} has no writable layer yet", 1)
        digest = imageref.commit(record.get("image_digest") or record["image"], path,
                                 msg["image"], comment=f"hv container commit {record['name']}",
                                 store=self.image_store)
        ch.send(ok=digest)

    def op_network(self, ch, msg):
        nets = self.engine_kernel().networks
        verb, name = msg.get("verb"), msg.get("name")
        if verb == "create":
            try:
                net = nets.create(name)
            except ValueError as exc:
                raise ContainerError(str(exc), 1) from None
            self._save_networks()
            ch.send(ok=name)
        elif verb == "rm":
            net = nets.get(name)
            if net is None:
                raise ContainerError(f"network {name} not found", 1)
            if net.members:
                raise ContainerError(f"network {name} has active endpoints", 1)
            del nets.nets[name]
            self._save_networks()
            ch.send(ok=name)
        else:
            ch.send(ok=[(n.name, str(n.subnet), len(n.members)) for n in nets.nets.values()])

    def engine_kernel(self):
        from .kernel import Kernel
        return Kernel.of(self.engine)

    def _save_networks(self):
        import json
        names = list(self.engine_kernel().networks.nets)
        (self.store.root / "networks.json").write_text(json.dumps(names))

    def _load_networks(self):
        import json
        path = self.store.root / "networks.json"
        if path.exists():
            for name in json.loads(path.read_text()):
                self.engine_kernel().networks.create(name)

    def op_ping(self, ch, msg):
        ch.send(ok="pong")

    def op_shutdown(self, ch, msg):
        ch.send(ok="bye")
        threading.Thread(target=self.server.shutdown, daemon=True).start()
