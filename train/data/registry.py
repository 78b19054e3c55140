"""Dataset registry: the bundled builders first, then the TFDS catalog.

`load(name, split)` returns a whole split as a dict of numpy arrays (every dataset here
fits in memory); `load_text(name, split)` returns a text corpus as one string. Images come
back as float32 NHWC in [0, 1], labels as int32.
"""

import contextlib
import io
import logging
import os

import numpy as np

from train.data.bundled import BUNDLED
from train.errors import DatasetUnavailable, EmptySplit

_ALTERNATIVES = f"bundled datasets that need no download: {', '.join(sorted(BUNDLED))}"


def data_dir(path: str | None = None) -> str:
    """The TFDS data directory: `path` if given, else $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
    return os.path.expanduser(path or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets")


@contextlib.contextmanager
def _quiet():
    """Hide TFDS's generation chatter (absl warnings, 'Downloading and preparing ...')."""
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        absl_logger.setLevel(level)


def builder(name: str, path: str | None = None):
    """Returns a prepared TFDS builder for `name`; bundled datasets are generated on first use.

    Args:
        name: Dataset name, optionally with a config (`"name/config"`).
        path: Optional data directory (see `data_dir`).

    Returns:
        The prepared `tfds.core.DatasetBuilder`.

    Raises:
        DatasetUnavailable: If the dataset or config is unknown, cannot be opened, or cannot be
            prepared (e.g. without TensorFlow or a network).
    """
    import tensorflow_datasets as tfds

    directory = data_dir(path)
    base, _, config = name.partition("/")
    if base in BUNDLED:
        configs = [c.name for c in BUNDLED[base].BUILDER_CONFIGS or ()]
        if config and config not in configs:
            raise DatasetUnavailable(f"bundled dataset '{base}' has no config '{config}'"
                                     + (f"; its configs are {', '.join(configs)}" if configs else ""))
        with _quiet():
            b = BUNDLED[base](data_dir=directory, **({"config": config} if config else {}))
            prepared = b.is_prepared()
        if not prepared:
            print(f"Preparing bundled dataset '{name}' in {directory} (once) ...", flush=True)
            tfds.disable_progress_bar()
            with _quiet():
                b.download_and_prepare()
        return b
    try:
        with _quiet():
            b = tfds.builder(name, data_dir=directory)
            prepared = b.is_prepared()
    except tfds.core.registered.DatasetNotFoundError:
        raise DatasetUnavailable(f"unknown dataset '{name}': not bundled and not in the TFDS catalog; "
                                 f"{_ALTERNATIVES}") from None
    except Exception as e:  # a catalog builder whose own code needs TensorFlow (e.g. coco_captions)
        cause = str(e).split(": ")[-1].splitlines()[0][:200]
        raise DatasetUnavailable(f"TFDS catalog dataset '{name}' could not be opened ({cause}); install the "
                                 f"`tf` extra (pip install -e '.[tf]') and prepare it in a data_dir; "
                                 f"{_ALTERNATIVES}") from None
    if not prepared:
        if not _has_tensorflow():
            raise DatasetUnavailable(
                f"TFDS catalog dataset '{name}' is not prepared in {directory} and building it needs "
                f"TensorFlow: pip install -e '.[tf]' (and a network), or point --config.data_dir at a "
                f"prepared copy; {_ALTERNATIVES}")
        try:
            b.download_and_prepare()
        except Exception as e:  # offline, blocked, or a failed download: one line, not a traceback
            raise DatasetUnavailable(
                f"could not download and prepare TFDS dataset '{name}' into {directory} "
                f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else 'no message'}); run "
                f"`tfds build {name}` on a machine with a network and pass --config.data_dir; "
                f"{_ALTERNATIVES}") from None
    return b


