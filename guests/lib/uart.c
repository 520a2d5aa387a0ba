/* uart.c - polled NS16550A driver. */
#include "uart.h"
#include "mmio.h"

void uart_putc(char c)
{
        while (!(mmio_read8(UART_BASE + UART_LSR) & UART_LSR_THRE))
                ;
        mmio_write8(UART_BASE + UART_THR, (uint8_t)c);
}

void uart_puts(const char *s)
{
        for (; *s; s++)
                uart_putc(*s);
}

int uart_getc(void)
{
        if (!(mmio_read8(UART_BASE + UART_LSR) & UART_LSR_DR))
                return -1;
        return mmio_read8(UART_BASE + UART_RBR);
}

void uart_enable_rx_interrupt(int on)
{
        mmio_write8(UART_BASE + UART_IER, on ? UART_IER_RDA : 0);
}
