"""theory.py - fourth cumulants, their CP decomposition and the single-neuron flow.

The three steps of the theory of localisation (include/hoclab/theory.h):
  cumulant(model)          exact (periodic erf / sign nlgp, gp) or sampled ring cumulant
                           c2 = C(0, d), k4 = dT(0, a, b, c) of any ring model
  cp(k4, rank)             symmetric CP decomposition dT ~ sum gamma_k u_k^4 (SS-HOPM);
                           the NLGP's leading factors are localised with gamma < 0
  neuron_flow(classes)     the gradient flow of one neuron driven by each class's
                           covariance and fourth cumulant (or without the cumulant:
                           gaussian=True, the Gaussian clone)
with the defaults of `hoclab theory cumulant|cp|neuron`, so results match the CLI's.
"""

import ctypes
import numbers

import numpy as np

from . import _lib
from ._lib import HL_STREAM_USER, HoclabError
from ._structs import CpOptions, CpResult, Cumulant4, NeuronClass, NeuronFlowParams, \
    NeuronMatrix, NeuronRing, NeuronTraj
from . import data as _data

_dp = ctypes.POINTER(ctypes.c_double)
MAX_RING = 128          # HL_CUMULANT4_MAX_L


def _ptr(a):
    return a.ctypes.data_as(_dp) if a is not None else None


def _f64(a, name, ndim=None):
    try:
        a = np.ascontiguousarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("%s must be an array of numbers" % name) from None
    if ndim is not None and a.ndim != ndim:
        raise ValueError("%s must have %d dimensions, not shape %s" % (name, ndim, a.shape))
    if not np.all(np.isfinite(a)):
        raise ValueError("%s has entries that are not finite" % name)
    return a


def _copy(p, n):
    return np.ctypeslib.as_array(p, shape=(n,)).copy() if n and p else np.empty(0)


def _cumulant_dict(c, exact):
    L = c.L
    n3 = L * L * L
    return {"L": L, "exact": bool(exact), "c2": _copy(c.c2, L),
            "m4": _copy(c.m4, n3).reshape(L, L, L), "k4": _copy(c.k4, n3).reshape(L, L, L),
            "k4_se": _copy(c.k4_se, n3).reshape(L, L, L)}


def cumulant(model, samples=0, seed=1, **params):
    """The ring cumulant of a data model (hl_cumulant4_model): exact for samples = 0
    (the periodic erf or sign nlgp, and gp), else estimated from `samples` >= 2 draws
    (any ring model: dim 1, periodic). Returns {L, exact, c2 (L,), m4, k4, k4_se
    (L, L, L)}: entry [a, b, c] is T(0, a, b, c), T_ijkl = t[j-i, k-i, l-i mod L]."""
    lib = _lib.get()
    if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or \
            samples < 0 or samples == 1:
        raise ValueError("samples = %r: accepted 0 (exact) or an integer >= 2" % (samples,))
    seed = _data._seed(seed)
    out = ctypes.POINTER(Cumulant4)()
    exact = ctypes.c_int()
    with _data._Parsed(_data.model_text(model, **params)) as p:
        _lib.check(lib.hl_cumulant4_model(ctypes.byref(p.values), int(samples), seed,
                                          ctypes.byref(out), ctypes.byref(exact)))
    try:
        return _cumulant_dict(out.contents, exact.value)
    finally:
        lib.hl_cumulant4_free(out)


def cumulant_estimate(X):
    """Estimate the ring cumulant of zero-mean samples X (n, L), n >= 2, 2 <= L <= 128
    (hl_cumulant4_estimate: averaged over translations, with standard errors)."""
    lib = _lib.get()
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[0] < 2 or not 2 <= X.shape[1] <= MAX_RING:
        raise ValueError("X must be (n, L) with n >= 2 and 2 <= L <= %d, not shape %s"
                         % (MAX_RING, X.shape))
    c = _lib.fail_null(lib.hl_cumulant4_alloc(X.shape[1]), "hl_cumulant4_alloc")
    try:
        _lib.check(lib.hl_cumulant4_estimate(
            X.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), X.shape[0], c))
        return _cumulant_dict(c.contents, False)
    finally:
        lib.hl_cumulant4_free(c)


def expand(t):
    """A ring tensor (L, L, L) as the dense (L, L, L, L) array T_ijkl."""
    t = _f64(t, "t", 3)
    L = t.shape[0]
    if t.shape != (L, L, L):
        raise ValueError("a ring tensor is (L, L, L), not %s" % (t.shape,))
    out = np.empty((L, L, L, L))
    _lib.get().hl_cumulant4_expand(L, _ptr(t), _ptr(out))
    return out


