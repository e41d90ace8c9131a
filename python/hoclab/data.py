"""data.py - the data models of libhoclab's registry, sampled into NumPy arrays.

A model is named as on the command line, "name" or "name:key=value,...", and keyword
arguments add parameters: sample("nlgp", 1000, L=64, xi=2) is sample("nlgp:L=64,xi=2",
1000). Every draw comes from the library's random stream (seed, HL_STREAM_USER +
stream), so sample(m, n, seed=s) and its clone are exactly the sets `hoclab sample
--model NAME --params SPEC --n n --seed s` writes.
"""

import ctypes
import math
import numbers

import numpy as np

from . import _lib
from ._lib import HL_STREAM_USER, HoclabError
from ._structs import NlgpParams, ParamValues

_TYPES = ("int", "real", "choice", "text")


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else None


def _value_text(key, v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        if not math.isfinite(v):
            raise ValueError("model parameter %s = %r: must be finite" % (key, v))
        return repr(float(v))
    if isinstance(v, str):
        if "," in v or "=" in v:
            raise ValueError("model parameter %s = %r: a value cannot contain ',' or '='"
                             % (key, v))
        return v
    if isinstance(v, (list, tuple)):   # lists such as coeffs=(1, 0.5) -> "1:0.5"
        return ":".join(_value_text(key, x) for x in v)
    raise TypeError("model parameter %s: %s is not a number or a string"
                    % (key, type(v).__name__))


def model_text(model, **params):
    """The library's "name:key=value,..." text of a model and extra parameters."""
    if not isinstance(model, str) or not model:
        raise TypeError("model must be a non-empty string such as 'nlgp' or "
                        "'nlgp:L=64,xi=2', not %r" % (model,))
    extra = ",".join("%s=%s" % (k, _value_text(k, v)) for k, v in params.items())
    if not extra:
        return model
    return model + ("," if ":" in model and not model.endswith(":") else
                    "" if model.endswith(":") else ":") + extra


def _split(text):
    name, _, spec = text.partition(":")
    return name, spec


def _find(name):
    m = _lib.get().hl_model_find(name.encode())
    if not m:
        # hl_model_create of an unknown name sets the message listing the models
        lib = _lib.get()
        lib.hl_sampler_free(lib.hl_model_create(name.encode(), b""))
        raise HoclabError(_lib.HL_EINVAL, _lib.error_message(), "invalid argument")
    return m


class _Parsed:
    """hl_model_parse in a with-block: the parsed values, cleared on exit."""

    def __init__(self, text):
        self.text = text
        self.name, self.spec = _split(text)

    def __enter__(self):
        lib = _lib.get()
        self.model = _find(self.name)
        self.values = ParamValues()
        _lib.check(lib.hl_model_parse(self.model, self.spec.encode(),
                                      ctypes.byref(self.values)))
        return self

    def __exit__(self, *exc):
        _lib.get().hl_param_values_clear(ctypes.byref(self.values))
        return False

    def has(self, key):
        return _lib.get().hl_model_param_index(self.model, key.encode()) >= 0

    def int(self, key):
        return _lib.get().hl_param_int(ctypes.byref(self.values), key.encode())

    def resolved(self):
        buf = ctypes.create_string_buffer(8192)
        _lib.check(_lib.get().hl_model_spec(ctypes.byref(self.values), buf, len(buf)))
        return buf.value.decode()


def models():
    """Every registered model: a list of dicts {name, summary, params}, each parameter
    a dict {name, type ('int', 'real', 'choice', 'text'), default, min, max, choices,
    help}."""
    lib = _lib.get()
    out, i = [], 0
    while True:
        m = lib.hl_model_at(i)
        if not m:
            return out
        m = m.contents
        params = []
        for j in range(m.n_params):
            p = m.params[j]
            kind = _TYPES[p.type] if 0 <= p.type < len(_TYPES) else str(p.type)
            params.append({"name": _text(p.name), "type": kind, "default": _text(p.def_),
                           "min": p.min if kind in ("int", "real") else None,
                           "max": p.max if kind in ("int", "real") else None,
                           "choices": _text(p.choices).split("|") if p.choices else None,
                           "help": _text(p.help)})
        out.append({"name": _text(m.name), "summary": _text(m.summary), "params": params})
        i += 1


def model_names():
    """The registered models' names, in the registry's order."""
    return [m["name"] for m in models()]


def resolve(model, **params):
    """The model's whole resolved text "name:key=value,..." (every parameter, defaults
    included); raises HoclabError naming a bad key or value."""
    with _Parsed(model_text(model, **params)) as p:
        return "%s:%s" % (p.name, p.resolved())


def clone_of(model, **params):
    """The text of the Gaussian clone of a model (the same covariance), as `hoclab
    sample` draws it: "gp" for "nlgp", clone=1 for models with a `clone` parameter;
    None if the model has no clone in the library (or already is one)."""
    text = model_text(model, **params)
    name, spec = _split(text)
    with _Parsed(text) as p:
        if name == "nlgp":
            return "gp" + (":" + spec if spec else "")
        if not p.has("clone") or "clone=" in spec:
            return None
    return name + ":" + (spec + "," if spec else "") + "clone=1"


def image_shape(model, **params):
    """(dim, L) of a model's samples as images, as the CLI decides it: the model's
    `dim` parameter if it has one, else a square D = L^2 is an L x L image, else a
    line of D sites."""
    text = model_text(model, **params)
    D = dimension(text)
    with _Parsed(text) as p:
        if p.has("dim"):
            dim = p.int("dim")
            return dim, D if dim == 1 else int(round(math.sqrt(D)))
    side = int(round(math.sqrt(D)))
    if side * side == D and side > 1:
        return 2, side
    return 1, D


def dimension(model, **params):
    """Input dimension D of a model without drawing."""
    D = ctypes.c_size_t()
    _lib.check(_lib.get().hl_model_dim(model_text(model, **params).encode(), ctypes.byref(D)))
    return D.value


def _count(n, what="n"):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError("%s must be an integer, not %r" % (what, n))
    if n < 1:
        raise ValueError("%s = %d: must be >= 1" % (what, n))
    return int(n)


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError("seed must be an integer, not %r" % (seed,))
    if not 0 <= seed < 2 ** 64:
        raise ValueError("seed = %d: accepted 0..2^64-1" % seed)
    return int(seed)


class _Rng:
    def __init__(self, seed, stream):
        self.seed, self.stream = _seed(seed), stream

    def __enter__(self):
        self.r = _lib.fail_null(_lib.get().hl_rng_alloc(self.seed, self.stream), "hl_rng_alloc")
        return self.r

    def __exit__(self, *exc):
        _lib.get().hl_rng_free(self.r)
        return False


def _fptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


def sample(model, n, seed=1, stream=0, flat=False, **params):
    """n samples of a model as a float32 array: (n, L) for a ring, (n, L, L) for a
    torus, (n, D) for a model that is no image (flat=True: always (n, D)). Drawn from
    random stream (seed, HL_STREAM_USER + stream): stream 0 is `hoclab sample`'s first
    set, stream 1 its clone's."""
    lib = _lib.get()
    text = model_text(model, **params)
    n = _count(n)
    if isinstance(stream, bool) or not isinstance(stream, numbers.Integral) or stream < 0:
        raise ValueError("stream must be an integer >= 0, not %r" % (stream,))
    name, spec = _split(text)
    _find(name)
    s = _lib.fail_null(lib.hl_model_create(name.encode(), spec.encode()), "model " + text)
    try:
        D = lib.hl_sampler_dim(s)
        x = np.empty((n, D), dtype=np.float32)
        with _Rng(seed, HL_STREAM_USER + int(stream)) as r:
            _lib.check(lib.hl_sampler_sample(s, n, _fptr(x), r))
    finally:
        lib.hl_sampler_free(s)
    if flat:
        return x
    dim, L = image_shape(text)
    return x.reshape((n, L, L)) if dim == 2 and L * L == D else x


def sample_with_clone(model, n, seed=1, flat=False, **params):
    """The model's samples and its Gaussian clone's (None if it has none): exactly the
    two sets of `hoclab sample --model NAME --params SPEC --n n --seed seed`."""
    text = model_text(model, **params)
    x = sample(text, n, seed=seed, stream=0, flat=flat)
    c = clone_of(text)
    return x, (sample(c, n, seed=seed, stream=1, flat=flat) if c else None)


def sample_task(plus, minus, n, seed=1, stream=2):
    """n labelled samples of the binary task "plus against minus" (hl_task_sample:
    each label +1 or -1 with probability 1/2, then each class in one batch): X
    float32 (n, D) and y float32 (n,) of +-1, from stream (seed, HL_STREAM_USER +
    stream)."""
    lib = _lib.get()
    n = _count(n)
    sp = [model_text(plus), model_text(minus)]
    smp = []
    try:
        for text in sp:
            name, spec = _split(text)
            _find(name)
            smp.append(_lib.fail_null(lib.hl_model_create(name.encode(), spec.encode()),
                                      "model " + text))
        if lib.hl_sampler_dim(smp[0]) != lib.hl_sampler_dim(smp[1]):
            raise ValueError("plus (%s) has D = %d but minus (%s) has D = %d: the classes "
                             "must have the same dimension"
                             % (sp[0], lib.hl_sampler_dim(smp[0]), sp[1],
                                lib.hl_sampler_dim(smp[1])))
        task = lib.hl_task_alloc(smp[0], smp[1])
        smp = []   # the task owns (and frees) them, even when allocation failed
        task = _lib.fail_null(task, "hl_task_alloc")
    finally:
        for s in smp:
            lib.hl_sampler_free(s)
    try:
        D = lib.hl_task_dim(task)
        X = np.empty((n, D), dtype=np.float32)
        y = np.empty(n, dtype=np.float32)
        with _Rng(seed, HL_STREAM_USER + int(stream)) as r:
            _lib.check(lib.hl_task_sample(task, n, _fptr(X), _fptr(y), r))
    finally:
        lib.hl_task_free(task)
    return X, y


def _nlgp_params(model, **params):
    with _Parsed(model_text(model, **params)) as p:
        if p.name not in ("nlgp", "gp"):
            raise ValueError("%s: only the models nlgp and gp have an exact marginal and "
                             "covariance here" % p.name)
        out = NlgpParams()
        _lib.check(_lib.get().hl_nlgp_params_from(ctypes.byref(p.values), ctypes.byref(out)))
        return out


def marginal_kurtosis(model, **params):
    """Exact excess kurtosis <x^4> - 3 of one site of an nlgp model (any non-linearity;
    0 for gp, the clone). The variance is 1 by construction."""
    p = _nlgp_params(model, **params)
    k = ctypes.c_double()
    _lib.check(_lib.get().hl_nlgp_marginal_kurtosis_of(ctypes.byref(p), ctypes.byref(k)))
    return k.value


def covariance_row(model, **params):
    """Exact covariance <x_0 x_j> of an nlgp or gp model for every site j: (L,) on a
    ring, (L, L) on a torus."""
    p = _nlgp_params(model, **params)
    D = p.L if p.dim == 1 else p.L * p.L
    row = np.empty(D, dtype=np.float64)
    _lib.check(_lib.get().hl_nlgp_covariance_row(
        ctypes.byref(p), row.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
    return row if p.dim == 1 else row.reshape(p.L, p.L)


def fit_mixture(X, path, labels=None, isotropic=False):
    """Fit the class-wise Gaussian clone of a labelled dataset (hl_mixture_fit: class c
    is N(m_c, C_c) with its empirical mean and covariance; isotropic: N(m_c, v_c I))
    and save it to `path` (HDF5, hl_mixture_save). X (n, D) or images (n, L, L);
    labels: n integers 0..K-1 (None: one class). Sample it with
    sample("mixture:path=" + path, n). Returns path."""
    lib = _lib.get()
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError("X must be (n, D) or (n, L, L), not shape %s" % (X.shape,))
    X = np.ascontiguousarray(X.reshape(X.shape[0], -1), dtype=np.float32)
    n, D = X.shape
    if not np.all(np.isfinite(X)):
        raise ValueError("X has entries that are not finite")
    lab, K = None, 1
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape != (n,) or lab.dtype.kind not in "iu":
            raise ValueError("labels must be n = %d integers, not %s of %s" % (n, lab.shape,
                                                                              lab.dtype))
        if n and (lab.min() < 0):
            raise ValueError("labels must be >= 0")
        K = int(lab.max()) + 1
        lab = np.ascontiguousarray(lab, dtype=np.intc)
    path = str(path)
    if "," in path or "=" in path:
        raise ValueError("path %r: a model text cannot hold ',' or '='; choose another" % path)
    m = ctypes.c_void_p()
    _lib.check(lib.hl_mixture_fit(_fptr(X), lab.ctypes.data_as(ctypes.POINTER(ctypes.c_int))
                                  if lab is not None else None, n, D, K, int(bool(isotropic)),
                                  ctypes.byref(m)))
    try:
        _lib.check(lib.hl_mixture_save(m, path.encode()))
    finally:
        lib.hl_mixture_free(m)
    return path
