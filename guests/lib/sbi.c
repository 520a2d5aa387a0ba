/* sbi.c - SBI calls (see sbi.h for the calling convention). */
#include "sbi.h"
#include "mmio.h"

struct sbiret sbi_ecall(long eid, long fid, long arg0, long arg1, long arg2,
                        long arg3, long arg4, long arg5)
{
        register long a0 __asm__("a0") = arg0;
        register long a1 __asm__("a1") = arg1;
        register long a2 __asm__("a2") = arg2;
        register long a3 __asm__("a3") = arg3;
        register long a4 __asm__("a4") = arg4;
        register long a5 __asm__("a5") = arg5;
        register long a6 __asm__("a6") = fid;
        register long a7 __asm__("a7") = eid;

        __asm__ __volatile__("ecall"
                             : "+r"(a0), "+r"(a1)
                             : "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a6), "r"(a7)
                             : "memory");
        return (struct sbiret){ .error = a0, .value = a1 };
}

void sbi_console_putchar(int ch)
{
        sbi_ecall(SBI_EXT_LEGACY_PUTCHAR, 0, ch, 0, 0, 0, 0, 0);
}

int sbi_console_getchar(void)
{
        return (int)sbi_ecall(SBI_EXT_LEGACY_GETCHAR, 0, 0, 0, 0, 0, 0, 0).error;
}

void sbi_legacy_shutdown(void)
{
        sbi_ecall(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0, 0, 0, 0);
}

static long base_call(long fid, long arg)
{
        struct sbiret r = sbi_ecall(SBI_EXT_BASE, fid, arg, 0, 0, 0, 0, 0);
        return r.error ? 0 : r.value;
}

long sbi_get_spec_version(void) { return base_call(0, 0); }
long sbi_get_impl_id(void) { return base_call(1, 0); }
long sbi_get_impl_version(void) { return base_call(2, 0); }
long sbi_probe_extension(long eid) { return base_call(3, eid); }

struct sbiret sbi_set_timer(uint64_t t)
{
        /* RV32: the 64-bit deadline goes in two registers, low half first. */
        return sbi_ecall(SBI_EXT_TIME, 0, (long)(uint32_t)t, (long)(uint32_t)(t >> 32),
                         0, 0, 0, 0);
}

struct sbiret sbi_system_reset(uint32_t type, uint32_t reason)
{
        return sbi_ecall(SBI_EXT_SRST, 0, (long)type, (long)reason, 0, 0, 0, 0);
}

struct sbiret sbi_debug_console_write(unsigned long len, const void *buf)
{
        /* base address low half in a1, high half (always 0 on RV32) in a2 */
        return sbi_ecall(SBI_EXT_DBCN, 0, (long)len, (long)(uintptr_t)buf, 0, 0, 0, 0);
}

struct sbiret sbi_debug_console_read(unsigned long len, void *buf)
{
        return sbi_ecall(SBI_EXT_DBCN, 1, (long)len, (long)(uintptr_t)buf, 0, 0, 0, 0);
}

struct sbiret sbi_debug_console_write_byte(uint8_t byte)
{
        return sbi_ecall(SBI_EXT_DBCN, 2, byte, 0, 0, 0, 0, 0);
}

void sbi_shutdown(int failed)
{
        sbi_system_reset(SBI_SRST_SHUTDOWN,
                         failed ? SBI_SRST_REASON_FAILURE : SBI_SRST_REASON_NONE);
        /* Still here: no SRST.  The legacy shutdown cannot report failure. */
        if (!failed)
                sbi_legacy_shutdown();
        finisher_exit(failed ? 1 : 0);
}

const char *sbi_error_name(long error)
{
        switch (error) {
        case 0: return "SBI_SUCCESS";
        case -1: return "SBI_ERR_FAILED";
        case -2: return "SBI_ERR_NOT_SUPPORTED";
        case -3: return "SBI_ERR_INVALID_PARAM";
        case -4: return "SBI_ERR_DENIED";
        case -5: return "SBI_ERR_INVALID_ADDRESS";
        case -6: return "SBI_ERR_ALREADY_AVAILABLE";
        case -7: return "SBI_ERR_ALREADY_STARTED";
        case -8: return "SBI_ERR_ALREADY_STOPPED";
        default: return "SBI_ERR_?";
        }
}
