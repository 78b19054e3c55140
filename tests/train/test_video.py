"""moving_digits and frame labelling: videos are deterministic by seed, segments change the digit,
occluders hide it; a short CNN + GRU run labels frames far above chance."""

import numpy as np
import pytest

from tests.helpers import load_run_without_data
from train import configs
from train.data import moving_digits as md
from train.data.bundled import _digit_arrays
from train.loop import run
from train.overrides import apply_overrides

IMAGES, LABELS = (lambda a: (a[0][..., 0], a[1]))(_digit_arrays())


def test_same_seed_gives_byte_identical_videos():
    make = lambda seed: md.video(np.random.default_rng(seed), IMAGES, LABELS)
    a, b, c = make(3), make(3), make(4)
    for key in a:
        assert a[key].tobytes() == b[key].tobytes()
    assert a["video"].tobytes() != c["video"].tobytes()


def test_segments_change_the_digit_and_occluders_hide_it():
    rng = np.random.default_rng(0)
    for _ in range(50):
        v = md.video(rng, IMAGES, LABELS)
        assert v["video"].shape == (md.FRAMES, md.SIZE, md.SIZE, 1) and v["video"].dtype == np.uint8
        boundaries = np.flatnonzero(np.diff(v["label"])) + 1
        lengths = np.diff(np.concatenate([[0], boundaries, [md.FRAMES]]))
        assert lengths.min() >= md.MIN_SEGMENT
        for t in np.flatnonzero(v["corruption"] == md.OCCLUDED):
            assert set(np.unique(v["video"][t])) <= {0, 128}            # background and the grey block only
        clean = v["video"][v["corruption"] == md.CLEAN]
        assert (clean.reshape(len(clean), -1).max(1) > 200).all()       # a digit is visible on clean frames


@pytest.mark.slow
def test_cnn_with_gru_labels_frames(tmp_path, monkeypatch):
    config = apply_overrides(configs.get_config("label_frames_rnn"),
                             {"num_steps": "120", "eval_every": "0", "checkpoint_every": "120",
                              "model.features": "(16, 32)", "model.hidden": "64"})
    summary = run("label_frames_rnn", config, str(tmp_path), progress=False)
    report = summary["report"]
    assert report["frame_accuracy"] > 0.3, report           # chance: 0.1; 120 small steps reach 0.47 here
    assert (tmp_path / "figures" / "frames.png").exists()
    _, state, meta = load_run_without_data(str(tmp_path), monkeypatch)
    assert int(state.step) == 120 and meta["shapes"]["video"][-1] == 1
