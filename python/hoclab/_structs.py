"""_structs.py - ctypes mirrors of the C structs the module passes or reads.

Each mirror restates a struct of include/hoclab/*.h field by field, in order, with the
C field names (C enums are int). check_abi() compares every size, field offset and field size with
the compiled library's own table (hl_abi_sizeof / hl_abi_offsetof, src/io/abi.c) when
the library is loaded: a header changed without this file fails there, loudly.
"""

import ctypes
from ctypes import (POINTER, c_char, c_char_p, c_double, c_float, c_int, c_longlong,
                    c_size_t, c_uint64, c_ulong, c_void_p)

HL_TRAIN_SPEC_MAX = 512
HL_MODEL_MAX_PARAMS = 24
HL_NLGP_MAX_COEFFS = 8


class NetConfig(ctypes.Structure):          # hl_net_config (net.h)
    _fields_ = [("K", c_int), ("D", c_int), ("max_batch", c_int), ("mode", c_int),
                ("act", c_int), ("bias", c_int), ("bias_value", c_double),
                ("lr", c_double), ("std0w", c_double), ("std0v", c_double)]


class TrainConfig(ctypes.Structure):        # hl_train_config (train.h)
    _fields_ = [("plus_model", c_char * HL_TRAIN_SPEC_MAX),
                ("minus_model", c_char * HL_TRAIN_SPEC_MAX),
                ("input", c_int), ("dim", c_int), ("L", c_int), ("p", c_int),
                ("xi_plus", c_double), ("xi_minus", c_double), ("gain", c_double),
                ("convention", c_int), ("net", NetConfig), ("batch", c_int),
                ("time", c_double), ("seed", c_uint64), ("n_test", c_size_t),
                ("n_meas", c_int), ("n_snap", c_int), ("max_weight", c_double)]


class TrainResult(ctypes.Structure):        # hl_train_result (train.h)
    _fields_ = [("n_planned", c_int), ("n_meas", c_int),
                ("steps", POINTER(c_longlong)), ("t", POINTER(c_double)),
                ("test_error", POINTER(c_double)), ("test_loss", POINTER(c_double)),
                ("ipr", POINTER(c_double)), ("kurtosis", POINTER(c_double)),
                ("n_snap", c_int), ("snap_index", POINTER(c_int)),
                ("snapshots", POINTER(c_float)), ("W", POINTER(c_float)),
                ("v", POINTER(c_float)), ("b", POINTER(c_float)), ("status", c_int),
                ("stop_step", c_longlong), ("message", c_char * 256),
                ("n_clipped", c_int * 2), ("clipped_fraction", c_double * 2),
                ("marginal_kurtosis", c_double), ("wall_seconds", c_double)]


class ParamSpec(ctypes.Structure):          # hl_param_spec (data.h)
    _fields_ = [("name", c_char_p), ("type", c_int), ("def_", c_char_p),
                ("min", c_double), ("max", c_double), ("choices", c_char_p),
                ("help", c_char_p)]
    _c_names = {"def_": "def"}


class Model(ctypes.Structure):              # hl_model (data.h)
    _fields_ = [("name", c_char_p), ("summary", c_char_p), ("params", POINTER(ParamSpec)),
                ("n_params", c_int), ("create", c_void_p), ("dimension", c_void_p)]


class ParamValues(ctypes.Structure):        # hl_param_values (data.h)
    _fields_ = [("model", POINTER(Model)), ("num", c_double * HL_MODEL_MAX_PARAMS),
                ("text", c_void_p * HL_MODEL_MAX_PARAMS)]


class NlgpParams(ctypes.Structure):         # hl_nlgp_params (data.h)
    _fields_ = [("dim", c_int), ("L", c_int), ("xi", c_double), ("p", c_int),
                ("gain", c_double), ("convention", c_int), ("clone", c_int),
                ("nonlin", c_int), ("boundary", c_int), ("n_coeffs", c_int),
                ("coeffs", c_double * HL_NLGP_MAX_COEFFS)]


class Cumulant4(ctypes.Structure):          # hl_cumulant4 (theory.h)
    _fields_ = [("L", c_int), ("c2", POINTER(c_double)), ("m4", POINTER(c_double)),
                ("k4", POINTER(c_double)), ("k4_se", POINTER(c_double))]


