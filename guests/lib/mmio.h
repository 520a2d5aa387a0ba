/* mmio.h - device register access and the guest-physical memory map (QEMU virt layout). */
#ifndef GUEST_MMIO_H
#define GUEST_MMIO_H

#include <stdint.h>

#define RAM_BASE        0x80000000u     /* guest RAM starts here; its size is in the DTB */
#define FINISHER_BASE   0x00100000u     /* sifive,test0 */
#define PLIC_BASE       0x0c000000u
#define UART_BASE       0x10000000u     /* ns16550a */
#define UART_IRQ        10              /* PLIC source of the UART */

#define FINISHER_PASS   0x5555u
#define FINISHER_FAIL   0x3333u         /* | exit code << 16 */
#define FINISHER_RESET  0x7777u

static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

/* Power off through the test finisher: code 0 = pass, anything else = fail with that code. */
static inline void __attribute__((noreturn)) finisher_exit(unsigned code)
{
        mmio_write32(FINISHER_BASE, code ? (FINISHER_FAIL | (code << 16)) : FINISHER_PASS);
        for (;;)
                __asm__ __volatile__("" : : : "memory");
}

#endif
