"""The flattened device tree each guest finds in a1 at boot, built with the `fdt` package.

It describes what the guest may use, in the shape of QEMU's `virt` machine: memory, one hart
(rv32ima, Sv32), the timebase frequency, the NS16550A UART behind the PLIC, the sifive-test
finisher, and /chosen with the bootargs (`--append`) and, when one was given (`--initrd`), where
the initial ramdisk lies (linux,initrd-start/end: Linux, Documentation/devicetree/bindings/
chosen.txt; two cells each, as QEMU writes them).
"""
import fdt

from .devices.layout import (FINISHER_BASE, FINISHER_SIZE, PLIC_BASE, PLIC_NDEV, PLIC_SIZE,
                             UART_BASE, UART_IRQ, UART_SIZE)

TIMEBASE_HZ = 10_000_000      # as QEMU virt: 10 MHz
UART_CLOCK_HZ = 3_686_400
PHANDLE_CPU_INTC = 1
PHANDLE_PLIC = 2


def check_bootargs(text):
    """Bootargs are a device tree string: printable ASCII (the fdt package and the
    Devicetree Specification's "printable characters"), tabs allowed.  ValueError if not."""
    for i, ch in enumerate(text):
        if not (" " <= ch <= "~" or ch == "\t"):
            raise ValueError(f"bootargs must be printable ASCII: {ch!r} at position {i}")


def place(segments, ram_base, ram_size, size):
    """Where the tree goes: the highest page-aligned address in RAM from which ``size`` bytes
    overlap no loaded segment (the top of RAM unless the image reaches there), or None.
    The best spot of each gap between segments ends at a segment's start or at RAM's end."""
    tops = {ram_base + ram_size} | {s.paddr for s in segments}
    for top in sorted(tops, reverse=True):
        addr = (top - size) & ~0xFFF
        if addr >= ram_base and addr + size <= ram_base + ram_size and all(
                addr + size <= s.paddr or addr >= s.paddr + s.memsz for s in segments):
            return addr
    return None


def _words(*values):
    return [int(v) & 0xFFFFFFFF for v in values]


def build_dtb(ram_base, ram_size, bootargs="", hart_id=0, initrd=None, isa="rv32imac"):
    """The DTB blob (bytes) describing one VM; ``initrd`` is (start, end) guest-physical."""
    tree = fdt.FDT()
    root = tree.root
    root.append(fdt.PropWords("#address-cells", 2))
    root.append(fdt.PropWords("#size-cells", 2))
    root.append(fdt.PropStrings("compatible", "hvlab,virt", "riscv-virtio"))
    root.append(fdt.PropStrings("model", "hvlab virtual machine"))

    chosen = fdt.Node("chosen")
    # an empty string is still a property (one NUL byte): guests can always find bootargs
    chosen.append(fdt.PropStrings("bootargs", bootargs) if bootargs
                  else fdt.PropBytes("bootargs", data=b"\0"))
    chosen.append(fdt.PropStrings("stdout-path", f"/soc/serial@{UART_BASE:x}"))
    if initrd is not None:
        start, end = initrd
        chosen.append(fdt.PropWords("linux,initrd-start", *_words(start >> 32, start)))
        chosen.append(fdt.PropWords("linux,initrd-end", *_words(end >> 32, end)))
    root.append(chosen)

    memory = fdt.Node(f"memory@{ram_base:x}")
    memory.append(fdt.PropStrings("device_type", "memory"))
    memory.append(fdt.PropWords("reg", *_words(0, ram_base, 0, ram_size)))
    root.append(memory)

    root.append(_cpus(hart_id, isa))
    root.append(_soc())
    return tree.to_dtb(version=17)


def _cpus(hart_id, isa):
    """One hart: rv32imac (or rv32ima) with Sv32, and its local interrupt controller (the
    PLIC's parent)."""
    cpus = fdt.Node("cpus")
    cpus.append(fdt.PropWords("#address-cells", 1))
    cpus.append(fdt.PropWords("#size-cells", 0))
    cpus.append(fdt.PropWords("timebase-frequency", TIMEBASE_HZ))
    cpu = fdt.Node(f"cpu@{hart_id}")
    cpu.append(fdt.PropStrings("device_type", "cpu"))
    cpu.append(fdt.PropWords("reg", hart_id))
    cpu.append(fdt.PropStrings("status", "okay"))
    cpu.append(fdt.PropStrings("compatible", "riscv"))
    cpu.append(fdt.PropStrings("riscv,isa", f"{isa}_zicsr_zifencei"))
    cpu.append(fdt.PropStrings("mmu-type", "riscv,sv32"))
    intc = fdt.Node("interrupt-controller")
    intc.append(fdt.PropWords("#interrupt-cells", 1))
    intc.append(fdt.Property("interrupt-controller"))
    intc.append(fdt.PropStrings("compatible", "riscv,cpu-intc"))
    intc.append(fdt.PropWords("phandle", PHANDLE_CPU_INTC))
    cpu.append(intc)
    cpus.append(cpu)
    return cpus


def _soc():
    """The devices: the test finisher, the UART and the PLIC it interrupts through."""
    soc = fdt.Node("soc")
    soc.append(fdt.PropWords("#address-cells", 2))
    soc.append(fdt.PropWords("#size-cells", 2))
    soc.append(fdt.PropStrings("compatible", "simple-bus"))
    soc.append(fdt.Property("ranges"))

    test = fdt.Node(f"test@{FINISHER_BASE:x}")
    test.append(fdt.PropStrings("compatible", "sifive,test1", "sifive,test0", "syscon"))
    test.append(fdt.PropWords("reg", *_words(0, FINISHER_BASE, 0, FINISHER_SIZE)))
    soc.append(test)

    uart = fdt.Node(f"serial@{UART_BASE:x}")
    uart.append(fdt.PropStrings("compatible", "ns16550a"))
    uart.append(fdt.PropWords("reg", *_words(0, UART_BASE, 0, UART_SIZE)))
    uart.append(fdt.PropWords("clock-frequency", UART_CLOCK_HZ))
    uart.append(fdt.PropWords("interrupts", UART_IRQ))
    uart.append(fdt.PropWords("interrupt-parent", PHANDLE_PLIC))
    soc.append(uart)

    plic = fdt.Node(f"plic@{PLIC_BASE:x}")
    plic.append(fdt.PropStrings("compatible", "sifive,plic-1.0.0", "riscv,plic0"))
    plic.append(fdt.PropWords("reg", *_words(0, PLIC_BASE, 0, PLIC_SIZE)))
    plic.append(fdt.PropWords("#interrupt-cells", 1))
    plic.append(fdt.Property("interrupt-controller"))
    plic.append(fdt.PropWords("riscv,ndev", PLIC_NDEV))
    # context 0: hart 0 M-mode external (11), context 1: hart 0 S-mode external (9)
    plic.append(fdt.PropWords("interrupts-extended", PHANDLE_CPU_INTC, 11, PHANDLE_CPU_INTC, 9))
    plic.append(fdt.PropWords("phandle", PHANDLE_PLIC))
    soc.append(plic)
    return soc
