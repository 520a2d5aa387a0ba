/* events: eventfd(2) and epoll(7) (epoll_create(2), epoll_ctl(2), epoll_wait(2)), one line per
 * check, the same under real Linux (qemu-riscv32) and in an hvlab container
 * (tests/test_kernel_events.py).  A pipe, an eventfd and a TCP loopback connection in one
 * epoll set; level- and edge-triggered, one-shot; a blocking wait and a blocking read woken by
 * a forked child; a timeout; the error cases and hostile arguments.  Errors print as -errno.
 * Timing never shows: only whether a wait timed out.  `events pwait2`: every wait_show is an
 * epoll_pwait2 (a timespec timeout) instead, and prints the same; `events nonet`: no sockets
 * (for a Linux built without them). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHOW(what, expr) do { long r_ = (long)(expr); \
    if (r_ < 0) printf("%s = -%d\n", what, errno); else printf("%s = %ld\n", what, r_); } while (0)

static void nap(int ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, 0);
}

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
static int use_pwait2;

static int wait_any(int ep, struct epoll_event *ev, int max, int timeout)
{
    if (!use_pwait2)
        return epoll_wait(ep, ev, max, timeout);
    struct timespec ts = {timeout / 1000, timeout % 1000 * 1000000L};
    return syscall(SYS_epoll_pwait2, ep, ev, max, timeout < 0 ? 0 : &ts, 0, 8);
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct epoll_event *)a)->data.u64, y = ((const struct epoll_event *)b)->data.u64;
    return x < y ? -1 : x > y;
}

/* epoll_wait, then the events sorted by their data (Linux reports them in the order they
 * became ready; the set is what is compared) */
static void wait_show(const char *what, int ep, int max, int timeout)
{
    struct epoll_event ev[8];
    memset(ev, 0x5a, sizeof ev);
    int n = wait_any(ep, ev, max, timeout);
    if (n < 0) {
        printf("%s = -%d\n", what, errno);
        return;
    }
    qsort(ev, n, sizeof ev[0], cmp);
    printf("%s = %d", what, n);
    for (int i = 0; i < n; i++)
        printf(" [%llx %x]", (unsigned long long)ev[i].data.u64, ev[i].events);
    printf("\n");
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static void put(int efd, uint64_t v)
{
    if (write(efd, &v, 8) != 8)
        printf("eventfd write failed %d\n", errno);
}

static uint64_t take(int efd)
{
    uint64_t v = 0;
    if (read(efd, &v, 8) != 8)
        printf("eventfd read failed %d\n", errno);
    return v;
}

static void eventfd_checks(void)
{
    uint64_t v;
    char small[4];
    int e = eventfd(3, 0);
    SHOW("eventfd(3)", e >= 0);
    SHOW("read 8 bytes", read(e, &v, 8));
    printf("value %llu\n", (unsigned long long)v);
    put(e, 5);
    put(e, 7);
    SHOW("read 16-byte buffer", read(e, &v, 16) == 8 ? (long)v : -1);
    SHOW("read 4-byte buffer", read(e, small, 4));
    SHOW("write 4 bytes", write(e, small, 4));
    v = 0xffffffffffffffffULL;
    SHOW("write ~0", write(e, &v, 8));
    close(e);

    e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    SHOW("nonblock read at 0", read(e, &v, 8));
    SHOW("F_GETFD", fcntl(e, F_GETFD));
    SHOW("F_GETFL", fcntl(e, F_GETFL));
    struct pollfd pf = {e, POLLIN | POLLOUT, 0};
    SHOW("poll at 0", poll(&pf, 1, 0));
    printf("revents %x\n", pf.revents);
    v = 0xfffffffffffffffeULL;
    SHOW("write max", write(e, &v, 8));
    v = 1;
    SHOW("write past max", write(e, &v, 8));
    SHOW("poll at max", poll(&pf, 1, 0));
    printf("revents %x\n", pf.revents);
    SHOW("read max", read(e, &v, 8) == 8 && v == 0xfffffffffffffffeULL);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(e, &r);
    struct timeval tv = {0, 0};
    SHOW("select empty", select(e + 1, &r, 0, 0, &tv));
    put(e, 1);
    FD_SET(e, &r);
    SHOW("select readable", select(e + 1, &r, 0, 0, &tv));
    close(e);

    e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    SHOW("semaphore read", read(e, &v, 8) == 8 ? (long)v : -1);
    SHOW("semaphore read", read(e, &v, 8) == 8 ? (long)v : -1);
    SHOW("semaphore read at 0", read(e, &v, 8));
    close(e);
    SHOW("eventfd2 bad flags", syscall(SYS_eventfd2, 0, 0x10));

    e = eventfd(0, 0);                  /* a blocking read, woken by a child's write */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        nap(20);
        put(e, 42);
        _exit(0);
    }
    printf("blocking read woken: %llu\n", (unsigned long long)take(e));
    int st;
    waitpid(pid, &st, 0);
    close(e);
}

