"""Issue 9, items 4-7 at the command line: output nobody reads any more, bounded console
buffering, bad operator input, --timeout covering the load, and --debug.

Pipes and closed descriptors are only real in a real process: these tests run
`python -m hypervisor.cli` in a subprocess (from this worktree), each with a timeout, so a hang
is a failure rather than a stuck suite."""
import io
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

from hypervisor import monitor
from hypervisor.cli import main
from hypervisor.commands.consoles import Consoles
from guestbuild import SHUTDOWN

ROOT = Path(__file__).resolve().parent.parent

# prints "y" lines for ever, like yes(1)
YES = """
    .globl _start
_start:
1:  li a7, 1
    li a0, 'y'
    ecall
    li a0, 10
    ecall
    j 1b
"""


def hv(args, timeout=60, **kw):
    """Run `python -m hypervisor.cli ARGS` (a list) or a shell line (a str, `HV` = the command);
    returns (status, stdout, stderr).  A run still going after ``timeout`` is killed and fails."""
    cmd = f"{sys.executable} -m hypervisor.cli"
    if isinstance(args, str):
        argv = ["bash", "-c", args.replace("HV", cmd)]
    else:
        argv = cmd.split() + [str(a) for a in args]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("HVLAB_DEBUG", None)
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=kw.pop("stdout", subprocess.PIPE),
                            stderr=subprocess.PIPE, start_new_session=True, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{args!r} still running after {timeout} s (a hang)")
    return proc.returncode, (out or b"").decode(errors="replace"), err.decode(errors="replace")


@pytest.fixture
def yes_s(tmp_path):
    path = tmp_path / "yes.s"
    path.write_text(YES)
    return path


def _closed_pipe():
    """The write end of a pipe whose reader has already gone: the first write is EPIPE."""
    r, w = os.pipe()
    os.close(r)
    return w


# ------------------------------------------------------------------ item 5: EPIPE -> 141, quietly
def test_run_into_head_exits_141_quietly(yes_s):
    status, out, err = hv(f"HV run {yes_s} | head -1; exit ${{PIPESTATUS[0]}}")
    assert (status, out, err) == (141, "y\n", "")


def test_several_vms_into_head_exit_141_quietly(yes_s):
    status, out, err = hv(f"HV run {yes_s} -n 3 | head -2; exit ${{PIPESTATUS[0]}}")
    assert status == 141 and err == ""
    assert len(out.splitlines()) == 2 and all(line.endswith("] y") for line in out.splitlines())


def test_demo_into_head_exits_141_quietly():
    status, out, err = hv("HV demo --short | head -1; exit ${PIPESTATUS[0]}")
    assert status == 141 and err == "" and out.startswith("hv demo:")


@pytest.mark.parametrize("args", [["images"], ["run", "hello"], ["demo", "--short"]])
def test_a_reader_that_is_gone_before_the_first_write_gives_141(args):
    w = _closed_pipe()
    try:
        status, _, err = hv(args, stdout=w)
    finally:
        os.close(w)
    assert (status, err) == (141, "")


# ------------------------------------------------------------------ item 5: other write errors
HELLO_ELF = ROOT / "hypervisor" / "guest_images" / "hello.elf"


@pytest.mark.parametrize("args", [["run", "YES"], ["run", "YES", "-n", "2"], ["images"],
                                  ["demo", "--short"], ["dis", HELLO_ELF], ["run", "--help"]])
def test_a_full_disk_gives_one_line_and_status_1(args, yes_s):
    args = [yes_s if a == "YES" else a for a in args]
    with open("/dev/full", "w") as full:
        status, _, err = hv(args, stdout=full)
    assert status == 1
    assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err


@pytest.mark.parametrize("args", ["run hello", "images", "demo --short", f"dis {HELLO_ELF}",
                                  "--help"])
def test_a_closed_stdout_gives_one_line_and_status_1(args):
    status, _, err = hv(f"HV {args} >&-")
    assert status == 1
    assert err.count("\n") == 1 and "closed" in err and "Traceback" not in err


def test_a_closed_stdout_is_no_error_when_nothing_is_printed(tmp_path):
    quiet = tmp_path / "quiet.s"
    quiet.write_text("    .globl _start\n_start:\n    li a1, 0\n" + SHUTDOWN)
    assert hv(f"HV run {quiet} >&-") == (0, "", "")


# ------------------------------------------------------------------ item 4: --timeout and loading
def test_timeout_covers_loading_the_images(tmp_path):
    fifo = tmp_path / "never.s"         # opening a FIFO nobody writes to blocks for ever
    os.mkfifo(fifo)
    status, out, err = hv(["run", fifo, "--timeout", "1"], timeout=30)
    assert status == 124
    assert err.count("\n") == 1 and "loading" in err and "Traceback" not in err


