"""Determinism: the same commands with the same seeds give the same summary numbers, also in two
processes with different string-hash seeds (so nothing may depend on `hash()` or set order)."""

import json

import pytest

from tests.helpers import cli_commands_in_one_process

SHORT = {
    "gan_digits": ["train", "gan_digits", "--config.num_steps=40", "--config.model.features=8",
                   "--config.eval_every=0", "--config.num_samples=100", "--config.test_split=test[:100]"],
    "caption_shapes_attention": ["train", "caption_shapes_attention", "--config.num_steps=10", "--config.batch_size=16", "--config.eval_every=0",
                                 "--config.test_split=test[:20]", "--config.decode.beam_width=1",
                                 "--config.model.features=32", "--config.model.embed_dim=16",
                                 "--config.model.attention_dim=16", "--config.model.encoder_features=(8, 16, 32)"],
    "ppo": ["rl", "ppo", "--seeds", "2", "--config.total_steps=4096", "--config.num_envs=2",
            "--config.num_steps=64"],
}

# gan_digits scores its samples with the shipped digits CNN (zoo.pretrained) in both processes


def _numbers(tree):
    """The summary without what is measured in seconds (wall time, compile time, throughput)."""
    if isinstance(tree, dict):
        return {k: _numbers(v) for k, v in tree.items()
                if not (k.endswith("_s") or "time" in k or "per_s" in k or k == "devices")}
    return tree


@pytest.mark.slow
def test_the_same_seeds_give_the_same_summaries(tmp_path):
    summaries = []
    for hash_seed in ("0", "1"):
        root = tmp_path / f"process{hash_seed}"
        commands = [[*args, "--workdir", str(root / name), "--no-progress",
                     *(["--config.eval_classifier", "cnn_digits"] if name == "gan_digits" else [])]
                    for name, args in SHORT.items()]
        cli_commands_in_one_process(commands, timeout=400, PYTHONHASHSEED=hash_seed)
        summaries.append({name: _numbers(json.load(open(root / name / "summary.json"))) for name in SHORT})
    for name in SHORT:
        assert summaries[0][name] == summaries[1][name], name
