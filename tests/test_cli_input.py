"""Console input of `hv run`: pipes and files on stdin, EOF, --input-to, --input-after,
--input-delay, and a real terminal (a pty): raw mode, no doubled echo, Ctrl-A x, Ctrl-C."""
import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from hypervisor.cli import main
from hypervisor.commands.inputs import decode
from hypervisor.commands.terminal import EscapeKeys
from hypervisor.errors import UsageError
from guestbuild import write

ROOT = Path(__file__).resolve().parent.parent
HV = [sys.executable, "-m", "hypervisor.cli"]
SPIN = "1: j 1b\n"
BYE = "echo: got 'q'"


@pytest.fixture(autouse=True)
def no_terminal_stdin(monkeypatch):
    """In-process runs here read no stdin, even under `pytest -s` on a terminal."""
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO())


def hv(*argv, stdin=subprocess.DEVNULL, input=None, timeout=60):
    """`hv ARGV` in a process of its own, with a real stdin (a pipe, a file, /dev/null)."""
    return subprocess.run(HV + [str(a) for a in argv], cwd=ROOT, stdin=None if input else stdin,
                          input=input, capture_output=True, timeout=timeout)


# ---------------------------------------------------------------------- pipes, files, EOF
def test_piped_q_ends_echo_with_status_0():
    r = hv("run", "echo", input=b"q")
    assert r.returncode == 0, r.stderr
    assert BYE in r.stdout.decode() and b"1 characters" in r.stdout


def test_a_file_on_stdin_is_typed_too(tmp_path):
    typed = tmp_path / "typed.txt"
    typed.write_bytes(b"hello q")
    with open(typed, "rb") as f:
        r = hv("run", "echo", stdin=f)
    assert r.returncode == 0, r.stderr
    assert "hello q" in r.stdout.decode() and "7 characters" in r.stdout.decode()


def test_a_file_larger_than_the_uart_queue_loses_nothing(tmp_path):
    # the receive queue holds 4 KiB: stdin is read only as fast as the guest reads its UART
    typed = tmp_path / "big.txt"
    typed.write_bytes(b"x" * 10000 + b"q")
    with open(typed, "rb") as f:
        r = hv("run", "echo", stdin=f)
    assert r.returncode == 0, r.stderr
    assert "got 'q': 10001 characters" in r.stdout.decode()


def test_eof_is_the_end_of_input_not_a_hang():
    # the guest waits in wfi for a 'q' that never comes: once stdin has ended nothing can wake
    # it, so hv ends it with one line instead of waiting for ever
    t0 = time.perf_counter()
    r = hv("run", "echo", input=b"ab")
    assert time.perf_counter() - t0 < 30
    out, err = r.stdout.decode(), r.stderr.decode()
    assert "ab" in out and BYE not in out
    assert r.returncode == 1
    assert err.strip() == ("hv: echo: killed: waiting for console input after stdin ended "
                           "(idle in wfi, no timer)")
    r = hv("run", "echo", stdin=subprocess.DEVNULL)             # EOF at once
    assert r.returncode == 1 and "stdin ended" in r.stderr.decode()


