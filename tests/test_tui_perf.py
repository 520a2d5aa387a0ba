"""`hv top` under load: 8 busy VMs in real worker threads.  The UI keeps polling about 10 times
a second, a key shows its effect in the table quickly, the VMs keep most of their speed, and
quitting stops every VM within 0.2 s with no worker thread left.  The figures are printed
(pytest -s shows them).  Bounds are generous: the host's cores are shared."""
import asyncio
import time

import numpy as np
import pytest
from textual import events

from hypervisor import state as S
from hypervisor.engine import Engine
from hypervisor.tui.app import HvTop, running_cpu_threads
from hypervisor.tui.widgets.vm_table import COLUMN_KEYS, VMTable
from test_tui_helpers import MEM, elf

WINDOW = 2.0


def _instret(engine):
    return sum(int(vm.st[S.INSTRET]) for vm in engine.vms.values())


def _state(app, vm_id):
    table = app.screen.query_one(VMTable)
    return table.get_row(str(vm_id))[COLUMN_KEYS.index("state")].plain


def test_ui_stays_responsive_with_8_busy_vms():
    engine = Engine(64 << 20)
    for i in range(8):
        vm = engine.create(elf("COMPUTE"), mem=MEM)
        vm.name = f"compute-{vm.id}"
    for vm in engine.vms.values():
        engine.start(vm)
    try:
        time.sleep(0.3)                                 # let the workers settle
        i0, w0 = _instret(engine), time.perf_counter()
        time.sleep(WINDOW)
        mips_alone = (_instret(engine) - i0) / (time.perf_counter() - w0) / 1e6

        app = HvTop(engine, mem=MEM)
        frames = []
        display = app._display                          # count the frames Textual draws

        def counting(*args, **kwargs):
            frames.append(time.perf_counter())
            return display(*args, **kwargs)
        app._display = counting
        figures = {}

        async def go():
            # no pilot.press/pause here: their idle detection waits while threads spin
            async with app.run_test(size=(120, 40)):
                await asyncio.sleep(0.5)
                n0, f0 = len(app.poll_times), len(frames)
                c0, i0, w0 = time.thread_time(), _instret(engine), time.perf_counter()
                await asyncio.sleep(WINDOW)
                wall = time.perf_counter() - w0
                figures["ui_cpu"] = (time.thread_time() - c0) / wall
                figures["mips_tui"] = (_instret(engine) - i0) / wall / 1e6
                figures["polls_per_s"] = (len(app.poll_times) - n0) / wall
                figures["frames_per_s"] = (len(frames) - f0) / wall
                gaps = np.diff(list(app.poll_times)[n0:])
                figures["poll_gap_mean"], figures["poll_gap_max"] = gaps.mean(), gaps.max()
                figures["poll_cost_mean"] = float(np.mean(list(app.poll_costs)[n0:]))
                delays = []
                for k in range(6):
                    want = "paused" if k % 2 == 0 else "running"
                    t0 = time.perf_counter()
                    app.post_message(events.Key("p", "p"))
                    while _state(app, 1) != want:
                        assert time.perf_counter() - t0 < 5, "the key never took effect"
                        await asyncio.sleep(0.001)
                    delays.append(time.perf_counter() - t0)
                    await asyncio.sleep(0.05)
                figures["key_mean"], figures["key_max"] = np.mean(delays), max(delays)
                t0 = time.perf_counter()
                app.post_message(events.Key("q", "q"))
                while app.quit_seconds is None and time.perf_counter() - t0 < 5:
                    await asyncio.sleep(0.001)
                figures["quit"] = time.perf_counter() - t0
        asyncio.run(go())
    finally:
        engine.shutdown()

    print(f"\n8 busy VMs, {engine.scheduler.nthreads} worker threads:"
          f"\n  UI polls {figures['polls_per_s']:.1f}/s (gap mean "
          f"{1000 * figures['poll_gap_mean']:.0f} ms, max {1000 * figures['poll_gap_max']:.0f} ms,"
          f" a poll costs {1000 * figures['poll_cost_mean']:.1f} ms), "
          f"{figures['frames_per_s']:.1f} frames/s"
          f"\n  UI thread CPU: {100 * figures['ui_cpu']:.1f}% of one core"
          f"\n  key to table update: mean {1000 * figures['key_mean']:.1f} ms, "
          f"max {1000 * figures['key_max']:.1f} ms"
          f"\n  aggregate MIPS: {mips_alone:.0f} without the TUI, {figures['mips_tui']:.0f} with it"
          f"\n  q to every VM stopped: {1000 * figures['quit']:.0f} ms "
          f"(engine.shutdown {1000 * app.quit_seconds:.0f} ms)")
    assert figures["poll_gap_mean"] < 0.3 and figures["poll_gap_max"] < 1.5
    assert figures["key_max"] < 0.5
    assert app.quit_seconds < 0.2
    assert running_cpu_threads() == []
    assert figures["mips_tui"] > 0.5 * mips_alone


if __name__ == "__main__":
    pytest.main([__file__, "-s"])
