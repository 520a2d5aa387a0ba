"""`hv top` with containers beside VMs in one engine (issue 13 item 5): the kind column, a
container's real processes as rows under it (following fork and exit), its system calls,
missing calls and page faults in place of exit causes, its pages apart from VM pages on the
memory map, its terminal in the console (ESC reaches vi), the picker and the command line
that start containers, and restart.  Engine in test mode: the test steps every instance.

The references: BusyBox's own `ps` (the pids and commands it reads from the synthesized
/proc) for the process rows, `stty size` (TIOCGWINSZ) for the terminal's size, the file vi
wrote for ESC, the host's page-owner array for the map, and the shared kernel's counters
sampled by the test itself at the poll times for the rates."""
import asyncio
import re

import numpy as np
import pytest

from hypervisor.cli import main
from hypervisor.tui.app import HvTop, ImageChoice, container_name, store_choices
from hypervisor.tui.screens.command import CommandScreen
from hypervisor.tui.screens.picker import PickerScreen
from hypervisor.tui.widgets import CONTAINER_COLOURS, VM_COLOURS, vm_colour
from hypervisor.tui.widgets.console_view import ConsoleView
from hypervisor.tui.widgets.exits_panel import ExitsPanel
from hypervisor.tui.widgets.memory_map import MemoryMap
from hypervisor.tui.widgets.trap_timeline import TrapTimeline
from hypervisor.tui.widgets.vm_table import VMTable
from test_tui_helpers import (FakeClock, advance, busybox, container, make_app, oci_store,
                              shutdown_engines, test_engine)

pytestmark = pytest.mark.usefixtures("shutdown_engines", "oci_store")
STEP = (20_000, 300_000)        # instructions per poll: the VM, the container


def run(coro):
    return asyncio.run(coro)


def rows_under(table, inst_id):
    """(pid, command, state) of the rows under an instance, in order."""
    return [(r.child.pid, r.child.name, r.child.state) for r in table.rows
            if r.vm_id == inst_id and r.depth == 1]


async def typed(pilot, app, engine, clock, *keys, rounds=3, until=None):
    """Keys into the focused console, then polls (``rounds``, or up to 40 until ``until()``)
    so that the shell answers."""
    await pilot.press(*keys)
    for _ in range(rounds if until is None else 40):
        advance(app, engine, clock, rounds=1, insns=STEP)
        if until is not None and until():
            break
    await pilot.pause()


def test_a_container_and_its_processes_beside_a_vm():
    """kind column, title, real process rows that follow fork and exit (BusyBox ps as the
    reference), the detail line, and the terminal sized to the console pane."""
    engine = test_engine(host_mem=32 << 20, guests=("SPIN",))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            c = container(app, ["sh"])
            advance(app, engine, clock, rounds=3, insns=STEP)
            await pilot.pause()
            table = app.screen.query_one(VMTable)
            assert table.cells(1)["kind"] == "vm" and table.cells(c.id)["kind"] == "container"
            assert "kind" in table.visible_keys()          # moved up while containers show
            assert table.border_title.startswith("1 VM · 1 container")
            assert c.name == "busybox" and "▸busybox " in table.plain()
            await pilot.press("down", "right")
            assert rows_under(table, c.id) == [(1, "sh", "sleeping")]   # reads the tty
            await pilot.press("enter")                      # the console: its terminal
            console = app.screen.query_one(ConsoleView)
            assert app.focused is console and console.lines[-1].startswith("/ #")
            # fork: a busy child; BusyBox ps lists what the table lists
            await typed(pilot, app, engine, clock, *"yes > /dev/null &", "enter")
            await typed(pilot, app, engine, clock, *"ps -o pid,comm", "enter",
                        until=lambda: c.console.text().endswith(" ps\r\n/ # "))
            text = c.console.text()
            ps = re.findall(r"^\s*(\d+)\s+(\S+)\r?$", text[text.rindex("PID"):], re.M)
            rows = rows_under(table, c.id)
            # ps itself has ended by now: reaped, or a zombie for a moment
            assert [(int(p), n) for p, n in ps if n != "ps"] == \
                [(p, n) for p, n, _ in rows if n != "ps"]
            assert [n for _, n, _ in rows][:2] == ["sh", "yes"] and rows[1][2] == "running"
            assert all(st == "zombie" for _, n, st in rows if n == "ps")
            await typed(pilot, app, engine, clock, *"stty size", "enter",
                        until=lambda: re.search(r"\d+ \d+\r\n/ # $", c.console.text()))
            text = c.console.text()
            size = re.findall(r"^(\d+) (\d+)\r?$", text, re.M)[-1]
            assert (int(size[1]), int(size[0])) == (console.content_size.width,
                                                    console.content_size.height)
            # the yes row shows its memory and its system calls per second
            yes = [r.child for r in table.rows if r.child and r.child.name == "yes"][0]
            assert yes.pages > 0 and yes.rate > 0 and yes.depth == 1
            # exit: kill it, and its row goes (sh reaps it at its next prompt)
            await typed(pilot, app, engine, clock, *"kill $!", "enter",
                        until=lambda: "Terminated" in c.console.text())
            await typed(pilot, app, engine, clock, "enter")
            assert rows_under(table, c.id) == [(1, "sh", "sleeping")]
            detail = app.screen.query_one("#detail").plain()
            assert "container busybox:1.35" in detail and re.search(r"\b1 process\b", detail)
            await pilot.press("ctrl+right_square_bracket")
            assert isinstance(app.focused, VMTable)
    run(go())


