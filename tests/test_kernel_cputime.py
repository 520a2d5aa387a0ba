"""CPU time in the shared kernel: every instruction a process retires is charged to it, so
times(2), getrusage(2), wait4's rusage (waitid's fifth argument on rv32), clock_gettime's
CPU clocks and /proc/PID/stat say what Linux would.  The references are hand-derived: the
hart's virtual clock is 100 MHz (100 instructions per microsecond), the loops' lengths fix
the ratios, and the parts add up to the container's instructions."""
import re

import pytest

from hypervisor.catalog import rootfs_path

LOOP = 'i=0; while [ $i -lt {n} ]; do i=$((i+1)); done'


@pytest.fixture
def engine():
    from hypervisor.engine import Engine
    e = Engine(host_mem=96 << 20)
    yield e
    e.shutdown()


def _seconds(m, s):
    return int(m) * 60 + float(s)


def test_times_getrusage_and_wait4_charge_the_right_process(engine):
    from hypervisor.kernel import runtime
    inner = LOOP.format(n=3000).replace("$", "\\$")
    script = (f'{LOOP.format(n=2000)}; sh -c "{inner}"; times; '
              f'time sh -c "{LOOP.format(n=1000).replace("$", chr(92) + "$")}"')
    c = runtime.run(engine, str(rootfs_path("userland")), ["/bin/sh", "-c", script],
                    memory=32 << 20)
    assert engine.wait(timeout=120, vms=[c]), c.outcome
    out = c.console.text()
    assert c.exit_code == 0, out
    # ash's `times`: the shell's user and system time, then its reaped children's (times(2))
    rows = re.findall(r"(\d+)m([\d.]+)s (\d+)m([\d.]+)s", out)
    assert len(rows) == 2, out
    shell, kids = _seconds(*rows[0][:2]), _seconds(*rows[1][:2])
    assert _seconds(*rows[0][2:]) == 0 and _seconds(*rows[1][2:]) == 0     # no system time
    # BusyBox `time` (wait4 -> waitid with a rusage): user time of a CPU-bound child alone
    # on the hart is its real time
    real = re.search(r"real\s+(\d+)m\s*([\d.]+)s", out)
    user = re.search(r"user\s+(\d+)m\s*([\d.]+)s", out)
    assert real and user, out
    timed = _seconds(*user.groups())
    assert timed == pytest.approx(_seconds(*real.groups()), abs=0.02)
    # the loops are 2000, 3000 and 1000 turns of the same shell code
    assert shell > 0.05 and kids / shell == pytest.approx(1.5, rel=0.1)
    assert timed / shell == pytest.approx(0.5, rel=0.1)
    # and everything the container ran is some process's (100 instructions per microsecond),
    # but for the idle task and what ran after `times` (the `time` applet's own start)
    total = c.stats()["instructions"] / 1e8
    assert shell + kids + timed == pytest.approx(total, rel=0.03)


def test_proc_stat_has_the_utime_and_cutime_of_the_process(engine):
    """/proc/PID/stat's utime (field 14) and cutime (field 16), in clock ticks of 100 Hz."""
    from hypervisor.kernel import runtime
    script = (f'{LOOP.format(n=1500)}; sh -c "exit 0"; '
              'cut -d" " -f14-17 /proc/$$/stat')
    c = runtime.run(engine, str(rootfs_path("userland")), ["/bin/sh", "-c", script],
                    memory=32 << 20)
    assert engine.wait(timeout=120, vms=[c]), c.outcome
    fields = c.console.text().split()
    assert len(fields) == 4, c.console.text()
    utime, stime, cutime, cstime = map(int, fields)
    assert utime > 10 and stime == 0 and cstime == 0
    assert 0 <= cutime < utime / 10             # the child only exited
    assert utime / 100 <= c.stats()["instructions"] / 1e8
