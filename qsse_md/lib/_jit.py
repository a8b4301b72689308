"""Optional Numba: ``jit`` compiles with :func:`numba.njit` when Numba is importable.

Without Numba the decorator returns the function unchanged, so every kernel still
runs (slowly) as plain Python; this is the convention polyply uses for its optional
Numba dependency.
"""

try:
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is absent
    HAVE_NUMBA = False

    def jit(*args, **kwargs):
        """No-op stand-in for :func:`numba.njit` (used bare or with keywords)."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda function: function

else:
    HAVE_NUMBA = True
    jit = numba.njit

__all__ = ["HAVE_NUMBA", "jit"]
