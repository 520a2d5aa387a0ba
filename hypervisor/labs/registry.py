"""A local OCI distribution registry for lab 5: Debian's `docker-registry` (CNCF distribution
2.8) on a free port of this machine's loopback, its storage in a directory of the lab's, as
docs/images.md shows a class how to start one.  Without the program the lab says so and moves
its image through `hv image save` / `load` instead."""
import shutil
import socket
import subprocess
import time
from pathlib import Path

BINARIES = ("docker-registry", "registry")


def which():
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRegistry:
    """``with LocalRegistry(dir) as reg: reg.host`` ("127.0.0.1:PORT"); ``blobs()`` lists the
    blobs in its own storage (the registry keeps each once, whatever repository it came in)."""

    def __init__(self, root, binary=None, access_log=False, delete=False):
        self.root = Path(root)
        self.binary = binary or which()
        self.access_log = access_log        # every request in registry.log (tests count them)
        self.delete = delete                # the registry API's DELETE allowed
        self.proc = None
        self.host = None
        self.log = None

    def __enter__(self):
        self.root.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        self.host = f"127.0.0.1:{port}"
        config = self.root / "config.yml"
        access = "\n  accesslog:\n    disabled: false" if self.access_log else ""
        delete = "\n  delete:\n    enabled: true" if self.delete else ""
        config.write_text(f"""version: 0.1
log:
  level: warn{access}
storage:
  filesystem:
    rootdirectory: {self.root / "data"}{delete}
http:
  addr: {self.host}
""")
        self.log = open(self.root / "registry.log", "w+b")
        self.proc = subprocess.Popen([self.binary, "serve", str(config)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.__exit__(None, None, None)
        tail = (self.root / "registry.log").read_text(errors="replace")[-300:]
        raise OSError(f"{self.binary} did not start on {self.host}: {tail.strip()}")

    def blobs(self):
        """{digest: bytes} of the blobs in the registry's storage."""
        base = self.root / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256"
        return {f"sha256:{p.parent.name}": p.stat().st_size for p in base.glob("*/*/data")}

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
        return False
