"""Captions as token ids, and the captioning metrics: corpus BLEU, grounding and attention correctness.

The object grounding and attention correctness metrics are listed below.

- `Vocabulary`: words of the training captions (optionally the `size` most frequent), after the
  specials `<pad>`, `<start>`, `<end>`, `<unk>`; saved with every checkpoint as a list.
- `corpus_bleu` (Papineni et al. 2002): clipped n-gram precisions over the whole corpus against all
  references of each image, geometric mean of orders 1..N, brevity penalty with the closest
  reference length.
- `object_grounding`: of the objects a caption names, the share present in the scene (precision),
  and of the scene's objects, the share named (recall).
- `attention_correctness` (after Liu et al. 2017): for each generated word that names an object in a
  `shapes_captions` scene, the share of that step's attention mass inside the object's mask.
"""

import collections
import math
import re

import numpy as np

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)


def tokenize(caption: str) -> list[str]:
    """Lower-case words and commas (punctuation other than commas dropped)."""
    return re.findall(r"[a-z0-9]+|,", caption.lower())


class Vocabulary:
    """Word <-> id. `words` lists every id's word; ids 0..3 are `<pad>`, `<start>`, `<end>`, `<unk>`."""

    def __init__(self, words: list[str]):
        if tuple(words[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}; got {words[:4]}")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, captions, size: int = 0) -> "Vocabulary":
        """Build a vocabulary from tokenized training captions (`[[word, ...], ...]`).

        Words are ranked most frequent first (ties by spelling); `size` > 0 keeps that many ids in
        all, the rest become `<unk>`.
        """
        counts = collections.Counter(w for caption in captions for w in caption)
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        keep = ranked[:size - len(SPECIALS)] if size else ranked
        return cls(list(SPECIALS) + keep)

    def __len__(self):
        return len(self.words)

    def encode(self, words: list[str], max_length: int) -> np.ndarray:
        """`(max_length + 1,)` ids: `<start> w_1 ... w_n <end> <pad> ...`, words cut to `max_length - 1`."""
        ids = [self.index[START]] + [self.index.get(w, self.index[UNK]) for w in words[:max_length - 1]]
        ids.append(self.index[END])
        return np.array(ids + [self.index[PAD]] * (max_length + 1 - len(ids)), np.int32)

    def decode(self, ids) -> list[str]:
        """Words up to (not including) the first `<end>`, without padding."""
        words = []
        for i in np.asarray(ids).tolist():
            if i == self.index[END]:
                break
            if i != self.index[PAD]:
                words.append(self.words[i])
        return words


def _ngrams(words, n):
    return collections.Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def corpus_bleu(hypotheses: list[list[str]], references: list[list[list[str]]], max_order: int = 4) -> dict:
    """Return `{"bleu_1": ..., ..., "bleu_N": ...}` of tokenized `hypotheses` against their references.

    Each hypothesis has a list of tokenized `references`; unsmoothed (an order with no match
    gives 0).

    Raises:
        ValueError: If there are not as many reference lists as hypotheses.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists")
    matches, totals = [0] * max_order, [0] * max_order
    hyp_length = ref_length = 0
    for hyp, refs in zip(hypotheses, references):
        hyp_length += len(hyp)
        ref_length += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_order + 1):
            counts = _ngrams(hyp, n)
            most = collections.Counter()
            for r in refs:
                most |= _ngrams(r, n)
            matches[n - 1] += sum(min(c, most[g]) for g, c in counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    brevity = 1.0 if hyp_length > ref_length else math.exp(1 - ref_length / max(hyp_length, 1))
    scores, log_sum = {}, 0.0
    for n in range(1, max_order + 1):
        if matches[n - 1] == 0 or totals[n - 1] == 0:
            log_sum = -math.inf
        else:
            log_sum += math.log(matches[n - 1] / totals[n - 1])
        scores[f"bleu_{n}"] = brevity * math.exp(log_sum / n) if log_sum > -math.inf else 0.0
    return scores


def _mentioned_objects(words: list[str], j: int, scene_objects) -> list[int]:
    """Return the indices of the rows of `scene_objects` that the shape word `words[j]` can name.

    `scene_objects: (K, 5)` holds shape, colour, size, row, col (-1 padded). A row matches with
    the same shape, and the colour and size of the two words before it where those are colour or
    size words ("a small red circle", "a circle").
    """
    from train.data.shapes import COLOUR_NAMES, SHAPES, SIZE_NAMES

    wanted = [o for o in range(len(scene_objects)) if scene_objects[o, 0] == SHAPES.index(words[j])]
    before = words[max(j - 2, 0):j]
    for attribute, names in ((1, COLOUR_NAMES), (2, SIZE_NAMES)):
        named = [names.index(w) for w in before if w in names]
        if named:
            wanted = [o for o in wanted if scene_objects[o, attribute] == named[-1]]
    return wanted


def object_grounding(captions: list[list[str]], objects) -> dict:
    """How well generated captions describe their `shapes_captions` scenes, beyond BLEU.

    A mention is a shape word with the size and colour words before it ("a small red circle",
    "a red circle"); it is grounded when some object of the scene has that shape and every
    attribute it names. `object_precision`: grounded mentions / mentions; `object_recall`: the
    share of the scenes' objects that at least one grounded mention can name. `objects: (N, K, 5)`
    rows (shape, colour, size, row, col), -1 padded; `mentions`: how many mentions were counted.
    """
    from train.data.shapes import SHAPES

    objects = np.asarray(objects)
    if len(captions) != len(objects):
        raise ValueError(f"{len(captions)} captions but {len(objects)} scenes")
    mentions = grounded = named = present = 0
    for words, scene in zip(captions, objects):
        hit = set()
        for j, word in enumerate(words):
            if word in SHAPES:
                wanted = _mentioned_objects(words, j, scene)
                mentions += 1
                grounded += bool(wanted)
                hit.update(wanted)
        named += len(hit)
        present += int((scene[:, 0] >= 0).sum())
    return {"object_precision": grounded / mentions if mentions else 0.0,
            "object_recall": named / present if present else 0.0, "mentions": mentions}


def attention_correctness(captions: list[list[str]], alphas, segmentation, objects) -> dict:
    """Mean share of attention inside the named object, over every generated shape word.

    `captions[i]`: generated words; `alphas: (N, T, h * w)` the attention when word t was
    produced; `segmentation: (N, H, W)` object maps (k + 1 for object k); `objects: (N, K, 5)`
    rows (shape, colour, size, row, col), -1 padded. The named object is the one whose shape is
    the word and whose colour and size match the words before it, when given; words naming no
    object of the scene are counted as `unmatched`. `uniform` is what spreading the attention
    evenly would score (the object's share of the image).
    """
    from train.data.shapes import SHAPES

    alphas = np.asarray(alphas)
    n, t, cells = alphas.shape
    side = int(round(math.sqrt(cells)))
    shares, uniform, unmatched = [], [], 0
    for i, words in enumerate(captions):
        for j, word in enumerate(words[:t]):
            if word not in SHAPES:
                continue
            wanted = _mentioned_objects(words, j, objects[i])
            if not wanted:
                unmatched += 1
                continue
            mask = segmentation[i] == wanted[0] + 1
            h, w = mask.shape
            cell_mass = mask.reshape(side, h // side, side, w // side).mean(axis=(1, 3))   # mask share per cell
            shares.append(float((alphas[i, j].reshape(side, side) * cell_mass).sum()))
            uniform.append(float(mask.mean()))
    return {"attention_correctness": float(np.mean(shares)) if shares else 0.0,
            "uniform_attention": float(np.mean(uniform)) if uniform else 0.0,
            "object_words": len(shares), "unmatched_object_words": unmatched}
