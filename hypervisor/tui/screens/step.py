"""`s`: single-step a paused VM (or container).  Shows the next instruction (disassembled
when hvlab's disassembler is there, else its hex word: 4 digits for a 16-bit compressed
instruction, 8 for a 32-bit one) and the registers, highlighting what the last step
changed.  Each step runs through engine.step on the UI thread (the VM is paused, so no worker
touches it): exits are handled as usual."""
import bisect

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ... import state as S

ABI = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
       "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
       "t3", "t4", "t5", "t6")
CSRS = (("sstatus", S.SSTATUS), ("sie", S.SIE), ("sip", S.SIP), ("stvec", S.STVEC),
        ("sepc", S.SEPC), ("scause", S.SCAUSE), ("stval", S.STVAL), ("satp", S.SATP),
        ("sscratch", S.SSCRATCH))


def _disassembler():
    try:
        from ...asm import disassemble_word
    except ImportError:
        return None
    return disassemble_word


def translate(vm, va):
    """The guest-physical address of virtual ``va`` for an instruction fetch (an Sv32 walk done
    in Python over guest memory; the hart's TLB is not touched), or None if it faults."""
    st = vm.st
    satp = int(st[S.SATP])
    if not satp >> 31:
        return va
    table = (satp & 0x3FFFFF) << 12
    for level, shift in ((1, 22), (0, 12)):
        raw = vm.read_guest(table + ((va >> shift) & 0x3FF) * 4, 4)
        if raw is None:
            return None
        pte = int.from_bytes(raw, "little")
        if not pte & 1 or (pte & 6) == 4:
            return None
        if pte & 0xA:                   # R or X: a leaf
            if level == 1:
                return ((pte >> 20) << 22) | (va & 0x3FFFFF)
            return ((pte >> 10) << 12) | (va & 0xFFF)
        table = (pte >> 10) << 12
    return None


def _length(parcel):
    try:
        from ...isa.compressed import instruction_length
    except ImportError:                 # a build without the C extension: Vol. I sec. 1.5
        return 4 if parcel & 3 == 3 else 2
    return instruction_length(parcel)


def _read16(vm, va):
    gpa = translate(vm, va)
    raw = vm.read_guest(gpa, 2) if gpa is not None else None
    return int.from_bytes(raw, "little") if raw is not None else None


def fetch(vm, pc):
    """(instruction, its length in bytes) at pc, fetched as the hart does: the first 16-bit
    parcel says whether it is a compressed instruction (2 bytes) or a 32-bit one, whose upper
    half may lie on the next page; None when the fetch would fault."""
    low = _read16(vm, pc)
    if low is None:
        return None
    if _length(low) == 2:
        return low, 2
    high = _read16(vm, (pc + 2) & 0xFFFFFFFF)
    return (low | high << 16, 4) if high is not None else None


def symbol_at(symbols, pc):
    """'name+0x10' for the nearest symbol at or below pc, or ''."""
    if not symbols:
        return ""
    addrs = sorted(symbols)
    i = bisect.bisect_right(addrs, pc) - 1
    if i < 0:
        return ""
    off = pc - addrs[i]
    return symbols[addrs[i]] + (f"+{off:#x}" if off else "")


def describe(vm, pc, disassemble=None):
    """'pc: word  text' for the instruction at pc.  A symbol in <> in the text is what the
    disassembler found for an operand (a branch or jump target), as in objdump."""
    fetched = fetch(vm, pc)
    if fetched is None:
        return f"{pc:08x}: (not mapped: the fetch would fault)"
    word, size = fetched
    text = ""
    if disassemble is not None:
        try:
            text = disassemble(word, pc=pc, symbols=getattr(vm.image, "symbols", None))
        except Exception:               # noqa: BLE001  (a disassembler bug must not kill the UI)
            text = ""
    # as objdump: 4 hex digits for a 16-bit parcel, 8 for a 32-bit word (padded to align)
    hexed = f"{word:04x}    " if size == 2 else f"{word:08x}"
    return f"{pc:08x}: {hexed}  {text or '(no disassembler: hex word shown)'}"


