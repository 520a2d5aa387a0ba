"""The same binaries as a container on hvlab's shared kernel and as processes inside the bundled
Linux 6.1 VM (issue 13, "Tests it must have"): the demo programs, BusyBox's ls/ps/uname/free
and the syscall conformance suite.  Real Linux is the reference; nothing is compared with
hvlab's own output.

One Linux VM boots once for the module (linux-batch, an extra --initrd with the scripts and
the conformance suite) and runs the same script twice: as a plain process of the VM, and inside
Linux's own PID + UTS + mount namespaces (`unshare -u`, `unshare -p -f --mount-proc`, hostname
web1), which is what a container is.  The container (name web1) runs the same script from an
image made of the bundled userland.tar plus a layer with the same files.

What may differ, and why (everything else must be byte for byte the same):
* uname's release and version: two different kernels answer (Linux 6.1.192 and hvlab's shared
  kernel), each names itself; sysname, machine and the rest of the line agree.
* memory figures (free): a container's total is its --memory limit (its frames); a VM's is its
  RAM less what the guest kernel keeps; Linux does not namespace /proc/meminfo, so even in its
  namespaces free shows the VM's totals.  The column layout and the lines must agree.
* /etc/hosts is the container's own, as Docker writes one into every container (its name and
  the members of its networks), so the script lists /etc but does not `ls -l` that file.
* against the plain VM process only: pids (pid 1 is init, then kernel threads and the boot
  script's processes; in the container pid 1 is the container's first process) and the
  hostname (the VM's `hvlab`, the container's name).
"""
import re
import shutil
import stat
import subprocess

import pytest

from hypervisor.catalog import IMAGES_DIR, bundled, rootfs_path
from kernelhelp import PROGS, layer, run_in_linux_batch

pytestmark = pytest.mark.skipif(bundled("linux") is None or
                                not (IMAGES_DIR / bundled("linux")["file"]).exists(),
                                reason="the Linux image is not installed (make -C guests linux)")

SAME = b"""\
hello
uname -s -m -n
uname -a
ps
hostname
free
forkwait 3
memtouch 2
primes 5000
ls /usr/bin | head -5
ls -l /usr/bin/primes /etc/passwd /bin/busybox
ls /etc
ls -ln /etc/passwd /etc/profile /etc/init.d /etc/init.d/rcS
ls -lnd /usr /usr/bin
cat /etc/os-release | head -2
echo $$ $PPID
"""
RUN = b"""\
echo "== plain"
sh /opt/same.sh
echo "== ns"
unshare -u sh -c 'hostname web1; exec unshare -p -f --mount-proc sh /opt/same.sh'
echo "== conform"
mkdir -p /work && cd /work && /opt/conform
echo "== threads"
sh /opt/threads.sh
"""
THREADS = b"""\
/opt/threads 4 3000; echo "status $?"
for m in segv exit mainexit exec; do /opt/threads $m; echo "status $?"; done
"""
FILES = {"opt": (stat.S_IFDIR | 0o755, b""), "work": (stat.S_IFDIR | 0o755, b""),
         "opt/same.sh": (stat.S_IFREG | 0o644, SAME),
         "opt/run.sh": (stat.S_IFREG | 0o755, RUN),
         "opt/threads.sh": (stat.S_IFREG | 0o644, THREADS)}


def _files():
    return dict(FILES, **{f"opt/{name}": (stat.S_IFREG | 0o755, (PROGS / name).read_bytes())
                          for name in ("conform", "threads")})


@pytest.fixture(scope="module")
def in_linux(tmp_path_factory):
    """The sections ("plain", "ns", "conform") of one linux-batch run of /opt/run.sh."""
    text = run_in_linux_batch(_files())
    body = text.split("\n== plain\n", 1)[1].split("[run] exit status", 1)[0]
    plain, rest = body.split("== ns\n", 1)
    ns, rest = rest.split("== conform\n", 1)
    conform, threads = rest.split("== threads\n", 1)
    return {"plain": plain, "ns": ns, "conform": conform, "threads": threads}


@pytest.fixture(scope="module")
def in_container(tmp_path_factory):
    from hypervisor.engine import Engine
    from kernelhelp import run
    extra = layer(_files(), tmp_path_factory.mktemp("layer") / "extra.tar")
    image = [str(rootfs_path("userland")), str(extra)]
    engine = Engine(160 << 20)
    try:
        c = run(engine, image, ["sh", "/opt/same.sh"], name="web1", memory=64 << 20)
        assert c.exit_code == 0, (c.klog, c.console.text())
        k = run(engine, image, ["/opt/conform"], workdir="/work", memory=16 << 20)
        assert k.exit_code == 0, k.klog
        t = run(engine, image, ["sh", "/opt/threads.sh"], memory=64 << 20)
        assert t.exit_code == 0, t.klog
    finally:
        engine.shutdown()
    return {"same": c.console.text(), "conform": k.console.text(), "threads": t.console.text()}


UNAME_A = re.compile(r"^(Linux \S+) \S+ (.*) (riscv32 GNU/Linux)$", re.M)
HELLO = re.compile(r"^(hello from Linux) \S+ \(.*\) (on riscv32, host \S+)$", re.M)


