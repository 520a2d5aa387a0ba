/* hello: who am I?  The kernel's uname (as `uname -a` shows it) and this process's ids. */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
    struct utsname u;
    if (uname(&u) != 0) {
        perror("uname");
        return 1;
    }
    printf("hello from %s %s (%s) on %s, host %s\n", u.sysname, u.release, u.version,
           u.machine, u.nodename);
    printf("pid %d, parent %d, uid %d\n", (int)getpid(), (int)getppid(), (int)getuid());
    return 0;
}
