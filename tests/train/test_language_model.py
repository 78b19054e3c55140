"""Character language model: TBPTT batching, bigram baseline, learning, sampling CLI."""

import json
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds

from tests.helpers import load_run_without_data
from train import configs
from train.loop import run
from train.overrides import apply_overrides
from train.sampling import sample_logits
from train.tasks.language_model import LanguageModel, bigram_log_probs, bits_per_char, streams

TINY = {"num_steps": "300", "batch_size": "16", "seq_len": "32", "eval_every": "0", "checkpoint_every": "300",
        "model.features": "64", "model.num_layers": "1", "model.embed_dim": "16", "optimizer.learning_rate": "0.01",
        "optimizer.warmup_steps": "20"}


def tiny_config(**overrides):
    return apply_overrides(configs.get_config("charrnn"), {**TINY, **overrides})


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("charrnn"))
    return workdir, run("charrnn", tiny_config(), workdir, progress=False)


def test_bigram_table_is_normalized_and_counts_pairs():
    table = np.exp(bigram_log_probs(np.array([0, 1, 0, 1, 0, 2]), 3, alpha=0.0 + 1e-9))
    np.testing.assert_allclose(table.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(table[0], [0, 2 / 3, 1 / 3], atol=1e-6)


def test_bits_per_char_of_a_uniform_model_is_log2_vocab():
    logits = jnp.zeros((2, 5, 8))
    assert float(bits_per_char(logits, jnp.zeros((2, 5), jnp.int32))) == pytest.approx(3.0)


def test_tbptt_chunks_are_consecutive_and_reset_at_each_epoch():
    task = LanguageModel(tiny_config())
    rows = streams(task.ids("train"), 16)
    chunks = (rows.shape[1] - 1) // 32
    batches = task.train_batches(0)
    first, second = next(batches), next(batches)
    np.testing.assert_array_equal(first["targets"][:, :-1], first["inputs"][:, 1:])
    np.testing.assert_array_equal(second["inputs"][:, 0], first["targets"][:, -1])  # stream continues
    assert bool(first["reset"]) and not bool(second["reset"])
    wrapped = next(task.train_batches(chunks))
    assert bool(wrapped["reset"])
    np.testing.assert_array_equal(wrapped["inputs"], first["inputs"])


def test_vocabulary_covers_train_and_maps_unseen_characters_to_unk():
    task = LanguageModel(tiny_config())
    assert task.decode(task.encode("def f():")) == "def f():"
    assert task.encode("\u2603")[0] == 0


@pytest.mark.slow
def test_lstm_language_model_learns(lm_run):
    _, summary = lm_run
    test = summary["test"]
    assert test["test_bits_per_char"] < 3.5  # uniform over ~100 characters is ~6.6 bits
    assert summary["primary_metric"] == "test_bits_per_char"


def test_sample_logits_respects_temperature_and_top_k():
    logits = jnp.log(jnp.array([[0.1, 0.2, 0.3, 0.4]]))
    assert int(sample_logits(jax.random.key(0), logits, temperature=0.0)[0]) == 3
    draws = jax.vmap(lambda k: sample_logits(k, logits, 1.0, top_k=2))(jax.random.split(jax.random.key(1), 400))
    assert set(np.unique(np.asarray(draws))) == {2, 3}
    frac = float(np.mean(np.asarray(draws) == 3))
    assert abs(frac - 4 / 7) < 0.08


@pytest.mark.parametrize("temperature", [2.0, 0.5])
def test_sample_logits_draws_from_the_tempered_softmax(temperature):
    """Frequencies of 4000 draws against softmax(logits / T) computed in NumPy, within 4 standard errors
    (at T = 1 the frequencies would be 0.1..0.4, 6 to 30 standard errors away)."""
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    n = 4000
    draws = jax.vmap(lambda k: sample_logits(k, jnp.asarray(logits[None], jnp.float32), temperature))(
        jax.random.split(jax.random.key(2), n))
    freq = np.bincount(np.asarray(draws).ravel(), minlength=4) / n
    p = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / n)), (freq, p)


def sample_cli(*args):
    return subprocess.run([sys.executable, "-m", "train", "sample", *args], capture_output=True, text=True,
                          timeout=300)