static void ctl_errors(int ep)
{
    int fds[2], file = open("events.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    pipe(fds);
    struct epoll_event e = {EPOLLIN, {0}};
    SHOW("epoll_create1(1)", epoll_create1(1));
    SHOW("F_GETFL epoll", fcntl(ep, F_GETFL));
    char c;
    SHOW("read epoll fd", read(ep, &c, 1));
    SHOW("ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &e));
    SHOW("ctl bad epfd", epoll_ctl(999, EPOLL_CTL_ADD, fds[0], &e));
    SHOW("ctl epfd on itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
    SHOW("ctl regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &e));
    int null = open("/dev/null", O_RDONLY);
    SHOW("ctl /dev/null", epoll_ctl(ep, EPOLL_CTL_ADD, null, &e));
    SHOW("ctl non-epoll epfd", epoll_ctl(fds[1], EPOLL_CTL_ADD, fds[0], &e));
    SHOW("ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &e));
    SHOW("ctl add again", epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &e));
    SHOW("ctl mod absent", epoll_ctl(ep, EPOLL_CTL_MOD, fds[1], &e));
    SHOW("ctl del absent", epoll_ctl(ep, EPOLL_CTL_DEL, fds[1], &e));
    SHOW("ctl bad op", epoll_ctl(ep, 99, fds[0], &e));
    SHOW("ctl add null event", epoll_ctl(ep, EPOLL_CTL_ADD, fds[1], 0));
    e.events = EPOLLIN | EPOLLEXCLUSIVE;
    SHOW("ctl mod exclusive", epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], &e));
    SHOW("ctl del null event", epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], 0));
    close(fds[0]);
    close(fds[1]);
    close(file);
    close(null);
    unlink("events.tmp");
}

static void hostile(int ep)
{
    struct epoll_event ev[2];
    int fds[2];
    pipe(fds);
    add(ep, fds[0], EPOLLIN, 1);
    write(fds[1], "x", 1);              /* something ready */
    SHOW("wait maxevents 0", epoll_wait(ep, ev, 0, 0));
    SHOW("wait maxevents -1", epoll_wait(ep, ev, -1, 0));
    SHOW("wait maxevents INT_MAX", epoll_wait(ep, ev, 0x7fffffff, 0));
    SHOW("wait maxevents EP_MAX+1", epoll_wait(ep, ev, 0x7fffffff / 16 + 1, 0));
    SHOW("wait events kernel address", epoll_wait(ep, (void *)0xfffff000, 1, 0));
    SHOW("wait events wrapping", epoll_wait(ep, (void *)0xfffffff0, 2, 0));
    SHOW("wait bad epfd", epoll_wait(999, ev, 1, 0));
    SHOW("wait non-epoll fd", epoll_wait(fds[0], ev, 1, 0));
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    SHOW("pwait with sigmask", epoll_pwait(ep, ev, 2, 0, &m));
    SHOW("pwait sigsetsize 4", syscall(SYS_epoll_pwait, ep, ev, 2, 0, &m, 4));
    SHOW("pwait bad sigmask", syscall(SYS_epoll_pwait, ep, ev, 2, 0, (void *)0xfffff000, 8));
    if (use_pwait2) {                   /* a bad timespec; in the other mode, the same line */
        struct timespec bad = {0, 1000000000L};
        SHOW("pwait2 bad timespec", syscall(SYS_epoll_pwait2, ep, ev, 2, &bad, 0, 8));
    } else
        SHOW("pwait2 bad timespec", -(errno = EINVAL));
    close(fds[0]);
    close(fds[1]);
}

