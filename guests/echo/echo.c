/* echo - UART input by interrupt.
 *
 * Sets the UART's "received data available" interrupt (IER bit 0), routes its
 * PLIC source (10) to hart 0's S-mode context (context 1) and enables external
 * interrupts (sie.SEIE).  The trap handler claims the interrupt from the PLIC,
 * drains the receive buffer, echoes each byte back through the UART, and
 * completes the interrupt.  Reading 'q' ends the program (SRST success).
 */
#include "guest.h"

static volatile int quit;
static volatile uint32_t received, interrupts, spurious;

static void on_trap(struct trap_frame *tf)
{
        uint32_t irq;
        int c;

        if (tf->scause != (SCAUSE_INTERRUPT | IRQ_S_EXT)) {
                printf("echo: unexpected trap\n");
                trap_dump(tf);
                console_flush();
                sbi_shutdown(1);
        }
        while ((irq = plic_claim(PLIC_CTX_S_HART0)) != 0) {
                interrupts++;
                if (irq == UART_IRQ) {
                        while ((c = uart_getc()) >= 0) {
                                received++;
                                if (c == '\r')
                                        uart_putc('\n');
                                else
                                        uart_putc((char)c);
                                if (c == 'q')
                                        quit = 1;
                        }
                } else {
                        spurious++;
                }
                plic_complete(PLIC_CTX_S_HART0, irq);
        }
}

int main(unsigned long hartid, const void *dtb)
{
        uint32_t wakeups = 0;

        guest_init(hartid, dtb);
        printf("echo: UART receive interrupts via PLIC source %d, S-mode context %d\n",
               UART_IRQ, PLIC_CTX_S_HART0);
        printf("echo: type something; every character is echoed by the interrupt handler, "
               "'q' quits\n");
        console_flush();

        trap_init(on_trap);
        plic_set_priority(UART_IRQ, 1);
        plic_set_threshold(PLIC_CTX_S_HART0, 0);
        plic_enable(PLIC_CTX_S_HART0, UART_IRQ, 1);
        uart_enable_rx_interrupt(1);
        csr_set(sie, SIE_SEIE);
        csr_set(sstatus, SSTATUS_SIE);

        while (!quit) {
                wfi();
                wakeups++;
        }

        csr_clear(sstatus, SSTATUS_SIE);
        csr_clear(sie, SIE_SEIE);
        uart_enable_rx_interrupt(0);
        printf("\necho: got 'q': %lu characters in %lu interrupts (%lu spurious), "
               "%lu wfi wakeups; bye\n", (unsigned long)received, (unsigned long)interrupts,
               (unsigned long)spurious, (unsigned long)wakeups);
        return 0;
}
