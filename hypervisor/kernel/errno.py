"""Linux errno values (include/uapi/asm-generic/errno-base.h and errno.h).

A system call fails by returning -errno in a0 (syscall(2), "Linux system call convention"):
handlers raise ``SysError(ENOENT)`` or return ``-ENOENT``; kernel.py turns both into a0.
"""
EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD = range(1, 11)
EAGAIN, ENOMEM, EACCES, EFAULT, ENOTBLK, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR = range(11, 21)
EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS = range(21, 31)
EMLINK, EPIPE, EDOM, ERANGE = range(31, 35)
ENAMETOOLONG = 36
ENOSYS = 38
ENOTEMPTY = 39
ELOOP = 40
ENODATA = 61
EOVERFLOW = 75
ENOTSOCK = 88
EAFNOSUPPORT = 97
EADDRINUSE = 98
EADDRNOTAVAIL = 99
ENOTCONN = 107
ETIMEDOUT = 110
ECONNREFUSED = 111
EOPNOTSUPP = 95
ECONNRESET = 104
EISCONN = 106
EPROTONOSUPPORT = 93
EINPROGRESS = 115


class SysError(Exception):
    """A system call's failure: ``errno`` is returned to the process as -errno."""

    def __init__(self, errno, why=""):
        super().__init__(errno, why)
        self.errno = errno
        self.why = why
