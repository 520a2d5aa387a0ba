"""What the hart's cold compile depends on (issue 10 item 2; figures in bench/README.md).

numba compiles an @njit function once per signature: a literal argument (``f(st, 1)``) or an
int32 where an int64 was passed before makes a second compile of the whole call tree below it.
jit.as_u16/as_u32 replace numba's ndarray.view in the hart (five functions less to compile):
they must be exactly numpy's view.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from hypervisor.jit import as_u16, as_u32, callee, njit

ROOT = Path(__file__).resolve().parent.parent


@njit(cache=False)
def _views(ram, i, v):
    r16 = as_u16(ram)
    r32 = as_u32(ram)
    r32[i] = v                              # a write through the view is the array's
    return r16.size, r32.size, r16[2 * i], r16[2 * i + 1], r32[i], r16.strides[0], \
        r32.strides[0]


@pytest.mark.parametrize("size", [4096, 8192, 4099])
def test_views_are_numpys_views(size):
    rng = np.random.default_rng(size)
    ram = rng.integers(0, 256, size, dtype=np.uint8)
    ref = ram.copy()
    n16, n32, lo, hi, word, s16, s32 = _views(ram, 5, 0x8765_4321)
    ref[20:24] = np.frombuffer((0x8765_4321).to_bytes(4, "little"), np.uint8)
    assert (ram == ref).all()
    assert (n16, n32) == (size // 2, size // 4)
    assert (s16, s32) == (2, 4)
    assert (lo, hi, word) == (0x4321, 0x8765, 0x8765_4321)
    whole = ref[:size // 4 * 4]             # (numpy refuses a view of the odd tail)
    assert word == whole.view(np.uint32)[5] and hi == whole.view(np.uint16)[11]


def test_views_refuse_other_arrays():
    with pytest.raises(Exception, match="as_u16"):
        _views(np.zeros(16, np.int64), 0, 1)


def test_a_callee_is_for_compiled_code_only():
    @callee
    def twice(x):
        return 2 * x

    @njit(cache=False)
    def caller(x):
        return twice(x) + 1

    assert caller(20) == 41
    with pytest.raises(TypeError, match="compiled callers only"):
        twice(20)                           # no Python wrapper was built: no crash either


CHECK = r"""
import contextlib, io, sys
from numba.core.registry import CPUDispatcher
from hypervisor import cli
from hypervisor.commands import warmup
warmup._two_processes = lambda: None        # all compiled here, where the signatures are seen
for argv in (["run", "hello"], ["run", "trapstorm"], ["run", "bench-small"]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.main(argv)
        except SystemExit:
            pass
many, compiled = [], 0
for name, mod in list(sys.modules.items()):
    if name.startswith("hypervisor"):
        for attr, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == name:
                compiled += len(obj.signatures) > 0
                if len(obj.signatures) > 1:
                    many.append(f"{name}.{attr}: {obj.signatures}")
print(compiled)
print("\n".join(many))
"""


def _cold(script):
    with tempfile.TemporaryDirectory() as cache:
        return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                              text=True, timeout=600, stdin=subprocess.DEVNULL,
                              env={**os.environ, "NUMBA_CACHE_DIR": cache})


def test_each_hart_function_is_compiled_once():
    """Three guests (console, a trap storm, Sv32 compute) through `hv run`, compiled afresh
    (an empty numba cache: a cached hart loads without its callees): every jitted function
    of the package has one signature (one compile of its call tree).  ~10 s."""
    out = _cold(CHECK)
    assert out.returncode == 0, out.stderr[-2000:]
    compiled, *many = out.stdout.strip().split("\n")
    assert int(compiled) >= 30              # the hart and its callees were compiled
    assert [m for m in many if m] == []


HELPER = r"""
import io
from hypervisor import access, cpu, csr
from hypervisor.commands import warmup
warmup.compile_hart(io.StringIO())
for d in (access.exec_mem, csr.exec_system, cpu._run):
    print(sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values()))
"""


def test_a_cold_start_compiles_the_slow_paths_in_a_helper_process():
    """The warm-up's helper process compiled exec_mem and exec_system into the cache (this
    process loaded them, compiled none), and the main loop here: ~10 s."""
    out = _cold(HELPER)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [tuple(map(int, line.split())) for line in out.stdout.split("\n") if line]
    assert rows == [(1, 0), (1, 0), (0, 1)]
