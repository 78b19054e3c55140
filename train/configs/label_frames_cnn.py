"""The frame CNN alone (no recurrence) labelling every frame of moving_digits: the baseline for label_frames_rnn."""

from train.configs import label_frames_rnn


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = label_frames_rnn.get_config()
    c.model.cell = "none"
    return c
