"""Dataset registry over TFDS: bundled datasets generated locally, everything else from the TFDS catalog.

See DESIGN.md, "Data".
"""

from train.data.batches import eval_batches, train_batches
from train.data.bundled import BUNDLED
from train.data.registry import builder, check_split, data_dir, load, load_text, split_name

__all__ = ["BUNDLED", "builder", "check_split", "data_dir", "eval_batches", "load", "load_text", "split_name", "train_batches"]
