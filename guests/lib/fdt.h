/* fdt.h - reading the flattened device tree the hypervisor passes in a1.
 *
 * The walker understands just enough of the FDT format (v17, big-endian) to
 * find what a small kernel needs: the RAM range, the bootargs, the timebase
 * frequency, and where the UART, the PLIC and the test finisher live.
 */
#ifndef GUEST_FDT_H
#define GUEST_FDT_H

#include <stdint.h>

struct boot_info {
        unsigned long hartid;
        const void *dtb;            /* as received in a1 */
        int dtb_ok;                 /* 0: missing or malformed, defaults used */
        uint64_t mem_base;          /* /memory reg */
        uint64_t mem_size;
        uint32_t timebase_hz;       /* /cpus timebase-frequency */
        char bootargs[256];         /* /chosen bootargs, copied */
        uint64_t uart_base;         /* compatible "ns16550a" */
        uint64_t plic_base;         /* compatible "riscv,plic0" */
        uint64_t finisher_base;     /* compatible "sifive,test0" */
        uint32_t dtb_size;          /* header totalsize */
};

/* Fill *bi from the DTB at dtb (defaults for whatever is missing: 64 MiB of
 * RAM at 0x8000_0000, 10 MHz timebase, the QEMU virt device addresses).
 * Returns 1 if the DTB was valid, 0 if defaults had to be used. */
int fdt_read(const void *dtb, struct boot_info *bi);

/* The value of "key=value" in the bootargs, copied into buf (NUL-terminated);
 * returns 1 if the key is present (a bare "key" gives an empty value). */
int bootarg(const char *bootargs, const char *key, char *buf, int size);

#endif
