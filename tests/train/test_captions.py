"""Caption vocabulary, BLEU against NLTK's reference implementation, attention correctness by hand."""

import numpy as np
import pytest

from train.captions import END, Vocabulary, attention_correctness, corpus_bleu, tokenize

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
