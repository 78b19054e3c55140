"""Dataset registry: the bundled builders first, then the TFDS catalog.

`load(name, split)` returns a whole split as a dict of numpy arrays (every dataset here
fits in memory); `load_text(name, split)` returns a text corpus as one string. Images come
back as float32 NHWC in [0, 1], labels as int32.
"""

import contextlib
import hashlib
import io
import logging
import os
import tempfile

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

    Decoding TFDS records one by one takes seconds for the larger splits, so the decoded columns are
    kept once in `<builder data dir>/arrays/` and read from there while the prepared dataset is
    unchanged (a data dir that cannot be written is only read).

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
    b = builder(name, path)
    cache = _ColumnCache(b, split)
    columns = cache.read()
    if columns is None:
        columns = _columns(_records(name, split, path))
        cache.write(columns)
    return {key: _convert(key, column) for key, column in columns.items()}


def _columns(records: list[dict]) -> dict:
    """Records as columns: stacked arrays, lists of `str` for text, lists of arrays where shapes differ."""
    out = {}
    for key in records[0]:
        values = [r[key].decode() if isinstance(r[key], bytes) else r[key] for r in records]
        same_shape = not isinstance(values[0], str) and len({np.shape(v) for v in values}) == 1
        out[key] = np.stack(values) if same_shape else values
    return out


def _convert(key: str, column):
    if isinstance(column, list):
        return [_convert(key, v) for v in column] if key == "image" else column
    if key == "image" and column.dtype == np.uint8:
        return column.astype(np.float32) / 255.0
    if key == "label":
        return column.astype(np.int32)
    return column


class _ColumnCache:
    """The decoded columns of one split, kept in `<data dir>/arrays/<split>-<hash>.npz`.

    They are valid while the prepared dataset's `dataset_info.json` is the one they were decoded from.
    """

    def __init__(self, b, split: str):
        info = os.path.join(b.data_dir, "dataset_info.json")
        self.stamp = str(os.stat(info).st_mtime_ns) if os.path.exists(info) else ""
        digest = hashlib.sha1(split.encode()).hexdigest()[:12]
        self.path = os.path.join(b.data_dir, "arrays", f"{split_name(split)}-{digest}.npz")

    def read(self) -> dict | None:
        if not self.stamp or not os.path.exists(self.path):
            return None
        try:
            with np.load(self.path) as stored:
                if str(stored["__stamp__"]) != self.stamp:
                    return None
                text = set(stored["__text__"].tolist())
                return {k: stored[k].tolist() if k in text else stored[k] for k in stored.files
                        if not k.startswith("__")}
        except (OSError, ValueError, KeyError, EOFError):  # damaged or from elsewhere: decode again
            return None

    def write(self, columns: dict) -> None:
        text = [k for k, v in columns.items() if isinstance(v, list)]
        if not self.stamp or any(not isinstance(columns[k][0], str) for k in text):
            return  # arrays of differing shapes are not kept
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=folder, suffix=".npz")
        except OSError:
            return  # a data dir this process cannot write: decode each time
        try:
            with os.fdopen(handle, "wb") as f:
                np.savez(f, __stamp__=np.array(self.stamp), __text__=np.array(text, dtype=str),
                         **{k: np.array(v, dtype=str) if k in text else v for k, v in columns.items()})
            os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from other users of a shared data dir
            os.replace(partial, self.path)  # whole or not at all, also when two processes write at once
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(partial)


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
