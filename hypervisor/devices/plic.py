"""A platform-level interrupt controller (PLIC), laid out as QEMU virt's (SiFive PLIC).

    base + 4*n                 priority of source n (1..31)
    base + 0x1000              pending bits (read-only)
    base + 0x2000 + 0x80*c     enable bits of context c
    base + 0x200000 + 0x1000*c threshold of context c; +4 claim (read) / complete (write)
Context 0 is hart 0's M-mode (the monitor's, unused), context 1 hart 0's S-mode: when a pending,
enabled source's priority exceeds context 1's threshold, the guest sees SEIP.
"""
NSOURCES = 32
NCONTEXTS = 2
S_CONTEXT = 1


class Plic:
    def __init__(self):
        self.priority = [0] * NSOURCES
        self.pending = 0
        self.claimed = 0                # sources being serviced (claimed, not completed)
        self.enable = [0] * NCONTEXTS
        self.threshold = [0] * NCONTEXTS
        self.lines = {}                 # source -> callable giving its level

    def connect(self, source, level):
        self.lines[source] = level

    def update(self):
        """Sample the device lines (level-triggered) into the pending bits."""
        for source, level in self.lines.items():
            bit = 1 << source
            if level() and not self.claimed & bit:
                self.pending |= bit
            elif not level():
                self.pending &= ~bit

    def _best(self, ctx):
        best, best_prio = 0, self.threshold[ctx]
        candidates = self.pending & self.enable[ctx] & ~self.claimed
        for source in range(1, NSOURCES):
            if candidates >> source & 1 and self.priority[source] > best_prio:
                best, best_prio = source, self.priority[source]
        return best

    def seip(self):
        """Is an external interrupt pending for the guest's S-mode?"""
        self.update()
        return self._best(S_CONTEXT) != 0

    def read(self, offset, size):
        if offset < 0x1000:
            return self.priority[offset >> 2] if offset >> 2 < NSOURCES else 0
        if offset == 0x1000:
            self.update()
            return self.pending & 0xFFFFFFFF
        if 0x2000 <= offset < 0x2000 + 0x80 * NCONTEXTS and offset % 0x80 == 0:
            return self.enable[(offset - 0x2000) // 0x80]
        ctx, reg = divmod(offset - 0x200000, 0x1000)
        if 0x200000 <= offset and ctx < NCONTEXTS:
            if reg == 0:
                return self.threshold[ctx]
            if reg == 4:                # claim
                self.update()
                source = self._best(ctx)
                if source:
                    self.pending &= ~(1 << source)
                    self.claimed |= 1 << source
                return source
        return 0

    def write(self, offset, size, value):
        if offset < 0x1000:
            if 0 < offset >> 2 < NSOURCES:
                self.priority[offset >> 2] = value & 7
        elif 0x2000 <= offset < 0x2000 + 0x80 * NCONTEXTS and offset % 0x80 == 0:
            self.enable[(offset - 0x2000) // 0x80] = value & 0xFFFFFFFE   # source 0 is none
        elif offset >= 0x200000:
            ctx, reg = divmod(offset - 0x200000, 0x1000)
            if ctx < NCONTEXTS and reg == 0:
                self.threshold[ctx] = value & 7
            elif ctx < NCONTEXTS and reg == 4 and 0 < value < NSOURCES:  # complete
                self.claimed &= ~(1 << value)
