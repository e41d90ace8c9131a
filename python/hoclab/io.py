"""io.py - hoclab's HDF5 result files read into NumPy (h5py).

load() reads any file the library writes (`hoclab train`, `sample`, `stats`,
`theory ...`, `reproduce`, a sweep's points and index.h5) into nested dicts: a Group
is a dict of its members (datasets as NumPy arrays, subgroups as Groups) with the HDF5
attributes in `.attrs` (strings decoded, scalars as Python numbers). load_train()
gives each run of a training file in the layout train() returns.
"""

import os

import numpy as np

try:
    import h5py
except ImportError as e:   # the rest of the module works without it
    h5py = None
    _H5PY_ERROR = e


def _need_h5py():
    if h5py is None:
        raise ImportError("hoclab.load needs h5py (Debian: apt-get install python3-h5py): %s"
                          % _H5PY_ERROR)


class Group(dict):
    """A dict of an HDF5 group's members, with its attributes in .attrs."""

    def __init__(self, *args, attrs=None, **kw):
        super().__init__(*args, **kw)
        self.attrs = attrs if attrs is not None else {}

    def __repr__(self):
        return "Group(%s, attrs=%s)" % (dict.__repr__(self), self.attrs)


def _value(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        if v.dtype.kind in ("S", "O"):
            return [_value(x) for x in v.tolist()]
        return v
    if isinstance(v, np.generic):
        return v.item()
    return v


def _attrs(obj):
    return {k: _value(obj.attrs[k]) for k in obj.attrs}


def _read(g):
    out = Group(attrs=_attrs(g))
    for name, obj in g.items():
        if isinstance(obj, h5py.Group):
            out[name] = _read(obj)
        else:
            a = obj[()]
            if isinstance(a, (bytes, np.ndarray)) and getattr(a, "dtype", None) is not None \
                    and a.dtype.kind in ("S", "O"):
                a = _value(a)
            elif isinstance(a, bytes):
                a = a.decode("utf-8", "replace")
            out[name] = a
    return out


def load(path):
    """The whole file as nested Groups (dicts with .attrs). Raises FileNotFoundError
    for a missing file and OSError for one that is not HDF5."""
    _need_h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("hoclab.load: no such file: %r" % path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise OSError("hoclab.load: %r is not a readable HDF5 file (%s)" % (path, e)) from None
    with f:
        return _read(f)


# the configuration keys of a training run (hoclab.train.KEYS, in the file's names)
def _train_keys():
    from .train import KEYS
    return KEYS


_RESULT_ATTRS = ("status", "message", "stop_step", "wall_seconds", "marginal_kurtosis",
                 "n_clipped_plus", "n_clipped_minus", "clipped_fraction_plus",
                 "clipped_fraction_minus")


def _run(g):
    a = g.attrs
    K = int(a["K"])
    shape = (K, int(a["L"])) if int(a["dim"]) == 1 else (K, int(a["L"]), int(a["L"]))
    cfg = {k: a[k] for k in _train_keys() if k in a}
    run = {"config": cfg}
    empty = {"t": np.empty(0), "steps": np.empty(0, np.int64),
             "test_error": np.empty(0), "test_loss": np.empty(0),
             "ipr": np.empty((0, K)), "kurtosis": np.empty((0, K)),
             "snapshot_t": np.empty(0),
             "snapshots": np.empty((0,) + shape, np.float32)}
    for k, e in empty.items():
        run[k] = g.get(k, e)
    fin = g.get("final", Group())
    for k in ("W", "v", "b"):
        run[k] = fin.get(k)
    for k in _RESULT_ATTRS:
        run[k] = a.get(k)
    return run


def load_train(path):
    """A training file (`hoclab train`, a sweep point, hl_h5_write_train) as a dict
    {run name ("nlgp", "gp" or "task"): run}, each run a dict with the keys train()
    returns: config (the complete config dict), t, steps, test_error, test_loss, ipr,
    kurtosis, snapshots, snapshot_t, W, v, b, status, message, ... Raises ValueError
    for a file that is not a training result."""
    f = load(path)
    if f.attrs.get("kind") != "train":
        raise ValueError("hoclab.load_train: %r is not a training result (kind = %r; "
                         "use hoclab.load for other files)" % (os.fspath(path),
                                                               f.attrs.get("kind")))
    return {name: _run(g) for name, g in f.items() if isinstance(g, Group)}