def test_the_language_model_restores_without_its_data(lm_run, monkeypatch):
    workdir, summary = lm_run
    task, state, meta = load_run_without_data(workdir, monkeypatch)
    assert int(state.step) == summary["steps"] and meta["vocab"] == task.vocab


def test_sample_cli_continues_the_prompt(lm_run):
    workdir, _ = lm_run
    greedy = sample_cli("--workdir", workdir, "--prompt", "The ", "--length", "40", "--temperature", "0")
    assert greedy.returncode == 0, greedy.stderr
    text = greedy.stdout.rstrip("\n")
    assert text.startswith("The ") and len(text) == 44
    top1 = sample_cli("--workdir", workdir, "--prompt", "The ", "--length", "40", "--top_k", "1", "--seed", "5")
    assert top1.stdout == greedy.stdout  # top-1 sampling is greedy decoding
    many = sample_cli("--workdir", workdir, "--length", "20", "--num_samples", "3")
    assert many.stdout.count("--- sample") == 3


def test_the_shipped_lstm_samples_its_own_greedy_continuation():
    """`sample --pretrained lstm_charrnn` at temperature 0 is the argmax continuation computed here from the
    shipped module alone: one padded sequence, read at each next position (the LSTM is causal)."""
    from zoo import pretrained

    module, variables, card = pretrained.load("lstm_charrnn")
    vocab = card["task_meta"]["vocab"]
    prompt, length = "The ", 40
    ids = np.zeros((1, len(prompt) + length), np.int32)
    ids[0, :len(prompt)] = [vocab.index(c) for c in prompt]
    logits_of = jax.jit(lambda tokens: module.apply(variables, tokens)[1])  # (carries, logits)
    for t in range(len(prompt), ids.shape[1]):
        ids[0, t] = int(jnp.argmax(logits_of(jnp.asarray(ids))[0, t - 1]))
    expected = "".join(vocab[i] for i in ids[0])
    result = sample_cli("--pretrained", "lstm_charrnn", "--prompt", prompt, "--length", str(length),
                        "--temperature", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == expected


def test_sample_cli_errors_are_one_line(lm_run, tmp_path):
    workdir, _ = lm_run
    for args, message in [(["--workdir", str(tmp_path)], "no checkpoints in"),
                          (["--workdir", workdir, "--prompt", ""], "--prompt must not be empty"),
                          (["--workdir", workdir, "--length", "x"], "invalid int value")]:
        result = sample_cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert message in result.stderr.strip().splitlines()[-1]


def test_gradient_flow_cli_writes_numbers_and_figure(tmp_path):
    result = subprocess.run([sys.executable, "-m", "train", "gradient_flow", "--workdir", str(tmp_path),
                             "--steps", "20"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    numbers = json.load(open(tmp_path / "summary.json"))
    first = dict(zip(numbers["sigma_sweep"], numbers["first_step_norm"]))
    assert first[1.5] > 1e3 > 1 > 1e-3 > first[0.5]
    assert math.isclose(first[1.0], 1.0, rel_tol=1e-3)
    assert os.path.getsize(tmp_path / "figures" / "gradient_flow.png") > 10_000


class LocalTextToy(tfds.core.GeneratorBasedBuilder):
    """Shaped like TFDS `tiny_shakespeare`: one `text` example per split, prepared from local data."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({"text": tfds.features.Text()}))

    def _split_generators(self, dl_manager):
        line = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
        return {"train": self._generate_examples(line * 40), "validation": self._generate_examples(line * 4),
                "test": self._generate_examples(line * 4)}

    def _generate_examples(self, text):
        yield 0, {"text": text}


def test_charrnn_runs_on_a_catalog_text_dataset_shaped_like_tiny_shakespeare(tmp_path):
    LocalTextToy(data_dir=str(tmp_path), file_format="array_record").download_and_prepare()
    config = tiny_config(dataset="local_text_toy", data_dir=str(tmp_path), num_steps="20", checkpoint_every="20",
                         batch_size="4", eval_batch_size="2")
    summary = run("charrnn", config, str(tmp_path / "run"), progress=False)
    assert np.isfinite(summary["test"]["test_bits_per_char"])
    assert summary["test"]["test_bigram_bits_per_char"] < 2.0  # a repeated line is very predictable
