"""The daemon's operations, one method per `hv container` verb (Docker's semantics).

A record in the store is the container as the user knows it (created, running, exited); a
live ``Container`` on the daemon's engine exists while it runs.  When one ends, its writable
layer and state are saved (and with --rm it is removed); `start` makes a new live container
from the record with that layer over the image, so its changes survive stop and start.
"""
import threading
import time

from . import imageref, runtime
from . import signal as sig
from .runtime import ContainerError
from .store import StoreError

HOST_MEM = 512 << 20


def _text(data):
    return data.decode("latin-1")


class Service:
    def __init__(self, store):
        from ..engine import Engine
        self.store = store
        self.engine = Engine(host_mem=HOST_MEM, wall_clock=True)
        self.live = {}                  # record id -> Container
        self.watchers = {}              # record id -> [callables(bytes)]
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

    def watch_idle(self, seconds):
        while True:
            time.sleep(min(1.0, seconds / 4))
            with self.lock:
                busy = any(not c.done for c in self.live.values()) or self.clients > 0
            if busy:
                self.last_activity = time.time()
            elif time.time() - self.last_activity > seconds:
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                return

    def shutdown(self):
        for rid, c in list(self.live.items()):
            if not c.done:
                self.engine.kill(c)
        self.engine.wait(timeout=5)
        self.engine.shutdown()

    # ---------------------------------------------------------------- making and starting
    def _launch(self, record):
        image = imageref.resolve(record["image"])
        if isinstance(image, imageref.StoreImage):      # `hv image rm` refuses while used
            image.image.store.register_use(image.image.digest, record["id"])
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
                          reason=c.reason)
            if self.store.load(record["id"]) is not None:
                self.store.save(record)
            if record.get("rm"):
                self.store.remove(record)
            self.engine.remove(c)
            for w in list(self.watchers.get(record["id"], ())):
                w(None)

    def _record(self, ref):
        return self.store.find(ref)

    def op_run(self, ch, msg):
        spec = msg["spec"]
        record = self.store.new(spec)
        try:
            with self.lock:
                c = self._launch(record)
        except ContainerError:
            record.update(state="created", exit_code=None)     # docker: it stays "Created"
            self.store.remove(record) if record.get("rm") else self.store.save(record)
            raise
        if spec.get("detach"):
            ch.send(ok=record["id"])
            return
        self._attach(ch, record, c, interactive=spec.get("interactive"))

    def op_start(self, ch, msg):
        record = self._record(msg["ref"])
        record["interactive"] = bool(msg.get("interactive"))
        with self.lock:
            c = self.live.get(record["id"])
            if c is None or c.done:
                c = self._launch(record)
        if not msg.get("attach"):
            ch.send(ok=record["name"])
            return
        self._attach(ch, record, c, interactive=msg.get("interactive"))

    def _attach(self, ch, record, c, interactive=False):
        done = threading.Event()

        def forward(data):
            try:
                if data is None:
                    done.set()
                else:
                    ch.send(out=_text(data))
            except OSError:
                done.set()
        self.watchers.setdefault(record["id"], []).append(forward)
        ch.send(ok=record["id"])
        if c.done:
            done.set()
        if interactive:
            threading.Thread(target=self._pump_stdin, args=(ch, c), daemon=True).start()
        done.wait()
        self.watchers[record["id"]].remove(forward)
        r = self.store.load(record["id"]) or record
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

    def _settle(self, record, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            r = self.store.load(record["id"])
            if r is None or r["state"] != "running":
                return
            time.sleep(0.02)

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
        self.store.remove(record)
        store = imageref.oci_store()
        if store is not None:
            store.unregister_use(record["id"])
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
        digest = imageref.commit(record["image"], path, msg["image"])
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
