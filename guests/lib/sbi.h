/* sbi.h - calls into the SBI (the hypervisor's, or OpenSBI's on QEMU).
 *
 * Calling convention: a7 = extension id (EID), a6 = function id (FID),
 * arguments in a0..a5, then `ecall`.  The SBI returns an error code in a0
 * (0 = success) and a value in a1; every other register is preserved.
 */
#ifndef GUEST_SBI_H
#define GUEST_SBI_H

#include <stdint.h>

struct sbiret {
        long error;
        long value;
};

/* Extension ids */
#define SBI_EXT_LEGACY_PUTCHAR  0x01
#define SBI_EXT_LEGACY_GETCHAR  0x02
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_BASE            0x10
#define SBI_EXT_TIME            0x54494D45      /* "TIME" */
#define SBI_EXT_SRST            0x53525354      /* "SRST" */
#define SBI_EXT_DBCN            0x4442434E      /* "DBCN" */

/* Error codes */
#define SBI_SUCCESS              0
#define SBI_ERR_FAILED          -1
#define SBI_ERR_NOT_SUPPORTED   -2
#define SBI_ERR_INVALID_PARAM   -3

/* SRST */
#define SBI_SRST_SHUTDOWN       0
#define SBI_SRST_COLD_REBOOT    1
#define SBI_SRST_WARM_REBOOT    2
#define SBI_SRST_REASON_NONE    0       /* success */
#define SBI_SRST_REASON_FAILURE 1

struct sbiret sbi_ecall(long eid, long fid, long a0, long a1, long a2,
                        long a3, long a4, long a5);

/* Legacy extensions (SBI v0.1): one call per character, result in a0 only. */
void sbi_console_putchar(int ch);
int sbi_console_getchar(void);                  /* -1 when nothing is waiting */
void sbi_legacy_shutdown(void);

/* Base extension */
long sbi_get_spec_version(void);                /* (major << 24) | minor */
long sbi_get_impl_id(void);
long sbi_get_impl_version(void);
long sbi_probe_extension(long eid);             /* 0 = not available */

/* TIME: raise the supervisor timer interrupt once time >= stime_value.
 * Also clears a pending timer interrupt.  Pass UINT64_MAX to disarm. */
struct sbiret sbi_set_timer(uint64_t stime_value);

/* SRST: does not return on success. */
struct sbiret sbi_system_reset(uint32_t type, uint32_t reason);

/* DBCN (debug console): buffers are given by guest-physical address, so
 * with paging on they must be identity mapped (all guests here do that). */
struct sbiret sbi_debug_console_write(unsigned long len, const void *buf);
struct sbiret sbi_debug_console_read(unsigned long len, void *buf);
struct sbiret sbi_debug_console_write_byte(uint8_t byte);

/* Power off: SRST with reason 0 (ok) or 1 (fail), falling back to the legacy
 * shutdown and finally to the test finisher if the SBI lacks SRST. */
void sbi_shutdown(int failed) __attribute__((noreturn));

const char *sbi_error_name(long error);

#endif