def kernel_names(text):
    """uname's release and version replaced by KERNEL: each kernel names itself."""
    text = UNAME_A.sub(r"\1 KERNEL \3", text)
    return HELLO.sub(r"\1 KERNEL \2", text)


def free_table(text):
    """free's lines with the figures taken out, and its total (KiB)."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:2] == ["total", "used"])
    table = lines[at:at + 3]
    total = int(table[1].split()[1])
    shape = [["N" if w.isdigit() else w for w in line.split()] for line in table]
    rest = lines[:at] + ["<free>"] + lines[at + 3:]
    return "\n".join(rest) + "\n", shape, total


def test_same_binaries_same_output_as_in_linux_namespaces(in_linux, in_container):
    """Inside Linux's own namespaces the script prints what the container prints: the pids
    (pid 1 is the script's shell), ps's table, the hostname, the demo programs, ls, uname -s
    -m -n; only the kernels' own names and the memory figures differ (see the module doc)."""
    linux, lshape, ltotal = free_table(kernel_names(in_linux["ns"]))
    cont, cshape, ctotal = free_table(kernel_names(in_container["same"]))
    assert cont == linux
    assert cshape == lshape                         # the same columns and lines
    assert ctotal == 64 << 10                       # the container's --memory, in KiB
    assert 48 << 10 < ltotal < 64 << 10             # the VM's 64 MiB less its kernel
    # the programs did run and said what real Linux says
    for line in ("pid 2, parent 1, uid 0", "Linux web1 riscv32", "web1",
                 "forkwait: 3 of 3 children reaped with the right status",
                 "memtouch: 2 MiB, 512 pages touched 1 time(s), 0 wrong",
                 "primes up to 5000: 669 (largest 4999)"):
        assert line in cont.splitlines()
    # ps: the script's shell is pid 1; hello, uname, uname were 2, 3, 4; ps itself is 5
    assert [line.split()[0] for line in cont.splitlines() if line.endswith((" ps", ".sh"))] \
        == ["1", "5"]


def test_as_a_plain_process_of_the_vm_only_the_namespace_differs(in_linux, in_container):
    """Against a plain process of the VM (no namespaces) the differences are exactly the
    namespaces: in the VM pid 1 is init and ps lists kernel threads and the boot scripts, the
    hostname is the VM's; with pids and hostname taken out the rest is the same."""
    plain, _, _ = free_table(kernel_names(in_linux["plain"]))
    cont, _, _ = free_table(kernel_names(in_container["same"]))
    ps_vm = plain.split("COMMAND\n", 1)[1].split("\nhvlab\n", 1)[0].splitlines()
    assert ps_vm[0].split()[::3] == ["1", "init"]
    assert any(line.split()[3].startswith("[k") for line in ps_vm)      # kernel threads
    assert "hvlab" in plain.splitlines() and "web1" not in plain

    def no_ns(text, host):
        """The hostname (hostname, uname -n, hello's "host") and the pids taken out."""
        text = re.sub(rf"^{host}$", "HOST", text, flags=re.M)
        text = re.sub(rf"^Linux {host}( (KERNEL )?riscv32)", r"Linux HOST\1", text, flags=re.M)
        text = re.sub(rf", host {host}$", ", host HOST", text, flags=re.M)
        text = re.sub(r"^(PID.*COMMAND\n)(?:.*\n)*?(HOST\n)", r"\1<ps>\n\2", text, flags=re.M)
        text = re.sub(r"^pid \d+, parent \d+,", "pid P, parent P,", text, flags=re.M)
        return re.sub(r"^\d+ \d+$", "P P", text, flags=re.M)
    assert no_ns(cont, "web1") == no_ns(plain, "hvlab")


def test_conformance_suite_same_in_container_qemu_and_linux(in_linux, in_container, tmp_path):
    """guests/containers/conform gives the same lines in a container, under qemu-riscv32 (the
    host's Linux answers) and inside Linux 6.1 on hvlab (passed in as an extra initrd)."""
    container = in_container["conform"].splitlines()
    assert container == in_linux["conform"].splitlines()
    assert len(container) > 120 and container[-1] == "done"
    qemu = shutil.which("qemu-riscv32")
    if qemu is None:
        pytest.skip("qemu-riscv32 (qemu-user) is not installed: compared with Linux only")
    out = subprocess.run([qemu, str(PROGS / "conform")], cwd=tmp_path, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().splitlines() == container


def test_pthreads_same_in_a_container_and_in_linux(in_linux, in_container):
    """A musl program with pthreads (guests/containers/threads.c: mutex, condition variable,
    semaphore, thread-local storage, join; then a thread that faults, one that calls exit(3),
    a main thread that pthread_exit()s first, a thread that execs): the same lines and exit
    statuses as inside Linux 6.1, shell messages included ("Segmentation fault")."""
    got = in_container["threads"].splitlines()
    assert got == in_linux["threads"].splitlines()
    assert "counter 12000 (expected 12000), main tls 0" in got
    assert [line for line in got if line.startswith("status")] == \
        ["status 0", "status 139", "status 3", "status 0", "status 0"]
