"""Host memory an array really uses: the pages of its buffer that the host backs now."""
import ctypes
import mmap


def resident_bytes(a):
    """Bytes of array ``a``'s buffer that the host backs now (mincore(2), whole pages)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    start = a.ctypes.data & ~(mmap.PAGESIZE - 1)
    length = a.ctypes.data + a.nbytes - start
    vec = ctypes.create_string_buffer((length + mmap.PAGESIZE - 1) // mmap.PAGESIZE)
    if libc.mincore(start, length, vec) != 0:
        return a.nbytes
    return sum(b & 1 for b in vec.raw) * mmap.PAGESIZE
