"""Caption vocabulary, BLEU against NLTK's reference implementation, object grounding and attention
correctness by hand."""

import numpy as np
import pytest

from train.caption_text import END, Vocabulary, attention_correctness, corpus_bleu, object_grounding, tokenize

HYPOTHESES = ["a small red circle to the left of a blue square", "a green triangle above a red square",
              "there is a large yellow circle", "a purple square and a purple square and"]
REFERENCES = [["a small red circle to the left of a large blue square", "a red circle to the left of a blue square"],
              ["a green triangle above a small red square", "a small red square below a green triangle"],
              ["there is a large yellow circle in the top left", "a large yellow circle"],
              ["a purple square", "a small purple square in the middle"]]


def test_vocabulary_round_trip_and_cap():
    captions = [tokenize(c) for refs in REFERENCES for c in refs]
    vocab = Vocabulary.build(captions)
    ids = vocab.encode(tokenize("A red circle, a PINK square!"), max_length=10)
    assert ids.shape == (11,) and ids[0] == vocab.index["<start>"]
    assert vocab.decode(ids[1:]) == ["a", "red", "circle", "<unk>", "a", "<unk>", "square"]   # no comma in training
    small = Vocabulary.build(captions, size=6)                              # 4 specials + the 2 commonest words
    assert small.words[4:] == ["a", "square"] and len(small) == 6
    assert vocab.encode(["a"] * 30, max_length=5)[-1] == vocab.index[END]   # cut, and still ended


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_corpus_bleu_matches_nltk(order):
    bleu = pytest.importorskip("nltk.translate.bleu_score", reason="the reference check needs nltk")
    hyps = [tokenize(h) for h in HYPOTHESES]
    refs = [[tokenize(r) for r in rs] for rs in REFERENCES]
    expected = bleu.corpus_bleu(refs, hyps, weights=tuple([1 / order] * order))
    assert corpus_bleu(hyps, refs)[f"bleu_{order}"] == pytest.approx(expected, abs=1e-12)


def test_bleu_of_a_reference_is_one_and_of_nonsense_zero():
    refs = [[tokenize(r) for r in rs] for rs in REFERENCES]
    assert corpus_bleu([r[0] for r in refs], refs)["bleu_4"] == pytest.approx(1.0)
    assert corpus_bleu([["zebra"] * 5 for _ in refs], refs)["bleu_1"] == 0.0


def test_object_grounding_by_hand():
    # rows (shape, colour, size, row, col): circle/square/triangle 0/1/2, red/green/blue/yellow/purple/orange 0..5,
    # small/large 0/1
    two = [[0, 0, 0, 20, 10], [1, 2, 1, 20, 50], [-1] * 5]             # a small red circle, a large blue square
    objects = np.array([two,
                        [[2, 1, 0, 30, 10], [0, 5, 1, 30, 50], [-1] * 5],   # a small green triangle, a large orange circle
                        [[0, 3, 1, 30, 10], [1, 4, 0, 30, 50], [-1] * 5],   # a large yellow circle, a small purple square
                        two])
    captions = [tokenize(c) for c in ("a small red circle to the left of a blue square",   # 2 of 2 grounded
                                      "a red triangle above a green triangle",             # no red triangle: 1 of 2
                                      "a large purple square",                             # the purple square is small
                                      "a blue circle and a red square")]                   # colours swapped: 0 of 2
    result = object_grounding(captions, objects)
    assert result["mentions"] == 7
    assert result["object_precision"] == pytest.approx(3 / 7)
    assert result["object_recall"] == pytest.approx(3 / 8)       # named: both of scene 0, the green triangle
    assert object_grounding([[]], objects[:1]) == {"object_precision": 0.0, "object_recall": 0.0, "mentions": 0}


def test_attention_correctness_by_hand():
    # one 8x8 scene, a red circle (object 0) filling the top-left 4x4 quadrant of a 2x2 attention grid
    segmentation = np.zeros((1, 8, 8), np.uint8)
    segmentation[0, :4, :4] = 1
    objects = np.full((1, 3, 5), -1)
    objects[0, 0] = [0, 0, 0, 2, 2]                                   # circle, red, small
    alphas = np.zeros((1, 4, 4))
    alphas[0, 2] = [0.7, 0.1, 0.1, 0.1]                                 # "circle" is word 2
    result = attention_correctness([["a", "red", "circle", "square"]], alphas, segmentation, objects)
    assert result["attention_correctness"] == pytest.approx(0.7)
    assert result["uniform_attention"] == pytest.approx(0.25)
    assert result["object_words"] == 1 and result["unmatched_object_words"] == 1   # no square in the scene


def test_a_coco_style_catalog_dataset_is_resized_tokenized_and_capped(tmp_path):
    """TFDS `coco_captions` stores images of many sizes and a list of caption dicts per image; a
    local builder with that layout stands in for it (nothing is downloaded)."""
    import tensorflow_datasets as tfds

    from train import configs
    from train.tasks.captioning import load_captions

    class CocoLikeToy(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=(None, None, 3), dtype=np.uint8, encoding="zlib"),
                "captions": tfds.features.Sequence({"text": tfds.features.Text()})}))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            for i in range(4):
                yield i, {"image": np.full((20 + 4 * i, 30, 3), 60 * i, np.uint8),
                          "captions": {"text": [f"A dog number {i}.", "Two cats, sleeping!"]}}

    CocoLikeToy(data_dir=str(tmp_path), file_format="array_record").download_and_prepare()
    config = configs.get_config("caption_shapes")
    config.dataset, config.data_dir = "coco_like_toy", str(tmp_path)
    with pytest.raises(Exception, match="image_size"):
        load_captions(config, "train")
    config.image_size = 16
    loaded = load_captions(config, "train")
    assert loaded["image"].shape == (4, 16, 16, 3)
    assert sorted(refs[0][-1] for refs in loaded["captions"]) == ["0", "1", "2", "3"]     # TFDS shuffles by key
    assert all(refs[0][:3] == ["a", "dog", "number"] and refs[1] == ["two", "cats", ",", "sleeping"]
               for refs in loaded["captions"])
    vocab = Vocabulary.build([c for refs in loaded["captions"] for c in refs], size=8)
    assert len(vocab) == 8 and vocab.encode(["zebra"], 3)[1] == vocab.index["<unk>"]


def test_coco_captions_offline_is_one_clear_line(tmp_path):
    from train import configs
    from train.errors import DatasetUnavailable
    from train.tasks.captioning import load_captions

    config = configs.get_config("caption_shapes")
    config.dataset, config.data_dir, config.image_size = "coco_captions", str(tmp_path), 64
    with pytest.raises(DatasetUnavailable) as e:
        load_captions(config, "train")
    assert "\n" not in str(e.value) and "shapes_captions" in str(e.value)
