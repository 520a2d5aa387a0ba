/* util.c - memory and string helpers, 64-bit division.
 *
 * Built with -fno-tree-loop-distribute-patterns (see the Makefile) so gcc does
 * not turn the loops below into calls to themselves.
 */
#include "util.h"

void *memcpy(void *dst, const void *src, size_t n)
{
        unsigned char *d = dst;
        const unsigned char *s = src;

        if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
                for (; n >= 4; n -= 4, d += 4, s += 4)
                        *(uint32_t *)d = *(const uint32_t *)s;
        }
        while (n--)
                *d++ = *s++;
        return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
        unsigned char *d = dst;
        const unsigned char *s = src;

        if (d <= s || d >= s + n)
                return memcpy(dst, src, n);
        while (n--)
                d[n] = s[n];
        return dst;
}

void *memset(void *dst, int c, size_t n)
{
        unsigned char *d = dst;
        uint32_t w = (unsigned char)c * 0x01010101u;

        while (n && ((uintptr_t)d & 3)) {
                *d++ = (unsigned char)c;
                n--;
        }
        for (; n >= 4; n -= 4, d += 4)
                *(uint32_t *)d = w;
        while (n--)
                *d++ = (unsigned char)c;
        return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const unsigned char *x = a, *y = b;

        for (; n; n--, x++, y++)
                if (*x != *y)
                        return *x - *y;
        return 0;
}

size_t strlen(const char *s)
{
        const char *p = s;

        while (*p)
                p++;
        return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
        for (; n; n--, a++, b++) {
                if (*a != *b)
                        return (unsigned char)*a - (unsigned char)*b;
                if (!*a)
                        break;
        }
        return 0;
}

char *strchr(const char *s, int c)
{
        for (;; s++) {
                if (*s == (char)c)
                        return (char *)s;
                if (!*s)
                        return 0;
        }
}

uint64_t udiv64_32(uint64_t n, uint32_t d, uint32_t *rem)
{
        /* Long division, 16 bits at a time: the partial remainder stays below
         * d, so each step divides a number < d * 2^16.  That fits 32 bits when
         * d < 2^16; larger divisors fall back to shift-and-subtract. */
        uint64_t q = 0;
        uint32_t r = 0;
        int i;

        if (d == 0) {
                if (rem)
                        *rem = 0;
                return ~(uint64_t)0;
        }
        if (d < 0x10000u) {
                for (i = 3; i >= 0; i--) {
                        uint32_t cur = (r << 16) | (uint32_t)((n >> (16 * i)) & 0xffffu);
                        q = (q << 16) | (cur / d);
                        r = cur % d;
                }
        } else {
                uint64_t rr = 0;
                for (i = 63; i >= 0; i--) {
                        rr = (rr << 1) | ((n >> i) & 1);
                        q <<= 1;
                        if (rr >= d) {
                                rr -= d;
                                q |= 1;
                        }
                }
                r = (uint32_t)rr;
        }
        if (rem)
                *rem = r;
        return q;
}

int parse_uint(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        unsigned base = 10, digit;
        int any = 0;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
        }
        for (;; s++) {
                char c = *s;
                if (c >= '0' && c <= '9')
                        digit = (unsigned)(c - '0');
                else if (base == 16 && c >= 'a' && c <= 'f')
                        digit = (unsigned)(c - 'a' + 10);
                else if (base == 16 && c >= 'A' && c <= 'F')
                        digit = (unsigned)(c - 'A' + 10);
                else
                        break;
                v = v * base + digit;
                any = 1;
        }
        if (!any)
                return 0;
        switch (*s) {
        case 'k': case 'K': v <<= 10; s++; break;
        case 'm': case 'M': v <<= 20; s++; break;
        case 'g': case 'G': v <<= 30; s++; break;
        default: break;
        }
        if (*s == 'i' && s[1] == 'B')       /* accept "16MiB" too */
                s += 2;
        else if (*s == 'B')
                s++;
        if (*s && *s != ' ')
                return 0;
        *out = v;
        return 1;
}
