"""What each exit counter means, in words for students: one source for `hv run --stats=all`,
the legend on `hv top`'s help screen and docs/exits.md (a test keeps the three in step).

An *exit* is a moment the guest's own instructions cannot go on by themselves and the monitor
(hvlab) acts for it: the trap in Popek and Goldberg's trap-and-emulate.  Some exits are handled
inside the compiled hart in about 0.1 us (the CSR file, sret, wfi, sfence.vma are emulated on
the VM's virtual state there); the rest return to Python, in about 5 us.
"""
from .state import EXIT_NAMES

# name -> (short label for narrow columns, where it is handled, one-sentence explanation)
EXIT_CAUSES = {
    "csr_read": ("csr r", "hart",
                 "A CSR instruction that only reads a supervisor CSR (sstatus, satp, time, ...): "
                 "the guest kernel runs deprivileged, so the hart emulates the read on the VM's "
                 "virtual CSR file."),
    "csr_write": ("csr w", "hart",
                  "A CSR instruction that writes a supervisor CSR (csrrw/csrrs/csrrc with a "
                  "source): emulated on the virtual CSR file; a satp or sstatus write may also "
                  "flush the TLB."),
    "sret": ("sret", "hart",
             "Return from the guest kernel's trap handler: the virtual sstatus and sepc decide "
             "the privilege and pc to return to."),
    "wfi": ("wfi", "hart",
            "Wait for interrupt: the guest is idle. In virtual time the clock skips ahead to "
            "the timer deadline; otherwise the VM sleeps until an interrupt is due."),
    "sfence": ("sfence", "hart",
               "sfence.vma: the guest changed its page tables, so cached translations (the "
               "software TLB) are flushed."),
    "sbi": ("sbi", "monitor",
            "An ecall from the guest kernel: a call into the SBI, the firmware interface the "
            "monitor implements (console, timer, reset, ...) — paravirtualization."),
    "gstage": ("g-stage", "monitor",
               "The guest touched a guest-physical page with no host page behind it yet: the "
               "monitor takes a zeroed page from the host's free list (demand allocation)."),
    "mmio": ("mmio", "monitor",
             "A load or store to a device register (UART, PLIC, test finisher): no memory is "
             "there, so the monitor emulates the device access."),
    "irq": ("irq", "hart",
            "An interrupt (timer, UART) injected into the guest's virtual S-mode."),
    "exc_delegated": ("exc", "hart",
                      "A guest exception (page fault, illegal instruction, ecall from its user "
                      "programs, ...) delivered straight to the guest kernel's own trap vector."),
    "exc_monitor": ("exc mon", "monitor",
                    "A guest exception routed through the monitor first (--trap-via-monitor or "
                    "--trace): the same delivery, now seen and counted by the monitor."),
    "counter": ("counter", "hart",
                "A user program read cycle, time or instret: allowed by the guest kernel's "
                "scounteren and emulated by the hart."),
}

assert tuple(EXIT_CAUSES) == EXIT_NAMES, "every exit counter needs its explanation"


def explain(name):
    """The one-sentence explanation of exit counter ``name``."""
    return EXIT_CAUSES[name][2]
