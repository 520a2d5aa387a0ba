"""The guest-physical memory map, drawn once (it follows QEMU's `virt` machine).

    0x0000_0000 +----------------------------+
                |  (hole: access fault)      |
    0x0010_0000 +----------------------------+
                |  sifive-test finisher      |  write 0x5555 pass, 0x3333|code<<16 fail
    0x0010_1000 +----------------------------+
                |  (hole)                    |
    0x0C00_0000 +----------------------------+
                |  PLIC (4 MiB)              |  UART is source 10; hart 0 S-mode = context 1
    0x0C40_0000 +----------------------------+
                |  (hole)                    |
    0x1000_0000 +----------------------------+
                |  NS16550A UART             |
    0x1000_0100 +----------------------------+
                |  (hole)                    |
    0x8000_0000 +----------------------------+
                |  RAM (--mem, default 64M)  |  images linked at 0x8040_0000;
                |                            |  the device tree sits in the top page(s)
    0x8000_0000 + mem ------------------------+
                |  (hole up to 4 GiB, and    |
                |   Sv32's 34-bit addresses) |
                +----------------------------+
Any access to a hole is an access fault injected into the guest.
"""
RAM_BASE = 0x8000_0000
FINISHER_BASE, FINISHER_SIZE = 0x0010_0000, 0x1000
PLIC_BASE, PLIC_SIZE = 0x0C00_0000, 0x40_0000
UART_BASE, UART_SIZE = 0x1000_0000, 0x100
UART_IRQ = 10
PLIC_NDEV = 31
