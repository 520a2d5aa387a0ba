"""hvlab: an educational RISC-V hypervisor (RV32IMA hart in numba, trap-and-emulate monitor)."""

__version__ = "0.1.0"

import logging

# hvlab logs internal errors (with tracebacks) to the "hvlab" logger; nothing is printed unless
# the application configures it (hv run --debug does)
logging.getLogger("hvlab").addHandler(logging.NullHandler())
