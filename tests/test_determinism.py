"""Determinism: the same command with the same seed gives the same summary numbers, also in two
processes with different string-hash seeds (so nothing may depend on `hash()` or set order)."""

import json
import os
import subprocess
import sys

import pytest

SHORT = {
    "gan_digits": ["train", "gan_digits", "--config.num_steps=40", "--config.model.features=8",
                   "--config.eval_every=0", "--config.num_samples=100", "--config.test_split=test[:100]"],
    "caption_shapes_attention": ["train", "caption_shapes_attention", "--config.num_steps=10", "--config.eval_every=0",
                                 "--config.test_split=test[:20]", "--config.decode.beam_width=1"],
    "ppo": ["rl", "ppo", "--seeds", "2", "--config.total_steps=4096", "--config.num_envs=2",
            "--config.num_steps=64"],
}


def _numbers(tree):
    """The summary without what is measured in seconds (wall time, compile time, throughput)."""
    if isinstance(tree, dict):
        return {k: _numbers(v) for k, v in tree.items()
                if not (k.endswith("_s") or "time" in k or "per_s" in k or k == "devices")}
    return tree


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHORT))
def test_the_same_seed_gives_the_same_summary(name, tmp_path):
    module, *args = SHORT[name]
    classifier = ["--config.eval_classifier", str(tmp_path / "classifier")] if name == "gan_digits" else []
    summaries = []
    for hash_seed in ("0", "1"):
        workdir = str(tmp_path / f"run{hash_seed}")
        result = subprocess.run([sys.executable, "-m", module, *args, *classifier, "--workdir", workdir,
                                 "--no-progress"], capture_output=True, text=True, timeout=300,
                                env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert result.returncode == 0, result.stderr
        summaries.append(_numbers(json.load(open(os.path.join(workdir, "summary.json")))))
    assert summaries[0] == summaries[1]
