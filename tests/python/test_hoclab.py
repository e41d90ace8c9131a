"""test_hoclab.py - the Python module against the library, the CLI and exact values.

Run by ctest (tests/CMakeLists.txt) as
    HOCLAB_LIBRARY=build/libhoclab.so HOCLAB_CLI=build/hoclab PYTHONPATH=python \
        /usr/bin/python3 -m unittest -v tests/python/test_hoclab.py
NumPy and h5py (Debian's python3-numpy, python3-h5py) are required: without them the
test fails, it does not skip. Statistical checks use fixed seeds and tolerances of a
few standard errors computed from the sample itself.
"""

import os
import sys
import shutil
import subprocess
import tempfile
import unittest

try:
    import numpy as np
    import h5py  # noqa: F401  (the loader needs it)
except ImportError as e:  # fail loudly: a missing dependency is not a pass
    raise ImportError("the Python test needs numpy and h5py under /usr/bin/python3 "
                      "(apt-get install python3-numpy python3-h5py): %s" % e)

import hoclab
from hoclab import _lib, _structs

FMNIST = "/usr/share/datasets/fashion-mnist"
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"


def cli():
    """The hoclab executable: HOCLAB_CLI, else beside the library."""
    path = os.environ.get("HOCLAB_CLI") or os.path.join(
        os.path.dirname(os.path.abspath(hoclab.library_path())), "hoclab")
    if not os.access(path, os.X_OK):
        raise AssertionError("the hoclab CLI is needed for the comparison; not found at %s "
                             "(set HOCLAB_CLI)" % path)
    return path


