"""Errors that mean "the user asked for something that cannot be done", not a bug.

Entry points catch `UserError`, print its one-line message and exit non-zero; anything
else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A mistake in the command, config or environment, with a one-line, actionable message.

    Attributes:
        exit_code: The process exit status entry points use for this error.
    """

    exit_code = 2


class DatasetUnavailable(UserError):
    """The dataset is unknown, or needs TensorFlow / a network / a prepared data_dir to load."""


class EmptySplit(DatasetUnavailable, ValueError):
    """A split or slice that selects no examples (`test[:0]`); a `ValueError` for library callers."""


class TrainingDiverged(UserError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class Interrupted(UserError):
    """Ctrl-C: the run stopped after saving what it could."""

    exit_code = 130
