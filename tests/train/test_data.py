
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from train import data
from train.data.registry import _has_tensorflow
from train.errors import DatasetUnavailable


@pytest.fixture(scope="module")
def digits():
    return {split: data.load("digits", split) for split in ("train", "test")}


def test_data_dir_respects_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    assert data.data_dir() == str(tmp_path)
    assert data.data_dir("/elsewhere") == "/elsewhere"


def test_digits_split_is_stratified_80_20(digits):
    train, test = digits["train"], digits["test"]
    assert train["image"].shape == (1437, 8, 8, 1) and test["image"].shape == (360, 8, 8, 1)
    assert train["image"].dtype == np.float32 and train["label"].dtype == np.int32
    assert 0.0 <= train["image"].min() and train["image"].max() <= 1.0
    test_share = np.bincount(test["label"], minlength=10) / np.bincount(
        np.concatenate([train["label"], test["label"]]), minlength=10)
    np.testing.assert_allclose(test_share, 0.2, atol=0.01)


def test_digits_matches_scikit_learn(digits):
    from sklearn.datasets import load_digits

    ref = load_digits()
    ours = np.concatenate([digits["train"]["image"], digits["test"]["image"]])[..., 0] * 16
    # Every stored image is one of sklearn's, as a multiset of rows.
    key = lambda a: sorted(map(bytes, np.round(a).astype(np.uint8).reshape(len(a), -1)))
    assert key(ours) == key(ref.images)


def test_bundled_builds_are_deterministic(tmp_path):
    a = data.BUNDLED["digits"](data_dir=str(tmp_path / "a"))
    a.download_and_prepare()
    first = data.load("digits", "test")
    ref = a.as_data_source(split="test")
    again = np.stack([ex["image"] for ex in ref.__getitems__(list(range(len(ref))))])
    np.testing.assert_array_equal(first["image"], again)


def test_mnist1d_sizes_and_its_validation_split_is_the_generators_last_500_training_signals():
    from mnist1d.data import get_dataset_args, make_dataset

    train, validation, test = (data.load("mnist1d", s) for s in ("train", "validation", "test"))
    assert train["signal"].shape == (3500, 40, 1) and test["signal"].shape == (1000, 40, 1)
    source = make_dataset(get_dataset_args())
    rows = lambda x, y: sorted(np.asarray(x, np.float32).tobytes() + bytes([int(label)]) for x, label in zip(x, y))
    # the same examples (TFDS stores them in its own shuffled order)
    assert rows(validation["signal"][..., 0], validation["label"]) == rows(source["x"][3500:], source["y"][3500:])
    assert set(np.unique(train["label"])) == set(range(10))


def test_pydoc_topics_is_the_reference_prose_split_by_position():
    from pydoc_data.topics import topics

    corpus = "\n\n".join(topics[k] for k in sorted(topics))
    parts = [data.load_text("pydoc_topics", s) for s in ("train", "validation", "test")]
    assert "".join(parts) == corpus
    np.testing.assert_allclose([len(p) / len(corpus) for p in parts], [0.9, 0.05, 0.05], atol=1e-3)


def test_sample_images_are_rgb_in_unit_range():
    images = data.load("sample_images", "train")
    assert sorted(images["name"]) == sorted(data.bundled.SAMPLE_IMAGES)
    assert all(im.shape[-1] == 3 and im.dtype == np.float32 and 0 <= im.min() and im.max() <= 1
               for im in images["image"])


def test_shapes_captions_scenes_agree_with_their_masks_and_captions():
    from train.data.shapes import COLOUR_NAMES, COLOURS, SHAPES, SIZE_NAMES

    scenes = data.load("shapes_captions", "test")
    assert scenes["image"].shape == (1000, 64, 64, 3) and len(scenes["captions"]) == 1000
    counts = (scenes["objects"][:, :, 0] >= 0).sum(1)
    assert set(counts) == {1, 2, 3}
    for i in range(50):
        objects = scenes["objects"][i][:counts[i]]
        assert (np.diff(objects[:, 4]) >= 0).all()                          # named left to right
        assert set(np.unique(scenes["segmentation"][i])) == set(range(counts[i] + 1))
        assert scenes["label"][i] == objects[0, 0]
        refs = scenes["captions"][i].split("\n")
        assert len(refs) == 5
        for shape, colour, size, _row, col in objects:
            pixels = scenes["image"][i][scenes["segmentation"][i] == list(objects[:, 4]).index(col) + 1]
            np.testing.assert_allclose(pixels.mean(0) * 255, COLOURS[COLOUR_NAMES[colour]], atol=13)
            assert any(f"{COLOUR_NAMES[colour]} {SHAPES[shape]}" in ref for ref in refs)
            assert any(SIZE_NAMES[size] in ref for ref in refs)


def test_shapes_captions_single_config_and_determinism():
    from train.data.shapes import render_scene

    single = data.load("shapes_captions/single", "validation")
    assert len(single["label"]) == 500 and (single["segmentation"].reshape(500, -1).max(1) == 1).all()
    a, b = (render_scene(np.random.default_rng(7), 3) for _ in range(2))
    np.testing.assert_array_equal(a.image, b.image)
    with pytest.raises(DatasetUnavailable, match="configs are scenes, single"):
        data.load("shapes_captions/triple", "train")


def test_unknown_split_names_the_real_ones():
    with pytest.raises(DatasetUnavailable, match="splits are test, train"):
        data.load("digits", "validation")


def test_split_slices_read_part_of_a_split(digits):
    part = data.load("digits", "test[10:30]")
    np.testing.assert_array_equal(part["image"], digits["test"]["image"][10:30])
    np.testing.assert_array_equal(part["label"], digits["test"]["label"][10:30])
    with pytest.raises(DatasetUnavailable, match=r"slices look like test\[:200\]"):
        data.load("digits", "test[:many]")


