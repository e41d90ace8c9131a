"""train.py - online-SGD experiments (hl_train_runs) from Python.

A configuration is a plain dict whose keys are the attribute names of a training file
(`hoclab train` writes them on each run's group; README "Output format"):

    plus_model, minus_model   "" (the NLGP task) or two model texts "name:key=value,..."
    input                     "nlgp" or "gp" (the NLGP task's inputs, or their clone)
    dim, L, kernel_p          ring (1) or torus (2), sites per side, kernel exponent
    xi_plus, xi_minus, gain, gain_convention ("seeds" | "authors")
    K, model ("2layer" | "mf" | "lazy"), activation ("erf" | "relu" | "tanh" | "linear"
    | "cubic"), bias ("none" | "trainable" | "fixed"), bias_value, lr, std0w, std0v
    batch_size, time, seed, n_test, n_meas, n_snap, max_weight

so config(), a file's run (load_train(path)["nlgp"]["config"]) and train() all speak
the same language, and train(**load_train(path)["nlgp"]["config"]) repeats a run.
The result of train() has the keys load_train() gives a run read from a file.
"""

import ctypes
import math
import numbers

import numpy as np

from . import _lib
from ._lib import HoclabError
from ._structs import HL_TRAIN_SPEC_MAX, TrainConfig, TrainResult
from . import data as _data

_CONVENTIONS = ("seeds", "authors")

# key -> (path in hl_train_config, kind); kinds: int, real, u64, size, text, or an enum
# given by its (parse, name) library functions.
_FIELDS = {
    "plus_model": ("plus_model", "text"),
    "minus_model": ("minus_model", "text"),
    "input": ("input", ("hl_input_parse", "hl_input_name", "nlgp, gp")),
    "dim": ("dim", "int"),
    "L": ("L", "int"),
    "kernel_p": ("p", "int"),
    "xi_plus": ("xi_plus", "real"),
    "xi_minus": ("xi_minus", "real"),
    "gain": ("gain", "real"),
    "gain_convention": ("convention", "convention"),
    "K": ("net.K", "int"),
    "model": ("net.mode", ("hl_mode_parse", "hl_mode_name", "2layer, mf, lazy")),
    "activation": ("net.act", ("hl_act_parse", "hl_act_name",
                               "erf, relu, tanh, linear, cubic")),
    "bias": ("net.bias", ("hl_bias_parse", "hl_bias_name", "none, trainable, fixed")),
    "bias_value": ("net.bias_value", "real"),
    "lr": ("net.lr", "real"),
    "std0w": ("net.std0w", "real"),
    "std0v": ("net.std0v", "real"),
    "batch_size": ("batch", "int"),
    "time": ("time", "real"),
    "seed": ("seed", "u64"),
    "n_test": ("n_test", "size"),
    "n_meas": ("n_meas", "int"),
    "n_snap": ("n_snap", "int"),
    "max_weight": ("max_weight", "real"),
}

KEYS = tuple(_FIELDS)


def _get(c, path):
    for part in path.split("."):
        c = getattr(c, part)
    return c


def _set(c, path, value):
    parts = path.split(".")
    for part in parts[:-1]:
        c = getattr(c, part)
    setattr(c, parts[-1], value)


def _to_dict(c):
    lib = _lib.get()
    out = {}
    for key, (path, kind) in _FIELDS.items():
        v = _get(c, path)
        if kind == "text":
            v = v.decode()
        elif kind == "convention":
            v = _CONVENTIONS[v] if 0 <= v < 2 else v
        elif isinstance(kind, tuple):
            v = getattr(lib, kind[1])(v).decode()
        out[key] = v
    return out


