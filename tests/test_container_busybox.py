"""BusyBox in a container gives what it gives on real Linux (qemu-riscv32 user mode), with the
namespace differences expected (hostname, pids, /proc).  Needs a static rv32 BusyBox 1.35:
HV_BUSYBOX=/path/to/busybox (the linux stream's bundled userland replaces this)."""
import os
import shutil
import subprocess

import pytest

from kernelhelp import busybox, run


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=96 << 20)
    yield e
    e.shutdown()


@pytest.fixture
def bbroot(tmp_path):
    bb = busybox()
    root = tmp_path / "bb"
    (root / "bin").mkdir(parents=True)
    for d in ("etc", "tmp", "root", "data"):
        (root / d).mkdir()
    shutil.copy(bb, root / "bin" / "busybox")
    os.chmod(root / "bin" / "busybox", 0o755)
    for applet in ("sh", "ps", "free", "uptime", "hostname", "sleep", "top", "vi", "httpd",
                   "wget", "nc") + APPLETS:
        os.symlink("busybox", root / "bin" / applet)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "data" / "words").write_text("pear\napple\nfig\napple\nbanana\n")
    (root / "www").mkdir()
    (root / "www" / "index.html").write_text("hello from web\n")
    return root


APPLETS = ("ls", "cat", "echo", "kill", "grep", "wc", "head", "mkdir", "rm", "cp", "mv", "seq",
           "sort", "uniq", "uname", "tr", "sed", "awk", "find", "xargs", "expr", "test")
SCRIPT = ("cd /data; sort words | uniq -c; sort words | head -3; grep -c apple words;"
          " wc -l words; echo $((7*6)) | tr 0-9 a-j; seq 3 | xargs; mkdir -p x/y;"
          " echo hi > x/y/f; cp x/y/f x/g; mv x/g x/h; ls x; cat x/h; rm -r x; ls;"
          " awk '{n+=length($0)} END {print n}' words; sed -n 2p words; find . -name 'w*';"
          " expr 3 + 4; test -d /bin && echo dir; uname -s -m")


def test_busybox_applets_match_linux(engine, bbroot, tmp_path):
    qemu = shutil.which("qemu-riscv32")
    if qemu is None:
        pytest.skip("qemu-riscv32 is not installed: no Linux reference")
    # the reference: the same script in bash, each applet run by BusyBox under qemu-riscv32
    # (real Linux answers its system calls); the host cannot exec rv32 binaries by itself
    wrappers = "".join(f'{a}() {{ {qemu} {bbroot}/bin/busybox {a} "$@"; }}; '
                       for a in APPLETS if a not in ("echo", "test", "kill"))
    ref = subprocess.run(["bash", "-c", wrappers + SCRIPT.replace("cd /data",
                                                                  f"cd {bbroot}/data")],
                         capture_output=True, timeout=120)
    assert ref.returncode == 0, ref.stderr
    c = run(engine, bbroot, ["/bin/sh", "-c", SCRIPT], memory=32 << 20)
    assert c.exit_code == 0, c.klog
    assert c.console.text() == ref.stdout.decode()


def test_busybox_sees_its_own_namespace(engine, bbroot):
    c = run(engine, bbroot, ["/bin/sh", "-c", "hostname; ps; free | head -2; uptime"],
            name="web1", memory=16 << 20)
    lines = c.console.text().splitlines()
    assert lines[0] == "web1"
    assert lines[1].split() == ["PID", "USER", "TIME", "COMMAND"]
    pids = [int(line.split()[0]) for line in lines[2:4]]
    assert pids == [1, 3]           # only its own: sh, then ps (hostname, pid 2, has ended)
    assert lines[5].split()[:2] == ["Mem:", str(16 << 10)]  # its memory limit, in KiB
    assert "load average" in lines[6]


def test_busybox_interactive_shell_with_ctrl_c(engine, bbroot):
    import time
    from hypervisor.kernel import runtime
    c = runtime.create(engine, str(bbroot), ["/bin/sh"], tty=True, memory=16 << 20)
    engine.start(c)
    for text in (b"echo $((2+3))\r", b"sleep 100000\r", b"\x03", b"echo back\r", b"exit 7\r"):
        time.sleep(0.3)
        c.send_input(text)
    assert engine.wait(timeout=20, vms=[c])
    out = c.console.text()
    assert "5\r\n" in out and "^C" in out and "back\r\n" in out
    assert c.exit_code == 7


def test_busybox_vi_edits_a_file(engine, bbroot):
    import time
    from hypervisor.kernel import runtime
    c = runtime.create(engine, str(bbroot), ["/bin/vi", "/tmp/note"], tty=True, memory=16 << 20)
    engine.start(c)
    for text in (b"ihello from vi\x1b", b":wq\r"):
        time.sleep(0.5)
        c.send_input(text)
    assert engine.wait(timeout=20, vms=[c]) and c.exit_code == 0
    note = c.ns.root.entries[b"tmp"].entries[b"note"]
    assert bytes(note.data) == b"hello from vi\n"


def test_busybox_httpd_and_wget_between_two_containers(engine, bbroot):
    from hypervisor.kernel import runtime
    from hypervisor.kernel.kernel import Kernel
    Kernel.of(engine).networks.create("lab")
    web = runtime.run(engine, str(bbroot), ["/bin/httpd", "-f", "-p", "80", "-h", "/www"],
                      name="web", network="lab", memory=16 << 20)
    c = run(engine, bbroot, ["/bin/sh", "-c", "sleep 0.3; wget -q -O - http://web/index.html; "
                             "echo GET | nc web 80 | head -1"], network="lab", memory=16 << 20)
    assert c.console.text() == "hello from web\nHTTP/1.1 400 Bad Request\r\n"
    assert not web.done
    engine.kill(web)
