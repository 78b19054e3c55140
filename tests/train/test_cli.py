"""The `python -m train` contract: recipe listing, one-line errors with non-zero exits."""

import os
import subprocess
import sys

import ml_collections
import pytest

from train import compile_cache, configs
from train.cli import main
from train.errors import UserError
from train.overrides import apply_overrides, flat_keys, parse_value


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "train", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_list_names_every_recipe_with_its_description():
    result = cli("--list")
    assert result.returncode == 0
    for name in configs.names():
        assert any(line.startswith(name) and configs.describe(name) in line for line in result.stdout.splitlines())
    assert {"charrnn", "classify_digits", "classify_mnist1d", "classify_mnist1d_rnn", "classify_cifar10"} <= set(configs.names())


@pytest.mark.parametrize("args, message", [
    (["no_such_recipe"], "unknown recipe 'no_such_recipe'; choose one of: autoencoder_digits, caption_shapes"),
    (["--config.no_such_key=1"], "unknown config key 'no_such_key'; valid keys: adversarial.eps, adversarial.method"),
    (["--config.num_steps=ten"], "--config.num_steps: expected int like 1200, got 'ten'"),
    (["--config.optimizer.learning_rate=fast"], "--config.optimizer.learning_rate: expected float"),
    (["--config.model.features=(8, 'a')"], "--config.model.features: expected tuple"),
    (["--bogus"], "unrecognized argument '--bogus'"),
    (["--config.model.name=transformer", "--config.num_steps=1"], "unknown model.name 'transformer'; choose one of mlp, cnn, lenet5, resnet"),
    (["classify_cifar10", "--config.num_steps=1"], "cifar10"),
    (["--config.test_split=test[:0]"], "split 'test[:0]' of 'digits' selects no examples"),
    (["caption_shapes", "--config.precision=fp8", "--config.num_steps=1"], "unknown precision 'fp8'; choose one of fp32, bf16, fp16"),
])
def test_user_mistakes_get_one_line_and_exit_2(args, message, tmp_path, capsys):
    # in this process (train.cli.main is what `python -m train` runs): an exception would fail the test
    assert main([*args, "--workdir", str(tmp_path / "run"), "--no-progress"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("error: ") and message in lines[-1]
    assert not (tmp_path / "run" / "checkpoints").exists() or not any((tmp_path / "run" / "checkpoints").iterdir())


def test_an_unwritable_workdir_is_one_line_and_exit_2_without_a_traceback(tmp_path):
    (tmp_path / "a_file").write_text("")  # a directory cannot be made below a file, even by root
    result = cli("--workdir", str(tmp_path / "a_file" / "run"), "--config.num_steps=1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: cannot write to --workdir {tmp_path}")


def test_overrides_parse_to_the_default_types():
    c = configs.get_config("classify_digits")
    apply_overrides(c, {"num_steps": "7", "optimizer.learning_rate": "1", "model.features": "(4, 8)",
                        "model.norm": "true", "dataset": "mnist1d", "model.kernel_size": "5"})
    assert c.num_steps == 7 and c.optimizer.learning_rate == 1.0 and isinstance(c.optimizer.learning_rate, float)
    assert c.model.features == (4, 8) and c.model.norm is True and c.dataset == "mnist1d"
    assert c.model.kernel_size == (5,)


@pytest.mark.parametrize("raw, current", [("1.5", 3), ("maybe", True), ("(1, 2)", 0.1), ("True", 4)])
def test_wrong_types_are_rejected(raw, current):
    with pytest.raises(UserError, match="expected"):
        parse_value("k", raw, current)


def test_flat_keys_walk_nested_blocks():
    c = ml_collections.ConfigDict({"a": 1, "b": {"c": 2, "d": {"e": 3}}})
    assert flat_keys(c) == ["a", "b.c", "b.d.e"]


def test_a_run_fills_the_compile_cache_under_the_cache_home(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_PERSISTENT") and k != "JAX_COMPILATION_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = subprocess.run([sys.executable, "-m", "train", "--workdir", str(tmp_path / "run"), "--no-progress",
                             "--config.num_steps=2"], capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert any((tmp_path / "cache" / "jaxzoo" / "jax").iterdir())


def test_no_compile_cache_leaves_jax_uncached(monkeypatch):
    for name in ("JAX_COMPILATION_CACHE_DIR", compile_cache.ENV):
        monkeypatch.delenv(name, raising=False)
    assert compile_cache.from_argv(["classify_digits", compile_cache.FLAG]) == ["classify_digits"]
    assert "JAX_COMPILATION_CACHE_DIR" not in os.environ
    monkeypatch.setenv(compile_cache.ENV, "/elsewhere")
    assert compile_cache.default_directory() == "/elsewhere"


def test_version_is_the_one_in_pyproject(capsys):
    import pathlib
    import tomllib

    from train.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    pyproject = tomllib.loads((pathlib.Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"jaxzoo {pyproject['project']['version']}"
