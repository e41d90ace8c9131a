#!/usr/bin/python3
"""torch_ref.py -- the PyTorch references of bench/run: online-SGD steps/s at batch size 1,
sampling included, for the same network and data as bench_train.c.

Reads configurations "key dim L K xi_plus xi_minus gain" (from `bench_train --configs`)
on stdin; prints "authors.KEY steps/s" and "best.KEY steps/s" lines on stdout. Like
bench_train, each number is the best of several timed windows (the machine has slow
spells): 2 s windows for the authors' loop, one 10,000-sample chunk for the other.

authors: the authors' training loop. Every step draws one sample by a dense multivariate
  normal (numpy's multivariate_normal, which factorises the D x D covariance on each
  call; the covariance is rebuilt each call as their generator does), x = erf(g z/sqrt 2)/Z,
  then the two-layer erf network phi = v . erf((W x/sqrt D + b)/sqrt 2) through autograd,
  quadratic loss, torch.optim.SGD with lr 0.05 (v with lr/D: mode 2layer).
best: the Cholesky factor of each class's covariance computed once; 10,000 samples drawn
  at once by one matmul on all cores; then the SGD steps with a hand-written backward in a
  TorchScript loop on one thread. On the 2-core development machine (K = 8) that loop ran
  67k steps/s against 31k for the same steps in eager Python and 11k with autograd, and
  one thread beat two (25k against 10k steps/s at K = 100)."""
import math
import os
import sys
import time
import warnings

import numpy as np
import torch

sys.dont_write_bytecode = True  # importing refutil leaves no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # refutil.py, next to this
from refutil import Z, call_rate, covariance, read_configs  # noqa: E402

LR = 0.05


def authors(dim, L, K, xis, g, windows=3, seconds=2.0, min_steps=8, n_test=20000):
    D = L**dim
    # Their loop first draws a held-out test set (not timed here). It matters beyond
    # realism: after its large arrays glibc stops returning the per-step workspaces of
    # multivariate_normal to the system, which makes each step 2-3x faster.
    test_set = [np.random.multivariate_normal(np.zeros(D), covariance(L, dim, xi), n_test // 2)
                for xi in xis]
    W = torch.nn.Parameter(0.1 * torch.randn(K, D))
    b = torch.nn.Parameter(torch.tensor([(-1.0) ** k for k in range(K)]))
    v = torch.nn.Parameter(torch.randn(K))
    opt = torch.optim.SGD([{"params": [W, b]}, {"params": [v], "lr": LR / D}], lr=LR)

    def step():
        label = np.random.randint(2)
        z = np.random.multivariate_normal(np.zeros(D), covariance(L, dim, xis[label]))
        x = torch.erf(torch.from_numpy(g * z / math.sqrt(2))).float() / Z(g)
        y = 1.0 if label == 0 else -1.0
        phi = v @ torch.erf((W @ x / math.sqrt(D) + b) / math.sqrt(2))
        loss = 0.5 * (phi - y) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up
    rates = [call_rate(step, seconds, min_steps) for _ in range(windows)]
    del test_set
    return max(rates)


@torch.jit.script
def sgd_chunk(W, b, v, X, Y, order, lr: float, lr_v: float, inv_sqrt_D: float):
    """Online SGD over the rows of X in the given order, in place; backward written out."""
    for i in range(order.shape[0]):
        s = int(order[i])
        x = X[s]
        h = torch.addmv(b, W, x, alpha=inv_sqrt_D)
        a = torch.erf(h * 0.7071067811865476)
        e = float(torch.dot(v, a)) - float(Y[s])
        dh = v * torch.exp(-0.5 * h * h) * (e * 0.7978845608028654)  # sqrt(2/pi) e^{-h^2/2}
        v.add_(a, alpha=-lr_v * e)
        b.add_(dh, alpha=-lr)
        W.addr_(dh, x, alpha=-lr * inv_sqrt_D)


def best(dim, L, K, xis, g, seconds=3.0, chunk=10000):
    D, cores = L**dim, len(os.sched_getaffinity(0))
    roots = []
    for xi in xis:
        C = torch.from_numpy(covariance(L, dim, xi))
        jitter = 1e-6  # the smooth kernel is numerically singular: the smallest jitter that factorises
        while True:
            R, info = torch.linalg.cholesky_ex(C + jitter * torch.eye(D, dtype=C.dtype))
            if info == 0:
                break
            jitter *= 10
        roots.append(R.float().T.contiguous())
    a, inv_Z = g / math.sqrt(2), 1 / Z(g)
    W, v = 0.1 * torch.randn(K, D), torch.randn(K)
    b = torch.tensor([(-1.0) ** k for k in range(K)])
    # Buffers reused by every draw: fresh 16 MB tensors would cost page faults each time.
    G, X, Y = torch.empty(chunk, D), torch.empty(chunk, D), torch.empty(chunk)

    def draw():
        """chunk labelled samples: class +1 in the first rows, a random order to visit them."""
        torch.set_num_threads(cores)
        n_plus = int(torch.randint(0, 2, (chunk,)).sum())
        torch.randn(chunk, D, out=G)
        torch.mm(G[:n_plus], roots[0], out=X[:n_plus])
        torch.mm(G[n_plus:], roots[1], out=X[n_plus:])
        X.mul_(a).erf_().mul_(inv_Z)
        Y[:n_plus], Y[n_plus:] = 1.0, -1.0
        order = torch.randperm(chunk)
        torch.set_num_threads(1)
        return order

    args = (LR, LR / D, 1 / math.sqrt(D))
    sgd_chunk(W, b, v, X, Y, draw()[:100], *args)  # compile and warm up
    rates, start = [], time.perf_counter()
    while len(rates) < 3 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        sgd_chunk(W, b, v, X, Y, draw(), *args)
        rates.append(chunk / (time.perf_counter() - t0))
    return max(rates)


def main():
    warnings.simplefilter("ignore")  # numpy: the covariance is only semi-definite numerically
    torch.manual_seed(1)
    np.random.seed(1)
    types = (int, int, int, float, float, float)
    for key, dim, L, K, xi_p, xi_m, g in read_configs(sys.stdin, types):
        args = (dim, L, K, (xi_p, xi_m), g)
        for name, fn in (("authors", authors), ("best", best)):
            print(f"{name}.{key} {fn(*args):.6g}", flush=True)
            print(f"torch_ref: {name}.{key} done", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
