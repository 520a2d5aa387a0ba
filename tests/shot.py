"""Render hv top (test engine) as text at a size: python shot.py 80 24 [keys...]"""
import asyncio, io, sys
from rich.console import Console
from test_tui_helpers import FakeClock, advance, make_app, test_engine, _engines

def text_of(app):
    w, h = app.size
    console = Console(width=w, height=h, file=io.StringIO(), force_terminal=True,
                      color_system=None, record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()

async def main(w, h, keys):
    engine = test_engine(host_mem=4 << 20, guests=("SPIN", "TOUCH", "SPIN", "ECHO", "MEMHOG", "CRASH"))
    engine.vms[2].weight = 2048
    engine.vms[3].cap = 0.5
    clock = FakeClock()
    app = make_app(engine, clock)
    async with app.run_test(size=(w, h)) as pilot:
        await pilot.pause()
        advance(app, engine, clock, rounds=12, insns=(40_000, 80_000, 20_000, 3_000, 30000, 1000), cpu_ms=(40, 80, 20, 0, 10, 1))
        await pilot.pause()
        for k in keys:
            await pilot.press(k)
        await pilot.pause()
        print(text_of(app))
    for e in _engines: e.shutdown()

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]))
