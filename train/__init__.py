"""Everything to fit a model: data, state, steps, the loop, recipes and the CLI.

Heavy pieces are imported from their modules (`from train.loop import run`,
`from train.data import load`) so that `python -m train --list` starts fast.
"""

from train.errors import DatasetUnavailable, TrainingDiverged, UserError
from train.state import TrainState
from train.steps import make_eval_step, make_train_step, mean_over_batches

__all__ = ["DatasetUnavailable", "TrainState", "TrainingDiverged", "UserError", "make_eval_step",
           "make_train_step", "mean_over_batches"]
