/* shim.c - a tiny M-mode SBI for testing the sample guests on QEMU.
 *
 * NOT part of the hypervisor and not shipped as an image: it stands in for
 * the hvlab monitor (and for OpenSBI, which Debian only ships for RV64) so
 * the guests can be booted on qemu-system-riscv32 -machine virt:
 *
 *   qemu-system-riscv32 -machine virt -m 64M -nographic \
 *       -bios build/sbishim.elf -kernel images/hello.elf
 *
 * It implements the guest ABI of docs/guest-abi.md: SBI legacy putchar,
 * getchar, shutdown; Base; TIME (on the CLINT); SRST and DBCN (on the UART
 * and the test finisher).  PMP gives S/U-mode exactly the hvlab memory map
 * (RAM, UART, PLIC, finisher; anything else is an access fault) so that
 * rogue's attempts fault as they do under hvlab.  All exceptions except
 * ecall-from-S and instruction access faults are delegated to S-mode;
 * instruction access faults are forwarded by hand so that a trap with
 * stvec = 0 (panic) is reported as a crash (exit code 3) instead of looping.
 */
#include <stdint.h>

#define UART            0x10000000u
#define FINISHER        0x00100000u
#define CLINT_MTIMECMP  0x02004000u
#define FW_DYNAMIC_MAGIC 0x4942534fu    /* "OSBI" */

#define csr_read(c) ({ unsigned long v_; __asm__ __volatile__("csrr %0, " #c : "=r"(v_)); v_; })
#define csr_write(c, v) __asm__ __volatile__("csrw " #c ", %0" : : "r"((unsigned long)(v)))
#define csr_set(c, v) __asm__ __volatile__("csrs " #c ", %0" : : "r"((unsigned long)(v)))
#define csr_clear(c, v) __asm__ __volatile__("csrc " #c ", %0" : : "r"((unsigned long)(v)))

#define MIP_STIP        (1u << 5)
#define MIP_MTIP        (1u << 7)
#define MSTATUS_SIE     (1u << 1)
#define MSTATUS_SPIE    (1u << 5)
#define MSTATUS_SPP     (1u << 8)
#define MSTATUS_MPP     (3u << 11)
#define MSTATUS_MPP_S   (1u << 11)

struct fw_dynamic_info {
        unsigned long magic, version, next_addr, next_mode, options, boot_hart;
};

void enter_s(unsigned long entry, unsigned long hartid, unsigned long dtb)
        __attribute__((noreturn));
void shim_main(unsigned long hartid, unsigned long dtb, const struct fw_dynamic_info *info);
void shim_trap(uint32_t *regs);

static volatile uint8_t *const uart = (volatile uint8_t *)UART;

static void putc_raw(char c)
{
        while (!(uart[5] & 0x20))
                ;
        uart[0] = (uint8_t)c;
}

static int getc_raw(void)
{
        return (uart[5] & 1) ? uart[0] : -1;
}

static void puts_raw(const char *s)
{
        while (*s)
                putc_raw(*s++);
}

static void puthex(uint32_t v)
{
        puts_raw("0x");
        for (int i = 28; i >= 0; i -= 4)
                putc_raw("0123456789abcdef"[(v >> i) & 15]);
}

static void __attribute__((noreturn)) finish(uint32_t value)
{
        *(volatile uint32_t *)FINISHER = value;
        for (;;)
                ;
}

/* PMP NAPOT entry for [base, base + size), size a power of two >= 8. */
static unsigned long napot(uint32_t base, uint32_t size)
{
        return (base >> 2) | ((size >> 3) - 1);
}

void shim_main(unsigned long hartid, unsigned long dtb, const struct fw_dynamic_info *info)
{
        unsigned long entry = 0x80400000u;

        if (info && info->magic == FW_DYNAMIC_MAGIC && info->next_addr)
                entry = info->next_addr;

        /* S/U may touch RAM (RWX), the UART, the PLIC and the finisher (RW), nothing else. */
        csr_write(pmpaddr0, napot(FINISHER, 0x1000));
        csr_write(pmpaddr1, napot(0x0c000000u, 0x4000000));
        csr_write(pmpaddr2, napot(UART, 0x100));
        csr_write(pmpaddr3, (0x80000000u >> 2) | 0x0fffffffu);     /* 2 GiB at 0x8000_0000 */
        csr_write(pmpcfg0, 0x1f1b1b1bu);

        csr_write(medeleg, 0xffffu & ~((1u << 1) | (1u << 9) | (1u << 11)));
        csr_write(mideleg, (1u << 1) | (1u << 5) | (1u << 9));
        csr_write(mcounteren, 7);
        csr_write(mie, 0);
        csr_clear(mstatus, MSTATUS_MPP);
        csr_set(mstatus, MSTATUS_MPP_S);
        enter_s(entry, hartid, dtb);
}