def _has_tensorflow() -> bool:
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def _records(name: str, split: str, path: str | None) -> list[dict]:
    b = builder(name, path)
    base = split_name(split)
    if base not in b.info.splits:
        raise DatasetUnavailable(f"dataset '{name}' has no split '{base}'; its splits are "
                                 f"{', '.join(sorted(b.info.splits))}")
    _check_nonempty(b, name, split)
    if b.info.file_format.value == "array_record":
        try:
            source = b.as_data_source(split=split)
        except (ValueError, AssertionError) as e:
            raise DatasetUnavailable(f"cannot read split '{split}' of '{name}' ({str(e).splitlines()[0][:120]}); "
                                     f"slices look like {base}[:200] or {base}[10%:20%]") from None
        return source.__getitems__(list(range(len(source))))
    if not _has_tensorflow():
        raise DatasetUnavailable(f"TFDS dataset '{name}' is stored as {b.info.file_format.value}, which "
                                 f"needs TensorFlow to read: pip install -e '.[tf]'")
    import tensorflow_datasets as tfds

    return list(tfds.as_numpy(b.as_dataset(split=split)))


def check_split(name: str, split: str, path: str | None = None) -> None:
    """Checks that `split` of dataset `name` selects examples, from the dataset's metadata alone.

    No records are read.

    Args:
        name: Dataset name.
        split: TFDS split, possibly sliced (`"test[:200]"`).
        path: Optional data directory.

    Raises:
        EmptySplit: (a `ValueError`) If `split` of `name` selects no examples.
    """
    b = builder(name, path)
    if split_name(split) in b.info.splits:
        _check_nonempty(b, name, split)


def _check_nonempty(b, name: str, split: str) -> None:
    try:
        count = b.info.splits[split].num_examples
    except (ValueError, AssertionError, KeyError):
        return  # a malformed slice: reading it says what is wrong
    if count == 0:
        raise EmptySplit(f"split '{split}' of '{name}' selects no examples; slices look like "
                         f"{split_name(split)}[:200] or {split_name(split)}[10%:20%]")


def split_name(split: str) -> str:
    """`split` without its TFDS slice (`"test[:200]"` -> `"test"`): the prefix of metric names."""
    return split.partition("[")[0]


def load(name: str, split: str, path: str | None = None) -> dict[str, np.ndarray]:
    """Loads the whole `split` of dataset `name` as numpy arrays keyed like its TFDS features.

    Args:
        name: Dataset name.
        split: Split, which may carry a TFDS slice, e.g. `"test[:200]"` or `"train[10%:20%]"`.
        path: Optional data directory.

    Returns:
        A dict of features. `image`: float32 `(N, H, W, C)` in [0, 1] (uint8 images are divided by
        255); `label`: int32 `(N,)`; other features are stacked as stored. Text features (decoded to
        `str`) and arrays of differing shapes (e.g. `sample_images`) come back as lists.

    Raises:
        DatasetUnavailable: If the dataset or split cannot be read.
        EmptySplit: If the split selects no examples.
    """
    records = _records(name, split, path)
    out = {}
    for key in records[0]:
        values = [_convert(key, r[key]) for r in records]
        if isinstance(values[0], str) or len({np.shape(v) for v in values}) > 1:
            out[key] = values
        else:
            out[key] = np.stack(values)
    return out


def _convert(key: str, value):
    if isinstance(value, bytes):
        return value.decode()
    if key == "image" and value.dtype == np.uint8:
        return value.astype(np.float32) / 255.0
    if key == "label":
        return np.int32(value)
    return value


def load_text(name: str, split: str, path: str | None = None) -> str:
    """Loads a text corpus split as one string (records joined in their `index` order).

    Raises:
        DatasetUnavailable: If the dataset cannot be read or has no `text` feature.
    """
    records = _records(name, split, path)
    if "text" not in records[0]:
        raise DatasetUnavailable(f"dataset '{name}' has no 'text' feature; text datasets: pydoc_topics, "
                                 f"or a TFDS text dataset such as tiny_shakespeare")
    records = sorted(records, key=lambda r: r.get("index", 0))
    return "".join(r["text"].decode() if isinstance(r["text"], bytes) else r["text"] for r in records)