static int tcp_pair(int *listener, int *server)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (void *)&a, sizeof a) || getsockname(l, (void *)&a, &len) || listen(l, 4))
        printf("listen failed %d\n", errno);
    *listener = l;
    if (connect(c, (void *)&a, sizeof a))
        printf("connect failed %d\n", errno);
    *server = accept(l, 0, 0);
    return c;
}

static int net = 1;                     /* `nonet`: no sockets (a Linux built without them) */

static void one_set(void)
{
    int ep = epoll_create1(0), fds[2], e = eventfd(0, EFD_NONBLOCK), l = -1, s = -1, c = -1;
    pipe(fds);
    SHOW("add pipe", add(ep, fds[0], EPOLLIN, 0x1111222233334444ULL));
    SHOW("add eventfd", add(ep, e, EPOLLIN, 0xdeadbeefcafef00dULL));
    if (net) {
        c = tcp_pair(&l, &s);
        SHOW("add socket", add(ep, s, EPOLLIN | EPOLLRDHUP, 3));
        SHOW("add listener", add(ep, l, EPOLLIN, 4));
    }
    wait_show("nothing ready", ep, 8, 0);
    write(fds[1], "ab", 2);
    put(e, 9);
    if (net)
        send(c, "hello", 5, 0);
    wait_show("all ready", ep, 8, 0);
    wait_show("level-triggered again", ep, 8, 0);
    struct epoll_event ev[3];
    memset(ev, 0x5a, sizeof ev);
    int n = epoll_wait(ep, ev, 3, 0);
    unsigned pad;
    memcpy(&pad, (char *)&ev[1] + 4, 4);
    printf("layout: n=%d size=%d pad=%x\n", n, (int)sizeof ev[0], pad);
    struct epoll_event one[1];
    uint64_t seen = 0;
    for (int i = 0; i < n; i++) {       /* maxevents 1 takes turns */
        epoll_wait(ep, one, 1, 0);
        seen |= 1ULL << (one[0].data.u64 & 63);
    }
    printf("maxevents 1 x%d saw %llx\n", n, (unsigned long long)seen);
    char buf[8];
    read(fds[0], buf, 2);
    take(e);
    if (net) {
        recv(s, buf, 5, 0);
        wait_show("all drained", ep, 8, 0);
        int c2 = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        getsockname(l, (void *)&a, &len);
        connect(c2, (void *)&a, sizeof a);
        wait_show("listener", ep, 8, 0);
        close(accept(l, 0, 0));
        close(c2);
        close(c);                       /* the peer goes: readable, EPOLLRDHUP */
        wait_show("peer closed", ep, 8, 0);
        SHOW("del socket", epoll_ctl(ep, EPOLL_CTL_DEL, s, 0));
    }
    wait_show("all drained", ep, 8, 0);
    close(fds[1]);                      /* the writer goes: EPOLLHUP */
    wait_show("writer closed", ep, 8, 0);
    close(fds[0]);
    close(e);
    if (net) {
        close(s);
        close(l);
    }
    wait_show("all closed", ep, 8, 0);
    close(ep);
}

static void pipe_ends(void)
{
    int ep = epoll_create1(0), fds[2];
    pipe(fds);
    add(ep, fds[1], EPOLLOUT, 7);
    wait_show("write end", ep, 8, 0);
    close(fds[0]);
    wait_show("write end, reader gone", ep, 8, 0);
    close(fds[1]);
    close(ep);
}

