"""_lib.py - find and load libhoclab, declare the C functions, turn codes into errors.

The library is loaded on first use (not at import), so `import hoclab` works and
`help(hoclab)` reads even where the library is missing; the first call that needs it
raises an OSError naming every place that was tried.

Where the library comes from, first match wins:
  1. the environment variable HOCLAB_LIBRARY (a path to libhoclab.so*);
  2. a build tree next to the package, when the package sits in a source checkout
     (python/hoclab inside a folder holding CMakeLists.txt and include/hoclab/):
     build/libhoclab.so, then the alphabetically first build*/libhoclab.so;
  3. an installed layout PREFIX/lib/python3/dist-packages/hoclab:
     PREFIX/lib/libhoclab.so.0.1, then PREFIX/lib/<multiarch>/libhoclab.so.0.1;
  4. the dynamic loader's search path: ctypes.util.find_library("hoclab"), then
     "libhoclab.so.0.1" and "libhoclab.so" by name.
Nothing global is changed on load: no environment variable, no thread count.
"""

import ctypes
import ctypes.util
import glob
import os
import sysconfig
import threading

SONAME = "libhoclab.so.0.1"

# Status codes (include/hoclab/error.h).
HL_OK = 0
HL_EINVAL = -1
HL_ENOMEM = -2
HL_EIO = -3
HL_EDIVERGED = -4
HL_ENUMERIC = -5
HL_EFORMAT = -6
HL_EINTERRUPTED = -7

# Random stream ids (include/hoclab/rng.h).
HL_STREAM_INIT = 1
HL_STREAM_TRAIN = 2
HL_STREAM_TEST = 3
HL_STREAM_USER = 1000


class HoclabError(Exception):
    """A libhoclab call failed. `code` is the library's status (HL_EINVAL, ...),
    `status` its short name ("invalid argument", ...), `message` the library's own
    explanation (hl_error_message()), which also is the exception's text."""

    def __init__(self, code, message, status=None):
        self.code = int(code)
        self.message = message
        self.status = status or "error %d" % code
        super().__init__(message or self.status)


_lock = threading.Lock()
_lib = None
_path = None


def _package_dir():
    return os.path.dirname(os.path.abspath(__file__))


def candidates():
    """The library paths tried, in order (see the module's docstring)."""
    out = []
    env = os.environ.get("HOCLAB_LIBRARY")
    if env:
        return [env]
    pkg = _package_dir()
    root = os.path.dirname(os.path.dirname(pkg))
    if (os.path.isfile(os.path.join(root, "CMakeLists.txt"))
            and os.path.isdir(os.path.join(root, "include", "hoclab"))):
        out.append(os.path.join(root, "build", "libhoclab.so"))
        out += sorted(glob.glob(os.path.join(root, "build*", "libhoclab.so")))
    libdir = os.path.dirname(os.path.dirname(os.path.dirname(pkg)))
    if os.path.basename(os.path.dirname(pkg)) in ("dist-packages", "site-packages"):
        out.append(os.path.join(libdir, SONAME))
        arch = sysconfig.get_config_var("MULTIARCH")
        if arch:
            out.append(os.path.join(libdir, arch, SONAME))
    found = ctypes.util.find_library("hoclab")
    if found:
        out.append(found)
    out += [SONAME, "libhoclab.so"]
    seen, unique = set(), []
    for c in out:
        if c not in seen:
            seen.add(c)
            unique.append(c)
    return unique


def _open():
    tried = []
    env = os.environ.get("HOCLAB_LIBRARY")
    for c in candidates():
        if os.sep in c and not os.path.exists(c):
            tried.append("%s (missing)" % c)
            continue
        try:
            return ctypes.CDLL(c), c
        except OSError as e:
            tried.append("%s (%s)" % (c, e))
            if env:
                break
    raise OSError("hoclab: cannot load libhoclab; tried: " + "; ".join(tried) +
                  ". Build it (cmake --build build) or set HOCLAB_LIBRARY to its path.")


