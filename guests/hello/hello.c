/* hello - the smallest useful guest.
 *
 * Prints a banner with what the hypervisor told it at boot (hart id in a0,
 * the device tree in a1: RAM size, timebase, bootargs), asks the SBI who it
 * is, then writes one line through each of the three console paths a guest
 * has, and powers off with SBI SRST (reason 0 = success).
 */
#include "guest.h"

int main(unsigned long hartid, const void *dtb)
{
        const struct boot_info *bi = guest_init(hartid, dtb);
        long spec, dbcn;
        static const char dbcn_line[] =
                "hello: [2/3] this line went through SBI DBCN console_write (EID 0x4442434E): "
                "one ecall for the whole line\n";

        /* The banner goes through the library's default path (DBCN if the SBI
         * has it, else legacy putchar: see lib/console.h). */
        printf("hello: Hello from a hvlab guest!\n");
        printf("hello: hart %lu, device tree at %p (%s, %u bytes)\n", bi->hartid, dtb,
               bi->dtb_ok ? "valid" : "missing or malformed, using defaults",
               (unsigned)bi->dtb_size);
        printf("hello: RAM %llu MiB at 0x%08llx, timebase %lu Hz\n",
               (unsigned long long)(bi->mem_size >> 20), (unsigned long long)bi->mem_base,
               bi->timebase_hz);
        printf("hello: bootargs \"%s\"\n", bi->bootargs);
        printf("hello: image 0x%08x..0x%08x, stack top 0x%08x\n", (unsigned)(uintptr_t)_image_start,
               (unsigned)(uintptr_t)_end, (unsigned)(uintptr_t)__stack_top);

        spec = sbi_get_spec_version();
        dbcn = sbi_probe_extension(SBI_EXT_DBCN);
        printf("hello: SBI spec %ld.%ld, implementation id %ld version 0x%lx; "
               "TIME %s, SRST %s, DBCN %s\n",
               (spec >> 24) & 0x7f, spec & 0xffffff, sbi_get_impl_id(), sbi_get_impl_version(),
               sbi_probe_extension(SBI_EXT_TIME) ? "yes" : "no",
               sbi_probe_extension(SBI_EXT_SRST) ? "yes" : "no", dbcn ? "yes" : "no");

        printf("hello: this banner came through the library's default console: %s\n",
               console_backend_name(console_get_backend()));

        /* 1: legacy console_putchar, one ecall per character. */
        console_set_backend(CONSOLE_SBI_LEGACY);
        printf("hello: [1/3] this line went through SBI legacy console_putchar (EID 0x01): "
               "one ecall per character\n");
        console_set_backend(CONSOLE_AUTO);

        /* 2: DBCN console_write, one ecall for the line. */
        if (dbcn) {
                struct sbiret r = sbi_debug_console_write(sizeof(dbcn_line) - 1, dbcn_line);
                if (r.error)
                        printf("hello: [2/3] DBCN console_write failed: %s\n",
                               sbi_error_name(r.error));
        } else {
                printf("hello: [2/3] skipped: this SBI has no DBCN extension\n");
        }

        /* 3: straight to the UART, one MMIO store per character. */
        uart_puts("hello: [3/3] this line went straight to the NS16550A UART THR at "
                  "0x10000000: one MMIO store per character\n");

        printf("hello: shutting down with SBI SRST (reason 0 = no reason, success)\n");
        console_flush();
        sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_NONE);
        printf("hello: SRST returned: this SBI has no SRST, trying the legacy shutdown\n");
        return 0;
}