def test_console_reads_after_eof_return_no_data(tmp_path, capsys):
    # SBI legacy getchar (EID 2) returns -1 and DBCN read returns 0 bytes when nothing is
    # there, EOF or not: the guest polls 5 times, then reports what it got, and passes
    elf = write(tmp_path, """
    li s1, 5
    li s2, 0
1:  li a7, 2
    ecall
    add s2, s2, a0          # -1 each time: no data
    addi s1, s1, -1
    bnez s1, 1b
    li t0, -5
    bne s2, t0, fail
    li a0, 0
    li a1, 0
    li a6, 0
    li a7, 0x53525354
    ecall
fail:
    li a1, 1
    li a0, 0
    li a6, 0
    li a7, 0x53525354
    ecall
""")
    r = hv("run", elf, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr


def test_input_to_picks_the_vm_and_the_default_is_the_interactive_one():
    # two echoes: only echo-2 gets the 'q'; echo gets nothing, sleeps for ever, is ended
    r = hv("run", "echo", "echo", "--input-to", "echo-2", input=b"q")
    out, err = r.stdout.decode(), r.stderr.decode()
    assert f"[echo-2] " in out and re.search(r"\[echo-2\] .*got 'q'", out)
    assert not re.search(r"\[echo\] .*got 'q'", out)
    assert r.returncode == 1
    assert err == "hv: echo: killed: waiting for console input, which goes to echo-2 " \
                  "(--input-to)\n"
    # 'all' types into both
    r = hv("run", "echo", "echo", "--input-to", "all", input=b"q")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().count("got 'q'") == 2
    # default: the first interactive image (echo), not the first VM (hello)
    r = hv("run", "hello", "echo", input=b"q")
    assert r.returncode == 0, r.stderr
    assert re.search(r"\[echo\] .*got 'q'", r.stdout.decode())


def test_input_to_a_vm_that_does_not_exist(capsys):
    assert main(["run", "hello", "--input-to", "nope"]) == 2
    err = capsys.readouterr().err
    assert err == "hv run: error: --input-to nope: no such VM (the VMs: hello, or all)\n"


def test_input_after_types_when_the_pattern_appears_in_order(capsys):
    # the banner ends with "'q' quits": type "a" then, once "a" is echoed, "q"
    argv = ["run", "echo", "--input-after", "quits", "a", "--input-after", "a", "q", "--stats"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "\naq\n" in out and "got 'q': 2 characters" in out
    first = re.search(r"^echo\s+passed\s+([\d,]+)", err, re.M).group(1)
    # the same instruction on every run: input typed at an exit, not at a host moment
    assert main(argv) == 0
    again = re.search(r"^echo\s+passed\s+([\d,]+)", capsys.readouterr().err, re.M).group(1)
    assert first == again


def test_input_after_steps_wait_for_the_one_before(capsys):
    # the first pattern never appears, so the second step is never armed, though its pattern
    # ("quits") is on the console: the guest waits, and is ended when nothing more can come
    assert main(["run", "echo", "--input-after", "NEVER", "x",
                 "--input-after", "quits", "q"]) == 1
    out, err = capsys.readouterr()
    assert BYE not in out and "waiting for console input" in err


def test_input_with_a_delay(capsys):
    t0 = time.perf_counter()
    assert main(["run", "echo", "--input", "q", "--input-delay", "0.4"]) == 0
    assert time.perf_counter() - t0 >= 0.4
    assert BYE in capsys.readouterr().out


@pytest.mark.parametrize("text, typed", [
    ("a\\nb", b"a\nb"), ("\\r\\t\\\\", b"\r\t\\"), ("\\x41\\x7f", b"A\x7f"), ("caf\u00e9", "café".encode()),
    ("\\e[A", b"\x1b[A"), ("\\0", b"\0"),
])
def test_typed_text_escapes(text, typed):
    assert decode(text) == typed


@pytest.mark.parametrize("text", ["\\q", "\\x4", "\\u1234", "\\N{foo}", "end\\"])
def test_bad_escapes_are_one_line_usage_errors(text, capsys):
    with pytest.raises(UsageError):
        decode(text)
    assert main(["run", "hello", "--input", text]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--input" in err and "Traceback" not in err


def test_escape_keys():
    keys = EscapeKeys(ctrl_c_to_guest=False)
    assert keys.feed(b"ab\x01") == [("data", b"ab")]          # Ctrl-A waits for the next key
    assert keys.feed(b"x") == [("quit", "Ctrl-A x")]
    assert keys.feed(b"\x01\x01q\x01h") == [("data", b"\x01q"), ("help", None)]
    assert keys.feed(b"z\x03") == [("data", b"z"), ("quit", "Ctrl-C")]
    assert keys.feed(b"\x01zy") == [("data", b"y")]            # unknown escape: nothing
    assert keys.feed(b"\x01n") == [("next", None)]
    assert EscapeKeys(ctrl_c_to_guest=True).feed(b"\x03\x1a") == [("data", b"\x03\x1a")]


# ---------------------------------------------------------------------- a real terminal
class Pty:
    """`hv ARGV` with a pty as its controlling terminal (stdin, stdout and stderr)."""

    def __init__(self, *argv):
        self.master, slave = pty.openpty()
        self.slave = os.dup(slave)              # kept to read the terminal's modes afterwards
        self.before = termios.tcgetattr(self.slave)

        def child():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        self.proc = subprocess.Popen(HV + [str(a) for a in argv], cwd=ROOT, stdin=slave,
                                     stdout=slave, stderr=slave, preexec_fn=child)
        os.close(slave)
        self.out = b""

    def read_until(self, pattern, timeout=30):
        end = time.monotonic() + timeout
        while pattern not in self.out and time.monotonic() < end:
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    self.out += os.read(self.master, 4096)
                except OSError:
                    break
        return pattern in self.out

    def type(self, data):
        os.write(self.master, data)

    def wait(self):
        status = self.proc.wait(30)
        self.read_until(b"\0never", 0.3)
        return status

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal():
    made = []

    def start(*argv):
        made.append(Pty(*argv))
        return made[-1]
    yield start
    for t in made:
        t.close()


def test_raw_mode_no_doubled_echo_and_ctrl_a_x(terminal):
    t = terminal("run", "echo")
    assert t.read_until(b"'q' quits\r\n")
    assert b"hv: keys go to echo; Ctrl-C goes to the guest, Ctrl-A x quits" in t.out
    t.type(b"ab")
    assert t.read_until(b"ab")
    t.read_until(b"\0never", 0.5)
    shown = t.out.split(b"'q' quits\r\n", 1)[1]
    assert shown == b"ab"                           # once: the guest's echo, not the tty's
    t.type(b"\x01h")
    assert t.read_until(b"Ctrl-A x        quit hvlab")
    assert b"ab\r\nhv console keys:\r\n" in t.out       # on a line of its own
    t.type(b"\x01x")
    assert t.wait() == 130
    assert b"hv: echo: killed: stopped by Ctrl-A x" in t.out
    assert termios.tcgetattr(t.slave) == t.before   # the terminal is as it was


def test_ctrl_c_goes_to_an_interactive_guest(terminal):
    t = terminal("run", "echo")
    assert t.read_until(b"'q' quits\r\n")
    t.type(b"\x03q")
    assert t.wait() == 0
    assert b"got 'q': 2 characters" in t.out        # the Ctrl-C reached the guest


def test_ctrl_c_stops_hvlab_for_other_images(terminal, tmp_path):
    elf = write(tmp_path, SPIN, name="spin.elf")
    t = terminal("run", elf)
    assert t.read_until(b"Ctrl-C stops hvlab")
    time.sleep(0.2)
    t.type(b"\x03")
    assert t.wait() == 130
    assert b"hv: spin: killed: stopped by Ctrl-C" in t.out
    assert termios.tcgetattr(t.slave) == t.before
    # --ctrl-c guest overrides: Ctrl-C is typed, Ctrl-A x quits
    t = terminal("run", "echo", "--ctrl-c", "host")
    assert t.read_until(b"'q' quits\r\n")
    t.type(b"\x03")
    assert t.wait() == 130


def test_the_terminal_comes_back_after_sigterm(terminal):
    t = terminal("run", "echo")
    assert t.read_until(b"'q' quits\r\n")
    assert termios.tcgetattr(t.slave) != t.before   # raw now
    t.proc.terminate()
    assert t.wait() != 0
    assert termios.tcgetattr(t.slave) == t.before


def test_several_vms_on_a_terminal_show_the_live_prompt(terminal):
    # the keyboard's VM shows its partial line (the echoed key) at once, behind its tag
    t = terminal("run", "hello", "echo")
    assert t.read_until(b"'q' quits\r\n")
    t.type(b"z")
    assert t.read_until(b"[echo] z")
    t.type(b"q")
    assert t.wait() == 0


def test_ctrl_a_n_moves_the_keyboard_to_the_next_vm(terminal):
    t = terminal("run", "echo", "echo")
    assert t.read_until(b"[echo-2] echo: type something") and t.read_until(b"[echo] echo: type")
    assert b"hv: keys go to echo;" in t.out
    t.type(b"\x01n")
    assert t.read_until(b"hv: keys go to echo-2\r\n")
    t.type(b"q")
    assert t.read_until(b"[echo-2] echo: got 'q'")
    t.type(b"\x01n")                                 # echo-2 has ended: back to echo
    assert t.read_until(b"hv: keys go to echo\r\n")
    t.type(b"q")
    assert t.wait() == 0
    assert b"[echo] echo: got 'q': 1 characters" in t.out