static void triggers(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC), fds[2], e = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE);
    SHOW("EPOLL_CLOEXEC F_GETFD", fcntl(ep, F_GETFD));
    pipe(fds);
    add(ep, e, EPOLLIN | EPOLLET, 1);
    wait_show("ET nothing", ep, 8, 0);
    put(e, 2);
    wait_show("ET event", ep, 8, 0);
    wait_show("ET no new event", ep, 8, 0);
    take(e);                            /* count still 1: no new event for a reader */
    wait_show("ET after a read", ep, 8, 0);
    put(e, 1);
    wait_show("ET new write", ep, 8, 0);
    SHOW("mod", mod(ep, e, EPOLLIN | EPOLLET, 2));
    wait_show("ET after mod, ready", ep, 8, 0);
    add(ep, fds[0], EPOLLIN | EPOLLET, 3);
    write(fds[1], "a", 1);
    SHOW("del eventfd", epoll_ctl(ep, EPOLL_CTL_DEL, e, 0));
    wait_show("ET pipe", ep, 8, 0);
    wait_show("ET pipe again", ep, 8, 0);
    write(fds[1], "b", 1);
    wait_show("ET pipe second write", ep, 8, 0);
    epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], 0);

    add(ep, fds[0], EPOLLIN | EPOLLONESHOT, 4);
    wait_show("oneshot", ep, 8, 0);
    wait_show("oneshot disabled", ep, 8, 0);
    write(fds[1], "c", 1);
    wait_show("oneshot disabled, new data", ep, 8, 0);
    SHOW("oneshot re-arm", mod(ep, fds[0], EPOLLIN | EPOLLONESHOT, 5));
    wait_show("oneshot re-armed", ep, 8, 0);
    SHOW("oneshot add again", add(ep, fds[0], EPOLLIN, 6));
    epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], 0);

    int d = dup(fds[0]);                /* the file lives on in d: still reported */
    add(ep, fds[0], EPOLLIN, 7);
    close(fds[0]);
    wait_show("closed fd, file still open", ep, 8, 0);
    close(d);                           /* the last reference: the entry goes */
    wait_show("last reference closed", ep, 8, 0);
    int fds2[2];
    pipe(fds2);
    SHOW("new file at the same fd", add(ep, fds2[0], EPOLLIN, 8) == 0 && fds2[0] == fds[0]);

    int inner = epoll_create1(0);       /* an epoll file in an epoll set */
    write(fds2[1], "d", 1);
    add(inner, fds2[0], EPOLLIN, 9);
    epoll_ctl(ep, EPOLL_CTL_DEL, fds2[0], 0);
    SHOW("add inner epoll", add(ep, inner, EPOLLIN, 10));
    wait_show("inner ready", ep, 8, 0);
    SHOW("add outer to inner (loop)", add(inner, ep, EPOLLIN, 11));
    close(inner);
    int top[7], bottom[7];              /* chains: at most 5 epoll files deep (ELOOP) */
    for (int i = 0; i < 7; i++) {
        top[i] = epoll_create1(0);
        bottom[i] = epoll_create1(0);
    }
    printf("chain top-down:");
    for (int i = 1; i < 7; i++)
        printf(" %d", add(top[i - 1], top[i], EPOLLIN, i) ? -errno : 0);
    printf("\nchain bottom-up:");
    for (int i = 1; i < 7; i++)
        printf(" %d", add(bottom[i], bottom[i - 1], EPOLLIN, i) ? -errno : 0);
    printf("\n");
    for (int i = 0; i < 7; i++) {
        close(top[i]);
        close(bottom[i]);
    }
    close(fds2[0]);
    close(fds2[1]);
    close(fds[1]);
    close(e);
    close(ep);
}

static void blocking(void)
{
    int ep = epoll_create1(0), fds[2];
    pipe(fds);
    add(ep, fds[0], EPOLLIN, 0x77);
    wait_show("timeout 30 ms", ep, 8, 30);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        nap(20);
        write(fds[1], "z", 1);
        _exit(0);
    }
    wait_show("blocking wait woken by a child", ep, 8, -1);
    int st;
    waitpid(pid, &st, 0);
    int empty = epoll_create1(0);
    wait_show("empty set, timeout", empty, 8, 10);
    close(empty);
    close(fds[0]);
    close(fds[1]);
    close(ep);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        use_pwait2 |= !strcmp(argv[i], "pwait2");
        net &= strcmp(argv[i], "nonet") != 0;
    }
    printf("sizeof(struct epoll_event) = %d\n", (int)sizeof(struct epoll_event));
    eventfd_checks();
    int ep = epoll_create1(0);
    ctl_errors(ep);
    hostile(ep);
    close(ep);
    one_set();
    pipe_ends();
    triggers();
    blocking();
    printf("done\n");
    return 0;
}