def test_escape_reaches_vi_in_a_container():
    """vi needs ESC to leave insert mode: it wrote the file, so it got the ESC."""
    engine = test_engine(host_mem=32 << 20, guests=())
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            c = container(app, ["sh"])
            advance(app, engine, clock, rounds=3, insns=STEP[1:])
            await pilot.press("enter")
            # a pause after ESC, as a typist makes (vi reads ESC and a key at once as one
            # key's escape sequence)
            for keys in ([*"vi /tmp/x", "enter"], ["i", *"hello vi"], ["escape"],
                         [*":wq", "enter"], [*"cat /tmp/x", "enter"]):
                await pilot.press(*keys)
                advance(app, engine, clock, rounds=3, insns=STEP[1:])
            assert c.console.text().endswith("/ # cat /tmp/x\r\nhello vi\r\n/ # ")
            assert app.focused is app.screen.query_one(ConsoleView)
    run(go())


def test_container_exits_panel_shows_calls_missing_calls_and_faults():
    engine = test_engine(host_mem=32 << 20, guests=("SPIN",))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            # ipcs asks for System V IPC and ionice for I/O priorities: calls the shared
            # kernel does not have (ENOSYS); then a steady stream of writes
            c = container(app, ["sh", "-c", "ipcs; ionice; exec yes > /dev/null"])
            history = []
            for _ in range(12):
                advance(app, engine, clock, rounds=1, insns=STEP)
                history.append((clock.t, dict(c.syscall_counts), c.syscalls, c.faults))
            await pilot.press("down")
            await pilot.pause()
            m = app.sampler.snapshot.vms[c.id]
            panel = app.screen.query_one(ExitsPanel)
            text = panel.plain()
            assert panel.border_title == f"system calls · {c.name}"
            names = {nr: c.kernel.name_of(nr) for nr in c.missing}
            if not names:
                pytest.skip("the shared kernel now implements ipcs's and ionice's calls")
            # rates over the last second, from the kernel's counters read by the test
            (t0, calls0, n0, f0), (t1, calls1, n1, f1) = history[-11], history[-1]
            rate = {c.kernel.name_of(nr): (k - calls0.get(nr, 0)) / (t1 - t0)
                    for nr, k in calls1.items()}
            busiest = max(rate, key=rate.get)
            assert busiest == "writev" and m.calls[0][0] == busiest
            assert m.calls[0][2] == pytest.approx(rate[busiest])
            assert m.syscalls == n1 and m.syscall_rate == pytest.approx((n1 - n0) / (t1 - t0))
            assert m.faults == f1 > 0
            lines = text.splitlines()
            assert lines[1].split()[:2] == ["all", str(n1)]
            assert lines[2].split()[:3] == ["page", "faults", str(f1)]
            assert lines[4].split()[1] == "writev"
            at = [i for i, line in enumerate(lines) if line.startswith("missing (ENOSYS)")][0]
            shown = [line.split()[1] for line in lines[at + 1:] if line.startswith("■")]
            want = sorted(names.values(), key=lambda n: (-c.missing[
                [k for k, v in names.items() if v == n][0]], n))
            assert shown == want[:len(shown)] and len(shown) >= min(3, len(want))
            # the table: exits/s is the container's calls and faults; top its busiest call
            assert app.screen.query_one(VMTable).cells(c.id)["top"] == "writev"
            # the timeline: system calls and page faults, not the VM exit causes
            await pilot.press("v")
            await pilot.pause()
            timeline = app.screen.query_one(TrapTimeline).plain().splitlines()
            assert [line.split()[0] for line in timeline[1:]] == ["syscall", "fault", "g-stage"]
            # each cell is one poll interval's calls: ░ 1+ ▒ 10+ ▓ 100+ █ 1000+
            per_poll = np.diff([n for _, _, n, _ in history])
            glyph = "".join(" ░▒▓█"[sum(d >= k for k in (1, 10, 100, 1000))] for d in per_poll)
            assert timeline[1].endswith(glyph) and glyph.strip()
    run(go())


def test_memory_map_colours_container_pages_apart_from_vm_pages():
    engine = test_engine(host_mem=16 << 20, guests=("TOUCH",))
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            c = container(app, ["sh", "-c", "exec yes > /dev/null"])
            advance(app, engine, clock, rounds=3, insns=(40_000, 300_000))
            await pilot.press("v", "v")                     # the memory map beside the console
            await pilot.pause()
            memmap = app.screen.query_one("#memmap-c", MemoryMap)
            lines = memmap._lines
            owner = app.sampler.snapshot.owner
            assert (owner == c.id).sum() > 0 and (owner == 1).sum() > 0
            styles = {st for line in lines for _, st in line}
            assert vm_colour(1, "vm") in styles and vm_colour(c.id, "container") in styles
            assert not set(VM_COLOURS) & set(CONTAINER_COLOURS)    # two families
            legend = "".join(t for line in lines for t, _ in line)
            assert "VMs: █ touch-1" in legend and f"containers: █ {c.name} " in legend
            pages = int((owner == c.id).sum())
            from hypervisor.tui.sampler import fmt_bytes
            assert f"{c.name} {fmt_bytes(pages * 4096)}" in legend
    run(go())


