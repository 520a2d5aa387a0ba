"""hv lab: classroom experiments that run on hvlab's public API and hand back a report.

    hv lab list
    hv lab run NAME [--out DIR] [--quick] [--seed N]
    hv lab answers NAME [--seed N] [--quick] [--results FILE]
    hv lab check NAME ANSWERS.toml [--results FILE]

One file per lab (``trap_and_emulate.py``, ``memory.py``, ``scheduling.py``, ...), each a
``base.Lab``; the shared parts: ``base`` (questions, the run context), ``runner`` (booting guests
through the Engine API), ``programs`` (the guests a lab generates per seed), ``walk`` (address
translation done by hand), ``pagemap`` (host pages seen from the host), ``rogue`` (rogue's
console, read), ``plots``, ``report``, ``check``, ``progress`` and ``commands`` (the CLI).

A lab whose module is not there yet is listed with what it waits for: it appears by itself once
its file lands (LABS below names the module it will have).
"""
import importlib

from .base import LabError

# number, name, "module:class", one line, what it needs while its module is not there yet
LABS = (
    (1, "trap-and-emulate", "hypervisor.labs.trap_and_emulate:TrapAndEmulate",
     "which guest actions exit and what each costs; UART vs paravirtual console; delegation",
     None),
    (2, "memory", "hypervisor.labs.memory:Memory",
     "one host array partitioned page by page; a VA walked to a host offset; demand paging; "
     "out of memory; the rogue guest", None),
    (3, "isolation", "hypervisor.labs.isolation:Isolation",
     "VM vs process vs container: host memory, instructions, system calls, host time; "
     "faults, and how many instances survive each",
     "the Linux guest (N processes in one Linux VM, N Linux VMs) beside hvlab's containers"),
    (4, "scheduling", "hypervisor.labs.scheduling:Scheduling",
     "CPU shares and caps, a noisy neighbour, fairness over time, idle VMs cost nothing", None),
    (5, "images", "hypervisor.labs.images:Images",
     "N containers from one image: what is stored once, copy-on-write, push and pull",
     "the bundled BusyBox userland image, and the Linux guest to boot the image as a VM"),
)


class Entry:
    def __init__(self, number, name, target, summary, needs):
        self.number, self.name, self.target, self.summary = number, name, target, summary
        self._needs = needs
        self._lab = None
        self._missing = None

    @property
    def slug(self):
        return f"{self.number:02d}-{self.name}"

    def load(self):
        """The Lab object, or None when its module is not built yet (see ``missing``)."""
        if self._lab is None and self._missing is None:
            module, cls = self.target.split(":")
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                self._missing = f"not available yet: it needs {self._needs or 'its module'}"
                return None
            self._lab = getattr(mod, cls)()
        return self._lab

    @property
    def missing(self):
        self.load()
        return self._missing


ENTRIES = tuple(Entry(*row) for row in LABS)


def find(text):
    """A lab entry by number (3, 03), name, slug (03-isolation) or unique name prefix."""
    t = str(text).strip().lower()
    for e in ENTRIES:
        if t in (str(e.number), f"{e.number:02d}", e.name, e.slug):
            return e
    hits = [e for e in ENTRIES if e.name.startswith(t)]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(e.name for e in ENTRIES)
    if hits:
        raise LabError(f"{text!r} could be any of {', '.join(e.name for e in hits)}")
    raise LabError(f"no lab named {text!r} (labs: {names})")


def get(text):
    """The runnable Lab for ``text``, or LabError saying why not."""
    entry = find(text)
    lab = entry.load()
    if lab is None:
        raise LabError(f"lab {entry.number} ({entry.name}) is {entry.missing}")
    return lab
