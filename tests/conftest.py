"""Strict JAX flags, XLA flags for a compile-bound suite, 8 simulated CPU devices, a private TFDS data
dir and JAX compilation cache for the session, and the trained digits CNN that several test files share.

The bundled datasets are prepared once here, before pytest-xdist starts its workers (which inherit
the environment), so workers never race to build them: the two cluttered canvas sets (the slowest,
~12 s each) in a subprocess while the controlling process builds the rest.
"""

import os
import tempfile

# Eigen single-threaded: the suite runs two workers on two cores, and each worker's XLA threads
# would otherwise compete with the other worker's (4-14% less wall time on test files measured here)
os.environ["XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("XLA_FLAGS", ""),
                                                 "--xla_force_host_platform_device_count=8",
                                                 "--xla_cpu_multi_thread_eigen=false"]))
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Two XLA settings that compile faster, the suite being compile-bound: the elemental emitters for fused
# loops instead of the newer MLIR fusion emitters (whole suite 855.7 s -> 716.8 s here, both green), and
# LLVM's -O1 instead of its default. -O1 is faster for the many small tests and slower for a few long
# runs (measured alone: tests/zoo/test_rnn.py + tests/interpret/test_adversarial.py 82.8 s -> 70.3 s,
# the video, PPO and DQN learning tests 119.9 -> 111.7 s, the PixelCNN and PixelRNN test runs 44.7 -> 31.7 s;
# the VAE's 24.1 -> 30.2 s and the GAN's 31.6 -> 55.5 s). Results agree to the last bits only, as between
# any two XLA versions. XLA aborts on a flag it does not know, and newer XLA retires flags, so a
# subprocess first checks each one.
FASTER_COMPILES = ("--xla_cpu_use_fusion_emitters=false", "--xla_backend_optimization_level=1")
if "PYTEST_XDIST_WORKER" not in os.environ:
    import subprocess
    import sys

    _flag_checks = {flag: subprocess.Popen([sys.executable, "-c", "import jax; jax.devices()"],
                                           env={**os.environ, "XLA_FLAGS": flag},
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for flag in FASTER_COMPILES}
    # The prepared datasets, and one persistent compilation cache for the session (workers and the CLI
    # subprocesses that tests start compile the same train steps again and again), in folders made here
    # and removed at the end, unless the caller keeps its own (python -m tests.mutation runs pytest many times).
    _MADE_HERE = [os.environ.setdefault(variable, tempfile.mkdtemp(prefix=prefix))
                  for variable, prefix in (("JAXZOO_TEST_TFDS_DIR", "jaxzoo-tfds-"),
                                           ("JAX_COMPILATION_CACHE_DIR", "jaxzoo-jax-cache-"))
                  if variable not in os.environ]
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # small programs repeat across processes too
os.environ["TFDS_DATA_DIR"] = os.environ["JAXZOO_TEST_TFDS_DIR"]

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_configure(config):
    if "PYTEST_XDIST_WORKER" in os.environ:
        return
    from train.data import BUNDLED, builder

    slowest = ("cluttered_digits", "cluttered_mnist")
    second = subprocess.Popen([sys.executable, "-c", f"from train.data import builder\nfor n in {slowest!r}: builder(n)"],
                              stdout=subprocess.DEVNULL)
    for name, cls in BUNDLED.items():
        for c in cls.BUILDER_CONFIGS or [None]:
            if name not in slowest:
                builder(name if c is None else f"{name}/{c.name}")
    if second.wait(timeout=600) != 0:
        raise RuntimeError(f"preparing the bundled datasets {', '.join(slowest)} failed (the error is above)")
    # before pytest-xdist starts the workers (they inherit it) and before this process uses a backend
    os.environ["XLA_FLAGS"] += "".join(f" {flag}" for flag, check in _flag_checks.items() if check.wait(timeout=120) == 0)


@pytest.fixture(scope="session")
def digits_cnn_run(tmp_path_factory):
    """`digits_cnn_run(steps)`: the workdir of a `classify_digits` run of `steps` steps (default
    CNN, evaluated at the end), trained once per test process and shared, read-only, by the tests
    that attack, compress, distill or score with that model."""
    import functools

    from tests.helpers import train_digits

    @functools.cache
    def get(steps: int) -> str:
        return train_digits(str(tmp_path_factory.mktemp(f"digits_cnn_{steps}")), steps)

    return get


@pytest.fixture(scope="session")
def shipped():
    """`shipped(name)`: `(task, state)` of a model shipped in `zoo/weights` (`train.restore.load_pretrained`),
    loaded once per test process: the model the interpretation, attack, compression and export tests start
    from instead of training one."""
    import functools

    from train.restore import load_pretrained

    @functools.cache
    def get(name: str):
        task, state, _ = load_pretrained(name)
        return task, state

    return get


def pytest_unconfigure(config):
    if "PYTEST_XDIST_WORKER" not in os.environ:
        import shutil

        for folder in _MADE_HERE:
            shutil.rmtree(folder, ignore_errors=True)