def _integer(key, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        if isinstance(v, numbers.Real) and float(v).is_integer():
            v = int(v)   # 3.0 from a file or a grid
        else:
            raise TypeError("config %s = %r: must be an integer" % (key, v))
    if not lo <= v <= hi:
        raise ValueError("config %s = %d: accepted %d..%d" % (key, v, lo, hi))
    return int(v)


def _from_value(c, key, value):
    lib = _lib.get()
    path, kind = _FIELDS[key]
    if kind == "text":
        if not isinstance(value, str):
            raise TypeError("config %s must be a string (a model text), not %r" % (key, value))
        b = value.encode()
        if len(b) >= HL_TRAIN_SPEC_MAX:
            raise ValueError("config %s: %d bytes; at most %d" % (key, len(b),
                                                                 HL_TRAIN_SPEC_MAX - 1))
        v = b
    elif kind == "int":
        v = _integer(key, value, -2 ** 31, 2 ** 31 - 1)
    elif kind == "u64":
        v = _integer(key, value, 0, 2 ** 64 - 1)
    elif kind == "size":
        v = _integer(key, value, 0, 2 ** 63 - 1)
    elif kind == "real":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError("config %s = %r: must be a number" % (key, value))
        v = float(value)
        if not math.isfinite(v):
            raise ValueError("config %s = %r: must be finite" % (key, value))
    elif kind == "convention":
        if value in _CONVENTIONS:
            v = _CONVENTIONS.index(value)
        elif value in (0, 1) and not isinstance(value, bool):
            v = int(value)
        else:
            raise ValueError("config gain_convention = %r: accepted seeds, authors" % (value,))
    else:
        parse, name, accepted = kind
        if isinstance(value, str):
            v = getattr(lib, parse)(value.encode())
            if v < 0:
                raise ValueError("config %s = %r: accepted %s" % (key, value, accepted))
        else:
            v = _integer(key, value, 0, len(accepted.split(", ")) - 1)
    _set(c, path, v)


def _check_keys(d):
    unknown = [k for k in d if k not in _FIELDS]
    if unknown:
        raise KeyError("unknown config key%s %s; accepted: %s"
                       % ("s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)),
                          ", ".join(KEYS)))


def defaults():
    """The library's default experiment (hl_train_defaults) as a config dict."""
    return _to_dict(_lib.get().hl_train_defaults())


def _build(cfg):
    """A validated hl_train_config from a dict (missing keys: the defaults)."""
    lib = _lib.get()
    _check_keys(cfg)
    c = lib.hl_train_defaults()
    for key, value in cfg.items():
        _from_value(c, key, value)
    if bool(c.plus_model) != bool(c.minus_model):
        raise ValueError("config: %s is empty: a model task needs plus_model and minus_model"
                         % ("minus_model" if c.plus_model else "plus_model"))
    if c.plus_model:
        # as `hoclab train --plus/--minus`: the RF images take the plus model's shape
        c.dim, c.L = _data.image_shape(c.plus_model.decode())
    _lib.check(lib.hl_train_validate(ctypes.byref(c)))
    return c


def config(base=None, **overrides):
    """A complete, validated config dict: the defaults, then `base` (a dict such as a
    file's run config), then the keyword overrides. Raises KeyError for an unknown
    key, TypeError/ValueError for a value of the wrong kind, HoclabError (the library's
    message naming the field and its range) for a value out of range."""
    d = dict(base or {})
    d.update(overrides)
    return _to_dict(_build(d))


def _array(ptr, n, dtype):
    if n <= 0 or not ptr:
        return np.empty(0, dtype=dtype)
    return np.ctypeslib.as_array(ptr, shape=(n,)).astype(dtype, copy=True)


def _weights_shape(c, lead):
    K, L = c.net.K, c.L
    return tuple(lead) + ((K, L) if c.dim == 1 else (K, L, L))


def _result(c, r):
    """Copy an hl_train_result out of C memory into a dict of arrays."""
    K = c.net.K
    D = L = c.L
    if c.dim == 2:
        D = L * L
    n, ns = r.n_meas, max(r.n_snap, 0)
    t = _array(r.t, n, np.float64)
    snap_index = _array(r.snap_index, ns, np.int64)
    out = {
        "config": _to_dict(c),
        "t": t,
        "steps": _array(r.steps, n, np.int64),
        "test_error": _array(r.test_error, n, np.float64),
        "test_loss": _array(r.test_loss, n, np.float64),
        "ipr": _array(r.ipr, n * K, np.float64).reshape(n, K),
        "kurtosis": _array(r.kurtosis, n * K, np.float64).reshape(n, K),
        "snapshot_t": t[snap_index] if ns else np.empty(0),
        "snapshots": _array(r.snapshots, ns * K * D, np.float32).reshape(
            _weights_shape(c, (ns,))),
        "W": _array(r.W, K * D, np.float32).reshape(_weights_shape(c, ())),
        "v": _array(r.v, K, np.float32),
        "b": _array(r.b, K, np.float32),
        "status": "ok" if r.status == _lib.HL_OK else "diverged",
        "message": r.message.decode("utf-8", "replace"),
        "stop_step": int(r.stop_step),
        "wall_seconds": float(r.wall_seconds),
        "marginal_kurtosis": float(r.marginal_kurtosis),
        "n_clipped_plus": int(r.n_clipped[0]),
        "n_clipped_minus": int(r.n_clipped[1]),
        "clipped_fraction_plus": float(r.clipped_fraction[0]),
        "clipped_fraction_minus": float(r.clipped_fraction[1]),
    }
    return out


_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong,
                             ctypes.c_longlong, ctypes.c_double, ctypes.c_double)