static void set_timer(uint64_t t)
{
        volatile uint32_t *cmp = (volatile uint32_t *)CLINT_MTIMECMP;

        cmp[1] = 0xffffffffu;
        cmp[0] = (uint32_t)t;
        cmp[1] = (uint32_t)(t >> 32);
        csr_clear(mip, MIP_STIP);
        csr_set(mie, MIP_MTIP);
}

/* SBI call: a7 = regs[17], a6 = regs[16], args regs[10..15]; result a0/a1. */
static void sbi(uint32_t *r)
{
        uint32_t eid = r[17], fid = r[16], a0 = r[10], a1 = r[11], a2 = r[12];
        int32_t err = 0;
        uint32_t val = 0;

        switch (eid) {
        case 0x01:
                putc_raw((char)a0);
                r[10] = 0;
                return;
        case 0x02:
                r[10] = (uint32_t)getc_raw();
                return;
        case 0x08:
                finish(0x5555);
        case 0x10:
                switch (fid) {
                case 0: val = 0x02000000; break;        /* spec 2.0 */
                case 1: val = 0x7e57; break;            /* impl id: "test" */
                case 2: val = 1; break;
                case 3:
                        val = a0 == 0x01 || a0 == 0x02 || a0 == 0x08 || a0 == 0x10 ||
                              a0 == 0x54494D45 || a0 == 0x53525354 || a0 == 0x4442434E;
                        break;
                case 4: case 5: case 6: val = 0; break;
                default: err = -2; break;
                }
                break;
        case 0x54494D45:
                if (fid == 0)
                        set_timer(((uint64_t)a1 << 32) | a0);
                else
                        err = -2;
                break;
        case 0x53525354:
                if (fid != 0 || a0 > 2) {
                        err = fid != 0 ? -2 : -3;
                        break;
                }
                if (a0 != 0)
                        finish(0x7777);
                finish(a1 == 0 ? 0x5555 : (0x3333 | (1u << 16)));
        case 0x4442434E:
                if (fid == 0 || fid == 1) {
                        volatile uint8_t *p = (volatile uint8_t *)a1;
                        uint32_t i;
                        if (a2 != 0) {
                                err = -5;
                                break;
                        }
                        for (i = 0; i < a0; i++) {
                                if (fid == 0) {
                                        putc_raw((char)p[i]);
                                } else {
                                        int c = getc_raw();
                                        if (c < 0)
                                                break;
                                        p[i] = (uint8_t)c;
                                }
                        }
                        val = i;
                } else if (fid == 2) {
                        putc_raw((char)a0);
                } else {
                        err = -2;
                }
                break;
        default:
                err = -2;
                break;
        }
        r[10] = (uint32_t)err;
        r[11] = val;
}

/* Deliver an instruction access fault to S-mode as medeleg would have. */
static void forward_to_s(uint32_t cause)
{
        unsigned long ms = csr_read(mstatus);
        unsigned long stvec = csr_read(stvec) & ~3ul;

        if (stvec == 0) {
                puts_raw("\nsbishim: unhandled S-mode trap (stvec = 0): scause ");
                puthex(csr_read(scause));
                puts_raw(" sepc ");
                puthex(csr_read(sepc));
                puts_raw(" stval ");
                puthex(csr_read(stval));
                puts_raw(", then fetch fault at ");
                puthex(csr_read(mepc));
                puts_raw("\n");
                finish(0x3333 | (3u << 16));
        }
        csr_write(scause, cause);
        csr_write(sepc, csr_read(mepc));
        csr_write(stval, csr_read(mtval));
        ms &= ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_MPP);
        if (csr_read(mstatus) & MSTATUS_SIE)
                ms |= MSTATUS_SPIE;
        if (((csr_read(mstatus) & MSTATUS_MPP) >> 11) == 1)
                ms |= MSTATUS_SPP;
        ms |= MSTATUS_MPP_S;
        csr_write(mstatus, ms);
        csr_write(mepc, stvec);
}

void shim_trap(uint32_t *regs)
{
        uint32_t cause = csr_read(mcause);

        if (cause == (0x80000000u | 7)) {               /* M timer -> S timer */
                csr_clear(mie, MIP_MTIP);
                csr_set(mip, MIP_STIP);
                return;
        }
        if (cause == 9) {                               /* ecall from S */
                sbi(regs);
                csr_write(mepc, csr_read(mepc) + 4);
                return;
        }
        if (cause == 1 && ((csr_read(mstatus) & MSTATUS_MPP) >> 11) != 3) {
                forward_to_s(cause);
                return;
        }
        puts_raw("\nsbishim: unexpected M-mode trap mcause ");
        puthex(cause);
        puts_raw(" mepc ");
        puthex(csr_read(mepc));
        puts_raw(" mtval ");
        puthex(csr_read(mtval));
        puts_raw("\n");
        finish(0x3333 | (4u << 16));
}
