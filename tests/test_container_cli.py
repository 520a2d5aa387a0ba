"""`hv container ...` across separate hv invocations, through the on-demand daemon: Docker's
verbs, statuses and persistence (a stopped container keeps its writable layer until rm)."""
import os
import subprocess
import sys
import tarfile
import time

import pytest

from kernelhelp import make_rootfs


@pytest.fixture
def hv(tmp_path):
    """`hv` in a subprocess with this test's own store and runtime dir (so its own daemon).
    HV_DAEMON_IDLE is short, so a daemon left behind goes away; the daemon's idle exit cannot
    meet a request (daemon.py), and the teardown waits until this test's daemon is gone."""
    env = dict(os.environ, HV_STORE=str(tmp_path / "store"), HV_RUNTIME_DIR=str(tmp_path / "run"),
               HV_DAEMON_IDLE="30")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def run(*args, input=None, timeout=120):
        return subprocess.run([sys.executable, "-m", "hypervisor.cli", *args], env=env, cwd=root,
                              capture_output=True, timeout=timeout, input=input)
    yield run
    from hypervisor.kernel import daemon
    old = dict(os.environ)
    os.environ.update(env)
    try:
        path = daemon.socket_path()
        if os.path.exists(path):
            ch = daemon.Channel(daemon.connect(path, timeout=5))
            ch.send(op="shutdown")
            ch.recv()
        end = time.monotonic() + 30
        while os.path.exists(path) and time.monotonic() < end:
            time.sleep(0.05)
    except OSError:
        pass
    finally:
        os.environ.clear()
        os.environ.update(old)


