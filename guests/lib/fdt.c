/* fdt.c - a small flattened-device-tree walker.
 *
 * Layout of a DTB (all fields big-endian):
 *   header: magic 0xd00dfeed, totalsize, off_dt_struct, off_dt_strings,
 *           off_mem_rsvmap, version, last_comp_version, boot_cpuid_phys,
 *           size_dt_strings, size_dt_struct
 *   structure block: a token stream
 *     FDT_BEGIN_NODE name\0 (padded to 4)   FDT_END_NODE
 *     FDT_PROP len nameoff value (padded)   FDT_NOP   FDT_END
 *   strings block: property names, found by nameoff
 * Every read below is bounds-checked: a guest must not trust its input either.
 */
#include "fdt.h"
#include "mmio.h"
#include "util.h"

#define FDT_MAGIC       0xd00dfeedu
#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9
#define MAX_DEPTH       16

static uint32_t be32(const uint8_t *p)
{
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A number of `cells` 32-bit cells (1 or 2) at p. */
static uint64_t cells(const uint8_t *p, uint32_t n)
{
        return n == 2 ? ((uint64_t)be32(p) << 32) | be32(p + 4) : be32(p);
}

/* Does the string list (NUL-separated, len bytes) contain s? */
static int has_string(const char *list, uint32_t len, const char *s)
{
        uint32_t i = 0, n = (uint32_t)strlen(s);

        while (i < len) {
                uint32_t l = 0;
                while (i + l < len && list[i + l])
                        l++;
                if (l == n && memcmp(list + i, s, n) == 0)
                        return 1;
                i += l + 1;
        }
        return 0;
}

static int memchr_nul(const char *s, uint32_t n)
{
        while (n--)
                if (*s++ == '\0')
                        return 1;
        return 0;
}

struct node {
        const char *name;
        uint32_t addr_cells, size_cells;        /* for this node's children */
        uint64_t reg_base, reg_size;
        int has_reg;
        int is_memory, is_uart, is_plic, is_finisher;
};

int fdt_read(const void *dtb, struct boot_info *bi)
{
        const uint8_t *h = dtb;
        struct node stack[MAX_DEPTH];
        uint32_t total, off_struct, off_strings, size_struct, size_strings, pos;
        int depth = -1, got_memory = 0;

        memset(bi, 0, sizeof(*bi));
        bi->dtb = dtb;
        bi->mem_base = RAM_BASE;
        bi->mem_size = 64 * MiB;
        bi->timebase_hz = 10000000;
        bi->uart_base = UART_BASE;
        bi->plic_base = PLIC_BASE;
        bi->finisher_base = FINISHER_BASE;

        if (!h || ((uintptr_t)h & 3) || be32(h) != FDT_MAGIC)
                return 0;
        total = be32(h + 4);
        off_struct = be32(h + 8);
        off_strings = be32(h + 12);
        size_strings = be32(h + 32);
        size_struct = be32(h + 36);
        if (be32(h + 20) < 16 || total < 40 || total > 16 * MiB ||
            off_struct > total || size_struct > total - off_struct ||
            off_strings > total || size_strings > total - off_strings)
                return 0;
        bi->dtb_size = total;

        for (pos = 0; pos + 4 <= size_struct;) {
                const uint8_t *p = h + off_struct + pos;
                uint32_t token = be32(p);
                pos += 4;

                if (token == FDT_BEGIN_NODE) {
                        const char *name = (const char *)p + 4;
                        uint32_t n = 0;
                        while (pos + n < size_struct && name[n])
                                n++;
                        if (pos + n >= size_struct || ++depth >= MAX_DEPTH)
                                return 0;
                        pos += (n + 1 + 3) & ~3u;
                        memset(&stack[depth], 0, sizeof(stack[depth]));
                        stack[depth].name = name;
                        stack[depth].addr_cells = 2;    /* defaults from the spec */
                        stack[depth].size_cells = 1;
                        if (depth == 1 && (strcmp(name, "memory") == 0 ||
                                           strncmp(name, "memory@", 7) == 0))
                                stack[depth].is_memory = 1;
                } else if (token == FDT_END_NODE) {
                        struct node *nd;
                        if (depth < 0)
                                return 0;
                        nd = &stack[depth];
                        if (nd->has_reg) {
                                if (nd->is_memory && !got_memory) {
                                        bi->mem_base = nd->reg_base;
                                        bi->mem_size = nd->reg_size;
                                        got_memory = 1;
                                }
                                if (nd->is_uart)
                                        bi->uart_base = nd->reg_base;
                                if (nd->is_plic)
                                        bi->plic_base = nd->reg_base;
                                if (nd->is_finisher)
                                        bi->finisher_base = nd->reg_base;
                        }
                        depth--;
                } else if (token == FDT_PROP) {
                        uint32_t len, nameoff;
                        const char *pname;
                        const uint8_t *val;
                        struct node *nd, *parent;

                        if (pos + 8 > size_struct || depth < 0)
                                return 0;
                        len = be32(p + 4);
                        nameoff = be32(p + 8);
                        pos += 8;
                        if (len > size_struct - pos || nameoff >= size_strings)
                                return 0;
                        val = h + off_struct + pos;
                        pos += (len + 3) & ~3u;
                        pname = (const char *)h + off_strings + nameoff;
                        if (!memchr_nul(pname, size_strings - nameoff))
                                return 0;       /* name runs off the strings block */
                        nd = &stack[depth];
                        parent = depth > 0 ? &stack[depth - 1] : 0;

                        if (strcmp(pname, "#address-cells") == 0 && len == 4)
                                nd->addr_cells = be32(val);
                        else if (strcmp(pname, "#size-cells") == 0 && len == 4)
                                nd->size_cells = be32(val);
                        else if (strcmp(pname, "reg") == 0 && parent &&
                                 parent->addr_cells >= 1 && parent->addr_cells <= 2 &&
                                 parent->size_cells <= 2 &&
                                 len >= 4 * (parent->addr_cells + parent->size_cells)) {
                                nd->reg_base = cells(val, parent->addr_cells);
                                nd->reg_size = parent->size_cells
                                        ? cells(val + 4 * parent->addr_cells, parent->size_cells)
                                        : 0;
                                nd->has_reg = 1;
                        } else if (strcmp(pname, "device_type") == 0 && depth == 1 &&
                                   has_string((const char *)val, len, "memory")) {
                                nd->is_memory = 1;
                        } else if (strcmp(pname, "compatible") == 0) {
                                const char *v = (const char *)val;
                                nd->is_uart = has_string(v, len, "ns16550a");
                                nd->is_plic = has_string(v, len, "riscv,plic0") ||
                                              has_string(v, len, "sifive,plic-1.0.0");
                                nd->is_finisher = has_string(v, len, "sifive,test0");
                        } else if (strcmp(pname, "timebase-frequency") == 0 &&
                                   (len == 4 || len == 8)) {
                                bi->timebase_hz = (uint32_t)cells(val, len / 4);
                        } else if (strcmp(pname, "bootargs") == 0 && depth == 1 &&
                                   strcmp(nd->name, "chosen") == 0) {
                                uint32_t n = len < sizeof(bi->bootargs) - 1
                                             ? len : sizeof(bi->bootargs) - 1;
                                memcpy(bi->bootargs, val, n);
                                bi->bootargs[n] = '\0';
                        }
                } else if (token == FDT_NOP) {
                        continue;
                } else if (token == FDT_END) {
                        break;
                } else {
                        return 0;
                }
        }
        bi->dtb_ok = 1;
        return 1;
}

int bootarg(const char *args, const char *key, char *buf, int size)
{
        size_t klen = strlen(key);
        const char *p = args;

        while (*p) {
                const char *word;
                while (*p == ' ')
                        p++;
                word = p;
                while (*p && *p != ' ')
                        p++;
                if ((size_t)(p - word) >= klen && strncmp(word, key, klen) == 0 &&
                    (word[klen] == '=' || word + klen == p)) {
                        const char *v = word[klen] == '=' ? word + klen + 1 : p;
                        int n = 0;
                        while (v + n < p && n < size - 1) {
                                buf[n] = v[n];
                                n++;
                        }
                        if (size > 0)
                                buf[n] = '\0';
                        return 1;
                }
        }
        return 0;
}
