"""hvlab: an educational RISC-V hypervisor (RV32IMA hart in numba, trap-and-emulate monitor)."""

__version__ = "0.1.0"
