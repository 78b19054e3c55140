"""`python -m rl`: one-line errors, the files a run writes, and no retraining on rerun."""

import json
import os

import pytest

from rl.cli import config_json, config_of, main
from tests.helpers import tensorboard_scalars

TINY_PPO = ["--config.total_steps=2048", "--config.num_envs=2", "--config.num_steps=64"]


@pytest.mark.parametrize("argv, message", [
    (["bogus"], "unknown algorithm 'bogus'"),
    ([], "name an algorithm"),
    (["ppo", "--env", "CartPol-v1"], "unknown gymnax environment 'CartPol-v1'"),
    (["ppo", "--env", "Pendulum-v1"], "continuous action space"),
    (["ppo", "--config.lr=1"], "unknown config key 'lr'"),
    (["ppo", "--config.num_envs=many"], "expected int"),
    (["ppo", "--seeds", "0"], "--seeds must be at least 1"),
    (["ppo", "--config.total_steps=10"], "less than one update"),
    (["dqn", "--config.loss=l1"], "--config.loss must be mse or huber"),
])
def test_bad_input_gets_one_line_and_exit_2(argv, message, tmp_path, capsys):
    assert main(argv + ["--workdir", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_list_names_every_algorithm(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("ppo", "a2c", "reinforce", "dqn"))


def test_a_run_writes_summary_metrics_figure_checkpoint_and_is_not_retrained(tmp_path, capsys):
    workdir = str(tmp_path / "ppo")
    assert main(["ppo", "--seeds", "2", "--workdir", workdir, "--no-progress"] + TINY_PPO) == 0
    summary = json.load(open(os.path.join(workdir, "summary.json")))
    assert summary["seeds"] == 2 and len(summary["final_return"]["per_seed"]) == 2
    assert summary["env_steps_per_seed"] == 2048 and summary["env_steps_per_s"] > 0
    overrides = dict(arg[len("--config."):].split("=") for arg in TINY_PPO)
    assert summary["config"] == config_json(config_of("ppo", overrides=overrides))
    lines = open(os.path.join(workdir, "metrics.jsonl")).read().splitlines()
    assert len(lines) == 2048 // (2 * 64) and "episode_return" in json.loads(lines[-1])
    rows = [json.loads(line) for line in lines]
    assert tensorboard_scalars(workdir)["episode_return"] == [
        (r["step"], pytest.approx(r["episode_return"], rel=1e-6)) for r in rows if r["episode_return"] is not None]
    assert os.path.getsize(os.path.join(workdir, "figures", "learning_curve.png")) > 0
    assert os.listdir(os.path.join(workdir, "checkpoints"))
    capsys.readouterr()
    assert main(["ppo", "--seeds", "2", "--workdir", workdir, "--no-progress"] + TINY_PPO) == 0
    assert "already trained" in capsys.readouterr().out
    assert main(["ppo", "--seeds", "3", "--workdir", workdir, "--no-progress"] + TINY_PPO) == 2  # different run
