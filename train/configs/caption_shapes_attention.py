"""Show-Attend-Tell captioner on shapes_captions: soft attention over a 16x16 grid, BLEU and attention correctness.

The decoder uses the gating scalar of Show, Attend and Tell.
"""

from train.configs import caption_shapes


def get_config():
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = caption_shapes.get_config()
    c.model.name = "attention"
    c.model.encoder_pools = 2       # three conv stages, pooled twice: a 16x16 grid of 4x4-pixel cells
    c.num_steps = 3000              # optimizer steps (attention correctness measured in docs/results.md)
    c.encoder_pretraining_steps = 0  # its encoder (a 16x16 grid) learns from scratch with the captioner
    c.attention_reg = 0.0           # lambda of mean_i (1 - sum_t alpha_ti)^2 (Xu et al. 2015); off here, where
                                    # spreading attention over all cells works against naming small objects
    return c
