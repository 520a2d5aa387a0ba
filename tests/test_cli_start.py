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


STALE_CHILD = """
import sys
import callee_mod, caller_mod
from hypervisor import jit
if sys.argv[1] == "guarded":
    jit.drop_stale([callee_mod, caller_mod])
print(caller_mod.g(0))
"""


def test_an_edited_callee_recompiles_its_callers(tmp_path):
    """numba checks a cached function against its own file only: the caller compiled with
    the old callee inlined comes back from the cache after an edit of the callee's file (each
    run below is a new process, as a user's next `hv run` is).  jit.drop_stale, which the hart
    runs over its files at import, notices the edit and has the caller compiled again."""
    import os
    import subprocess
    (tmp_path / "callee_mod.py").write_text(
        "from hypervisor.jit import njit\n\n\n@njit(cache=True)\ndef f(x):\n    return x + 1\n")
    (tmp_path / "caller_mod.py").write_text(
        "from hypervisor.jit import njit\nfrom callee_mod import f\n\n\n"
        "@njit(cache=True)\ndef g(x):\n    return f(x) * 10\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()]),
           "NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run(mode):
        out = subprocess.run([sys.executable, "-c", STALE_CHILD, mode], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    def edit(step):
        src = tmp_path / "callee_mod.py"
        src.write_text(src.read_text().replace("x + 1", f"x + {step}").replace(
            "x + 2", f"x + {step}"))
    assert run("plain") == 10
    edit(2)
    assert run("plain") == 10           # numba's own cache: the old f, inside g (the trap)
    assert run("guarded") == 20         # the stamp differs: both compiled again
    assert run("guarded") == 20         # and cached from then on
    edit(3)
    assert run("guarded") == 30


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