def test_picker_starts_a_container_with_its_command_line():
    engine = test_engine(host_mem=32 << 20, guests=("SPIN",))
    clock = FakeClock()
    choices = [ImageChoice("busybox:1.35", "bundled", "busybox:1.35", kind="container",
                           command=("/bin/sh",))]
    app = make_app(engine, clock, container_choices=choices)
    busybox()                                               # resolved once per session

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("n")
            picker = app.screen
            assert isinstance(picker, PickerScreen)
            prompts = [str(picker.query_one("#picker-list").get_option_at_index(i).prompt)
                       for i in range(picker.query_one("#picker-list").option_count)]
            assert prompts[0].startswith("VM images") and "container images" in prompts[3]
            assert prompts[4].startswith("busybox:1.35")
            await pilot.press("end", "enter")
            assert isinstance(app.screen, CommandScreen)
            line = app.screen.query_one("#command-line")
            assert line.value == "/bin/sh"                  # the image's command first
            line.value = "sh -c 'echo made by hv top; exec yes > /dev/null'"
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            made = [i for i in engine.vms.values() if i.kind == "container"]
            assert len(made) == 1 and made[0].config.argv[-1].startswith("echo made")
            table = app.screen.query_one(VMTable)
            assert table.selected_id == made[0].id and made[0].status == "running"
            advance(app, engine, clock, rounds=2, insns=STEP)
            assert "made by hv top" in made[0].console.text()
    run(go())


def test_restart_runs_the_command_again_with_the_files_kept():
    engine = test_engine(host_mem=32 << 20, guests=())
    clock = FakeClock()
    app = make_app(engine, clock)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            c = container(app, ["sh", "-c", "echo run >> /runs; wc -l < /runs"])
            advance(app, engine, clock, rounds=2, insns=STEP[1:])
            assert c.outcome == "passed" and c.console.text().endswith("1\r\n")
            await pilot.press("r")
            new = [i for i in engine.vms.values()]
            assert len(new) == 1 and new[0] is not c and new[0].name == c.name
            advance(app, engine, clock, rounds=2, insns=STEP[1:])
            text = new[0].console.text()
            assert "[hvlab: container restarted]" in text and text.endswith("2\r\n")
            assert app.screen.query_one(VMTable).selected_id == new[0].id
    run(go())


def test_hv_top_starts_containers_from_its_command_line(monkeypatch, capsys):
    busybox()
    seen = {}

    def fake_run(app):
        seen["insts"] = [(i.kind, i.name, i.status) for i in app.engine.vms.values()]
        seen["argv"] = [i.config.argv for i in app.engine.vms.values() if i.kind == "container"]
        seen["tty"] = [i.tty.is_tty for i in app.engine.vms.values() if i.kind == "container"]
    monkeypatch.setattr(HvTop, "run", fake_run)
    assert main(["top", "hello", "--container", "busybox:1.35 sh -c 'echo a; sleep 9'",
                 "--container", "busybox:1.35", "--mem", "8M", "--host-mem", "64M"]) == 0
    assert [k for k, _, _ in seen["insts"]] == ["vm", "container", "container"]
    assert {s for _, _, s in seen["insts"]} <= {"running", "halted"}
    assert seen["argv"] == [["sh", "-c", "echo a; sleep 9"], ["/bin/sh"]]
    assert seen["tty"] == [True, True]
    assert "hv top: 1 VM and 2 containers retired" in capsys.readouterr().err
    # only containers: no default mix of VMs
    assert main(["top", "--container", "busybox:1.35 true", "--host-mem", "64M"]) == 0
    assert [k for k, _, _ in seen["insts"]] == ["container"]
    # bad ones: one line each
    assert main(["top", "--container", "busybox:1.35 'unclosed"]) == 2
    assert main(["top", "--container", "no-such-image:9", "--host-mem", "64M"]) == 125
    err = capsys.readouterr().err
    assert "--container" in err and "no-such-image:9" in err
    assert all(line.startswith("hv top") for line in err.strip().splitlines())


def test_store_choices_and_names():
    offered = store_choices()
    busy = [c for c in offered if c.name == "busybox:1.35"]
    assert busy and busy[0].kind == "container" and busy[0].command == ("/bin/sh",)
    assert container_name("busybox:1.35", ["spinner"]) == "busybox"
    assert container_name("busybox:1.35", ["busybox", "busybox-2"]) == "busybox-3"
    assert container_name("registry.local:5000/lab/web:2", []) == "web"
    assert container_name("./rootfs/", ["rootfs"]) == "rootfs-2"
