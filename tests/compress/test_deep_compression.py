"""The Deep Compression pipeline on the shipped digits MLP 64-300-100-10 (`mlp_digits`): at least 20x
smaller than dense float32 from real encodings, within half a point of the dense test accuracy, and
the `python -m compress` entry point's outputs and errors."""

import json
import os

import pytest

from compress.cli import main


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("dc"))
    code = main(["deep_compression", "--pretrained", "mlp_digits", "--workdir", workdir, "--no-progress"])
    assert code == 0
    with open(os.path.join(workdir, "deep_compression", "summary.json")) as f:
        return workdir, json.load(f)


@pytest.mark.slow
def test_deep_compression_of_the_digits_mlp_meets_the_size_and_accuracy_bar(compressed):
    _, summary = compressed
    assert summary["recipe"] == "classify_digits_mlp"
    assert summary["ratio"]["huffman"] >= 20, summary["bytes"]
    acc = summary["accuracy"]
    assert acc["huffman"] >= acc["dense"] - 0.005, acc
    assert acc["pruned"] < acc["retrained"]  # 92% one-shot pruning hurts until retraining
    sizes = [summary["bytes"][s] for s in ("dense", "sparse", "shared", "huffman")]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.slow
def test_the_pipeline_writes_its_table_and_figure(compressed):
    workdir, summary = compressed
    out = os.path.join(workdir, "deep_compression")
    table = open(os.path.join(out, "deep_compression.md")).read()
    assert "dense1/kernel" in table and "fine_tuned" in table
    assert os.path.getsize(os.path.join(out, "figures", "stages.png")) > 0
    assert summary["layers"][0]["dense"] > 0


@pytest.mark.slow
def test_a_rerun_resumes_the_finished_stages_and_a_changed_config_is_one_line(compressed, monkeypatch, capsys):
    from compress import fit

    workdir, summary = compressed
    steps = []
    monkeypatch.setattr(fit, "tqdm", lambda iterable, **kwargs: steps.append(list(iterable)) or iter(steps[-1]))
    assert main(["deep_compression", "--pretrained", "mlp_digits", "--workdir", workdir, "--no-progress"]) == 0
    assert steps == [[], []]  # retraining and fine-tuning were restored, not run
    with open(os.path.join(workdir, "deep_compression", "summary.json")) as f:
        assert json.load(f)["accuracy"] == summary["accuracy"]
    assert main(["deep_compression", "--pretrained", "mlp_digits", "--workdir", workdir, "--config.bits=4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "changed: bits 5 -> 4" in err[0], err


def test_bad_pipeline_and_bad_override_exit_with_one_line(capsys, tmp_path):
    assert main(["prune_everything"]) == 2
    assert main(["deep_compression", "--workdir", str(tmp_path), "--config.sparsity=lots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("error: unknown pipeline") and "expected float" in err[1]
    assert main(["dsd", "--pretrained", "mlp_digits", "--workdir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "error: --pretrained: the dsd pipeline trains its own models"
