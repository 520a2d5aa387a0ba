/* guest.h - everything a sample guest needs, in one include. */
#ifndef GUEST_H
#define GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "csr.h"
#include "mmio.h"
#include "util.h"
#include "sbi.h"
#include "console.h"
#include "printf.h"
#include "uart.h"
#include "fdt.h"
#include "trap.h"
#include "plic.h"
#include "sv32.h"

/* Filled in by guest_init() from the device tree. */
extern struct boot_info boot;

/* Call first in main(): reads the device tree into `boot` and returns it. */
const struct boot_info *guest_init(unsigned long hartid, const void *dtb);

/* Linker-script symbols: the image's extent in memory. */
extern char _image_start[], _etext[], __bss_start[], __bss_end[], _end[];
extern char __stack_bottom[], __stack_top[];

/* Returning from main() ends up here: SBI shutdown, reason 0 if code == 0,
 * reason 1 (system failure) otherwise.  Flushes the console first. */
void _exit(int code) __attribute__((noreturn));

#endif