# ------------------------------------------------------------------ item 6: bounded buffering
class _FakeVM:
    """What Consoles reads of a VM: a name, an id and a console with listeners."""
    def __init__(self, vm_id, name):
        self.id, self.name = vm_id, name
        self.console = types.SimpleNamespace(listeners=[])


def _tagged_console(tag):
    """The line cutter hv run uses for several VMs (consoles._Lines), writing into a list."""
    out = io.StringIO()
    vms = [_FakeVM(1, tag), _FakeVM(2, "other")]
    consoles = Consoles(vms, out=out).attach()
    feed = consoles._listeners[0]
    return feed, consoles, out


def test_several_vms_console_flushes_a_long_partial_line_and_keeps_little():
    feed, consoles, out = _tagged_console("vm1")
    chunk = b"x" * 4000
    for _ in range(50 * 1024 * 1024 // len(chunk)):     # 50 MiB without a newline
        feed(chunk)
        assert len(feed._partial) < 4096
    feed(b"end\n")
    consoles.flush()
    lines = out.getvalue().splitlines()
    assert all(len(line) <= len("[vm1] ") + 4096 for line in lines)
    text = "".join(line[len("[vm1] "):] for line in lines)
    assert text == "x" * (len(chunk) * (50 * 1024 * 1024 // len(chunk))) + "end"


def test_several_vms_console_splits_lines_and_never_cuts_a_character():
    feed, consoles, out = _tagged_console("vm1")
    feed(b"one\r\ntw")
    feed(b"o\nthree")
    assert out.getvalue() == "[vm1] one\n[vm1] two\n"
    feed("\u00e9".encode() * 3000)     # 6000 bytes: flushed at a character boundary
    consoles.flush()
    text = out.getvalue()
    assert "\ufffd" not in text
    rows = text.splitlines()[2:]
    assert "".join(r[len("[vm1] "):] for r in rows) == "three" + "\u00e9" * 3000


# ------------------------------------------------------------------ item 7: operator input
def _main(capsys, *argv):
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("argv, text", [
    (["run", "hello", "--append", "café"], "--append"),
    (["run", "hello", "--append", "a\x01b"], "--append"),
    (["demo", "--short", "--append", "naïve"], "--append"),
    (["run", "hello", "--input", "\\x"], "--input"),
    (["run", "hello", "--input", "\\u1234"], "--input"),
    (["run", "hello", "--input", "\\N{foo}"], "--input"),
    (["run", "hello", "--input", "ok\\"], "--input"),
    (["run", "hello", "--trace", "/etc/passwd"], "--trace"),
    (["run", "hello", "--trace", "/proc/nope"], "--trace"),
])
def test_bad_operator_input_is_one_line_and_status_2(capsys, argv, text):
    status, out, err = _main(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1 and text in err and "Traceback" not in err


def test_good_input_escapes_still_work(capsys, tmp_path):
    echo = tmp_path / "getc.s"          # reads two bytes with legacy getchar and prints them
    echo.write_text("    .globl _start\n_start:\n" + """
    li a7, 2
    ecall
    mv s0, a0
    ecall
    mv s1, a0
    li a7, 1
    mv a0, s0
    ecall
    mv a0, s1
    ecall
    li a1, 0
""" + SHUTDOWN)
    status, out, err = _main(capsys, "run", echo, "--input", "\\x41\\n")
    assert status == 0 and out == "A\n"


def test_a_trace_that_cannot_be_written_crashes_that_vm_in_one_line(capsys, tmp_path, yes_s):
    (tmp_path / "tr").mkdir()
    (tmp_path / "tr" / "yes.trace").symlink_to("/dev/full")     # the first VM's trace: full
    status, out, err = _main(capsys, "run", yes_s, yes_s, "--trace", tmp_path / "tr",
                             "--timeout", "2")
    vm1, vm2 = err.splitlines()                 # one line per VM that did not pass
    assert status == 1 and "Traceback" not in err
    assert vm1.startswith("hv: yes:") and "crashed: cannot write its trace" in vm1
    assert "No space left on device" in vm1
    assert vm2.startswith("hv: yes-2:") and "timed out" in vm2
    assert "[yes-2] y" in out                   # its neighbour ran on until the timeout


# ------------------------------------------------------------------ --debug
def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch,
                                                                     tmp_path):
    def broken(vm, code):
        raise ZeroDivisionError("injected")
    monkeypatch.setattr(monitor, "handle", broken)
    status, out, err = _main(capsys, "run", "hello")
    assert status == 1
    assert err.count("\n") == 1 and "internal error in the monitor: ZeroDivisionError" in err
    status, out, err = _main(capsys, "run", "hello", "--debug")
    assert status == 1 and "Traceback" in err and "injected" in err
