"""numba, loaded for the hart: the compiled-code cache and one measured start-up saving.

The first time numba compiles or loads any function it imports its NumPy support, which asks
whether SciPy's BLAS is there (for np.dot in jitted code) by importing scipy.linalg.cython_blas:
0.2-0.4 s of a ~0.9 s start when SciPy is installed.  No jitted code in hvlab uses BLAS, so that
question is answered "no" here, once, before numba asks it; SciPy stays importable as usual
afterwards.  Only numba's own np.dot/np.linalg inside jitted code lose BLAS in this process.
"""
import sys

_PROBE = "scipy.linalg.cython_blas"

if "numba.np.arraymath" not in sys.modules and _PROBE not in sys.modules:
    sys.modules[_PROBE] = None          # an import of it now fails at once: "no BLAS"
    try:
        import numba.np.arraymath  # noqa: F401  (numba's NumPy support, checked for BLAS now)
    finally:
        del sys.modules[_PROBE]

from numba import njit  # noqa: E402

__all__ = ["njit"]


def compiled_on_disk(dispatcher):
    """Whether numba's on-disk cache holds compiled code for ``dispatcher`` (a function made by
    njit(cache=True)) that is fresh for its source file: False means its first call compiles
    (seconds for the hart), True that it loads (a fraction of a second).  It reads the cache's
    index the way numba does (numba's version, then the source file's stamp); None when it
    cannot tell (no cache, or a numba whose cache is laid out otherwise)."""
    index = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if index is None or not hasattr(index, "_load_index"):
        return None
    try:
        return bool(index._load_index())
    except Exception:  # a damaged index: numba would recompile, and so say we  # noqa: BLE001
        return False
