"""The sifive-test finisher at 0x10_0000: how a bare guest powers the machine off.

A 32-bit write of 0x5555 means pass (power off), 0x3333 | code << 16 means fail with an exit
code, 0x7777 means reset.  Other values are ignored, as on QEMU.
"""
FINISHER_PASS = 0x5555
FINISHER_FAIL = 0x3333
FINISHER_RESET = 0x7777


class Finisher:
    def __init__(self, on_power_off):
        self.on_power_off = on_power_off     # callable(kind, code): kind 'pass'/'fail'/'reset'

    def read(self, offset, size):
        return 0

    def write(self, offset, size, value):
        if offset != 0:
            return
        low = value & 0xFFFF
        if low == FINISHER_PASS:
            self.on_power_off("pass", 0)
        elif low == FINISHER_FAIL:
            self.on_power_off("fail", (value >> 16) & 0xFFFF)
        elif low == FINISHER_RESET:
            self.on_power_off("reset", 0)