def run_cli(*args, cwd):
    p = subprocess.run([cli()] + list(args), cwd=cwd, capture_output=True, text=True,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if p.returncode != 0:
        raise AssertionError("hoclab %s: exit %d\n%s" % (" ".join(args), p.returncode,
                                                        p.stderr))
    return p


class TempDir(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hoclab_py_")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)


class TestLibrary(unittest.TestCase):
    def test_struct_mirrors_match_the_library(self):
        lib = _lib.get()
        self.assertEqual(_structs.abi_mismatches(lib), [])
        for cname in _structs.MIRRORS:   # every mirror is in the C table
            self.assertGreater(lib.hl_abi_sizeof(cname.encode()), 0, cname)
        self.assertEqual(lib.hl_abi_sizeof(b"no_such_struct"), 0)
        self.assertEqual(lib.hl_abi_offsetof(b"hl_train_config", b"no_such_field"), -1)

    def test_library_location_is_explicit_and_deterministic(self):
        self.assertEqual(_lib.candidates(), [os.environ["HOCLAB_LIBRARY"]])
        saved = os.environ.pop("HOCLAB_LIBRARY")
        try:
            c = _lib.candidates()
            self.assertEqual(c, _lib.candidates())
            root = os.path.dirname(os.path.dirname(os.path.dirname(hoclab.__file__)))
            self.assertEqual(c[0], os.path.join(root, "build", "libhoclab.so"))
            self.assertIn(_lib.SONAME, c)
        finally:
            os.environ["HOCLAB_LIBRARY"] = saved


class TestData(TempDir):
    # every registered model, small; the test fails when a model is added without a row
    SMALL = {"nlgp": dict(L=16, gain=3), "gp": dict(L=16), "ising": dict(L=16),
             "phi4": dict(L=16, burnin=20, clone_n=200), "norta": dict(L=16),
             "elliptical": dict(L=16), "spiked": dict(d=16), "wishart": dict(d=16),
             "fmnist": dict(split="test", classes="0"),
             "patches": dict(size=8, images="camera.png"), "mixture": None}

    def test_every_model_and_its_clone_sample(self):
        self.assertEqual(set(hoclab.model_names()), set(self.SMALL))
        rng = np.random.default_rng(1)
        mix = hoclab.fit_mixture(rng.normal(size=(300, 5)), self.path("mix.h5"),
                                 labels=rng.integers(0, 3, 300))
        for name, params in self.SMALL.items():
            if name == "fmnist" and not os.path.isdir(FMNIST) or \
                    name == "patches" and not os.path.isdir(SKIMAGE):
                continue
            params = params if params is not None else dict(path=mix)
            with self.subTest(model=name):
                x, c = hoclab.sample_with_clone(name, 20, seed=2, **params)
                D = hoclab.dimension(name, **params)
                self.assertEqual(x.dtype, np.float32)
                self.assertEqual(x.reshape(20, -1).shape, (20, D))
                self.assertTrue(np.all(np.isfinite(x)))
                self.assertGreater(x.std(), 0)
                if name in ("gp", "mixture"):   # a clone already; no clone in the API
                    self.assertIsNone(c)
                else:
                    self.assertEqual(c.shape, x.shape)
                    self.assertFalse(np.array_equal(c, x))

    def test_samples_equal_the_cli(self):
        run_cli("sample", "--model", "nlgp", "--params", "L=16,xi=2,gain=3", "--n", "30",
                "--seed", "7", "--no-plot", "--output", "s.h5", cwd=self.dir)
        f = hoclab.load(self.path("s.h5"))
        self.assertEqual(f.attrs["kind"], "samples")
        self.assertEqual(f["nlgp"].attrs["model"], "nlgp")
        x, c = hoclab.sample_with_clone("nlgp:L=16,xi=2", 30, seed=7, gain=3)
        np.testing.assert_array_equal(f["nlgp"]["x"], x)
        np.testing.assert_array_equal(f["nlgp_clone"]["x"], c)
        self.assertEqual(f["nlgp"].attrs["spec"], hoclab.resolve("nlgp:L=16,xi=2,gain=3")
                         .partition(":")[2])

    def test_nlgp_marginals_and_the_clone(self):
        model = "nlgp:L=32,xi=2,gain=3"
        n = 4000
        x, c = hoclab.sample_with_clone(model, n, seed=3)
        k_exact = hoclab.marginal_kurtosis(model)
        self.assertLess(k_exact, -1)   # strongly non-Gaussian
        self.assertEqual(hoclab.marginal_kurtosis(hoclab.clone_of(model)), 0)
        for data, kurt in ((x, k_exact), (c, 0.0)):
            # per-sample site averages are independent across samples: their SE
            for power, target in ((2, 1.0), (4, kurt + 3)):
                per = (data.astype(np.float64) ** power).mean(axis=1)
                se = per.std(ddof=1) / np.sqrt(n)
                self.assertLess(abs(per.mean() - target), 5 * se,
                                "E x^%d = %.4f, expected %.4f (SE %.4f)"
                                % (power, per.mean(), target, se))
        # the strongly negative kurtosis is far outside the clone's band
        self.assertGreater(abs((x ** 4).mean() - (c ** 4).mean()), 1)

    def test_task_has_balanced_labels_and_the_class_covariances(self):
        plus, minus = "nlgp:L=32,xi=2,gain=3", "nlgp:L=32,xi=6,gain=3"
        n = 4000
        X, y = hoclab.sample_task(plus, minus, n, seed=4)
        self.assertEqual(X.shape, (n, 32))
        self.assertEqual(set(np.unique(y)), {-1.0, 1.0})
        self.assertLess(abs((y > 0).mean() - 0.5), 5 * 0.5 / np.sqrt(n))
        for label, model in ((1, plus), (-1, minus)):
            Xc = X[y == label].astype(np.float64)
            lag1 = (Xc * np.roll(Xc, -1, axis=1)).mean(axis=1)
            expect = hoclab.covariance_row(model)[1]
            se = lag1.std(ddof=1) / np.sqrt(len(lag1))
            self.assertLess(abs(lag1.mean() - expect), 5 * se, model)
        with self.assertRaisesRegex(ValueError, "same dimension"):
            hoclab.sample_task("nlgp:L=16", "nlgp:L=8", 4)


class TestTrain(TempDir):
    FLAGS = ["--L", "20", "--K", "4", "--time", "20", "--n-meas", "6", "--test-samples",
             "500", "--snapshots", "3", "--gain", "3", "--seed", "5"]
    CONFIG = dict(L=20, K=4, time=20, n_meas=6, n_test=500, n_snap=3, gain=3, seed=5)

    def assert_same_run(self, mine, file_run):
        self.assertEqual(mine["config"], file_run["config"])
        for key in ("t", "steps", "test_error", "test_loss", "ipr", "kurtosis", "snapshots",
                    "snapshot_t", "W", "v", "b"):
            self.assertEqual(mine[key].shape, file_run[key].shape, key)
            np.testing.assert_array_equal(mine[key], file_run[key], err_msg=key)
        for key in ("status", "message", "stop_step", "marginal_kurtosis", "n_clipped_minus",
                    "clipped_fraction_minus"):
            np.testing.assert_array_equal(mine[key], file_run[key], err_msg=key)  # NaN == NaN

    def test_training_equals_the_cli_bit_for_bit(self):
        run_cli("train", "--inputs", "nlgp,gp", *self.FLAGS, "--no-plot", "--quiet",
                "--output", "t.h5", cwd=self.dir)
        runs = hoclab.load_train(self.path("t.h5"))
        self.assertEqual(set(runs), {"nlgp", "gp"})
        mine = hoclab.train_many([dict(self.CONFIG, input="nlgp"),
                                  dict(self.CONFIG, input="gp")], threads=2)
        self.assert_same_run(mine[0], runs["nlgp"])
        self.assert_same_run(mine[1], runs["gp"])
        self.assertEqual(mine[0]["ipr"].shape, (6, 4))
        self.assertEqual(mine[0]["snapshots"].shape, (3, 4, 20))
        self.assertTrue(np.all(np.diff(mine[0]["t"]) > 0))
        # a file's config repeats its run
        again = hoclab.train(runs["gp"]["config"], threads=1)
        np.testing.assert_array_equal(again["W"], runs["gp"]["W"])

    def test_a_task_of_two_models_equals_the_cli(self):
        plus, minus = "norta:L=16,k=5", "elliptical:L=16,nu=8"
        run_cli("train", "--plus", plus, "--minus", minus, "--K", "2", "--time", "10",
                "--n-meas", "4", "--test-samples", "300", "--snapshots", "0", "--no-plot",
                "--quiet", "--output", "m.h5", cwd=self.dir)
        runs = hoclab.load_train(self.path("m.h5"))
        mine = hoclab.train(plus_model=plus, minus_model=minus, K=2, time=10, n_meas=4,
                            n_test=300, n_snap=0)
        self.assertEqual(mine["config"]["L"], 16)
        self.assert_same_run(mine, runs["task"])

    def test_config_errors(self):
        with self.assertRaisesRegex(KeyError, "unknown config key 'Kx'.*accepted: "):
            hoclab.config(Kx=3)
        with self.assertRaisesRegex(TypeError, "config K = 'a'"):
            hoclab.config(K="a")
        with self.assertRaisesRegex(ValueError, "activation = 'sigmoid': accepted erf"):
            hoclab.config(activation="sigmoid")
        with self.assertRaisesRegex(ValueError, "minus_model is empty"):
            hoclab.config(plus_model="nlgp:L=16")
        with self.assertRaises(hoclab.HoclabError) as e:
            hoclab.train(K=0)
        self.assertEqual(e.exception.code, hoclab.HL_EINVAL)
        self.assertIn("K", str(e.exception))
        self.assertEqual(str(e.exception), _lib.error_message())
        d = hoclab.config(K=3, activation="relu")
        self.assertEqual((d["K"], d["activation"]), (3, "relu"))
        self.assertEqual(set(d), set(hoclab.defaults()))


class TestTheory(TempDir):
    MODEL = "nlgp:L=16,xi=2,gain=3"

    def test_exact_cumulant_and_its_cp_factors(self):
        c = hoclab.cumulant(self.MODEL)
        self.assertTrue(c["exact"])
        self.assertAlmostEqual(c["c2"][0], 1, delta=1e-12)
        np.testing.assert_allclose(c["c2"], hoclab.covariance_row(self.MODEL), atol=1e-12)
        # k4(0,0,0,0) is the marginal excess kurtosis
        self.assertAlmostEqual(c["k4"][0, 0, 0], hoclab.marginal_kurtosis(self.MODEL),
                               delta=1e-9)
        self.assertEqual(np.abs(hoclab.cumulant("gp:L=16,xi=2,gain=3")["k4"]).max(), 0)
        f = hoclab.cp(c, rank=2)
        self.assertLess(f["gamma"][0], 0)      # the NLGP's factors are negative ...
        self.assertGreater(f["ipr"][0], 0.15)  # ... and localised (a flat one: 1/16)
        self.assertLess(f["width"][0], 2)
        np.testing.assert_allclose(np.linalg.norm(f["u"], axis=1), 1, atol=1e-12)
        # the same as `hoclab theory cp`, and as the dense tensor's decomposition
        run_cli("theory", "cp", "--model", self.MODEL, "--rank", "2", "--no-plot",
                "--output", "cp.h5", cwd=self.dir)
        np.testing.assert_array_equal(hoclab.load(self.path("cp.h5"))["gamma"][0], f["gamma"])
        dense = hoclab.cp(hoclab.expand(c["k4"]), rank=1, ftol=1e-10)
        self.assertAlmostEqual(dense["gamma"][0], f["gamma"][0], delta=1e-6 * abs(f["gamma"][0]))

    def test_sampled_cumulant_agrees_with_the_exact_one(self):
        exact = hoclab.cumulant(self.MODEL)
        est = hoclab.cumulant_estimate(hoclab.sample(self.MODEL, 3000, seed=9))
        for idx in ((0, 0, 0), (1, 1, 1), (0, 1, 1)):
            self.assertLess(abs(est["k4"][idx] - exact["k4"][idx]), 5 * est["k4_se"][idx], idx)

    def test_neuron_flow_equals_the_cli_and_numpy(self):
        plus, minus = self.MODEL, "nlgp:L=16,xi=4,gain=3"
        run_cli("theory", "neuron", "--plus", plus, "--minus", minus, "--rank", "2",
                "--n-times", "8", "--no-plot", "--output", "n.h5", cwd=self.dir)
        f = hoclab.load(self.path("n.h5"))
        c = [hoclab.cumulant(plus), hoclab.cumulant(minus, seed=2)]
        cp = hoclab.cp({"k4": (c[0]["k4"] + c[1]["k4"]) / 2}, rank=2)
        times = np.concatenate([[0], hoclab.log_times(1e-3, 1, 7)])
        for key, gaussian in (("nlgp", False), ("gp", True)):
            r = hoclab.neuron_flow(c, times=times, bias=1, refs=cp["u"], gaussian=gaussian)
            self.assertEqual(r["status"], "ok")
            for k in ("w", "ipr", "q", "loss", "overlap"):
                np.testing.assert_array_equal(r[k], f[key][k], err_msg=key + "/" + k)
        # at t = 0: q = w0.C w0 and k = w0.dT w0^3, from NumPy
        w0 = f["w0"]
        L = 16
        C = np.array([[c[0]["c2"][(j - i) % L] for j in range(L)] for i in range(L)])
        T = hoclab.expand(c[0]["k4"])
        self.assertAlmostEqual(r["q"][0, 0], w0 @ C @ w0, delta=1e-12)
        nl = hoclab.neuron_flow(c, times=times, bias=1)
        self.assertAlmostEqual(nl["k"][0, 0], np.einsum("ijkl,i,j,k,l", T, w0, w0, w0, w0),
                               delta=1e-12)
        # the dense forms (a matrix, a D^4 tensor) give the same flow
        dense = hoclab.neuron_flow([{"C": C, "k4": T}, {"c2": c[1]["c2"], "k4": c[1]["k4"]}],
                                   times=times, bias=1)
        np.testing.assert_allclose(dense["w"], nl["w"], rtol=1e-6, atol=1e-9)


class TestErrors(TempDir):
    def test_library_errors_carry_its_message(self):
        with self.assertRaises(hoclab.HoclabError) as e:
            hoclab.sample("nlgp:L=1", 3)
        self.assertEqual(e.exception.code, hoclab.HL_EINVAL)
        self.assertRegex(str(e.exception), r"^nlgp: L = 1: accepted")
        with self.assertRaisesRegex(hoclab.HoclabError, "unknown model 'nope'.*nlgp"):
            hoclab.sample("nope", 3)
        with self.assertRaisesRegex(hoclab.HoclabError, "xi"):
            hoclab.cumulant("nlgp:L=16,xi=-1")
        with self.assertRaisesRegex(hoclab.HoclabError, "cannot open"):
            hoclab.sample("patches:dir=/nonexistent", 2)

    def test_python_side_validation(self):
        with self.assertRaisesRegex(TypeError, "n must be an integer"):
            hoclab.sample("nlgp", 2.5)
        with self.assertRaisesRegex(ValueError, "n = 0: must be >= 1"):
            hoclab.sample("nlgp", 0)
        with self.assertRaisesRegex(ValueError, "samples = 1"):
            hoclab.cumulant("nlgp:L=16", samples=1)
        with self.assertRaisesRegex(ValueError, "ring tensor"):
            hoclab.cp(np.zeros((3, 4)))
        with self.assertRaisesRegex(KeyError, "unknown CP option"):
            hoclab.cp(np.zeros((4, 4, 4)), bogus=1)

    def test_loader_errors(self):
        with self.assertRaises(FileNotFoundError):
            hoclab.load(self.path("missing.h5"))
        bad = self.path("bad.h5")
        with open(bad, "w") as f:
            f.write("not hdf5")
        with self.assertRaisesRegex(OSError, "not a readable HDF5"):
            hoclab.load(bad)
        run_cli("sample", "--model", "gp", "--params", "L=8", "--n", "2", "--no-plot",
                "--output", "s.h5", cwd=self.dir)
        with self.assertRaisesRegex(ValueError, "not a training result"):
            hoclab.load_train(self.path("s.h5"))


GRID = """name: py
output: %s
seeds: 2
L: 24
K: 2
time: 20
test-samples: 500
n-meas: 4
xis: [1, 4]
inputs: [nlgp, gp]
"""


class TestSweep(TempDir):
    def test_sweep_equals_the_cli_and_resumes(self):
        with open(self.path("py.yaml"), "w") as f:
            f.write(GRID % self.path("py"))
        with open(self.path("cli.yaml"), "w") as f:
            f.write(GRID % self.path("cli"))
        points = hoclab.sweep_points(self.path("py.yaml"))
        self.assertEqual([p[0] for p in points],
                         ["inputs=nlgp,seed=1", "inputs=nlgp,seed=2", "inputs=gp,seed=1",
                          "inputs=gp,seed=2"])
        self.assertFalse(any(p[2] for p in points))
        index = hoclab.sweep(self.path("py.yaml"), workers=2)
        self.assertTrue(all(p[2] for p in hoclab.sweep_points(self.path("py.yaml"))))
        run_cli("sweep", "cli.yaml", "--workers", "1", "--quiet", cwd=self.dir)
        cli_index = hoclab.load(self.path("cli/index.h5"))
        for key in ("test_error", "mean_ipr", "status", "seed", "inputs"):
            np.testing.assert_array_equal(index["points"][key], cli_index["points"][key])
        a = hoclab.load_train(self.path("py/points/inputs=gp,seed=2.h5"))["gp"]
        b = hoclab.load_train(self.path("cli/points/inputs=gp,seed=2.h5"))["gp"]
        np.testing.assert_array_equal(a["W"], b["W"])
        # a second call reads every point back: the files are not rewritten
        stamp = os.stat(self.path("py/points/inputs=gp,seed=2.h5")).st_mtime_ns
        again = hoclab.sweep(self.path("py.yaml"))
        np.testing.assert_array_equal(again["points"]["test_error"], index["points"]["test_error"])
        self.assertEqual(stamp, os.stat(self.path("py/points/inputs=gp,seed=2.h5")).st_mtime_ns)

    def test_sweep_errors(self):
        with open(self.path("bad.yaml"), "w") as f:
            f.write("L: 24\nlearning-rate: 3\n")
        with self.assertRaisesRegex(hoclab.HoclabError, "bad.yaml:2: unknown key 'learning-rate'"):
            hoclab.sweep(self.path("bad.yaml"))
        with self.assertRaisesRegex(ValueError, "workers"):
            hoclab.sweep(self.path("bad.yaml"), workers=-1)


class TestReadme(TempDir):
    def test_the_readme_example_runs(self):
        """The five-line example under "Python" in README.md, as it is written there."""
        readme = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
        with open(readme) as f:
            text = f.read()
        start = text.index("<!-- python-example -->")
        block = text[text.index("```python", start) + len("```python"):]
        block = block[:block.index("```")]
        self.assertEqual(len(block.strip().splitlines()), 5, block)
        out = subprocess.run([sys.executable, "-c", block], cwd=self.dir, capture_output=True,
                             text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"mean IPR: NLGP 0\.\d+, clone 0\.\d+")
        self.assertRegex(out.stdout, r"CP gamma \[-\d")


if __name__ == "__main__":
    unittest.main()
