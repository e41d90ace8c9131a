#!/usr/bin/python3
"""quickstart.py - hoclab from Python in a few seconds: sample the NLGP and its
Gaussian clone, train a small network on each, decompose the exact fourth cumulant.

    PYTHONPATH=python /usr/bin/python3 examples/python/quickstart.py

(from a source checkout the script finds python/ and build*/libhoclab.so by itself).
"""

import os
import sys

try:
    import hoclab
except ImportError:   # run from a source checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "python"))
    import hoclab

import numpy as np

MODEL = "nlgp:L=100,xi=2,gain=10"

# 1. data: the NLGP and its clone have the same covariance but not the same marginal
x, x_clone = hoclab.sample_with_clone(MODEL, 2000, seed=1)
print("library: %s" % hoclab.library_path())
print("samples: %s %s, clone %s" % (x.shape, x.dtype, x_clone.shape))
for name, a in (("NLGP ", x), ("clone", x_clone)):
    print("  %s  variance %.3f  excess kurtosis %+.3f" % (name, a.var(), (a ** 4).mean() - 3))
print("  exact NLGP excess kurtosis %+.3f" % hoclab.marginal_kurtosis(MODEL))

# 2. training: the same network on the NLGP task and on its Gaussian clone
# (the default task: a ring of L = 100 pixels, xi = 2 against 6, gain 10), in parallel
runs = hoclab.train_many([dict(input=inp, K=8, time=2000, n_meas=12, n_test=2000)
                          for inp in ("nlgp", "gp")], threads=2)
print("training (K = 8, D = 100, t = 2000):")
for r in runs:
    print("  %-4s test error %.3f  mean IPR %.3f  max IPR %.3f (3/D = 0.03)  %.2f s"
          % (r["config"]["input"], r["test_error"][-1], r["ipr"][-1].mean(),
             r["ipr"][-1].max(), r["wall_seconds"]))
nl, gp = runs
print("  localised receptive fields: NLGP / GP mean IPR = %.1f"
      % (nl["ipr"][-1].mean() / gp["ipr"][-1].mean()))
# plot-ready: r["t"] (n,), r["ipr"] (n, K), r["W"] (K, L), e.g. plt.semilogx(r["t"], r["ipr"])

# 3. theory: the exact fourth cumulant and its leading CP factor
c = hoclab.cumulant("nlgp:L=24,xi=2,gain=3")
f = hoclab.cp(c, rank=2)
u = f["u"][0]
print("theory (L = 24): gamma_1 = %.3f, IPR %.3f, width %.2f sites, peak at site %d"
      % (f["gamma"][0], f["ipr"][0], f["width"][0], int(np.argmax(np.abs(u)))))