def wait_for_log(hv, name, text, timeout=60):
    """Until `hv container logs NAME` shows ``text`` (a server says it listens)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in hv("container", "logs", name).stdout:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never wrote {text!r}")


def test_run_statuses_like_docker(hv, tmp_path):
    root = make_rootfs(tmp_path / "root")
    r = hv("container", "run", "--rm", str(root), "/bin/tool", "cat", "/etc/hostname")
    assert r.returncode == 0 and r.stdout == b"/etc/hostname: inside\n\n"
    assert hv("container", "run", "--rm", str(root), "/bin/tool", "segv").returncode == 139
    r = hv("container", "run", "--rm", str(root), "/bin/nothere")
    assert r.returncode == 127 and b"executable file not found" in r.stderr
    r = hv("container", "run", "--rm", str(root), "/etc/hostname")
    assert r.returncode == 126
    r = hv("container", "run", "--rm", str(tmp_path / "nope"), "/bin/tool")
    assert r.returncode == 125 and b"Unable to find image" in r.stderr
    assert hv("container", "ls", "-a").stdout.count(b"\n") == 1     # --rm left nothing


def test_changes_survive_stop_and_start_until_rm(hv, tmp_path):
    root = make_rootfs(tmp_path / "root")
    r = hv("container", "run", "--name", "keep", str(root), "/bin/tool", "append", "/etc/notes",
           "one;")
    assert r.returncode == 0 and r.stdout == b"/etc/notes: No such file or directory\n"
    r = hv("container", "start", "-a", "keep")
    assert r.stdout == b"/etc/notes: one;\n"
    r = hv("container", "start", "-a", "keep")
    assert r.stdout == b"/etc/notes: one;one;\n"
    other = hv("container", "run", "--rm", str(root), "/bin/tool", "cat", "/etc/notes")
    assert other.stdout == b"/etc/notes: No such file or directory\n"   # not in the image
    assert not (root / "etc" / "notes").exists()
    ls = hv("container", "ls", "-a").stdout.decode()
    assert "keep" in ls and "Exited (0)" in ls
    logs = hv("container", "logs", "keep").stdout
    assert logs.count(b"/etc/notes") == 3
    layer = next((tmp_path / "store" / ".hvlab" / "containers").glob("*/upper.tar"))
    with tarfile.open(layer) as t:
        assert t.getnames() == ["etc/notes"] and t.extractfile("etc/notes").read() == b"one;" * 3
    assert hv("container", "rm", "keep").returncode == 0
    assert b"keep" not in hv("container", "ls", "-a").stdout
    assert not layer.exists()


def test_detached_exec_stop_and_kill(hv, tmp_path):
    root = make_rootfs(tmp_path / "root")
    r = hv("container", "run", "-d", "--name", "tick", str(root), "/bin/tool", "ticker", "100000")
    assert r.returncode == 0 and len(r.stdout.strip()) == 12
    assert b"tick" in hv("container", "ls").stdout
    e = hv("container", "exec", "tick", "/bin/tool", "cat", "/etc/hostname")
    assert e.returncode == 0 and e.stdout == b"/etc/hostname: inside\n\n"
    assert hv("container", "exec", "tick", "/bin/tool", "nonsense").returncode == 2
    stats = hv("container", "stats").stdout.decode()
    assert "tick" in stats and "MiB / 64MiB" in stats
    assert hv("container", "rm", "tick").returncode == 1             # still running
    assert hv("container", "stop", "-t", "1", "tick").returncode == 0
    ls = hv("container", "ls", "-a").stdout.decode()
    # pid 1 of a namespace ignores SIGTERM without a handler: killed after the grace period
    assert "Exited (137)" in ls
    assert b"tick 0" in hv("container", "logs", "tick").stdout


def test_interactive_stdin(hv, tmp_path):
    root = make_rootfs(tmp_path / "root")
    r = hv("container", "run", "--rm", "-i", str(root), "/bin/tool", "upper",
           input=b"hello\nfrom stdin\n")
    assert r.returncode == 0 and r.stdout == b"HELLO\nFROM STDIN\n"
    r = hv("container", "run", "--rm", str(root), "/bin/tool", "upper", input=b"ignored")
    assert r.returncode == 0 and r.stdout == b""                    # no -i: stdin is empty


def test_network_and_published_port(hv, tmp_path):
    import socket
    root = make_rootfs(tmp_path / "root")
    assert hv("network", "create", "lab").returncode == 0
    assert hv("network", "create", "lab").returncode == 1         # already exists
    assert b"172.18.1.0/24" in hv("network", "ls").stdout
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    r = hv("container", "run", "-d", "--name", "web", "--network", "lab", "-p",
           f"127.0.0.1:{port}:80", str(root), "/bin/tool", "serve", "80", "pong:", "2")
    assert r.returncode == 0, r.stderr
    wait_for_log(hv, "web", b"listening\n")            # not a guessed sleep: a busy host
    r = hv("container", "run", "--rm", "--network", "lab", str(root), "/bin/tool", "fetch", "web",
           "80", "ping")
    assert r.stdout == b"reply: pong:ping\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"host")
        data = b""
        while chunk := s.recv(100):
            data += chunk
    assert data == b"pong:host"
    r = hv("container", "run", "--rm", "-p", "0.0.0.0:1:80", str(root), "/bin/tool", "cat", "/x")
    assert r.returncode == 125 and b"only loopback" in r.stderr


def test_commit_makes_an_image_of_the_changes(hv, tmp_path):
    from kernelhelp import PROGS
    ctx = tmp_path / "ctx"
    (ctx / "bin").mkdir(parents=True)
    (ctx / "bin" / "tool").write_bytes((PROGS / "tool").read_bytes())
    (ctx / "bin" / "tool").chmod(0o755)
    (ctx / "Buildfile").write_bytes(b"FROM scratch\nCOPY bin /bin\n")
    assert hv("image", "build", "-t", "base:1", str(ctx)).returncode == 0
    r = hv("container", "run", "--name", "w", "base:1", "/bin/tool", "write", "/note", "kept")
    assert r.returncode == 0, r.stderr
    r = hv("container", "commit", "w", "noted:1")
    assert r.returncode == 0 and r.stdout.startswith(b"sha256:")
    r = hv("container", "run", "--rm", "noted:1", "/bin/tool", "cat", "/note")
    assert r.stdout == b"/note: kept\n"
    r = hv("container", "run", "--rm", "base:1", "/bin/tool", "cat", "/note")
    assert r.stdout == b"/note: No such file or directory\n"       # the base is unchanged
    assert hv("container", "run", "--rm", "nothing:9", "/x").returncode == 125


def test_image_rm_refuses_while_a_container_holds_the_image(hv, tmp_path):
    """A container record holds its image (pinned by manifest digest, registered with the image
    store when the container is made): `hv image rm` refuses until `hv container rm`; a --rm
    container lets go by itself when it ends."""
    from hypervisor import images
    store = tmp_path / "store"
    r = hv("container", "run", "--rm", "busybox:1.35", "true")
    assert r.returncode == 0, r.stderr
    assert images.in_use("busybox:1.35", store) == []             # --rm let go
    r = hv("container", "run", "--name", "holder", "busybox:1.35", "echo", "held")
    assert r.returncode == 0 and r.stdout == b"held\n", r.stderr
    [holder] = images.in_use("busybox:1.35", store)
    assert holder in hv("container", "ls", "-a").stdout.decode()
    r = hv("image", "rm", "busybox:1.35")
    assert r.returncode != 0 and holder.encode() in r.stderr, r.stderr
    assert hv("container", "start", "-a", "holder").stdout == b"held\n"   # still runs
    assert hv("container", "rm", "holder").returncode == 0
    assert images.in_use("busybox:1.35", store) == []
    r = hv("image", "rm", "busybox:1.35")
    assert r.returncode == 0, r.stderr


def test_an_image_for_another_architecture_is_refused_when_run(hv, tmp_path):
    """Stored and inspectable, but `hv container run` refuses it (125, one line), and no
    container is left behind."""
    import io
    from hypervisor import images
    from hypervisor.images.image import new_config, write
    from hypervisor.images.layers import store_layer
    from oci_helpers import tar_bytes
    store = images.open_store(tmp_path / "store")
    layer, diff_id = store_layer(store, io.BytesIO(tar_bytes([("bin/true", "file", b"x")])))
    config = new_config("2024-01-01T00:00:00Z")
    config["architecture"] = "amd64"
    config["rootfs"]["diff_ids"] = [diff_id]
    write(store, config, [layer], "x86:1")
    assert hv("image", "inspect", "x86:1").returncode == 0
    r = hv("container", "run", "x86:1", "/bin/true")
    assert r.returncode == 125
    assert r.stderr.count(b"\n") == 1 and b"does not match the host platform" in r.stderr
    assert b"linux/amd64" in r.stderr and b"Traceback" not in r.stderr
    assert hv("container", "ls", "-a").stdout.count(b"\n") == 1
    assert images.in_use("x86:1", store) == []


def test_options_after_the_image_belong_to_the_containers_command():
    """As with docker run: `hv container run busybox httpd -f -p 80` runs `httpd -f -p 80`
    (the options after IMAGE are the command's, not hv's), and exec likewise."""
    from hypervisor.cli import build_parser
    argv = ["container", "run", "--rm", "busybox:1.35", "httpd", "-f", "-p", "80"]
    args = build_parser(argv).parse_args(argv)
    assert args.image == "busybox:1.35" and args.cmd == ["httpd", "-f", "-p", "80"]
    assert args.rm
    argv = ["container", "exec", "-i", "web", "ls", "-l", "/"]
    args = build_parser(argv).parse_args(argv)
    assert args.ref == "web" and args.cmd == ["ls", "-l", "/"] and args.interactive


def test_run_it_follows_the_clients_window_size(hv, tmp_path):
    """`hv container run -it` on a terminal: the container's terminal has the client's
    window size, and a resize of the client's window (SIGWINCH) reaches the program, as
    `docker run -it` does.  The client runs on a pty whose size the test sets (TIOCSWINSZ)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    hv("image", "ls")                               # the daemon's env: this test's store
    env = dict(os.environ, HV_STORE=str(tmp_path / "store"),
               HV_RUNTIME_DIR=str(tmp_path / "run"), HV_DAEMON_IDLE="30")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    script = "trap 'stty size' WINCH; stty size; while :; do read x && exit 0; done"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-m", "hypervisor.cli", "container", "run",
                             "--rm", "-it", "busybox:1.35", "sh", "-c", script],
                            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=root,
                            preexec_fn=lambda: (os.setsid(),        # the pty is its terminal
                                                fcntl.ioctl(0, termios.TIOCSCTTY, 0)))
    os.close(slave)
    seen = b""

    def until(text, timeout=60):
        nonlocal seen
        end = time.monotonic() + timeout
        while text not in seen:
            assert time.monotonic() < end, seen
            if select.select([master], [], [], 0.1)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        assert text in seen, seen
    try:
        until(b"33 101")
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 70, 0, 0))
        until(b"20 70")                             # the kernel of the pty sent SIGWINCH
        os.write(master, b"\r")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_a_container_ended_by_the_kernel_says_why(hv, tmp_path):
    """A container that no process exit ended (the shared kernel failed under it: the labs'
    --kernel-bug-after switch) gives 255 and one line saying what happened; a normal exit
    status says nothing more."""
    root = make_rootfs(tmp_path / "root")
    r = hv("container", "run", "--rm", "--kernel-bug-after", "0", str(root), "/bin/tool",
           "cat", "/etc/hostname")
    assert r.returncode == 255
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and "shared kernel panic: injected kernel bug" in lines[0], lines
    r = hv("container", "run", "--rm", str(root), "/bin/tool", "nonsense")
    assert r.returncode == 2 and b"hv:" not in r.stderr