def log_times(t_min, t_max, n):
    """n times log-spaced from t_min to t_max (hl_neuron_log_times)."""
    out = np.empty(int(n))
    _lib.check(_lib.get().hl_neuron_log_times(float(t_min), float(t_max), int(n), _ptr(out)))
    return out


def _tensor(tensor):
    """(kind, array) of a ring cumulant dict, a ring tensor or a dense tensor."""
    if isinstance(tensor, dict):
        if "k4" not in tensor:
            raise KeyError("a cumulant dict needs the key 'k4' (from hoclab.cumulant)")
        tensor = tensor["k4"]
    t = _f64(tensor, "tensor")
    if t.ndim == 3 and t.shape[0] == t.shape[1] == t.shape[2]:
        return "ring", t
    if t.ndim == 4 and len(set(t.shape)) == 1:
        return "dense", t
    raise ValueError("tensor must be a ring tensor (L, L, L) or a dense (D, D, D, D), not "
                     "shape %s" % (t.shape,))


_CP_KEYS = ("restarts", "max_iter", "probe_iter", "tol", "screen_tol", "screen_iter",
            "ftol", "shift", "refine_sweeps", "refine_iter", "refine_tol")


def cp(tensor, rank=4, seed=1, **options):
    """Symmetric CP decomposition T ~ sum_k gamma_k u_k^4 (hl_cp_decompose) of a ring
    tensor (L, L, L) (or a cumulant dict: its k4) or of a dense (D, D, D, D) symmetric
    tensor. Options as hl_cp_options (restarts, max_iter, tol, ftol, refine_sweeps,
    ...); ring tensors get ftol = 1e-10 unless given, as `hoclab theory cp`. Returns
    {gamma (r,), u (r, D), iterations, converged, change (r,), sweeps, sweep_change,
    ipr (r,)} and for a ring also centre, width (r,) (hl_cp_ring_width), the factors
    sorted by decreasing |gamma|."""
    lib = _lib.get()
    kind, t = _tensor(tensor)
    D = t.shape[0]
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 1 <= rank:
        raise ValueError("rank = %r: must be an integer >= 1" % (rank,))
    unknown = [k for k in options if k not in _CP_KEYS]
    if unknown:
        raise KeyError("unknown CP option %s; accepted: %s" % (", ".join(unknown),
                                                               ", ".join(_CP_KEYS)))
    o = CpOptions()
    lib.hl_cp_options_default(ctypes.byref(o), int(rank))
    o.seed = _data._seed(seed)
    if kind == "ring":
        o.ftol = 1e-10   # translation-invariant tensor: see hl_cp_options
    for k, v in options.items():
        setattr(o, k, v)
    res = _lib.fail_null(lib.hl_cp_result_alloc(D, int(rank)), "hl_cp_result_alloc")
    ctx = dense = None
    try:
        if kind == "ring":
            ring = NeuronRing(D, _ptr(t))
            fn, ctx = _lib.address("hl_neuron_ring_apply"), ctypes.byref(ring)
        else:
            dense = _lib.fail_null(lib.hl_cp_dense_alloc(_ptr(t), D), "hl_cp_dense_alloc")
            fn, ctx = _lib.address("hl_cp_dense_contract3"), dense
        _lib.check(lib.hl_cp_decompose(D, fn, ctypes.cast(ctx, ctypes.c_void_p), ctypes.byref(o),
                                       res))
        r = res.contents
        u = _copy(r.u, rank * D).reshape(rank, D)
        out = {"gamma": _copy(r.gamma, rank), "u": u,
               "iterations": np.ctypeslib.as_array(r.iterations, shape=(rank,)).copy(),
               "converged": np.ctypeslib.as_array(r.converged, shape=(rank,)).astype(bool),
               "change": _copy(r.change, rank), "sweeps": r.sweeps,
               "sweep_change": r.sweep_change,
               "ipr": np.array([lib.hl_cp_ipr(_ptr(u[k]), D) for k in range(rank)])}
        if kind == "ring":
            centre, width = np.empty(rank), np.empty(rank)
            for k in range(rank):
                c, w = ctypes.c_double(), ctypes.c_double()
                _lib.check(lib.hl_cp_ring_width(_ptr(u[k]), D, ctypes.byref(c),
                                                ctypes.byref(w)))
                centre[k], width[k] = c.value, w.value
            out["centre"], out["width"] = centre, width
        return out
    finally:
        if dense:
            lib.hl_cp_dense_free(dense)
        lib.hl_cp_result_free(res)


