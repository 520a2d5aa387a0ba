/* conform.c - hvlab's system-call conformance suite (issue 13).
 *
 * Each check makes one call with Linux's documented success or error case and prints one
 * line "name: result" (the value, or -1 and the errno's name).  Run it in an empty working
 * directory: the reference is real Linux (qemu-riscv32 user mode, or a Linux VM); the test
 * compares hvlab's container output with it line by line.  Only values that do not depend
 * on the machine are printed (no pids, times, inode numbers).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/select.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
    switch (e) {
    case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case ESRCH: return "ESRCH";
    case EINTR: return "EINTR"; case EBADF: return "EBADF"; case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN"; case ENOMEM: return "ENOMEM"; case EACCES: return "EACCES";
    case EFAULT: return "EFAULT"; case EEXIST: return "EEXIST"; case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR"; case EINVAL: return "EINVAL"; case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY"; case ESPIPE: return "ESPIPE"; case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE"; case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS"; case ENOTEMPTY: return "ENOTEMPTY"; case ELOOP: return "ELOOP";
    case ENOEXEC: return "ENOEXEC"; case EXDEV: return "EXDEV";
    case ETIMEDOUT: return "ETIMEDOUT";
    default: return "E?";
    }
}

static void show(const char *what, long r) {
    if (r < 0) printf("%s: -1 %s\n", what, ename(errno));
    else printf("%s: %ld\n", what, r);
    fflush(stdout);
}
#define CHECK(what, call) do { errno = 0; long _r = (long)(call); show(what, _r); } while (0)

static volatile int got;
static void on_sig(int s) { got = s; }

static long futex(volatile int *addr, int op, int val, const struct timespec *t, int val3) {
    return syscall(SYS_futex_time64, addr, op, val, t, 0, val3);
}

static volatile int word = 7, handoff, fa, fb, moved_back;
static void *requeue_thread(void *arg) {
    (void)arg;
    long r = futex(&fa, FUTEX_WAIT_PRIVATE, 0, 0, 0);  /* moved to fb, woken there */
    moved_back = r == 0 ? 1 : -1;
    return 0;
}
static void *handoff_thread(void *arg) {
    handoff = 1;
    futex(&handoff, FUTEX_WAKE_PRIVATE, 1, 0, 0);
    return (void *)(long)(syscall(SYS_gettid) != getpid() ? 42 : 0);
}

