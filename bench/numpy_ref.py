#!/usr/bin/python3
"""numpy_ref.py -- the NumPy/SciPy references of bench/run_sample: NLGP samples/s drawn
the way the authors' code draws them, and the best plain NumPy way.

Reads configurations "key dim L xi gain" (from `bench_sample --configs`) on stdin and
prints "kind.KEY samples/s" lines on stdout; bench_sample reads them back. The thread
count is fixed before NumPy loads (--threads N sets OPENBLAS/OMP/MKL_NUM_THREADS), so
that both sides of a comparison use the same number of cores. The latent covariance is
exp(-(d/xi)^2) of the periodic distance (the Kronecker square on the torus) and
x = erf(g z / sqrt 2) / Z, Z^2 = (2/pi) asin(g^2 / (1 + g^2)): the authors' convention.

authors.KEY  one sample per call of numpy.random.multivariate_normal(0, C) with the dense
  D x D covariance (it factorises C by SVD on every call), then the erf. C itself is
  built once, not on every call as the authors' generator does: a faster reference,
  so the ratio is conservative. Timed in a child process that is stopped after --cap
  seconds (default 10): at D = 4096 one call takes about 35 s on one core, so a call
  still running at the cap is reported as the bound authors_bound.KEY (the rate is
  below it) instead of a rate.
best1.KEY, best1000.KEY  the best NumPy way: the Cholesky factor of C (float64, with
  the smallest jitter that factorises the numerically singular smooth kernel) computed
  once and kept in float32; each call draws a (n x D) block of float32 normals with
  NumPy's Generator (ziggurat), multiplies it by L^T (one BLAS call) and applies
  scipy.special.erf in place, all into buffers allocated once; n = 1 and n = 1000.
  The best of several windows, interleaved (the machine has slow spells).

--only best1000 times only that kind, and --prefix all. puts "all." before every key
and a line "all.threads N": bench/run_sample uses both for its all-cores rows."""
import argparse
import math
import os
import sys
import time

sys.dont_write_bytecode = True  # importing refutil leaves no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # refutil.py, next to this


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (default 1)")
    ap.add_argument("--cap", type=float, default=10.0,
                    help="seconds at most for each dense per-call reference (default 10)")
    ap.add_argument("--only", choices=["authors", "best1", "best1000"], action="append",
                    help="time only these kinds (repeatable; default: all)")
    ap.add_argument("--prefix", default="", help="kind name prefix for the printed keys")
    return ap.parse_args()


args = parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)  # read by the BLAS when NumPy loads it: set first

import multiprocessing as mp  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import erf  # noqa: E402

from refutil import Z, call_rate, covariance, read_configs  # noqa: E402

WINDOWS = 3


def authors_child(conn, C, a, inv_Z):
    """Draw forever, one sample per call, sending each call's duration to the parent."""
    mean = np.zeros(C.shape[0])
    conn.send(("start", time.perf_counter()))
    while True:
        t0 = time.perf_counter()
        z = np.random.multivariate_normal(mean, C)
        x = erf(a * z) * inv_Z  # noqa: F841 -- the authors' transform, timed with the draw
        conn.send(("call", time.perf_counter() - t0))


def authors(C, a, inv_Z, cap, window=1.0, min_calls=3):
    """(rate, None) from up to WINDOWS windows of >= window s after one warm-up call, or
    (None, bound) when the first call is still running at the cap: rate < bound."""
    recv, send = mp.Pipe(duplex=False)
    child = mp.Process(target=authors_child, args=(send, C, a, inv_Z), daemon=True)
    start = time.perf_counter()
    child.start()
    send.close()
    t_first, calls, rates, n, t = None, [], [], 0, 0.0
    deadline = start + cap
    while len(rates) < WINDOWS:
        left = deadline - time.perf_counter()
        if left <= 0 or not recv.poll(left):
            break
        kind, value = recv.recv()
        if kind == "start":
            t_first = value
            continue
        calls.append(value)
        if len(calls) == 1:
            continue  # warm-up: first-touch of the work arrays
        n, t = n + 1, t + value
        if n >= min_calls and t >= window:
            rates.append(n / t)
            n, t = 0, 0.0
    now = time.perf_counter()
    child.terminate()
    child.join()
    if rates:
        return max(rates), None
    if len(calls) >= 2:
        return (len(calls) - 1) / sum(calls[1:]), None
    if calls:
        return 1 / calls[0], None
    return None, 1 / (now - (t_first if t_first is not None else start))


def cholesky_T(C):
    """L^T in float32, L L^T = C + jitter I with the smallest jitter that factorises."""
    jitter = 1e-6
    while True:
        try:
            R = np.linalg.cholesky(C + jitter * np.eye(C.shape[0]))
            return np.ascontiguousarray(R.T, dtype=np.float32)
        except np.linalg.LinAlgError:
            jitter *= 10


class Best:
    """The best NumPy way at batch size n: buffers allocated once, a factor computed once."""

    def __init__(self, LT, n, a, inv_Z, seed):
        D = LT.shape[0]
        self.LT, self.a, self.inv_Z = LT, np.float32(a), np.float32(inv_Z)
        self.rng = np.random.default_rng(seed)
        self.G = np.empty((n, D), dtype=np.float32)
        self.X = np.empty((n, D), dtype=np.float32)
        self.n = n

    def draw(self):
        self.rng.standard_normal(out=self.G, dtype=np.float32)
        np.matmul(self.G, self.LT, out=self.X)
        self.X *= self.a
        erf(self.X, out=self.X)
        self.X *= self.inv_Z

    def window(self, seconds, min_calls=3):
        """Samples/s over one window of at least `seconds` and `min_calls` calls."""
        return self.n * call_rate(self.draw, seconds, min_calls)


def main():
    warnings.simplefilter("ignore")  # numpy: the covariance is only semi-definite numerically
    np.random.seed(1)
    kinds = args.only or ["authors", "best1", "best1000"]
    configs = list(read_configs(sys.stdin, (int, int, float, float)))

    def out(kind, key, value):
        print(f"{args.prefix}{kind}.{key} {value:.6g}", flush=True)
        print(f"numpy_ref: {args.prefix}{kind}.{key} done", file=sys.stderr, flush=True)

    best = []  # (kind, key, Best) timed below, interleaved
    for key, dim, L, xi, g in configs:
        C = covariance(L, dim, xi)
        a, inv_Z = g / math.sqrt(2), 1 / Z(g)
        if "authors" in kinds:
            rate, bound = authors(C, a, inv_Z, args.cap)
            if rate is not None:
                out("authors", key, rate)
            else:
                out("authors_bound", key, bound)
        if "best1" in kinds or "best1000" in kinds:
            LT = cholesky_T(C)
            for n in (1, 1000):
                if f"best{n}" in kinds:
                    best.append((f"best{n}", key, Best(LT, n, a, inv_Z, seed=n)))
        del C
    print(f"{args.prefix}threads {args.threads}", flush=True)
    rates = {}
    for s in best:
        s[2].draw()  # warm-up
    for _ in range(WINDOWS):
        for kind, key, s in best:
            r = s.window(0.5)  # >= 3 calls: 1.2 s at D = 4096, n = 1000 (3e10 flops a call)
            rates[(kind, key)] = max(rates.get((kind, key), 0), r)
    for kind, key, _ in best:
        out(kind, key, rates[(kind, key)])


if __name__ == "__main__":
    main()