@pytest.mark.parametrize("split", ["test[:0]", "test[50%:50%]"])
def test_a_slice_that_selects_nothing_is_a_value_error(split):
    for check in (data.load, data.check_split):
        with pytest.raises(ValueError, match=r"selects no examples; slices look like test\[:200\]"):
            check("digits", split)
    data.check_split("digits", "test[:1]")


def test_unknown_dataset_names_bundled_alternatives():
    with pytest.raises(DatasetUnavailable, match="addition, cluttered_digits, cluttered_mnist, dates, digits, mnist1d, mnist5k, moving_digits, pydoc_topics, "
                                                   "sample_images, shapes_captions"):
        data.load("no_such_dataset_xyz", "train")


@pytest.mark.skipif(_has_tensorflow(), reason="checks the message shown when TensorFlow is missing")
def test_unprepared_catalog_dataset_without_tensorflow_is_one_clear_line(tmp_path):
    with pytest.raises(DatasetUnavailable) as e:
        data.load("cifar10", "train", str(tmp_path))
    message = str(e.value)
    assert "\n" not in message and "pip install -e '.[tf]'" in message and "digits" in message


class LocalCatalogToy(tfds.core.GeneratorBasedBuilder):
    """A catalog-registered dataset prepared from local data, read back through the catalog path."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "image": tfds.features.Tensor(shape=(4, 4, 3), dtype=np.uint8),
            "label": tfds.features.ClassLabel(num_classes=3)}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i in range(6):
            yield i, {"image": np.full((4, 4, 3), 51 * (i % 3), np.uint8), "label": i % 3}


def test_catalog_path_reads_a_prepared_local_dataset(tmp_path):
    LocalCatalogToy(data_dir=str(tmp_path), file_format="array_record").download_and_prepare()
    arrays = data.load("local_catalog_toy", "train", str(tmp_path))
    assert arrays["image"].shape == (6, 4, 4, 3) and arrays["image"].dtype == np.float32
    np.testing.assert_allclose(arrays["image"][:, 0, 0, 0], arrays["label"] * 0.2, atol=1e-6)


def test_decoded_columns_are_kept_and_read_back_until_the_dataset_is_prepared_again(tmp_path, monkeypatch):
    from train.data import registry

    toy = LocalCatalogToy(data_dir=str(tmp_path), file_format="array_record")
    toy.download_and_prepare()
    records = toy.as_data_source(split="train")
    records = records.__getitems__(list(range(len(records))))
    first = data.load("local_catalog_toy", "train", str(tmp_path))
    assert os.listdir(os.path.join(toy.data_dir, "arrays"))

    def no_records(*args):
        raise AssertionError("the records were decoded again")

    monkeypatch.setattr(registry, "_records", no_records)
    kept = data.load("local_catalog_toy", "train", str(tmp_path))
    for arrays in (first, kept):
        assert arrays["image"].dtype == np.float32 and arrays["label"].dtype == np.int32
        np.testing.assert_array_equal(arrays["image"], np.stack([r["image"] for r in records]) / np.float32(255))
        np.testing.assert_array_equal(arrays["label"], [r["label"] for r in records])
    info = os.path.join(toy.data_dir, "dataset_info.json")
    os.utime(info, ns=(os.stat(info).st_atime_ns, os.stat(info).st_mtime_ns + 10**9))  # prepared again
    with pytest.raises(AssertionError, match="decoded again"):
        data.load("local_catalog_toy", "train", str(tmp_path))


def test_kept_text_columns_read_back_as_the_same_strings(monkeypatch):
    from train.data import registry

    records = data.builder("dates").as_data_source(split="validation[:50]")
    sources = [r["source"].decode() for r in records.__getitems__(list(range(len(records))))]
    first = data.load("dates", "validation[:50]")
    monkeypatch.setattr(registry, "_records", lambda *args: pytest.fail("the records were decoded again"))
    kept = data.load("dates", "validation[:50]")
    assert first["source"] == kept["source"] == sources and isinstance(kept["source"][0], str)


def test_train_batches_are_a_function_of_seed_and_step():
    arrays = {"x": np.arange(10), "y": np.arange(10) * 2}
    stream = data.train_batches(arrays, 4, seed=3)
    first = [next(stream) for _ in range(6)]
    resumed = data.train_batches(arrays, 4, seed=3, start_step=4)
    for expected in first[4:]:
        got = next(resumed)
        np.testing.assert_array_equal(got["x"], expected["x"])
    np.testing.assert_array_equal(first[0]["y"], first[0]["x"] * 2)
    # Each epoch (2 batches, remainder of 2 dropped) draws distinct examples.
    for e in range(3):
        seen = np.concatenate([first[2 * e]["x"], first[2 * e + 1]["x"]])
        assert len(set(seen)) == 8
    other = next(data.train_batches(arrays, 4, seed=4))
    assert not np.array_equal(other["x"], first[0]["x"])


def test_train_batches_reject_batches_larger_than_the_data():
    with pytest.raises(ValueError, match="larger than the 3 training examples"):
        next(data.train_batches({"x": np.arange(3)}, 4, seed=0))


def test_eval_batches_pad_and_mask_a_full_pass():
    arrays = {"x": np.arange(10, dtype=np.float32)}
    batches = list(data.eval_batches(arrays, 4))
    assert [b["x"].shape for b in batches] == [(4,)] * 3
    assert sum(b["mask"].sum() for b in batches) == 10
    np.testing.assert_array_equal(np.concatenate([b["x"][b["mask"] > 0] for b in batches]), arrays["x"])
