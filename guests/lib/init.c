/* init.c - guest start-up in C, and the way out. */
#include "guest.h"

struct boot_info boot;

const struct boot_info *guest_init(unsigned long hartid, const void *dtb)
{
        fdt_read(dtb, &boot);
        boot.hartid = hartid;
        return &boot;
}

void _exit(int code)
{
        console_flush();
        sbi_shutdown(code != 0);
}
