"""An NS16550A UART, emulated register by register on MMIO exits.

Registers (byte offsets; DLAB = LCR bit 7 switches 0 and 1 to the divisor latch):
    0 RBR (read) / THR (write)     1 IER: bit 0 receive-data interrupt, bit 1 THR-empty interrupt
    2 IIR (read) / FCR (write)     3 LCR      4 MCR      5 LSR: bit 0 data ready, 5 THRE, 6 TEMT
    6 MSR                          7 SCR (scratch)
The transmitter is always ready (bytes go to the VM's console at once); received bytes wait in
a queue.  Its interrupt line (receive data ready, or THR empty when enabled) goes to the PLIC.
"""
from collections import deque

IER_RDI = 0x01      # receive data available interrupt
IER_THRI = 0x02     # transmitter holding register empty interrupt
LSR_DR = 0x01
LSR_THRE = 0x20
LSR_TEMT = 0x40
LCR_DLAB = 0x80
IIR_NONE = 0x01
IIR_THRI = 0x02
IIR_RDI = 0x04
IIR_FIFO = 0xC0     # FIFOs enabled
RX_LIMIT = 4096     # bytes of typed-ahead input kept


class Uart:
    def __init__(self, output):
        self.output = output        # callable(bytes): the VM's console
        self.rx = deque()
        self.ier = 0
        self.lcr = 0
        self.mcr = 0
        self.scr = 0
        self.fcr = 0
        self.dll, self.dlm = 1, 0
        self.thr_ack = False        # THR-empty interrupt acknowledged by reading IIR

    def feed(self, data):
        """Bytes typed at this VM's console."""
        for b in data:
            if len(self.rx) < RX_LIMIT:
                self.rx.append(b)

    def irq(self):
        """Level of the interrupt line."""
        return bool((self.ier & IER_RDI and self.rx) or (self.ier & IER_THRI and not self.thr_ack))

    def read(self, offset, size):
        dlab = self.lcr & LCR_DLAB
        if offset == 0:
            if dlab:
                return self.dll
            return self.rx.popleft() if self.rx else 0
        if offset == 1:
            return self.dlm if dlab else self.ier
        if offset == 2:
            if self.ier & IER_RDI and self.rx:
                return IIR_FIFO | IIR_RDI
            if self.ier & IER_THRI and not self.thr_ack:
                self.thr_ack = True
                return IIR_FIFO | IIR_THRI
            return IIR_FIFO | IIR_NONE
        if offset == 3:
            return self.lcr
        if offset == 4:
            return self.mcr
        if offset == 5:
            return LSR_THRE | LSR_TEMT | (LSR_DR if self.rx else 0)
        if offset == 6:
            return 0xB0         # CTS, DSR, DCD asserted
        if offset == 7:
            return self.scr
        return 0

    def write(self, offset, size, value):
        value &= 0xFF
        dlab = self.lcr & LCR_DLAB
        if offset == 0:
            if dlab:
                self.dll = value
            else:
                self.output(bytes((value,)))
                self.thr_ack = False        # THR is empty again at once
        elif offset == 1:
            if dlab:
                self.dlm = value
            else:
                if value & IER_THRI and not self.ier & IER_THRI:
                    self.thr_ack = False
                self.ier = value & 0x0F
        elif offset == 2:
            self.fcr = value
            if value & 0x02:
                self.rx.clear()             # FCR: clear the receive FIFO
        elif offset == 3:
            self.lcr = value
        elif offset == 4:
            self.mcr = value
        elif offset == 7:
            self.scr = value
