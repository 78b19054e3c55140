"""`python -m interpret`: listing, the attack, attribution and fooling methods on a run and on a
shipped model (`--pretrained`), one-line errors."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import shipped_run


def interpret(*args):
    return subprocess.run([sys.executable, "-m", "interpret", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A run workdir holding the shipped digits CNN (nothing is trained)."""
    return shipped_run("cnn_digits", str(tmp_path_factory.mktemp("digits")))


def test_list_names_the_methods():
    result = interpret("--list")
    assert result.returncode == 0 and result.stdout.startswith("attack")
    assert {"segment", "style", "texture", "patches"} <= {line.split()[0] for line in result.stdout.splitlines()}


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


def test_pretrained_reads_the_shipped_model_and_writes_into_the_workdir(tmp_path):
    result = interpret("attribution", "--pretrained", "lenet5_mnist5k", "--workdir", str(tmp_path), "--count", "2",
                       "--steps", "16")
    assert result.returncode == 0, result.stderr
    numbers = json.load(open(tmp_path / "summary.json"))["interpret"]["attribution"]
    assert numbers["grad_cam_layer"] == "conv1" and numbers["images"] == 2  # LeNet-5's last conv: 28x28 digits
    assert os.path.getsize(tmp_path / "figures" / "attribution.png") > 0


def test_a_damaged_or_unknown_shipped_model_is_one_line_and_exit_2(tmp_path, capsys):
    import shutil

    from zoo import pretrained

    folder = tmp_path / "cnn_digits"
    shutil.copytree(os.path.join(pretrained.DIRECTORY, "cnn_digits"), folder)
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 1  # one bit of one weight
    weights.write_bytes(bytes(data))
    code, _, err = run_main(capsys, "attribution", "--pretrained", str(folder), "--workdir", str(tmp_path / "out"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {weights} does not match its sha256")
    code, _, err = run_main(capsys, "attack", "--pretrained", "lenet6", "--workdir", str(tmp_path / "out"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no shipped model or folder named 'lenet6'; shipped: " in err and "lenet5_mnist5k" in err


def test_fooling_turns_test_images_into_the_target(digits_run, capsys):
    result = interpret("fooling", "--workdir", digits_run, "--target", "7", "--count", "10")
    assert result.returncode == 0, result.stderr
    numbers = json.load(open(os.path.join(digits_run, "summary.json")))["interpret"]["fooling_target7"]
    assert numbers["fooled_fraction"] == 1.0 and numbers["mean_l2"] > 0
    code, _, err = run_main(capsys, "fooling", "--workdir", digits_run, "--target", "10")
    assert code == 2 and err.strip() == "error: --target must be a class in 0..9; got 10"


@pytest.mark.parametrize("args, message", [
    (["bogus"], "unknown method 'bogus'; choose one of: attack"),
    (["attack", "--workdir", "/nonexistent/run"], "no checkpoints in /nonexistent/run"),
    (["attack", "--workdir", "DIGITS", "--target", "12"], "--target must be a class in 0..9"),
    (["attack", "--workdir", "DIGITS", "--norm", "l1"], "invalid choice: 'l1'"),
])
def test_mistakes_get_one_line_and_exit_2(digits_run, args, message, capsys):
    # in this process (interpret.cli.main is what `python -m interpret` runs): a traceback would fail the test
    code, _, err = run_main(capsys, *[digits_run if a == "DIGITS" else a for a in args])
    assert code == 2 and message in err.strip().splitlines()[-1]


def run_main(capsys, *args):
    """`python -m interpret ARGS` in this process (jit caches shared): `(exit code, stdout, stderr)`."""
    from interpret.cli import main

    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def numbers(run, name):
    return json.load(open(os.path.join(run, "summary.json")))["interpret"][name]


def test_network_methods_record_numbers_and_draw(digits_run, capsys):
    for method, figure in [(["filters"], "filters_conv0_0"),
                           (["neighbours", "--k", "3"], "neighbours_dense"),
                           (["embedding", "--count", "100"], "embedding_dense"),
                           (["patches", "--layer", "conv0_1", "--channels", "0", "5", "--count", "200"], "patches_conv0_1"),
                           (["occlusion", "--count", "3", "--size", "2"], "occlusion")]:
        code, out, err = run_main(capsys, method[0], "--workdir", digits_run, *method[1:])
        assert code == 0, err
        assert os.path.getsize(os.path.join(digits_run, "figures", f"{figure}.png")) > 0
    agreement = numbers(digits_run, "neighbours_dense")["label_agreement"]
    assert agreement["features"] > 0.5 and 0 < agreement["pixels"] <= 1
    assert numbers(digits_run, "patches_conv0_1")["receptive_field"] == {"size": [5, 5], "stride": [1, 1],
                                                                          "offset": [-2, -2]}
    assert numbers(digits_run, "occlusion")["max_score_drop"] > 0


def test_synthesis_methods_on_the_run_and_on_bundled_images(digits_run, tmp_path, capsys):
    code, out, err = run_main(capsys, "visualize", "--workdir", digits_run, "--steps", "30", "--facets", "2",
                              "--facet_steps", "10")
    assert code == 0, err
    assert set(numbers(digits_run, "visualize")["classified_as_target"]) == {"pixel_space", "facets"}
    code, out, err = run_main(capsys, "deepdream", "--workdir", digits_run, "--count", "2", "--steps", "5")
    assert code == 0, err
    dream = numbers(digits_run, "deepdream_conv1_1")
    assert dream["objective_after"] > dream["objective_before"]
    code, out, err = run_main(capsys, "invert", "--workdir", digits_run, "--count", "2", "--steps", "50")
    assert code == 0 and numbers(digits_run, "invert_conv1_1")["relative_feature_error"] < 1, err
    art = str(tmp_path)
    code, out, err = run_main(capsys, "texture", "--workdir", art, "--size", "32", "--steps", "30")
    assert code == 0 and numbers(art, "texture_brick")["reduction"] > 1, err
    code, out, err = run_main(capsys, "style", "--workdir", art, "--size", "32", "--steps", "30")
    assert code == 0, err
    style = numbers(art, "style_chelsea_gravel")
    assert style["style_loss"]["result"] < style["style_loss"]["content_image"]
    assert os.path.exists(os.path.join(art, "figures", "style_chelsea_gravel.png"))


@pytest.mark.parametrize("args, message", [
    (["patches", "--workdir", "DIGITS", "--layer", "conv7"], "--layer 'conv7' is not a layer of this model"),
    (["segment", "--workdir", "DIGITS"], "segment needs a dataset with object masks"),
    (["deepdream", "--workdir", "OUT", "--vgg", "/nonexistent/vgg16.pth"], "--vgg /nonexistent/vgg16.pth: no such file"),
    (["texture", "--workdir", "OUT", "--texture", "marble"], "unknown image 'marble'; the bundled sample_images are"),
    (["visualize", "--workdir", "DIGITS", "--decoder", "DIGITS"], "--decoder needs a vae or gan run"),
])
def test_method_mistakes_get_one_line(digits_run, tmp_path, capsys, args, message):
    code, out, err = run_main(capsys, *[digits_run if a == "DIGITS" else str(tmp_path) if a == "OUT" else a
                                        for a in args])
    assert code == 2 and message in err.strip().splitlines()[-1], err
