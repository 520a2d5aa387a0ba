/* memhog - touch all of RAM, 1 MiB at a time, with paging on.
 *
 * Builds Sv32 page tables that identity-map RAM with 4 MiB megapages, turns
 * paging on, then walks RAM from its base: every 4 KiB page gets one word
 * written and read back (the old value is put back afterwards, so the image,
 * its stack and the device tree survive).  Pages of the guest's own image are
 * in use already and only read.  One line per MiB: watch the VM's allocated
 * pages grow on the host side (`hv run --stats`, `hv top`) as the hypervisor
 * hands out pages on first touch.
 *
 * bootargs: size=NNM touches only the first NN MiB (at most the RAM size).
 */
#include "guest.h"

static void on_trap(struct trap_frame *tf)
{
        printf("memhog: unexpected trap\n");
        trap_dump(tf);
        console_flush();
        sbi_shutdown(1);
}

int main(unsigned long hartid, const void *dtb)
{
        uint64_t ram, size, arg;
        uint32_t base, end, addr, step, steps, touched = 0, image_pages = 0;
        uint32_t img_lo = (uintptr_t)_image_start & ~(SV32_PAGE - 1);
        uint32_t img_hi = (uintptr_t)_end;
        char buf[32];
        pte_t *root;

        guest_init(hartid, dtb);
        trap_init(on_trap);

        ram = boot.mem_size;
        if (boot.mem_base + ram > 0x100000000ull)       /* what 32-bit addresses reach */
                ram = 0x100000000ull - boot.mem_base;
        size = ram;
        if (bootarg(boot.bootargs, "size", buf, sizeof(buf))) {
                if (!parse_uint(buf, &arg) || arg == 0)
                        printf("memhog: cannot read size=%s, using the RAM size\n", buf);
                else if (arg > size)
                        printf("memhog: size=%s is more than the RAM, touching all RAM\n", buf);
                else
                        size = arg;
        }
        base = (uint32_t)boot.mem_base;
        end = base + (uint32_t)(size & ~(uint64_t)(SV32_PAGE - 1));
        steps = (uint32_t)((size + MiB - 1) / MiB);
        printf("memhog: RAM %llu MiB at 0x%08lx; touching %lu MiB, one word in each 4 KiB page\n",
               (unsigned long long)(boot.mem_size >> 20), (unsigned long)base,
               (unsigned long)steps);

        root = sv32_alloc_table();
        /* all of RAM (not just `size`): the image, its stack and page tables live there */
        sv32_identity_mega(root, base, base + (uint32_t)(ram - 1),    /* rounded out to 4 MiB */
                           PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
        sv32_map_mega(root, 0, 0, PTE_R | PTE_W | PTE_A | PTE_D);      /* test finisher */
        sv32_enable(root);
        printf("memhog: Sv32 on, satp 0x%08lx: RAM identity-mapped with %lu megapages\n",
               (unsigned long)csr_read(satp),
               (unsigned long)((ram + SV32_MEGAPAGE - 1) / SV32_MEGAPAGE));

        addr = base;
        for (step = 0; step < steps; step++) {
                uint32_t stop = (end - addr > MiB) ? addr + MiB : end;
                uint32_t first = addr;

                for (; addr < stop; addr += SV32_PAGE) {
                        volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)addr;
                        uint32_t old = *p, pattern = addr ^ 0xa5a5a5a5u ^ step;

                        if (addr >= img_lo && addr < img_hi) {
                                image_pages++;          /* our own code and data: read only */
                                continue;
                        }
                        *p = pattern;
                        if (*p != pattern) {
                                printf("memhog: 0x%08lx read back 0x%08lx, wrote 0x%08lx\n",
                                       (unsigned long)addr, (unsigned long)*p,
                                       (unsigned long)pattern);
                                return 1;
                        }
                        *p = old;
                        touched++;
                }
                printf("memhog: step %3lu: 0x%08lx..0x%08lx touched, %lu MiB so far\n",
                       (unsigned long)(step + 1), (unsigned long)first,
                       (unsigned long)(addr - 1), (unsigned long)(step + 1));
        }

        sv32_disable();
        printf("memhog: done: %lu pages written and read back, %lu pages of our own image "
               "read\n", (unsigned long)touched, (unsigned long)image_pages);
        return 0;
}
