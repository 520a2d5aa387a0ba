/* uart.h - the NS16550A UART at 0x1000_0000, driven directly by MMIO.
 *
 * Registers used (byte wide, offset from the base):
 *   0  THR (write) transmit holding / RBR (read) receive buffer
 *   1  IER  interrupt enable: bit 0 = "received data available"
 *   5  LSR  line status: bit 0 = data ready, bit 5 = THR empty
 * Every access is an MMIO exit to the hypervisor.
 */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include <stdint.h>

#define UART_THR        0
#define UART_RBR        0
#define UART_IER        1
#define UART_LSR        5
#define UART_IER_RDA    0x01
#define UART_LSR_DR     0x01
#define UART_LSR_THRE   0x20

void uart_putc(char c);                 /* waits for THR empty, then writes THR */
void uart_puts(const char *s);          /* bytes as they are ("\n" stays "\n") */
int uart_getc(void);                    /* -1 when no byte is waiting */
void uart_enable_rx_interrupt(int on);  /* IER bit 0 */

#endif
