"""`python -m interpret`: listing, the attack, attribution and fooling methods on a trained run,
one-line errors."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import train_digits


def interpret(*args):
    return subprocess.run([sys.executable, "-m", "interpret", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    return train_digits(str(tmp_path_factory.mktemp("digits")), 200)


def test_list_names_the_methods():
    result = interpret("--list")
    assert result.returncode == 0 and result.stdout.startswith("attack")


def test_attack_adds_numbers_to_the_summary_and_draws_examples(digits_run):
    result = interpret("attack", "--workdir", digits_run, "--method", "pgd", "--eps", "0.2", "--steps", "10",
                       "--restarts", "2")
    assert result.returncode == 0, result.stderr
    summary = json.load(open(os.path.join(digits_run, "summary.json")))
    attack = summary["interpret"]["attack_pgd_linf_eps0.2"]
    assert "test" in summary  # the training summary is kept
    assert attack["adversarial"]["accuracy"] < attack["clean"]["accuracy"]
    assert attack["max_linf_perturbation"] <= 0.2 + 1e-6
    assert attack["success_rate"] == pytest.approx(1 - attack["adversarial"]["accuracy"], abs=1e-6)
    assert os.path.exists(os.path.join(digits_run, "figures", "attack_pgd_linf_eps0.2.png"))


def test_attribution_draws_every_method_and_records_completeness(digits_run):
    result = interpret("attribution", "--workdir", digits_run, "--count", "4", "--steps", "128")
    assert result.returncode == 0, result.stderr
    numbers = json.load(open(os.path.join(digits_run, "summary.json")))["interpret"]["attribution"]
    assert numbers["grad_cam_layer"] == "conv1_1" and len(numbers["methods"]) == 5
    assert numbers["integrated_gradients_completeness_error"] < 0.1
    assert os.path.getsize(os.path.join(digits_run, "figures", "attribution.png")) > 0


def test_fooling_turns_test_images_into_the_target(digits_run):
    result = interpret("fooling", "--workdir", digits_run, "--target", "7", "--count", "10")
    assert result.returncode == 0, result.stderr
    numbers = json.load(open(os.path.join(digits_run, "summary.json")))["interpret"]["fooling_target7"]
    assert numbers["fooled_fraction"] == 1.0 and numbers["mean_l2"] > 0
    bad = interpret("fooling", "--workdir", digits_run, "--target", "10")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --target must be a class in 0..9; got 10"


@pytest.mark.parametrize("args, message", [
    (["bogus"], "unknown method 'bogus'; choose one of: attack"),
    (["attack", "--workdir", "/nonexistent/run"], "no checkpoints in /nonexistent/run"),
    (["attack", "--workdir", "DIGITS", "--target", "12"], "--target must be a class in 0..9"),
    (["attack", "--workdir", "DIGITS", "--norm", "l1"], "invalid choice: 'l1'"),
])
def test_mistakes_get_one_line_and_exit_2(digits_run, args, message):
    result = interpret(*[digits_run if a == "DIGITS" else a for a in args])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
