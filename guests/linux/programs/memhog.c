/* memhog [MAX_MIB]: takes memory 1 MiB at a time (mmap, then a write to every page) until the
 * kernel stops it or MAX_MIB (default 4096) is reached, printing the total after each MiB.
 * A Linux kernel promises the mapping (overcommit) and runs out when the pages are touched: its
 * OOM killer then kills the largest process, this one.  hvlab's shared kernel does the same at
 * the container's --memory.  What the last line says is how far it got. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define MIB (1L << 20)
#define PAGE 4096

int main(int argc, char **argv)
{
    long max = argc > 1 ? strtol(argv[1], NULL, 0) : 4096;
    if (argc > 2 || max < 1) {
        fprintf(stderr, "usage: memhog [MAX_MIB]   (default 4096)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long mib = 1; mib <= max; mib++) {
        unsigned char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("memhog: mmap");
            return 1;
        }
        for (long off = 0; off < MIB; off += PAGE)
            p[off] = 1;
        printf("memhog: %ld MiB\n", mib);
    }
    printf("memhog: reached %ld MiB\n", max);
    return 0;
}