class _Classes:
    """The hl_neuron_class array of a flow, with everything it points at kept alive
    (arrays, ring structs) and the library objects freed on exit."""

    def __init__(self, classes, gaussian):
        self.keep, self.stationary, self.dense = [], [], []
        self.D = None
        lib = _lib.get()
        self.array = (NeuronClass * len(classes))()
        try:
            for m, spec in enumerate(classes):
                self.array[m] = self._one(lib, m, spec, gaussian)
        except BaseException:
            self.close()
            raise

    def _dim(self, m, D):
        if self.D is None:
            self.D = D
        elif D != self.D:
            raise ValueError("class %d has D = %d, class 0 has D = %d: the classes must have "
                             "the same dimension" % (m, D, self.D))

    def _one(self, lib, m, spec, gaussian):
        if not isinstance(spec, dict):
            raise TypeError("class %d must be a model text or a dict with 'c2' (ring) or "
                            "'C' (matrix), and optionally 'k4', not %r" % (m, spec))
        cl = NeuronClass()
        k4 = None if gaussian else spec.get("k4")
        if "c2" in spec:
            row = _f64(spec["c2"], "class %d c2" % m, 1)
            self._dim(m, row.shape[0])
            s = _lib.fail_null(lib.hl_neuron_stationary_alloc(1, row.shape[0], 1, _ptr(row)),
                               "hl_neuron_stationary_alloc")
            self.stationary.append(s)
            self.keep.append(row)
            cl.cov, cl.cov_ctx = _lib.address("hl_neuron_stationary_apply"), s
        elif "C" in spec:
            C = _f64(spec["C"], "class %d C" % m, 2)
            if C.shape[0] != C.shape[1]:
                raise ValueError("class %d C must be square, not %s" % (m, C.shape))
            self._dim(m, C.shape[0])
            mat = NeuronMatrix(C.shape[0], _ptr(C))
            self.keep += [C, mat]
            cl.cov, cl.cov_ctx = _lib.address("hl_neuron_matrix_apply"), \
                ctypes.cast(ctypes.byref(mat), ctypes.c_void_p)
        else:
            raise KeyError("class %d: a dict needs 'c2' (a ring covariance row) or 'C' (a "
                           "covariance matrix)" % m)
        if k4 is not None:
            kind, t = _tensor(k4)
            if t.shape[0] != self.D:
                raise ValueError("class %d: k4 has dimension %d, the covariance %d"
                                 % (m, t.shape[0], self.D))
            self.keep.append(t)
            if kind == "ring":
                ring = NeuronRing(self.D, _ptr(t))
                self.keep.append(ring)
                cl.cum3, cl.cum_ctx = _lib.address("hl_neuron_ring_apply"), \
                    ctypes.cast(ctypes.byref(ring), ctypes.c_void_p)
            else:
                d = _lib.fail_null(lib.hl_cp_dense_alloc(_ptr(t), self.D), "hl_cp_dense_alloc")
                self.dense.append(d)
                cl.cum3, cl.cum_ctx = _lib.address("hl_cp_dense_contract3"), d
        return cl

    def close(self):
        lib = _lib.get()
        for s in self.stationary:
            lib.hl_neuron_stationary_free(s)
        for d in self.dense:
            lib.hl_cp_dense_free(d)
        self.stationary, self.dense = [], []


def initial_weight(D, seed=1, scale=0.1):
    """The start `hoclab theory neuron` uses: w_i ~ N(0, scale^2 / D) from stream
    (seed, HL_STREAM_USER + 11)."""
    lib = _lib.get()
    r = _lib.fail_null(lib.hl_rng_alloc(_data._seed(seed), HL_STREAM_USER + 11), "hl_rng_alloc")
    try:
        return np.array([lib.hl_rng_gaussian(r, scale / np.sqrt(D)) for _ in range(int(D))])
    finally:
        lib.hl_rng_free(r)


