/* tool.c - small actions for the container tests (issue 13), one per argv[1]:
 *   write PATH TEXT     create PATH with TEXT          cat PATH       print PATH
 *   append PATH TEXT    print PATH, then append TEXT     upper          stdin upper-cased
 *   serve PORT TEXT [N] answer N connections             fetch HOST PORT LINE   a client
 *   victim              a pattern in memory, /secret     probe          mmap/brk/pointer tricks
 *   flood               fill a pipe, then the console
 *   segv                store to address 16             forkbomb       fork until refused
 *   hog MB              touch MB MiB of fresh memory     ticker N       N lines, 10 ms apart
 *   escape              try to leave the root by .., symlinks and /proc; print what it saw
 *   kill PID            kill(PID, SIGKILL)              syscalls N     N getppid() calls
 *   exec PATH           execve PATH                      bigmap MB      one mmap of MB MiB
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int show_file(const char *path) {
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("%s: %s\n", path, strerror(errno)); return 1; }
    int n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("%s: %s\n", path, buf);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    const char *a = argc > 1 ? argv[1] : "";
    if (!strcmp(a, "write") && argc > 3) {
        int fd = open(argv[2], O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0) { perror(argv[2]); return 1; }
        write(fd, argv[3], strlen(argv[3]));
        return close(fd) != 0;
    }
    if (!strcmp(a, "cat") && argc > 2) return show_file(argv[2]);
    if (!strcmp(a, "append") && argc > 3) {     /* show PATH, then add TEXT to it */
        show_file(argv[2]);
        int fd = open(argv[2], O_CREAT | O_WRONLY | O_APPEND, 0644);
        if (fd < 0) { perror(argv[2]); return 1; }
        write(fd, argv[3], strlen(argv[3]));
        return close(fd) != 0;
    }
    if (!strcmp(a, "upper")) {                  /* stdin to stdout, upper-cased, to EOF */
        char buf[512];
        int n;
        while ((n = read(0, buf, sizeof buf)) > 0) {
            for (int i = 0; i < n; i++) if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] -= 32;
            write(1, buf, n);
        }
        return n < 0;
    }
    if (!strcmp(a, "serve") && argc > 3) {      /* answer N connections: TEXT + what came */
        int n = argc > 4 ? atoi(argv[4]) : 1;
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
        if (bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 8)) { perror("bind"); return 1; }
        printf("listening\n");
        fflush(stdout);
        for (int i = 0; i < n; i++) {
            int c = accept(s, 0, 0);
            char buf[256];
            int got = read(c, buf, sizeof buf);
            write(c, argv[3], strlen(argv[3]));
            if (got > 0) write(c, buf, got);
            close(c);
        }
        return 0;
    }
    if (!strcmp(a, "fetch") && argc > 4) {      /* connect HOST PORT, send LINE, print reply */
        struct addrinfo *ai, hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
        int r = getaddrinfo(argv[2], argv[3], &hints, &ai);
        if (r) { printf("fetch %s: %s\n", argv[2], gai_strerror(r)); return 1; }
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, ai->ai_addr, ai->ai_addrlen)) { printf("connect: %s\n", strerror(errno)); return 1; }
        write(s, argv[4], strlen(argv[4]));
        char buf[512];
        int n, total = 0;
        while ((n = read(s, buf + total, sizeof buf - 1 - total)) > 0) total += n;
        buf[total] = 0;
        printf("reply: %s\n", buf);
        return 0;
    }
    if (!strcmp(a, "victim")) {                 /* fill 1 MiB with a pattern, then sleep */
        char *m = malloc(1 << 20);
        for (int i = 0; i < (1 << 20); i++) m[i] = (char)(i * 7 + 3);
        int fd = open("/secret", O_CREAT | O_WRONLY, 0600);
        write(fd, "victim data", 11);
        close(fd);
        printf("ready\n");
        fflush(stdout);
        pause();
        return m[5];
    }
    if (!strcmp(a, "probe")) {                  /* mmap/brk/pointer tricks: print each result */
        static const unsigned long at[] = {0, 0x1000, 0x7fffe000, 0x7ffff000, 0x80000000,
                                           0x80001000, 0xfffff000};
        for (unsigned i = 0; i < sizeof at / sizeof at[0]; i++) {
            void *m = mmap((void *)at[i], 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            printf("mmap fixed %#lx: %s\n", at[i], m == MAP_FAILED ? strerror(errno) : "mapped");
        }
        printf("mprotect trampoline: %s\n",
               mprotect((void *)0x7ffff000, 4096, PROT_READ | PROT_WRITE) ? strerror(errno) : "ok");
        printf("brk huge: %s\n", sbrk(0x70000000) == (void *)-1 ? strerror(errno) : "grew");
        printf("write wild: %s\n", write(1, (void *)0x80000000, 16) < 0 ? strerror(errno) : "?");
        printf("read wild: %s\n", read(0, (void *)0xfffff000, 16) < 0 ? strerror(errno) : "?");
        printf("mmap huge: %s\n", mmap(0, 0x7fff0000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                                       0) == MAP_FAILED ? strerror(errno) : "mapped");
        fflush(stdout);
        return 0;
    }
    if (!strcmp(a, "flood")) {                  /* pipe and console floods */
        int p[2];
        pipe(p);
        fcntl(p[1], F_SETFL, O_NONBLOCK);
        long n = 0, w;
        char buf[4096] = {0};
        while ((w = write(p[1], buf, sizeof buf)) > 0) n += w;
        printf("pipe took %ld bytes, then: %s\n", n, strerror(errno));
        for (int i = 0; i < 20000; i++) write(2, buf, 100);
        printf("console flood done\n");
        return 0;
    }
    if (!strcmp(a, "segv")) { printf("about to fault\n"); fflush(stdout); *(volatile int *)16 = 1; return 0; }
    if (!strcmp(a, "forkbomb")) {
        int n = 0;
        for (;;) {
            pid_t c = fork();
            if (c < 0) { printf("fork failed after %d: %s\n", n, strerror(errno)); break; }
            if (c == 0) { pause(); _exit(0); }
            n++;
        }
        kill(0, SIGKILL);
        return 0;
    }
    if (!strcmp(a, "hog") && argc > 2) {
        long mb = atol(argv[2]);
        for (long i = 0; i < mb; i++) {
            char *m = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) { printf("mmap failed at %ld MiB\n", i); return 2; }
            for (int j = 0; j < (1 << 20); j += 4096) m[j] = 1;
            printf("%ld MiB\n", i + 1);
            fflush(stdout);
        }
        return 0;
    }
    if (!strcmp(a, "bigmap") && argc > 2) {
        char *m = mmap(0, atol(argv[2]) << 20, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("mmap %s MiB: %s\n", argv[2], m == MAP_FAILED ? strerror(errno) : "ok");
        return m == MAP_FAILED;
    }
    if (!strcmp(a, "ticker") && argc > 2) {
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) {
            printf("tick %d\n", i);
            fflush(stdout);
            nanosleep(&(struct timespec){0, 10000000}, 0);
        }
        return 0;
    }
    if (!strcmp(a, "syscalls") && argc > 2) {
        long n = atol(argv[2]), s = 0;
        for (long i = 0; i < n; i++) s += getppid();
        printf("%ld calls\n", n);
        return s < 0;
    }
    if (!strcmp(a, "escape")) {
        show_file("../../../../../../../etc/hostname");
        show_file("/../../etc/hostname");
        symlink("/../../../etc/hostname", "/tmp/link");
        show_file("/tmp/link");
        symlink("../../../../../../../../etc/hostname", "/tmp/link2");
        show_file("/tmp/link2");
        show_file("/proc/1/root/etc/hostname");
        show_file("/proc/self/root/etc/hostname");
        char longp[5000];
        memset(longp, 'a', sizeof longp - 1);
        longp[sizeof longp - 1] = 0;
        int fd = open(longp, O_RDONLY);
        printf("long path: %s\n", fd < 0 ? strerror(errno) : "opened");
        return 0;
    }
    if (!strcmp(a, "kill") && argc > 2) {
        int r = kill(atoi(argv[2]), SIGKILL);
        printf("kill %s: %s\n", argv[2], r ? strerror(errno) : "ok");
        return 0;
    }
    if (!strcmp(a, "exec") && argc > 2) {
        execv(argv[2], argv + 2);
        printf("execve %s: %s\n", argv[2], strerror(errno));
        return 3;
    }
    fprintf(stderr, "usage: tool write|cat|segv|forkbomb|hog|ticker|syscalls|escape|kill|exec\n");
    return 2;
}