def get():
    """The loaded library (ctypes.CDLL), declared and checked; loads it once."""
    global _lib, _path
    if _lib is None:
        with _lock:
            if _lib is None:
                lib, path = _open()
                _declare(lib)
                from . import _structs
                _structs.check_abi(lib)
                _path = path
                _lib = lib
    return _lib


def library_path():
    """Path (or name) the library was loaded from."""
    get()
    return _path


def error_message():
    return get().hl_error_message().decode("utf-8", "replace")


def check(rc):
    """Raise HoclabError for a non-zero status, with the library's message."""
    if rc != HL_OK:
        lib = get()
        raise HoclabError(rc, lib.hl_error_message().decode("utf-8", "replace"),
                          lib.hl_status_name(rc).decode())
    return rc


def fail_null(ptr, what):
    """Raise HoclabError if an allocating call returned NULL."""
    if not ptr:
        raise HoclabError(HL_EINVAL, error_message() or ("%s failed" % what),
                          "invalid argument")
    return ptr


def address(name):
    """The address of a library function, for the callbacks C calls C with."""
    return ctypes.cast(getattr(get(), name), ctypes.c_void_p).value


# ---- declarations ------------------------------------------------------------------

def _declare(lib):
    from . import _structs as S
    c_int, c_double, c_size_t, c_void_p, c_char_p = (
        ctypes.c_int, ctypes.c_double, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_char_p)
    P = ctypes.POINTER
    dp, fp, ip = P(c_double), P(ctypes.c_float), P(c_int)
    u64 = ctypes.c_uint64
    table = {
        "hl_error_message": (c_char_p, []),
        "hl_status_name": (c_char_p, [c_int]),
        "hl_abi_sizeof": (c_size_t, [c_char_p]),
        "hl_abi_offsetof": (ctypes.c_long, [c_char_p, c_char_p]),
        "hl_abi_field_size": (ctypes.c_long, [c_char_p, c_char_p]),
        # rng.h
        "hl_rng_alloc": (c_void_p, [u64, u64]),
        "hl_rng_free": (None, [c_void_p]),
        "hl_rng_gaussian": (c_double, [c_void_p, c_double]),
        # data.h
        "hl_model_at": (P(S.Model), [c_int]),
        "hl_model_find": (P(S.Model), [c_char_p]),
        "hl_model_parse": (c_int, [P(S.Model), c_char_p, P(S.ParamValues)]),
        "hl_param_values_clear": (None, [P(S.ParamValues)]),
        "hl_model_param_index": (c_int, [P(S.Model), c_char_p]),
        "hl_param_int": (c_int, [P(S.ParamValues), c_char_p]),
        "hl_model_spec": (c_int, [P(S.ParamValues), c_char_p, c_size_t]),
        "hl_model_create": (c_void_p, [c_char_p, c_char_p]),
        "hl_model_new": (c_void_p, [c_char_p]),
        "hl_model_dim": (c_int, [c_char_p, P(c_size_t)]),
        "hl_sampler_sample": (c_int, [c_void_p, c_size_t, fp, c_void_p]),
        "hl_sampler_dim": (c_size_t, [c_void_p]),
        "hl_sampler_free": (None, [c_void_p]),
        "hl_sampler_clipping": (None, [c_void_p, ip, dp]),
        "hl_sampler_name": (c_char_p, [c_void_p]),
        "hl_task_alloc": (c_void_p, [c_void_p, c_void_p]),
        "hl_task_free": (None, [c_void_p]),
        "hl_task_dim": (c_size_t, [c_void_p]),
        "hl_task_sample": (c_int, [c_void_p, c_size_t, fp, fp, c_void_p]),
        "hl_mixture_fit": (c_int, [fp, ip, c_size_t, c_size_t, c_int, c_int, P(c_void_p)]),
        "hl_mixture_save": (c_int, [c_void_p, c_char_p]),
        "hl_mixture_free": (None, [c_void_p]),
        "hl_nlgp_params_from": (c_int, [P(S.ParamValues), P(S.NlgpParams)]),
        "hl_nlgp_marginal_kurtosis": (c_int, [c_double, c_int, dp]),
        "hl_nlgp_marginal_kurtosis_of": (c_int, [P(S.NlgpParams), dp]),
        "hl_nlgp_covariance_row": (c_int, [P(S.NlgpParams), dp]),
        # net.h / train.h
        "hl_mode_parse": (c_int, [c_char_p]),
        "hl_act_parse": (c_int, [c_char_p]),
        "hl_bias_parse": (c_int, [c_char_p]),
        "hl_input_parse": (c_int, [c_char_p]),
        "hl_mode_name": (c_char_p, [c_int]),
        "hl_act_name": (c_char_p, [c_int]),
        "hl_bias_name": (c_char_p, [c_int]),
        "hl_input_name": (c_char_p, [c_int]),
        "hl_train_defaults": (S.TrainConfig, []),
        "hl_train_validate": (c_int, [P(S.TrainConfig)]),
        "hl_train_run_name": (c_char_p, [P(S.TrainConfig)]),
        "hl_train_D": (c_size_t, [P(S.TrainConfig)]),
        "hl_train_runs": (c_int, [P(S.TrainConfig), c_int, c_int, P(S.TrainResult), ip,
                                  c_void_p, c_void_p]),
        "hl_train_result_free": (None, [P(S.TrainResult)]),
        # experiment.h (the experiment held as an opaque buffer of hl_abi_sizeof bytes)
        "hl_experiment_load": (c_int, [c_char_p, c_void_p]),
        "hl_experiment_free": (None, [c_void_p]),
        "hl_experiment_n_points": (ctypes.c_long, [c_void_p]),
        "hl_experiment_point": (c_int, [c_void_p, ctypes.c_long, c_void_p, c_char_p, c_size_t]),
        "hl_experiment_point_path": (c_int, [c_void_p, ctypes.c_long, c_char_p, c_size_t]),
        "hl_sweep_point_done": (c_int, [c_void_p, ctypes.c_long]),
        "hl_sweep_run_all": (c_int, [c_void_p, c_int, c_char_p, c_void_p, c_void_p]),
        "hl_sweep_index_write": (c_int, [c_void_p, c_char_p, c_void_p, c_void_p]),
        "hl_sweep_index_path": (c_int, [c_void_p, c_char_p, c_size_t]),
        # theory.h
        "hl_cumulant4_alloc": (P(S.Cumulant4), [c_int]),
        "hl_cumulant4_free": (None, [P(S.Cumulant4)]),
        "hl_cumulant4_estimate": (c_int, [fp, c_size_t, P(S.Cumulant4)]),
        "hl_cumulant4_model": (c_int, [P(S.ParamValues), c_size_t, u64,
                                       P(P(S.Cumulant4)), ip]),
        "hl_cumulant4_expand": (None, [c_int, dp, dp]),
        "hl_cp_options_default": (None, [P(S.CpOptions), c_int]),
        "hl_cp_result_alloc": (P(S.CpResult), [c_size_t, c_int]),
        "hl_cp_result_free": (None, [P(S.CpResult)]),
        "hl_cp_decompose": (c_int, [c_size_t, c_void_p, c_void_p, P(S.CpOptions),
                                    P(S.CpResult)]),
        "hl_cp_dense_alloc": (c_void_p, [dp, c_size_t]),
        "hl_cp_dense_free": (None, [c_void_p]),
        "hl_cp_ipr": (c_double, [dp, c_size_t]),
        "hl_cp_ring_width": (c_int, [dp, c_size_t, dp, dp]),
        "hl_neuron_flow_defaults": (None, [P(S.NeuronFlowParams)]),
        "hl_neuron_flow": (c_int, [P(S.NeuronFlowParams), dp, dp, c_size_t, dp, c_size_t,
                                   P(P(S.NeuronTraj))]),
        "hl_neuron_traj_free": (None, [P(S.NeuronTraj)]),
        "hl_neuron_log_times": (c_int, [c_double, c_double, c_size_t, dp]),
        "hl_neuron_stationary_alloc": (c_void_p, [c_int, c_int, c_int, dp]),
        "hl_neuron_stationary_free": (None, [c_void_p]),
    }
    for name, (res, args) in table.items():
        f = getattr(lib, name)   # AttributeError names a symbol the library lacks
        f.restype = res
        f.argtypes = args
