"""refutil.py -- what the reference scripts of bench/ (numpy_ref.py, torch_ref.py) share:
the authors' data (covariance and erf normalisation), the configuration lines that
bench_train/bench_sample --configs print, and a timed window.

Imports NumPy: a script that must fix the BLAS thread count first (numpy_ref.py) imports
this module only after setting it."""
import math
import time

import numpy as np


def covariance(L, dim, xi):
    """exp(-(d/xi)^2) of the periodic distance; the Kronecker square on the torus."""
    i = np.arange(L)
    d = np.abs(i[:, None] - i[None, :])
    C = np.exp(-(np.minimum(d, L - d) / xi) ** 2)
    return np.kron(C, C) if dim == 2 else C


def Z(g):
    """Normalisation of erf(g z/sqrt 2) in the authors' convention: <x^2> = 1."""
    return math.sqrt(2 / math.pi * math.asin(g * g / (1 + g * g)))


def read_configs(lines, types):
    """(key, value, ...) for each non-blank line "key v1 v2 ...", value i converted by
    types[i]; one at a time, as the lines come."""
    for line in lines:
        if line.strip():
            key, *values = line.split()
            if len(values) != len(types):
                raise ValueError(f"configuration line {line.strip()!r}: expected "
                                 f"{len(types) + 1} fields")
            yield (key, *(t(v) for t, v in zip(types, values)))


def call_rate(call, seconds, min_calls):
    """Calls/s of call() over one window of at least `seconds` and `min_calls` calls."""
    k, t0 = 0, time.perf_counter()
    while k < min_calls or time.perf_counter() - t0 < seconds:
        call()
        k += 1
    return k / (time.perf_counter() - t0)
