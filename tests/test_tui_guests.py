"""The bundled guests that run until stopped (spinner, worker): something to watch in `hv top`.
They never end by themselves, so each test stops them with --max-insns or by killing them.
Their output is checked against independent references: a numpy sieve for spinner's prime
counts, zlib for worker's CRC32, and the virtual clock's rate for the instructions per burst
(a 10 MHz timebase, 10 cycles per tick, one instruction per cycle: 100,000 per ms)."""
import re
import time
import zlib

import numpy as np
import pytest

from hypervisor import state as S
from hypervisor.catalog import manifest
from hypervisor.cli import main
from hypervisor.engine import Engine
from hypervisor.tui import commands as top_commands

INSNS_PER_MS = 100_000          # TIMEBASE_HZ 10 MHz x TIME_DIV 10 cycles, 1 instruction a cycle
SPIN_LINE = re.compile(r"spinner: (\d+): (\d+) primes up to (\d+), (\d+) instructions")
WORK_LINE = re.compile(r"worker: burst (\d+): (\d+) rounds, (\d+) instructions; crc32 of all "
                       r"(\d+) rounds 0x([0-9a-f]{8}); sleeping")


def primes_up_to(n):
    sieve = np.ones(n + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = False
    return int(sieve.sum())


def test_both_are_bundled_and_in_the_default_hv_top_mix():
    names = {e["name"]: e for e in manifest()}
    assert "never stops" in names["spinner"]["description"]
    assert "wfi" in names["worker"]["description"]
    assert {"spinner", "worker"} <= set(top_commands.default_images())


def test_spinner_prints_a_checked_line_each_interval_until_max_insns(capsys):
    status = main(["run", "spinner", "--mem", "16M", "--append", "every_ms=100",
                   "--max-insns", "35000000"])
    out = capsys.readouterr().out.replace("\r\n", "\n")
    assert status == 124, out                     # stopped by the limit, not by itself
    lines = [tuple(map(int, m.groups())) for m in SPIN_LINE.finditer(out)]
    assert [n for n, *_ in lines] == [1, 2, 3], out
    for _, count, latest, _ in lines:
        assert count == primes_up_to(latest)      # pi(latest), from an independent sieve
    # one line per 100 ms of virtual time = 10M instructions
    insns = [i for *_, i in lines]
    for k, i in enumerate(insns, 1):
        assert abs(i - k * 100 * INSNS_PER_MS) < 0.01 * 100 * INSNS_PER_MS


def test_worker_bursts_are_checked_and_its_sleeps_skipped_in_virtual_time(capsys):
    status = main(["run", "worker", "--mem", "16M", "--append", "period_ms=100 busy_ms=30",
                   "--max-insns", "20000000", "--stats"])
    out = capsys.readouterr().out.replace("\r\n", "\n")
    assert status == 124, out
    bursts = [m.groups() for m in WORK_LINE.finditer(out)]
    assert len(bursts) == 6, out                  # 6 bursts of ~3M instructions in 20M
    buf = bytes((i * 7 + 3) & 0xFF for i in range(4096))
    total = 0
    for n, (burst, rounds, insns, all_rounds, crc) in enumerate(bursts, 1):
        total += int(rounds)
        assert int(burst) == n and int(all_rounds) == total
        assert int(crc, 16) == zlib.crc32(buf * total)
        assert abs(int(insns) - 30 * INSNS_PER_MS) < 0.02 * 30 * INSNS_PER_MS


def test_worker_goes_idle_between_bursts_in_wall_clock_time_and_can_be_killed():
    engine = Engine(64 << 20, wall_clock=True)
    try:
        vm = engine.create("worker", mem=16 << 20, bootargs="period_ms=200 busy_ms=40")
        engine.start(vm)
        seen_idle, t0 = False, time.perf_counter()
        while time.perf_counter() - t0 < 10 and not (seen_idle and "burst 3" in
                                                       vm.console.text()):
            seen_idle |= vm.idle
            time.sleep(0.005)
        elapsed = time.perf_counter() - t0
        assert seen_idle and "burst 3" in vm.console.text(), vm.console.text()
        assert vm.st[S.CNT_WFI] >= 2
        # busy 40 ms of every 200: far less than a whole core (the host may be slower than
        # the guest's clock, which then makes bursts longer, never the sleeps shorter)
        assert vm.host_ns / 1e9 < 0.7 * elapsed
        engine.kill(vm)
        assert vm.outcome == "killed"
        assert engine.wait(5, [vm]) and vm.pages == 0
    finally:
        engine.shutdown()


def test_spinner_runs_until_killed_and_max_insns_says_so():
    engine = Engine(64 << 20, max_insns=5_000_000)
    try:
        limited = engine.create("spinner", mem=16 << 20)
        engine.start(limited)
        assert engine.wait(30, [limited])
        assert limited.outcome == "stopped by --max-insns"
    finally:
        engine.shutdown()
    engine = Engine(64 << 20)
    try:
        vm = engine.create("spinner", mem=16 << 20, bootargs="every_ms=10")
        engine.start(vm)
        t0 = time.perf_counter()
        while "spinner: 2:" not in vm.console.text():
            assert time.perf_counter() - t0 < 20, vm.console.text()
            time.sleep(0.01)
        assert not vm.done                          # still computing
        engine.kill(vm)
        assert engine.wait(5, [vm]) and vm.outcome == "killed"
    finally:
        engine.shutdown()
