"""Starting up: numba's cache read the way numba reads it, the message on a cache miss (a line,
or a spinner on a terminal), and the hart compiled before any VM's clock starts."""
import importlib
import io
import re
import sys
import time

from hypervisor import jit
from hypervisor.commands import warmup


def test_compiled_on_disk_follows_numbas_cache(tmp_path, monkeypatch):
    src = tmp_path / "tiny_kernel.py"
    src.write_text("from hypervisor.jit import njit\n\n\n@njit(cache=True)\n"
                   "def inc(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("tiny_kernel")
    assert jit.compiled_on_disk(module.inc) is False        # never compiled: a miss
    assert module.inc(41) == 42                             # compiles, and saves it
    module = importlib.reload(module)                       # a new process would see:
    assert jit.compiled_on_disk(module.inc) is True
    src.write_text(src.read_text() + "\n# edited\n")         # the source changed: stale
    module = importlib.reload(module)
    assert jit.compiled_on_disk(module.inc) is False
    sys.modules.pop("tiny_kernel", None)


def test_the_harts_cache_is_found():
    from hypervisor import cpu
    warmup.compile_hart(io.StringIO())                      # the suite has compiled it by now
    assert jit.compiled_on_disk(cpu.run_checked) is True
    assert jit.compiled_on_disk(len) is None                # not a numba function


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_a_miss_is_said_at_once_on_a_plain_stream(monkeypatch):
    monkeypatch.setattr(jit, "compiled_on_disk", lambda d: False)
    seen = []
    monkeypatch.setattr(warmup, "_one_instruction", lambda: seen.append(err.getvalue()))
    err = io.StringIO()
    assert warmup.compile_hart(err) >= 0
    assert seen == [warmup.MESSAGE + "\n"]                  # before compiling, not after
    assert err.getvalue().startswith(warmup.MESSAGE + "\nhv: compiled in ")


def test_a_miss_on_a_terminal_spins(monkeypatch):
    monkeypatch.setattr(jit, "compiled_on_disk", lambda d: False)
    monkeypatch.setattr(warmup, "_one_instruction", lambda: time.sleep(0.35))
    err = Tty()
    warmup.compile_hart(err)
    text = err.getvalue()
    assert text.count("\r" + warmup.MESSAGE) >= 2           # frames of the spinner
    assert any(c in text for c in warmup.SPIN)
    assert re.search(r"\r\x1b\[K" + re.escape(warmup.MESSAGE) + r": done in \d+\.\d s\n$", text)


def test_a_warm_start_says_nothing_and_a_slow_one_does(monkeypatch):
    monkeypatch.setattr(jit, "compiled_on_disk", lambda d: True)
    err = io.StringIO()
    assert warmup.compile_hart(err) == 0.0 and err.getvalue() == ""
    # the cache looked warm but loading takes long (a numba laid out otherwise): say it then
    monkeypatch.setattr(warmup, "WATCHDOG_SECONDS", 0.05)
    monkeypatch.setattr(warmup, "_one_instruction", lambda: time.sleep(0.3))
    assert warmup.compile_hart(err) > 0.0
    assert err.getvalue().startswith(warmup.MESSAGE + "\n")


def test_compiling_is_no_vms_host_time(monkeypatch, capsys, tmp_path):
    # a slow "compile" in the warm-up must not show in any VM's host seconds
    from hypervisor.cli import main
    real = warmup._one_instruction

    def slow():
        time.sleep(1.0)
        real()
    monkeypatch.setattr(warmup, "_one_instruction", slow)
    assert main(["run", "hello", "--stats"]) == 0
    err = capsys.readouterr().err
    row = next(line for line in err.splitlines() if line.startswith("hello "))
    host_seconds = float(row.split()[4])
    assert host_seconds < 1.0, row          # charged, the 1 s would be in it: it is not
