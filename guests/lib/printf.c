/* printf.c - formatted output (see printf.h for what is supported). */
#include <stdint.h>
#include "printf.h"
#include "console.h"
#include "util.h"

struct sink {
        void (*out)(char, void *);
        void *arg;
        int count;
};

static void put(struct sink *s, char c)
{
        s->out(c, s->arg);
        s->count++;
}

static void pad(struct sink *s, char c, int n)
{
        while (n-- > 0)
                put(s, c);
}

/* Unsigned 64-bit number in base 8, 10 or 16, right-aligned in width. */
static void number(struct sink *s, uint64_t v, unsigned base, int upper, int negative,
                   int width, int zero, int left)
{
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        char tmp[24];
        int n = 0, len;
        uint32_t r;

        do {
                if (v >> 32) {
                        v = udiv64_32(v, base, &r);
                } else {
                        uint32_t w = (uint32_t)v;
                        r = w % base;
                        v = w / base;
                }
                tmp[n++] = digits[r];
        } while (v);

        len = n + negative;
        if (left) {
                if (negative)
                        put(s, '-');
                while (n)
                        put(s, tmp[--n]);
                pad(s, ' ', width - len);
        } else if (zero) {
                if (negative)
                        put(s, '-');
                pad(s, '0', width - len);
                while (n)
                        put(s, tmp[--n]);
        } else {
                pad(s, ' ', width - len);
                if (negative)
                        put(s, '-');
                while (n)
                        put(s, tmp[--n]);
        }
}

int vformat(void (*out)(char, void *), void *arg, const char *fmt, va_list ap)
{
        struct sink s = { out, arg, 0 };

        for (; *fmt; fmt++) {
                int left = 0, zero = 0, width = 0, prec = -1, lng = 0;
                uint64_t u;
                int64_t d;

                if (*fmt != '%') {
                        put(&s, *fmt);
                        continue;
                }
                fmt++;
                for (;; fmt++) {
                        if (*fmt == '-')
                                left = 1;
                        else if (*fmt == '0')
                                zero = 1;
                        else
                                break;
                }
                if (*fmt == '*') {
                        width = va_arg(ap, int);
                        fmt++;
                } else {
                        while (*fmt >= '0' && *fmt <= '9')
                                width = width * 10 + (*fmt++ - '0');
                }
                if (*fmt == '.') {
                        fmt++;
                        prec = 0;
                        if (*fmt == '*') {
                                prec = va_arg(ap, int);
                                fmt++;
                        } else {
                                while (*fmt >= '0' && *fmt <= '9')
                                        prec = prec * 10 + (*fmt++ - '0');
                        }
                }
                while (*fmt == 'l' || *fmt == 'z' || *fmt == 'h') {
                        if (*fmt == 'l')
                                lng++;
                        fmt++;
                }

                switch (*fmt) {
                case 'd':
                case 'i':
                        d = lng >= 2 ? va_arg(ap, long long) : (int64_t)va_arg(ap, long);
                        u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
                        number(&s, u, 10, 0, d < 0, width, zero, left);
                        break;
                case 'u':
                case 'x':
                case 'X':
                case 'o':
                        u = lng >= 2 ? va_arg(ap, unsigned long long)
                                     : (uint64_t)va_arg(ap, unsigned long);
                        number(&s, u, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
                               *fmt == 'X', 0, width, zero, left);
                        break;
                case 'p':
                        put(&s, '0');
                        put(&s, 'x');
                        number(&s, (uintptr_t)va_arg(ap, void *), 16, 0, 0, 8, 1, 0);
                        break;
                case 'c':
                        if (!left)
                                pad(&s, ' ', width - 1);
                        put(&s, (char)va_arg(ap, int));
                        if (left)
                                pad(&s, ' ', width - 1);
                        break;
                case 's': {
                        const char *str = va_arg(ap, const char *);
                        int len = 0;

                        if (!str)
                                str = "(null)";
                        while (str[len] && (prec < 0 || len < prec))
                                len++;
                        if (!left)
                                pad(&s, ' ', width - len);
                        for (int i = 0; i < len; i++)
                                put(&s, str[i]);
                        if (left)
                                pad(&s, ' ', width - len);
                        break;
                }
                case '%':
                        put(&s, '%');
                        break;
                case '\0':
                        return s.count;
                default:                /* unknown: print it as written */
                        put(&s, '%');
                        put(&s, *fmt);
                        break;
                }
        }
        return s.count;
}

static void to_console(char c, void *arg)
{
        (void)arg;
        console_putc(c);
}

int vprintf(const char *fmt, va_list ap)
{
        return vformat(to_console, 0, fmt, ap);
}

int printf(const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vprintf(fmt, ap);
        va_end(ap);
        return n;
}

int puts(const char *str)
{
        console_puts(str);
        console_putc('\n');
        return 1;
}

struct buffer {
        char *buf;
        size_t size, used;
};

static void to_buffer(char c, void *arg)
{
        struct buffer *b = arg;

        if (b->used + 1 < b->size)
                b->buf[b->used] = c;
        b->used++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
        struct buffer b = { buf, size, 0 };
        int n = vformat(to_buffer, &b, fmt, ap);

        if (size)
                buf[b.used < size ? b.used : size - 1] = '\0';
        return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        return n;
}
