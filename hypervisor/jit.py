"""numba, loaded for the hart: the compiled-code cache, one measured start-up saving, and what
keeps the hart's cold compile short (bench/compile.py measures it; figures in bench/README.md):
``callee`` for the functions only compiled code calls, ``as_u16``/``as_u32`` for the views of
host memory, and ``no_rewrites=True`` on every hart function (see ``callee``).

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

from numba import njit, types  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.core.registry import CPUDispatcher  # noqa: E402
from numba.core.imputils import impl_ret_borrowed  # noqa: E402
from numba.extending import intrinsic  # noqa: E402
from numba.np.arrayobj import make_array, populate_array  # noqa: E402

__all__ = ["njit", "callee", "as_u16", "as_u32", "drop_stale"]


def callee(fn):
    """``@callee``: ``@njit(cache=True, nogil=True)`` for a function that only compiled code
    calls.  numba then builds neither of the wrappers that let Python (and C) call it: about
    30 ms less to compile per function (bench/compile.py), and the hart has some thirty of
    them.  A call from Python raises TypeError (numba would call the missing wrapper: a
    crash); the few that the monitor, the engine or the tests call keep plain @njit.
    no_rewrites: numba's rewrite passes (constant getitems and raises, array expressions)
    find nothing to do in the hart's integer code, and cost 4% of its compile."""
    disp = njit(cache=True, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True,
                no_rewrites=True)(fn)
    disp.__class__ = _Callee
    return disp


class _Callee(CPUDispatcher):
    """A dispatcher that compiled code calls as usual (through its type), Python not at all."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is compiled "
                        "for compiled callers only (jit.callee): call it from an @njit function")


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


def drop_stale(modules):
    """Empty the on-disk cache of every compiled function of ``modules`` when any of their
    source files changed since the cache was written.

    numba's cache checks a function against its *own* source file only, but a compiled
    function holds its callees' code too: after an edit of icache.py alone, cpu._run loaded
    from the cache still runs the old icache.slot_for (the "cache=True misses edits to an
    imported jitted helper" trap).  So the hart keeps one stamp beside its cache, a sha256 of
    all its source files and numba's version; when it differs, every index is emptied and the
    next call compiles afresh.  Costs a hash of ~250 KB at import."""
    import hashlib
    from pathlib import Path
    import numba
    from numba.core.dispatcher import Dispatcher
    disps = [v for m in modules for v in vars(m).values()
             if isinstance(v, Dispatcher) and getattr(v, "_cache", None) is not None
             and hasattr(v._cache, "_cache_path")]
    if not disps:
        return False
    h = hashlib.sha256(numba.__version__.encode())
    for m in sorted(modules, key=lambda m: m.__name__):
        h.update(m.__name__.encode() + b"\0" + Path(m.__file__).read_bytes())
    stamp = Path(disps[0]._cache._cache_path) / "hvlab-hart.sha256"
    try:
        if stamp.read_text() == h.hexdigest():
            return False
    except OSError:
        pass                                # no stamp yet: a first run, or an older hvlab
    for d in disps:
        try:
            d._cache.flush()
        except OSError:                     # an unwritable cache: numba recompiles anyway
            pass
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(h.hexdigest())
    except OSError:
        pass
    return True


def _reinterpret(itemsize, dtype):
    """An intrinsic that views a C-contiguous 1-D uint8 array as ``dtype`` (the trailing bytes
    that do not fill an item are left out), sharing its memory: what ``ram.view(np.uint32)``
    does for the hart's whole-page host memory, but emitted in place.  numba's own
    ``ndarray.view`` is an @overload with its dtype and layout checks, compiled as five
    functions of its own for the hart's two views: ~0.4 s of every cold compile."""
    out = types.Array(dtype, 1, "C")

    def typer(typingctx, arr):
        if not (isinstance(arr, types.Array) and arr.dtype == types.uint8 and arr.ndim == 1
                and arr.layout == "C"):
            return None
        def codegen(context, builder, sig, args):
            src = make_array(arr)(context, builder, args[0])
            dst = make_array(out)(context, builder)
            size = context.get_constant(types.intp, itemsize)
            count = builder.udiv(src.nitems, size)
            populate_array(dst, data=builder.bitcast(src.data, dst.data.type),
                           shape=cgutils.pack_array(builder, [count]),
                           strides=cgutils.pack_array(builder, [size]), itemsize=size,
                           meminfo=src.meminfo, parent=src.parent)
            return impl_ret_borrowed(context, builder, out, dst._getvalue())
        return out(arr), codegen

    typer.__name__ = f"as_u{itemsize * 8}"
    return intrinsic(typer)


as_u16 = _reinterpret(2, types.uint16)
as_u32 = _reinterpret(4, types.uint32)

