"""hoclab - Python access to libhoclab: sample its data models, train two-layer
networks, run the theory of localisation, read result files. See python/README.md.

    import hoclab
    x, x_clone = hoclab.sample_with_clone("nlgp:L=64,xi=2,gain=3", 1000)
    run = hoclab.train(L=64, K=8, time=200, gain=3)        # dict of NumPy arrays
    c = hoclab.cumulant("nlgp:L=32,xi=2,gain=3")           # exact fourth cumulant
    f = hoclab.cp(c, rank=4)                               # gamma < 0: localised
    files = hoclab.load("hoclab_train.h5")                 # any result file

Library errors raise HoclabError carrying the library's message; the library is found
through HOCLAB_LIBRARY, a build tree beside the package, or the system's loader path
(hoclab.library_path() says which).
"""

from ._lib import (HL_EDIVERGED, HL_EFORMAT, HL_EINTERRUPTED, HL_EINVAL, HL_EIO, HL_ENOMEM,
                   HL_ENUMERIC, HL_OK, HL_STREAM_INIT, HL_STREAM_TEST, HL_STREAM_TRAIN,
                   HL_STREAM_USER, HoclabError, library_path)
from .data import (clone_of, covariance_row, dimension, image_shape, marginal_kurtosis,
                   model_names, model_text, models, resolve, sample, sample_task,
                   sample_with_clone, fit_mixture)
from .train import config, defaults, train, train_many
from .theory import (cp, cumulant, cumulant_estimate, expand, initial_weight, log_times,
                     neuron_flow)
from .io import Group, load, load_train
from .sweep import sweep, sweep_points

__version__ = "0.1.0"

__all__ = [
    "HoclabError", "library_path", "models", "model_names", "model_text", "resolve",
    "clone_of", "image_shape", "dimension", "sample", "sample_with_clone", "sample_task",
    "marginal_kurtosis", "covariance_row", "fit_mixture", "config", "defaults", "train", "train_many",
    "cumulant", "cumulant_estimate", "expand", "cp", "log_times", "initial_weight",
    "neuron_flow", "load", "load_train", "Group", "sweep", "sweep_points",
]