def neuron_flow(classes, times=None, w0=None, bias=0.0, gaussian=False, refs=None,
                labels=None, sixth="closed", samples=0, seed=1, w0_scale=0.1,
                alpha=None, beta=None, rel_tol=1e-8, abs_tol=1e-12, max_norm=None,
                stepper="rk8pd"):
    """Integrate the single-neuron gradient flow dw/dt = -grad L of
    sigma(w.x + bias), sigma(z) = alpha z - (beta/3) z^3, on equiprobable classes
    (hl_neuron_flow). Each class is a model text (its cumulant(model, samples, seed)),
    a cumulant dict {c2, k4} or a dict {C (D, D), k4 ring or dense or None}.
    gaussian=True drops every k4 (the Gaussian clones). labels: y per class (default
    +1, -1). times: default 0 and 39 log-spaced times in [1e-3, 1]; w0: default
    initial_weight(D, seed, w0_scale). refs (r, D), e.g. cp(...)["u"], gives the
    overlaps |w.u| / (|w| |u|). Returns {t, w (n, D), ipr, loss, loss_gauss (n,),
    q, k (n, M), overlap (n, r) or None, n_done, status ("ok" | "diverged"), message};
    rows after a blow-up are NaN."""
    lib = _lib.get()
    if isinstance(classes, (str, dict)) or not classes:
        raise TypeError("classes must be a non-empty list (one entry per class)")
    classes = [cumulant(c, samples=samples, seed=seed + m) if isinstance(c, str) else c
               for m, c in enumerate(classes)]
    if sixth not in ("closed", "none"):
        raise ValueError("sixth = %r: accepted 'closed', 'none'" % (sixth,))
    if stepper not in ("rk8pd", "rkf45"):
        raise ValueError("stepper = %r: accepted 'rk8pd', 'rkf45'" % (stepper,))
    cls = _Classes(classes, gaussian)
    try:
        D, M = cls.D, len(classes)
        if times is None:
            times = np.concatenate([[0.0], log_times(1e-3, 1.0, 39)])
        times = _f64(times, "times", 1)
        w0 = initial_weight(D, seed, w0_scale) if w0 is None else _f64(w0, "w0", 1)
        if w0.shape[0] != D:
            raise ValueError("w0 has %d values, the classes D = %d" % (w0.shape[0], D))
        lab = None
        if labels is not None:
            lab = _f64(labels, "labels", 1)
            if lab.shape[0] != M:
                raise ValueError("labels has %d values for %d classes" % (lab.shape[0], M))
        R = None
        if refs is not None:
            R = _f64(refs, "refs", 2)
            if R.shape[1] != D:
                raise ValueError("refs must be (r, %d), not %s" % (D, R.shape))
        p = NeuronFlowParams()
        lib.hl_neuron_flow_defaults(ctypes.byref(p))
        p.D, p.n_classes, p.classes = D, M, cls.array
        p.bias = float(bias)
        p.labels = _ptr(lab)
        p.sixth = 0 if sixth == "closed" else 1
        p.stepper = 0 if stepper == "rk8pd" else 1
        p.rel_tol, p.abs_tol = float(rel_tol), float(abs_tol)
        if alpha is not None:
            p.alpha = float(alpha)
        if beta is not None:
            p.beta = float(beta)
        if max_norm is not None:
            p.max_norm = float(max_norm)
        tr = ctypes.POINTER(NeuronTraj)()
        nr = 0 if R is None else R.shape[0]
        rc = lib.hl_neuron_flow(ctypes.byref(p), _ptr(w0), _ptr(times), times.shape[0],
                                _ptr(R), nr, ctypes.byref(tr))
        message = _lib.error_message() if rc else "ok"
        if rc not in (_lib.HL_OK, _lib.HL_EDIVERGED) or not tr:
            _lib.check(rc if rc else _lib.HL_ENUMERIC)
    finally:
        cls.close()
    try:
        t = tr.contents
        n, done = int(t.n_times), int(t.n_done)
        out = {"t": _copy(t.t, n), "w": _copy(t.w, n * D).reshape(n, D),
               "ipr": _copy(t.ipr, n), "loss": _copy(t.loss, n),
               "loss_gauss": _copy(t.loss_gauss, n), "q": _copy(t.q, n * M).reshape(n, M),
               "k": _copy(t.k, n * M).reshape(n, M),
               "overlap": _copy(t.overlap, n * nr).reshape(n, nr) if nr else None,
               "n_done": done, "status": "ok" if rc == _lib.HL_OK else "diverged",
               "message": message}
        for key in ("w", "ipr", "loss", "loss_gauss", "q", "k", "overlap"):
            if out[key] is not None:
                out[key][done:] = np.nan
        return out
    finally:
        lib.hl_neuron_traj_free(tr)
