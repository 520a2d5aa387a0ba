/* console.c - line-buffered console output over SBI DBCN, SBI legacy or the UART. */
#include "console.h"
#include "sbi.h"
#include "uart.h"

static enum console_backend backend = CONSOLE_AUTO;
static char line[128];
static size_t used;

static enum console_backend resolve(void)
{
        if (backend == CONSOLE_AUTO)
                backend = sbi_probe_extension(SBI_EXT_DBCN) ? CONSOLE_SBI_DBCN
                                                            : CONSOLE_SBI_LEGACY;
        return backend;
}

static void emit(const char *s, size_t n)
{
        size_t i;

        switch (resolve()) {
        case CONSOLE_SBI_DBCN:
                while (n > 0) {
                        struct sbiret r = sbi_debug_console_write(n, s);
                        if (r.error || r.value <= 0 || (size_t)r.value > n) {
                                /* refused: finish this line the legacy way */
                                backend = CONSOLE_SBI_LEGACY;
                                emit(s, n);
                                return;
                        }
                        s += r.value;
                        n -= (size_t)r.value;
                }
                break;
        case CONSOLE_UART:
                for (i = 0; i < n; i++)
                        uart_putc(s[i]);
                break;
        default:
                for (i = 0; i < n; i++)
                        sbi_console_putchar((unsigned char)s[i]);
                break;
        }
}

void console_flush(void)
{
        if (used) {
                emit(line, used);
                used = 0;
        }
}

void console_putc(char c)
{
        if (used == sizeof(line))
                console_flush();
        line[used++] = c;
        if (c == '\n' || used == sizeof(line))
                console_flush();
}

void console_write(const char *s, size_t n)
{
        while (n--)
                console_putc(*s++);
}

void console_puts(const char *s)
{
        while (*s)
                console_putc(*s++);
}

void console_set_backend(enum console_backend b)
{
        console_flush();
        backend = b;
}

enum console_backend console_get_backend(void)
{
        return resolve();
}

const char *console_backend_name(enum console_backend b)
{
        switch (b) {
        case CONSOLE_SBI_DBCN: return "SBI DBCN console_write";
        case CONSOLE_SBI_LEGACY: return "SBI legacy console_putchar";
        case CONSOLE_UART: return "UART THR";
        default: return "auto";
        }
}

int console_getc(void)
{
        return sbi_console_getchar();
}