def train_many(configs, threads=0, progress=None):
    """Run several experiments at once (hl_train_runs: runs in parallel on up to
    `threads` threads, 0 = all cores; the numbers do not depend on it) and return a
    list of result dicts (see train). progress(run, step, total, test_error, mean_ipr)
    is called from the worker threads after each measurement and every few thousand
    steps; it must be quick and thread safe."""
    if isinstance(configs, dict):
        raise TypeError("train_many takes a list of config dicts; use train() for one")
    configs = list(configs)
    if not configs:
        raise ValueError("train_many: no configs given")
    threads = _integer("threads", threads, 0, 4096)
    lib = _lib.get()
    n = len(configs)
    cfg = (TrainConfig * n)()
    for i, d in enumerate(configs):
        if not isinstance(d, dict):
            raise TypeError("config %d is a %s, not a dict" % (i, type(d).__name__))
        cfg[i] = _build(d)
    res = (TrainResult * n)()
    status = (ctypes.c_int * n)()
    cb = None
    if progress is not None:
        if not callable(progress):
            raise TypeError("progress must be callable(run, step, total, test_error, "
                            "mean_ipr)")

        def _cb(user, run, step, total, err, ipr):
            progress(run, step, total, err, ipr)
        cb = _PROGRESS(_cb)
    rc = lib.hl_train_runs(cfg, n, threads, res, status,
                           ctypes.cast(cb, ctypes.c_void_p) if cb else None, None)
    try:
        _lib.check(rc)
        return [_result(cfg[i], res[i]) for i in range(n)]
    finally:
        for i in range(n):
            lib.hl_train_result_free(ctypes.byref(res[i]))


def train(base=None, threads=0, progress=None, **overrides):
    """Train one network (the config from base and keyword overrides, as config())
    and return a dict of NumPy arrays and values:

        config                 the complete config dict
        t, steps               measurement times t = steps / D (n,)
        test_error, test_loss  (n,)
        ipr, kurtosis          (n, K): IPR of each receptive field, excess kurtosis of
                               each preactivation
        snapshots, snapshot_t  first-layer weights (s, K, L) or (s, K, L, L) and times
        W, v, b                final weights (K, L) or (K, L, L), (K,), (K,)
        status, message        "ok" or "diverged" (a diverged run keeps what it measured)
        stop_step, wall_seconds, marginal_kurtosis, n_clipped_plus/minus,
        clipped_fraction_plus/minus

    The same numbers as `hoclab train` with the same settings, bit for bit. threads:
    sampling threads (0 = all cores; the numbers do not depend on it)."""
    d = dict(base or {})
    d.update(overrides)
    return train_many([d], threads=threads, progress=progress)[0]
