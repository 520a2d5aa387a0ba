"""Networking on the shared kernel: a loopback per container, bridge networks between
containers (names from /etc/hosts), ports published on the host's loopback; nothing else
reaches a container's sockets."""
import socket
import time

import pytest

from kernelhelp import make_rootfs, run


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=96 << 20)
    yield e
    e.shutdown()


@pytest.fixture
def root(tmp_path):
    return make_rootfs(tmp_path / "root")


def _started(c, text="listening", timeout=10):
    end = time.time() + timeout
    while text not in c.console.text():
        assert time.time() < end and not c.done, c.console.text()
        time.sleep(0.01)


def test_bridge_network_between_two_containers(engine, root):
    from hypervisor.kernel import runtime
    from hypervisor.kernel.kernel import Kernel
    Kernel.of(engine).networks.create("lab")
    srv = runtime.run(engine, str(root), ["/bin/tool", "serve", "80", "pong:", "2"],
                      name="web", network="lab")
    _started(srv)
    cli = run(engine, root, ["/bin/tool", "fetch", "web", "80", "ping"], name="c1",
              network="lab")
    assert cli.console.text() == "reply: pong:ping\n"
    # a container not on the network cannot name or reach it
    out = run(engine, root, ["/bin/tool", "fetch", "172.18.1.2", "80", "x"]).console.text()
    assert out == "connect: Connection refused\n"
    assert run(engine, root, ["/bin/tool", "fetch", "web", "80", "x"]).exit_code == 1
    # each container has its own loopback: web's port 80 is not on c2's 127.0.0.1
    out = run(engine, root, ["/bin/tool", "fetch", "127.0.0.1", "80", "x"], name="c2",
              network="lab").console.text()
    assert out == "connect: Connection refused\n"
    run(engine, root, ["/bin/tool", "fetch", "web", "80", "bye"], network="lab")
    assert engine.wait(timeout=20, vms=[srv]) and srv.exit_code == 0


def test_loopback_inside_one_container(engine, root):
    from hypervisor.kernel import runtime
    c = runtime.run(engine, str(root), ["/bin/tool", "serve", "8080", "hi ", "2"])
    _started(c)
    outs = []
    cmd = runtime.exec_in(c, ["/bin/tool", "fetch", "127.0.0.1", "8080", "there"],
                          sink=outs.append)
    end = time.time() + 20
    while cmd.state != "Z" and time.time() < end:
        time.sleep(0.01)
    assert cmd.exit_status == 0 and b"".join(outs) == b"reply: hi there\n"
    runtime.exec_in(c, ["/bin/tool", "fetch", "127.0.0.1", "8080", "bye"])   # the 2nd ends it
    assert engine.wait(timeout=20, vms=[c]) and c.exit_code == 0


def test_published_port_on_the_host_loopback(engine, root):
    from hypervisor.kernel import publish, runtime
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    c = runtime.run(engine, str(root), ["/bin/tool", "serve", "80", "from container: "])
    publish.publish(c, [f"127.0.0.1:{port}:80"])
    _started(c)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"host hello")
        data = b""
        while True:
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
    assert data == b"from container: host hello"
    assert engine.wait(timeout=20, vms=[c]) and c.exit_code == 0
    with pytest.raises(ValueError):
        publish.parse_publish("0.0.0.0:8080:80")            # only the host's loopback
