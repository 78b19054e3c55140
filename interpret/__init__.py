"""Visualization, attribution, synthesis and adversarial attacks.

Every method takes a pure `apply_fn(params, x) -> logits` and arrays, so it works on any
model. `python -m interpret METHOD --workdir DIR` runs one on a trained run.

Compilation: a method that runs a whole computation (attributions, attacks, class visualization,
fooling images, synthesis, robustness measures, maximally activating patches) is one `jax.jit`
program, compiled once per input shapes, static options and function arguments, where a function
argument (`apply_fn`, a feature or layer function, a decoder) is keyed by what it computes
(`train.keyed_jit`): a new inline lambda over the same model reuses the program. Building blocks
that return a function or a traced value (`input_gradients`, `success_flags`, `layer_features`,
`gram`, `project`) are not compiled: trace them inside your own `jit`. Inputs are checked at the
call (ranks, label shapes and dtypes, finite pixels) with a `ValueError` naming the argument.
"""

from interpret.adversarial import fgsm, input_gradients, pgd, project, success_flags
from interpret.attribution import (grad_cam, guided_backprop, guided_relu, integrated_gradients, layer_gradient,
                                   neuron_gradient, occlusion, saliency, smoothgrad)
from interpret.features import gram, layer_features, random_multiscale
from interpret.network import embed_2d, filter_images, max_activating_patches, nearest_neighbours, receptive_field
from interpret.sanity import data_randomization_test, model_randomization_test, spearman
from interpret.synthesis import class_visualization, fooling_images, latent_visualization, multifaceted_visualization
from interpret.style import deepdream, invert_features, style_transfer, synthesize_texture, total_variation
from interpret.robustness import accuracy_and_confidence, attack_suite, linearity, robustness_table, transfer_matrix

__all__ = ["accuracy_and_confidence", "attack_suite", "class_visualization", "data_randomization_test", "deepdream",
           "embed_2d", "fgsm", "filter_images", "fooling_images", "grad_cam", "gram", "guided_backprop",
           "guided_relu", "input_gradients", "integrated_gradients", "invert_features", "latent_visualization",
           "layer_features", "layer_gradient", "linearity", "max_activating_patches", "model_randomization_test",
           "multifaceted_visualization", "nearest_neighbours", "neuron_gradient", "occlusion", "pgd", "project",
           "random_multiscale", "receptive_field", "robustness_table", "saliency", "smoothgrad", "spearman",
           "style_transfer", "success_flags", "synthesize_texture", "total_variation", "transfer_matrix"]
