"""Captioning end to end: the overfit check (25 images, one caption each, loss near zero), and a
checkpoint scored in a new process gives the BLEU the run reported (the vocabulary travels with it)."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from tests.helpers import without_data
from train import configs
from train.export import export_run
from train.loop import run
from train.overrides import apply_overrides
from train.restore import load_run

SMALL = {"model.features": "128", "model.embed_dim": "64", "model.encoder_features": "(8, 16, 32)", "decode.beam_width": "2"}


@pytest.fixture(scope="module")
def overfit_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("caption"))
    config = apply_overrides(configs.get_config("caption_shapes"),
                             {"overfit": "25", "batch_size": "25", "num_steps": "250", "eval_every": "0",
                              "encoder_pretraining_steps": "0",
                              "checkpoint_every": "250", "log_every": "50", **SMALL})
    summary = run("caption_shapes", config, workdir, progress=False)
    return workdir, summary


@pytest.mark.slow
def test_twenty_five_images_are_memorized(overfit_run):
    workdir, summary = overfit_run
    assert summary["train"]["word_loss"] < 0.1, summary["train"]
    assert summary["train"]["word_accuracy"] > 0.97


@pytest.mark.slow
def test_a_new_process_scores_the_checkpoint_like_the_run_did(overfit_run):
    workdir, summary = overfit_run
    result = subprocess.run([sys.executable, "-m", "train", "sample", "--workdir", workdir, "--count", "2"],
                            capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("image 0: greedy: ")
    scores = json.loads(lines[-1])
    report = summary["report"]
    for decoding in ("greedy", "beam_2"):
        assert scores[decoding] == pytest.approx(report[decoding], abs=1e-9)


@pytest.mark.slow
def test_the_captioner_restores_and_exports_greedy_captions_without_its_data(overfit_run, monkeypatch):
    workdir, _ = overfit_run
    with without_data(monkeypatch):
        task, state, meta = load_run(workdir)
        path = export_run(workdir)
    exported = jax.export.deserialize(bytearray(open(os.path.join(path, "model.bin"), "rb").read()))
    images = task.split_raw("train")["image"][:3]
    assert [task.vocab.decode(t) for t in np.asarray(exported.call(images))] == task.caption(state.variables(), images)[0]
    signature = json.load(open(os.path.join(path, "signature.json")))
    assert signature["vocabulary"] == meta["vocab"] and signature["outputs"][0]["shape"] == [None, 20]


def test_unknown_model_is_one_line():
    result = subprocess.run([sys.executable, "-m", "train", "caption_shapes", "--config.model.name=gru",
                             "--config.num_steps=1"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2 and result.stderr.strip() == (
        "error: unknown model.name 'gru'; choose one of rnn, lstm, attention")
