"""Shared test set-up.

Many tests start `hv` in subprocesses (the CLI, the container daemon, the wheel install).  On a
clean checkout numba's cache is cold, and the first process to run a hart compiles it (15-40 s
on a loaded 2-core machine), which would land inside whichever subprocess test happens to come
first and push it past its timeout.  So the hart is compiled (or loaded from the cache) once,
here, before any test runs; every later process finds it in the on-disk cache.
"""


def pytest_sessionstart(session):
    from hypervisor.engine import Engine
    engine = Engine(host_mem=16 << 20, threads=1)
    try:
        vm = engine.create("hello", mem=8 << 20)
        engine.step(vm, 100)
        engine.remove(vm)
    finally:
        engine.shutdown()