class StepScreen(ModalScreen):
    BINDINGS = [Binding("s,space", "step(1)", "step"),
                Binding("t", "step(10)", "10 steps"),
                Binding("escape,q", "dismiss", "close")]

    def __init__(self, vm):
        super().__init__()
        self.vm = vm
        self.before = None
        self.history = []               # (pc text) of the instructions stepped here
        self.disassemble = _disassembler()

    def compose(self):
        with VerticalScroll(id="step-box"):
            yield Static(id="step-head")
            yield Static(id="step-regs")
            yield Static(id="step-history")
            yield Static("[b]s[/b]/space: step   [b]t[/b]: 10 steps   [b]esc[/b]: back",
                         id="step-keys")

    def on_mount(self):
        self.show()

    def action_step(self, n):
        vm = self.vm
        self.before = vm.st[:S.PC + 1].copy()
        pc = int(vm.st[S.PC])
        line = describe(vm, pc, self.disassemble)
        done = self.app.engine.step(vm, int(n))
        if done == 0 and not vm.done:
            self.notify(f"{vm.name} did not step ({vm.status})", severity="warning")
        else:
            self.history.append(line if n == 1 else f"{line}  … {done} instructions")
            self.history = self.history[-6:]
        self.show()

    def show(self):
        vm, st = self.vm, self.vm.st
        pc = int(st[S.PC])
        sym = symbol_at(getattr(vm.image, "symbols", None), pc)
        head = Text()
        head.append(f"{vm.name}", "bold")
        head.append(f"  {vm.status}" + (f" ({vm.reason})" if vm.reason else ""))
        head.append(f"   priv {'S' if st[S.PRIV] == S.PRIV_S else 'U'}"
                    f"   instret {int(st[S.INSTRET]):,}\n")
        # where the pc is, labelled, on its own line: a symbol in <> on the instruction line
        # is one of its operands (a branch target), as objdump prints it
        head.append("in    ", "dim")
        head.append(sym or "(no symbol)", "bold" if sym else "dim")
        head.append("\nnext  ", "dim")
        head.append(describe(vm, pc, self.disassemble), "bold yellow")
        self.query_one("#step-head", Static).update(head)

        grid = Table.grid(padding=(0, 2))
        for _ in range(4):
            grid.add_column()
        changed = set()
        if self.before is not None:
            changed = {i for i in range(S.PC + 1) if self.before[i] != st[i]}
        cells = []
        for i in range(32):
            style = "bold reverse" if i in changed and i else ""
            cells.append(Text.assemble((f"{ABI[i]:>4} ", "dim"),
                                       (f"{int(st[i]) & 0xFFFFFFFF:08x}", style)))
        for r in range(8):
            grid.add_row(*cells[r::8])
        csr_cells = [Text.assemble((f"{name:>8} ", "dim"), f"{int(st[idx]) & 0xFFFFFFFF:08x}")
                     for name, idx in CSRS]
        csr_cells.insert(0, Text.assemble(("      pc ", "dim"), (f"{pc:08x}",
                                           "bold reverse" if S.PC in changed else "")))
        per_row = max(2, min(5, (self.app.size.width - 6) // 19))     # 80 columns: 3 a row
        csrs = Table.grid(padding=(0, 2))
        for _ in range(per_row):
            csrs.add_column()
        for i in range(0, len(csr_cells), per_row):
            csrs.add_row(*csr_cells[i:i + per_row])
        short = self.app.size.height < 30       # 24 rows: no blank line, fewer past steps
        box = Table.grid()
        box.add_row(grid)
        if not short:
            box.add_row("")
        box.add_row(csrs)
        self.query_one("#step-regs", Static).update(box)
        keep = 6 if not short else max(1, self.app.size.height - 21)
        hist = Text("stepped here:\n" if self.history else "", style="dim")
        for line in self.history[-keep:]:
            hist.append(f"  {line}\n", "dim")
        self.query_one("#step-history", Static).update(hist)
