"""Show-Attend-Tell captioner on shapes_captions: soft attention over the 8x8 grid, gating scalar, BLEU and attention correctness."""

from train.configs import caption_shapes


def get_config():
    c = caption_shapes.get_config()
    c.model.name = "attention"
    c.model.encoder_features = (32, 64)   # two stages: a 16x16 grid of 4x4-pixel cells to attend over
    c.attention_reg = 0.01          # lambda of mean_i (1 - sum_t alpha_ti)^2 (Xu et al. 2015)
    return c