class CpOptions(ctypes.Structure):          # hl_cp_options (theory.h)
    _fields_ = [("rank", c_int), ("restarts", c_int), ("max_iter", c_int),
                ("probe_iter", c_int), ("tol", c_double), ("screen_tol", c_double),
                ("screen_iter", c_int), ("ftol", c_double), ("shift", c_double),
                ("refine_sweeps", c_int), ("refine_iter", c_int),
                ("refine_tol", c_double), ("seed", c_uint64)]


class CpResult(ctypes.Structure):           # hl_cp_result (theory.h)
    _fields_ = [("D", c_size_t), ("rank", c_int), ("gamma", POINTER(c_double)),
                ("u", POINTER(c_double)), ("iterations", POINTER(c_int)),
                ("converged", POINTER(c_int)), ("change", POINTER(c_double)),
                ("sweeps", c_int), ("sweep_change", c_double)]


class NeuronClass(ctypes.Structure):        # hl_neuron_class (theory.h)
    _fields_ = [("cov", c_void_p), ("cov_ctx", c_void_p), ("cum3", c_void_p),
                ("cum_ctx", c_void_p)]


class NeuronRing(ctypes.Structure):         # hl_neuron_ring (theory.h)
    _fields_ = [("L", c_int), ("t", POINTER(c_double))]


class NeuronMatrix(ctypes.Structure):       # hl_neuron_matrix (theory.h)
    _fields_ = [("D", c_size_t), ("a", POINTER(c_double))]


class NeuronFlowParams(ctypes.Structure):   # hl_neuron_flow_params (theory.h)
    _fields_ = [("D", c_size_t), ("n_classes", c_int), ("classes", POINTER(NeuronClass)),
                ("alpha", c_double), ("beta", c_double), ("bias", c_double),
                ("labels", POINTER(c_double)), ("sixth", c_int), ("stepper", c_int),
                ("abs_tol", c_double), ("rel_tol", c_double), ("h0", c_double),
                ("max_norm", c_double), ("max_steps", c_ulong)]


class NeuronTraj(ctypes.Structure):         # hl_neuron_traj (theory.h)
    _fields_ = [("n_times", c_size_t), ("D", c_size_t), ("n_refs", c_size_t),
                ("n_done", c_size_t), ("n_classes", c_int), ("t", POINTER(c_double)),
                ("w", POINTER(c_double)), ("ipr", POINTER(c_double)),
                ("q", POINTER(c_double)), ("k", POINTER(c_double)),
                ("loss_gauss", POINTER(c_double)), ("loss", POINTER(c_double)),
                ("overlap", POINTER(c_double))]


# C name -> mirror, for the check.
MIRRORS = {
    "hl_net_config": NetConfig, "hl_train_config": TrainConfig,
    "hl_train_result": TrainResult, "hl_param_spec": ParamSpec, "hl_model": Model,
    "hl_param_values": ParamValues, "hl_nlgp_params": NlgpParams,
    "hl_cumulant4": Cumulant4, "hl_cp_options": CpOptions, "hl_cp_result": CpResult,
    "hl_neuron_class": NeuronClass, "hl_neuron_ring": NeuronRing,
    "hl_neuron_matrix": NeuronMatrix, "hl_neuron_flow_params": NeuronFlowParams,
    "hl_neuron_traj": NeuronTraj,
}


def abi_mismatches(lib):
    """Every difference between the mirrors and the library's layout, as text."""
    bad = []
    for cname, cls in MIRRORS.items():
        size = lib.hl_abi_sizeof(cname.encode())
        if size != ctypes.sizeof(cls):
            bad.append("sizeof(%s): library %d, module %d" % (cname, size, ctypes.sizeof(cls)))
        aliases = getattr(cls, "_c_names", {})
        for fname, _ in cls._fields_:
            c_field = aliases.get(fname, fname)
            off = lib.hl_abi_offsetof(cname.encode(), c_field.encode())
            mine = getattr(cls, fname).offset
            if off != mine:
                bad.append("offsetof(%s, %s): library %d, module %d" % (cname, c_field, off,
                                                                        mine))
            size = lib.hl_abi_field_size(cname.encode(), c_field.encode())
            mine = getattr(cls, fname).size
            if size != mine:
                bad.append("sizeof(%s.%s): library %d, module %d" % (cname, c_field, size,
                                                                     mine))
    return bad


def check_abi(lib):
    bad = abi_mismatches(lib)
    if bad:
        raise ImportError("hoclab: the Python module does not match libhoclab's structs (%s)"
                          "; rebuild the library or update python/hoclab/_structs.py"
                          % "; ".join(bad))
