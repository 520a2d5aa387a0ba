/* memtouch MIB [ROUNDS]: allocate MIB MiB and write one byte in every 4 KiB page, ROUNDS times
 * (default 1), then check what was written.  Each first touch is a page fault in the guest
 * and, on hvlab, a G-stage exit that backs the page with a host page (see hv top's pages). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE 4096

int main(int argc, char **argv)
{
    long mib = argc > 1 ? strtol(argv[1], NULL, 0) : 8;
    long rounds = argc > 2 ? strtol(argv[2], NULL, 0) : 1;
    if (argc > 3 || mib <= 0 || mib > 2048 || rounds <= 0) {
        fprintf(stderr, "usage: memtouch [MIB [ROUNDS]]   (default 8 MiB, 1 round)\n");
        return 2;
    }
    size_t size = (size_t)mib << 20;
    unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    if (p == MAP_FAILED) {
        perror("memtouch: mmap");
        return 1;
    }
    for (long r = 0; r < rounds; r++)
        for (size_t off = 0; off < size; off += PAGE)
            p[off] = (unsigned char)(off / PAGE + r);
    size_t bad = 0;
    for (size_t off = 0; off < size; off += PAGE)
        bad += p[off] != (unsigned char)(off / PAGE + rounds - 1);
    printf("memtouch: %ld MiB, %zu pages touched %ld time(s), %zu wrong\n", mib, size / PAGE,
           rounds, bad);
    munmap(p, size);
    return bad != 0;
}