int main(void) {
    char buf[256];
    struct stat st;
    int fd, p[2];

    /* files */
    CHECK("open missing", open("nope", O_RDONLY));
    CHECK("open create", fd = open("f", O_CREAT | O_WRONLY | O_TRUNC, 0644));
    CHECK("write", write(fd, "hello world\n", 12));
    CHECK("read on O_WRONLY", read(fd, buf, 4));
    CHECK("close", close(fd));
    CHECK("close again", close(fd));
    CHECK("open excl", open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
    CHECK("open rdonly", fd = open("f", O_RDONLY));
    CHECK("read 5", read(fd, buf, 5));
    CHECK("lseek cur", lseek(fd, 0, SEEK_CUR));
    CHECK("lseek end", lseek(fd, 0, SEEK_END));
    CHECK("lseek neg", lseek(fd, -100, SEEK_SET));
    CHECK("lseek whence", lseek(fd, 0, 7));
    CHECK("pread", pread(fd, buf, 5, 6));
    printf("pread data: %.5s\n", buf);
    CHECK("write on O_RDONLY", write(fd, "x", 1));
    CHECK("fstat", fstat(fd, &st));
    printf("fstat size %ld mode %o nlink %ld\n", (long)st.st_size, st.st_mode, (long)st.st_nlink);
    CHECK("dup", dup(fd) > fd);
    CHECK("dup2 same", dup2(fd, fd));
    CHECK("dup3 same", dup3(fd, fd, 0));
    CHECK("dup2 to 50", dup2(fd, 50));
    CHECK("fcntl getfd", fcntl(50, F_GETFD));
    CHECK("fcntl setfd", fcntl(50, F_SETFD, FD_CLOEXEC));
    CHECK("fcntl getfd again", fcntl(50, F_GETFD));
    CHECK("fcntl getfl", fcntl(fd, F_GETFL) & O_ACCMODE);
    CHECK("fcntl bad fd", fcntl(999, F_GETFD));
    CHECK("read bad fd", read(-1, buf, 1));
    CHECK("lseek back", lseek(fd, 0, SEEK_SET));
    CHECK("read wild ptr", read(fd, (void *)0x10, 4));
    CHECK("read wild ptr 2", read(fd, (void *)0xfffff000, 4));
    CHECK("write wild ptr", write(1, (void *)0x20, 4));
    CHECK("ioctl notty", ioctl(fd, TIOCGWINSZ, buf));
    close(fd);
    CHECK("stat", stat("f", &st));
    CHECK("stat missing", stat("nope/x", &st));
    CHECK("stat notdir", stat("f/x", &st));
    CHECK("stat empty", stat("", &st));
    CHECK("stat wild", stat((char *)0x30, &st));
    CHECK("truncate", truncate("f", 3));
    stat("f", &st);
    printf("size after truncate %ld\n", (long)st.st_size);
    CHECK("access f R", access("f", R_OK));
    CHECK("access f X", access("f", X_OK));
    CHECK("access missing", access("nope", F_OK));
    /* directories */
    CHECK("mkdir", mkdir("d", 0755));
    CHECK("mkdir exists", mkdir("d", 0755));
    CHECK("mkdir missing parent", mkdir("x/y", 0755));
    CHECK("mkdir in file", mkdir("f/y", 0755));
    CHECK("open dir for write", open("d", O_WRONLY));
    CHECK("open file as dir", open("f", O_RDONLY | O_DIRECTORY));
    CHECK("chdir", chdir("d"));
    CHECK("getcwd small", (long)getcwd(buf, 2));
    CHECK("chdir ..", chdir(".."));
    CHECK("chdir file", chdir("f"));
    CHECK("rename", rename("f", "d/g"));
    CHECK("rename missing", rename("f", "h"));
    CHECK("rename dir into self", rename("d", "d/sub"));
    CHECK("rmdir nonempty", rmdir("d"));
    CHECK("unlink dir", unlink("d"));
    CHECK("symlink", symlink("d/g", "l"));
    CHECK("readlink", readlink("l", buf, sizeof buf));
    printf("readlink data: %.3s\n", buf);
    CHECK("readlink not link", readlink("d", buf, sizeof buf));
    CHECK("lstat link", lstat("l", &st));
    printf("lstat is link %d\n", S_ISLNK(st.st_mode));
    CHECK("stat via link", stat("l", &st));
    printf("stat via link size %ld\n", (long)st.st_size);
    CHECK("symlink loop a", symlink("b", "a"));
    CHECK("symlink loop b", symlink("a", "b"));
    CHECK("open loop", open("a", O_RDONLY));
    CHECK("open nofollow", open("l", O_RDONLY | O_NOFOLLOW));
    CHECK("link", link("d/g", "hard"));
    stat("hard", &st);
    printf("nlink after link %ld\n", (long)st.st_nlink);
    CHECK("link exists", link("d/g", "hard"));
    {
        DIR *dir = opendir("d");
        struct dirent *e;
        int n = 0, seen = 0;
        while (dir && (e = readdir(dir))) { n++; if (!strcmp(e->d_name, "g")) seen = e->d_type; }
        printf("readdir entries %d g type %d\n", n, seen);
        if (dir) closedir(dir);
    }
    CHECK("unlink", unlink("hard"));
    CHECK("unlink again", unlink("hard"));
    CHECK("unlink link", unlink("l"));
    CHECK("unlink d/g", unlink("d/g"));
    CHECK("rmdir", rmdir("d"));
    CHECK("rmdir again", rmdir("d"));
    unlink("a"); unlink("b");
    /* pipes */
    CHECK("pipe", pipe(p));
    CHECK("pipe write", write(p[1], "abc", 3));
    CHECK("pipe read", read(p[0], buf, 10));
    CHECK("pipe lseek", lseek(p[0], 0, SEEK_SET));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    CHECK("pipe read empty nonblock", read(p[0], buf, 10));
    {
        struct pollfd pf = {p[0], POLLIN, 0};
        CHECK("poll empty", poll(&pf, 1, 0));
        write(p[1], "z", 1);
        CHECK("poll ready", poll(&pf, 1, 0));
        printf("poll revents %d\n", pf.revents);
    }
    close(p[1]);
    read(p[0], buf, 10);
    CHECK("pipe read eof", read(p[0], buf, 10));
    {   /* pipe(7): no writer left: POLLHUP, and select(2) finds it readable (EOF) */
        struct pollfd pf = {p[0], POLLIN, 0};
        CHECK("poll read end no writer", poll(&pf, 1, 0));
        printf("poll revents %d\n", pf.revents);
        fd_set r; FD_ZERO(&r); FD_SET(p[0], &r);
        struct timeval tv = {0, 0};
        CHECK("select read end no writer", select(p[0] + 1, &r, 0, 0, &tv));
    }
    close(p[0]);
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    {   /* no reader left: POLLERR, and select(2) finds it writable (the write fails) */
        struct pollfd pf = {p[1], POLLOUT, 0};
        CHECK("poll write end no reader", poll(&pf, 1, 0));
        printf("poll revents %d\n", pf.revents);
        fd_set w; FD_ZERO(&w); FD_SET(p[1], &w);
        struct timeval tv = {0, 0};
        CHECK("select write end no reader", select(p[1] + 1, 0, &w, 0, &tv));
    }
    CHECK("pipe write no reader", write(p[1], "x", 1));
    close(p[1]);
    /* processes */
    {
        pid_t c = fork();
        if (c == 0) _exit(7);
        int status;
        CHECK("waitpid", waitpid(c, &status, 0) == c);
        printf("child exit %d exited %d\n", WEXITSTATUS(status), WIFEXITED(status));
        CHECK("waitpid none", waitpid(-1, &status, 0));
        c = fork();
        if (c == 0) { pause(); _exit(0); }
        CHECK("kill child", kill(c, SIGTERM));
        waitpid(c, &status, 0);
        printf("child signaled %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));
        CHECK("kill bad sig", kill(getpid(), 99));
        CHECK("kill missing", kill(99999, 0));
        CHECK("execve missing", execve("/nonexistent", (char *[]){"x", 0}, (char *[]){0}));
        CHECK("execve file", execve("/etc", (char *[]){"x", 0}, (char *[]){0}));
        CHECK("wnohang", waitpid(-1, &status, WNOHANG));
    }
    /* signals */
    signal(SIGUSR1, on_sig);
    CHECK("raise", raise(SIGUSR1));
    printf("handler got %d\n", got);
    {
        sigset_t s, old;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR2);
        signal(SIGUSR2, on_sig);
        got = 0;
        CHECK("sigprocmask block", sigprocmask(SIG_BLOCK, &s, &old));
        raise(SIGUSR2);
        printf("blocked got %d\n", got);
        CHECK("sigprocmask unblock", sigprocmask(SIG_SETMASK, &old, 0));
        printf("unblocked got %d\n", got);
        CHECK("sigaction kill", sigaction(SIGKILL, &(struct sigaction){.sa_handler = on_sig}, 0));
        CHECK("sigaction bad", sigaction(0, 0, 0));
    }
    /* memory */
    {
        char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK("mmap anon", m != MAP_FAILED);
        printf("mmap zero %d\n", m[100] == 0 && m[5000] == 0);
        m[0] = 5;
        CHECK("mprotect ro", mprotect(m, 4096, PROT_READ));
        CHECK("munmap", munmap(m, 8192));
        CHECK("munmap unaligned", munmap(m + 1, 10));
        CHECK("mmap len 0", (long)mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        CHECK("mmap bad fd", (long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, 77, 0));
        CHECK("mprotect unmapped", mprotect(m, 4096, PROT_READ));
        long b0 = syscall(SYS_brk, 0);
        long b1 = syscall(SYS_brk, b0 + 8192);
        printf("brk grows %d\n", b1 == b0 + 8192);
        ((volatile char *)b0)[8191] = 1;
        printf("brk shrink %d\n", syscall(SYS_brk, b0) == b0);
        printf("brk below start %d\n", syscall(SYS_brk, 4096) == b0);
    }
    /* misc */
    {
        struct utsname u;
        CHECK("uname", uname(&u));
        printf("sysname %s machine %s\n", u.sysname, u.machine);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK("nanosleep", nanosleep(&(struct timespec){0, 20000000}, 0));
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        printf("slept at least 20 ms %d\n", ms >= 20);
        CHECK("nanosleep bad", nanosleep(&(struct timespec){0, 2000000000}, 0));
        CHECK("clock bad", clock_gettime(99, &a));
        struct rlimit r;
        CHECK("getrlimit nofile", getrlimit(RLIMIT_NOFILE, &r));
        CHECK("getrandom", getentropy(buf, 16));
        CHECK("umask", umask(077));
        CHECK("umask again", umask(022));
        CHECK("unknown syscall", syscall(4000));
        CHECK("getppid > 0", getppid() >= 0);
    }
    /* threads and futexes (futex(2), clone(2)) */
    {
        CHECK("gettid of the main thread is its pid", syscall(SYS_gettid) == getpid());
        CHECK("futex wait, other value", futex(&word, FUTEX_WAIT_PRIVATE, 8, 0, 0));
        CHECK("futex wait, times out",
              futex(&word, FUTEX_WAIT_PRIVATE, 7, &(struct timespec){0, 10000000}, 0));
        CHECK("futex wait, bad timeout",
              futex(&word, FUTEX_WAIT_PRIVATE, 7, &(struct timespec){0, 2000000000}, 0));
        CHECK("futex wake, nobody waits", futex(&word, FUTEX_WAKE_PRIVATE, 1, 0, 0));
        CHECK("futex wait, unaligned",
              futex((volatile int *)((char *)&word + 1), FUTEX_WAIT_PRIVATE, 7, 0, 0));
        CHECK("futex wait, bad address", futex((volatile int *)16, FUTEX_WAIT_PRIVATE, 7, 0, 0));
        CHECK("futex wait bitset 0", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, 0, 0));
        CHECK("futex bad op", futex(&word, 99, 0, 0, 0));
        CHECK("clone thread without sighand", syscall(SYS_clone, CLONE_THREAD, 0, 0, 0, 0));
        pthread_t t;
        void *r = 0;
        CHECK("pthread_create", pthread_create(&t, 0, handoff_thread, 0));
        while (!handoff)
            futex(&handoff, FUTEX_WAIT_PRIVATE, 0, 0, 0);
        CHECK("pthread_join", pthread_join(t, &r));
        printf("thread: own tid, handoff seen %ld %d\n", (long)r, handoff);
        CHECK("futex requeue, nobody waits", futex(&fa, FUTEX_REQUEUE_PRIVATE, 0, (void *)1, 0));
        CHECK("futex cmp_requeue, other value",
              syscall(SYS_futex_time64, &fa, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &fb, 5));
        CHECK("pthread_create", pthread_create(&t, 0, requeue_thread, 0));
        long n;         /* until the thread sleeps on fa: then it is moved to fb */
        while ((n = syscall(SYS_futex_time64, &fa, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &fb, 0)) == 0)
            sched_yield();
        printf("futex cmp_requeue moved %ld\n", n);
        CHECK("futex wake on fa after the move", futex(&fa, FUTEX_WAKE_PRIVATE, 1, 0, 0));
        CHECK("futex wake on fb", futex(&fb, FUTEX_WAKE_PRIVATE, 1, 0, 0));
        CHECK("pthread_join", pthread_join(t, 0));
        printf("woken where it was moved %d\n", moved_back);
    }
    printf("done\n");
    return 0;
}
