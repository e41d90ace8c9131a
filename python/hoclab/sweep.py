"""Sweeps from Python: run an experiment file (YAML; README, "Sweeps") on this machine
and read its index. The same point files and index as `hoclab sweep FILE`, so a sweep
started on the command line (or under mpirun) can be finished or read from here."""

import ctypes
import os

from . import _lib
from .io import load


def _experiment(path):
    lib = _lib.get()
    buf = ctypes.create_string_buffer(lib.hl_abi_sizeof(b"hl_experiment"))
    _lib.check(lib.hl_experiment_load(os.fsencode(os.fspath(path)), buf))
    return lib, buf


def sweep_points(path):
    """The points of an experiment file as a list of (name, file, finished) without
    running anything (like `hoclab sweep FILE --dry-run`)."""
    lib, e = _experiment(path)
    try:
        out = []
        name = ctypes.create_string_buffer(4096)
        file = ctypes.create_string_buffer(1100)
        for i in range(lib.hl_experiment_n_points(e)):
            cfg = ctypes.create_string_buffer(lib.hl_abi_sizeof(b"hl_train_config"))
            _lib.check(lib.hl_experiment_point(e, i, cfg, name, len(name)))
            _lib.check(lib.hl_experiment_point_path(e, i, file, len(file)))
            done = lib.hl_sweep_point_done(e, i)
            if done < 0:
                _lib.check(done)
            out.append((name.value.decode(), file.value.decode(), bool(done)))
        return out
    finally:
        lib.hl_experiment_free(e)


def sweep(path, workers=0):
    """Run every unfinished point of the experiment file at `path`, `workers` at a time
    (0: all cores), write the index OUTPUT/index.h5 and return it as load() reads it.
    Finished points are read back, never recomputed."""
    if not isinstance(workers, int) or workers < 0:
        raise ValueError("hoclab.sweep: workers must be an integer >= 0 (0: all cores), "
                         "got %r" % (workers,))
    lib, e = _experiment(path)
    try:
        cmd = b"python: hoclab.sweep(%s)" % os.fsencode(os.fspath(path))
        _lib.check(lib.hl_sweep_run_all(e, workers, cmd, None, None))
        _lib.check(lib.hl_sweep_index_write(e, cmd, None, None))
        index = ctypes.create_string_buffer(1100)
        _lib.check(lib.hl_sweep_index_path(e, index, len(index)))
    finally:
        lib.hl_experiment_free(e)
    return load(os.fsdecode(index.value))
