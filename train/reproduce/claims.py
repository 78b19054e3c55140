"""The claims `python -m train reproduce` checks: each names its paper and where the number is, the
setting there and here, the published number (None where this project could not look it up; the
entry then says so), how it is measured here, and the verdict criterion.

A measure function takes a `Runner` and returns the measured numbers: `measured` (the headline,
in the claim's unit) plus whatever its criterion and the report need.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from train.reproduce.criteria import Criterion, at_least, beats_by_spread, ordered

NOT_LOOKED_UP = ("not quoted: the paper could not be opened from this offline workplace, and a number "
                 "recalled rather than read is not reported; it is in {where}")


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str               # authors, year, title; where the number is
    paper_setting: str
    our_setting: str
    published: float | None  # in `unit`; None: see `published_note`
    published_note: str      # what the published number is, or why there is none
    unit: str
    criterion: Criterion
    measure: Callable        # Runner -> {"measured": float, ...}


def _test_arrays(task):
    import jax.numpy as jnp

    test = task.split(task.config.test_split)
    return jnp.asarray(test["inputs"]), jnp.asarray(test["label"])


def _test_accuracy(runner, name: str) -> float:
    summary = runner.train(name, *RUNS[name])
    return summary["test"][summary["primary_metric"]]


# name -> (recipe, overrides): the runs claims share (a run is trained once per reproduction directory)
RUNS = {
    "softmax_regression": ("classify_mnist5k_mlp", {"model.features": (), "augment.crop_padding": 0}),
    "lenet300": ("classify_mnist5k_mlp", {}),
    "lenet5": ("classify_mnist5k", {}),
    # Madry et al.'s MNIST network has 32 and 64 5x5 filters and 1,024 hidden units
    "madry_cnn": ("classify_mnist5k", {"model.features": (32, 64), "model.hidden": 1024, "augment.crop_padding": 0}),
    "madry_cnn_pgd": ("classify_mnist5k", {"model.features": (32, 64), "model.hidden": 1024, "augment.crop_padding": 0,
                                           "adversarial.method": "pgd", "adversarial.eps": 0.3,
                                           "adversarial.steps": 7, "adversarial.step_size": 0.1,
                                           "num_steps": 2000}),
    "mnist1d_mlp": ("classify_mnist1d_mlp", {}),
    "mnist1d_cnn": ("classify_mnist1d", {}),
    "mnist1d_gru": ("classify_mnist1d_rnn", {}),
}


def fgsm_softmax(runner) -> dict:
    from interpret.adversarial import fgsm
    from interpret.robustness import accuracy_and_confidence

    runner.train("softmax_regression", *RUNS["softmax_regression"])
    task, state = runner.load("softmax_regression")
    x, y = _test_arrays(task)
    clean = accuracy_and_confidence(task.logits, state.variables(), x, y)
    attacked = accuracy_and_confidence(task.logits, state.variables(), fgsm(task.logits, state.variables(), x, y, 0.25)[0], y)
    return {"measured": 1 - attacked["accuracy"], "clean_error": 1 - clean["accuracy"],
            "confidence_on_mistakes": attacked["confidence_on_mistakes"]}


PGD_EVAL = {"eps": 0.3, "steps": 40, "step_size": 0.01, "restarts": 5}  # Madry et al.'s MNIST adversary, 5 restarts


def _pgd_examples(task, variables, x, y, chunk: int = 100):
    """PGD_EVAL's adversarial examples of `x`, `chunk` images per call (the vmapped restarts of a
    fully unrolled attack hold every step's activations: all 1,000 test images at once need ~100 GB)."""
    import jax
    import jax.numpy as jnp

    from interpret.adversarial import pgd

    attack = jax.jit(lambda v, xb, yb, key: pgd(task.logits, v, xb, yb, PGD_EVAL["eps"], PGD_EVAL["step_size"],
                                                PGD_EVAL["steps"], key, restarts=PGD_EVAL["restarts"])[0])
    keys = jax.random.split(jax.random.key(0), -(-len(x) // chunk))
    return jnp.concatenate([attack(variables, x[i:i + chunk], y[i:i + chunk], k)
                            for k, i in zip(keys, range(0, len(x), chunk))])


def pgd_madry(runner) -> dict:
    from interpret.robustness import accuracy_and_confidence

    out = {}
    for name in ("madry_cnn", "madry_cnn_pgd"):
        runner.train(name, *RUNS[name])
        task, state = runner.load(name)
        x, y = _test_arrays(task)
        x_adv = _pgd_examples(task, state.variables(), x, y)
        out[f"{name}_clean_accuracy"] = accuracy_and_confidence(task.logits, state.variables(), x, y)["accuracy"]
        out[f"{name}_pgd_accuracy"] = accuracy_and_confidence(task.logits, state.variables(), x_adv, y)["accuracy"]
    out["measured"] = out["madry_cnn_pgd_pgd_accuracy"]
    out["ratio_to_undefended"] = out["measured"] / max(out["madry_cnn_pgd_accuracy"], 1e-3)
    return out


def _deep_compression(runner, name: str) -> dict:
    recipe, overrides = RUNS[name]
    runner.train(name, recipe, overrides)  # the pipeline compresses the run in its workdir
    summary = runner.compress(name, "deep_compression", {"recipe": recipe})
    acc = summary["accuracy"]
    return {"measured": summary["ratio"]["huffman"], "dense_error": 1 - acc["dense"], "compressed_error": 1 - acc["huffman"],
            "error_increase_points": 100 * (acc["dense"] - acc["huffman"]), "bytes": summary["bytes"]}


def _distillation(runner, name: str, recipe: str) -> dict:
    summary = runner.train(name, recipe)
    errors = summary["student_errors"]
    return {"measured": 100 * summary["mean_errors"]["distilled"] / summary["test_examples"],
            "student_distilled": errors["distilled"],
            "student_alone": errors["alone"], "student_alone_mean": summary["mean_errors"]["alone"],
            "teacher_errors": summary["teacher_errors"], "test_examples": summary["test_examples"]}


def mnist1d_baselines(runner) -> dict:
    acc = {k: _test_accuracy(runner, f"mnist1d_{k}") for k in ("mlp", "cnn", "gru")}
    return {"measured": acc["cnn"], **{f"{k}_accuracy": v for k, v in acc.items()}}


def _lenet5_scorer(runner) -> dict:
    """The override that makes a generative run score its samples with the `lenet5` run (trained
    here if the reproduction directory has none): its sample-quality and Fréchet features."""
    runner.train("lenet5", *RUNS["lenet5"])
    return {"eval_classifier": runner.path("lenet5")}


def nll_binarized_mnist(runner) -> dict:
    scorer = _lenet5_scorer(runner)
    pixelcnn = runner.train("pixelcnn", "pixelcnn_mnist5k", scorer)
    vae = runner.train("vae", "vae_mnist5k", scorer)
    return {"measured": pixelcnn["test"]["test_nll_nats"], "pixelcnn": pixelcnn["test"]["test_nll_nats"],
            "vae_iwae": vae["report"]["iwae_nll_nats"], "vae_negative_elbo": vae["test"]["test_negative_elbo"],
            "independent_pixels": pixelcnn["report"]["independent_pixels_nll_nats"]}


def nll_recurrent_binarized_mnist(runner) -> dict:
    scorer = _lenet5_scorer(runner)
    pixelrnn = runner.train("pixelrnn", "pixelrnn_mnist5k", scorer)
    draw = runner.train("draw", "draw_mnist5k", scorer)
    return {"measured": pixelrnn["test"]["test_nll_nats"], "pixelrnn": pixelrnn["test"]["test_nll_nats"],
            "draw_bound": draw["test"]["test_negative_bound"],
            "independent_pixels": pixelrnn["report"]["independent_pixels_nll_nats"]}


def ram_cluttered_mnist(runner) -> dict:
    acc = {name: runner.train(name, recipe)["test"]["test_accuracy"]
           for name, recipe in (("ram", "ram_cluttered_mnist"), ("ram_random", "ram_cluttered_mnist_random"),
                                ("mlp", "classify_cluttered_mnist_mlp"), ("cnn", "classify_cluttered_mnist_cnn"))}
    return {"measured": 1 - acc["ram"], **{f"{k}_accuracy": v for k, v in acc.items()}}


def dsd_lenet300(runner) -> dict:
    summary = runner.compress("dsd_lenet300", "dsd", {"recipe": "classify_mnist5k_mlp"})
    errors = {k: [round((1 - a) * 1000) for a in summary["test_accuracy"][k]] for k in ("dsd", "baseline")}
    return {"measured": float(np.mean(errors["dsd"])), "dsd": errors["dsd"], "dense": errors["baseline"]}


def gan_mnist(runner) -> dict:
    quality = runner.train("gan", "gan_mnist5k", _lenet5_scorer(runner))["report"]["sample_quality"]
    return {"measured": quality["frechet_ratio"], "frechet_distance": quality["frechet_distance"],
            "frechet_distance_noise": quality["frechet_distance_noise"], "classes_covered": quality["classes_covered"],
            "min_class_share": quality["min_class_share"]}


def gradient_flow(runner) -> dict:
    from train import gradient_flow as study

    numbers = runner.command("gradient_flow", study.main)
    first = dict(zip(numbers["sigma_sweep"], numbers["first_step_norm"]))
    updates = numbers["update_norm"]
    return {"measured": first[0.5], "norm_sigma_1": first[1.0], "norm_sigma_1.5": first[1.5],
            "max_update_unclipped": max(updates["no clipping"]), "max_update_clipped": max(updates["clip_by_global_norm(1.0)"]),
            "steps": numbers["steps"]}


COMPRESSION_RATIO = "compression ratio (dense float32 bytes / encoded bytes)"
DEEP_COMPRESSION_BAR = Criterion("reproduced if >= 30x smaller with test error up by <= 0.5 points; direction holds if "
                                 ">= 10x with error up by <= 2 points",
                                 lambda m: m["measured"] >= 30 and m["error_increase_points"] <= 0.5,
                                 lambda m: m["measured"] >= 10 and m["error_increase_points"] <= 2)

CLAIMS = [
    Claim(
        id="fgsm_softmax",
        paper="Goodfellow, Shlens & Szegedy 2015, Explaining and Harnessing Adversarial Examples, Section 4",
        paper_setting="softmax regression on MNIST (60,000 training digits), FGSM at eps 0.25, pixels in [0, 1]",
        our_setting="softmax regression on mnist5k (4,000 training digits, 2,000 Adam steps), FGSM at eps 0.25 on the 1,000 test digits",
        published=None, published_note=NOT_LOOKED_UP.format(where="Section 4 (error rate and mean confidence at eps 0.25)"),
        unit="test error rate under FGSM",
        criterion=at_least("measured", 0.90, 0.50, "the error rate under FGSM at eps 0.25"),
        measure=fgsm_softmax),
    Claim(
        id="pgd_madry",
        paper="Madry, Makelov, Schmidt, Tsipras & Vladu 2018, Towards Deep Learning Models Resistant to Adversarial Attacks, Section 5 (MNIST)",
        paper_setting="CNN 32-64 5x5 filters + 1,024 hidden, PGD training at eps 0.3 (40 steps of 0.01, 100k iterations); PGD evaluation with restarts",
        our_setting="the same widths with valid convolutions, mnist5k, 2,000 steps of PGD-7 training (step 0.1); PGD 40 x 0.01 with 5 restarts on 1,000 test digits",
        published=None, published_note=NOT_LOOKED_UP.format(where="Table 1 (MNIST, white-box PGD accuracies at eps 0.3)"),
        unit="test accuracy under PGD at eps 0.3 (PGD-trained CNN)",
        criterion=Criterion("reproduced if the PGD-trained CNN keeps >= 0.50 accuracy under PGD at eps 0.3 and >= 5x the "
                            "undefended CNN's; direction holds if it keeps more than the undefended CNN",
                            lambda m: m["measured"] >= 0.5 and m["measured"] >= 5 * m["madry_cnn_pgd_accuracy"],
                            lambda m: m["measured"] > m["madry_cnn_pgd_accuracy"]),
        measure=pgd_madry),
    Claim(
        id="distillation_mnist",
        paper="Hinton, Vinyals & Dean 2015, Distilling the Knowledge in a Neural Network, Section 3",
        paper_setting="MNIST; teacher 2x1200 ReLU MLP with dropout (67 test errors of 10,000); student 2x800 ReLU MLP alone "
                      "146 errors, distilled at temperature 20: 74 errors",
        our_setting="mnist5k; LeNet-5 teacher; 784-800-800-10 student alone vs distilled (T 20, soft weight 0.9), 3 seeds, errors of 1,000 test digits",
        published=0.74, published_note="distilled student: 74 test errors of 10,000 (alone 146, teacher 67), as quoted in train/distill_study.py",
        unit="test error of the distilled student, % (mean of 3 seeds)",
        criterion=beats_by_spread("student_distilled", "student_alone", "test errors"),
        measure=lambda runner: _distillation(runner, "distillation_mnist5k", "distill_mnist5k")),
    Claim(
        id="distillation_mnist1d",
        paper="Hinton, Vinyals & Dean 2015 (the method); Greydanus 2020, Scaling Down Deep Learning (MNIST-1D, where an MLP alone is weak)",
        paper_setting="MNIST-1D has no published distillation result; its MLP reaches 68% alone (Greydanus 2020)",
        our_setting="mnist1d (4,000/1,000 signals); 1-d CNN teacher; MLP 40-256-256-10 alone vs distilled (T 8, soft weight 0.9, 10,000 steps each), 3 seeds, errors of 1,000",
        published=None, published_note="no published distillation number on MNIST-1D; the direction is Hinton et al.'s claim",
        unit="test error of the distilled student, % (mean of 3 seeds)",
        criterion=beats_by_spread("student_distilled", "student_alone", "test errors"),
        measure=lambda runner: _distillation(runner, "distillation_mnist1d", "distill_mnist1d")),
    Claim(
        id="deep_compression_lenet300",
        paper="Han, Mao & Dally 2016, Deep Compression, Table 1 (LeNet-300-100)",
        paper_setting="LeNet-300-100 on MNIST; pruning, 6-bit sharing, Huffman coding",
        our_setting="LeNet-300-100 on mnist5k; 92% global pruning, 5-bit shared weights, 5-bit relative indices, Huffman; real encodings",
        published=None, published_note=NOT_LOOKED_UP.format(where="Table 1 (compression rate and error before/after)"),
        unit=COMPRESSION_RATIO, criterion=DEEP_COMPRESSION_BAR,
        measure=lambda runner: _deep_compression(runner, "lenet300")),
    Claim(
        id="deep_compression_lenet5",
        paper="Han, Mao & Dally 2016, Deep Compression, Table 1 (LeNet-5)",
        paper_setting="Caffe LeNet-5 (431K weights) on MNIST; pruning, sharing, Huffman coding",
        our_setting="the same LeNet-5 on mnist5k; 92% global pruning, 5-bit shared weights, 5-bit relative indices, Huffman",
        published=None, published_note=NOT_LOOKED_UP.format(where="Table 1 (compression rate and error before/after)"),
        unit=COMPRESSION_RATIO, criterion=DEEP_COMPRESSION_BAR,
        measure=lambda runner: _deep_compression(runner, "lenet5")),
    Claim(
        id="mnist1d_baselines",
        paper="Greydanus 2020, Scaling Down Deep Learning (MNIST-1D baselines)",
        paper_setting="MNIST-1D default (4,000/1,000); MLP 68%, CNN 94%, GRU 91% test accuracy",
        our_setting="the same data (the mnist1d package's default arguments); MLP 40-100-100-10, 1-d CNN, GRU",
        published=0.94, published_note="CNN 94% (MLP 68%, GRU 91%), as quoted in train/configs/classify_mnist1d*.py and issue 19",
        unit="CNN test accuracy",
        criterion=Criterion("reproduced if the CNN and the GRU reach their published accuracies less 3 points (0.91, 0.88) "
                            "and the MLP stays weak (at most 0.68 + 5 points); direction holds if the CNN and the GRU "
                            "both beat the MLP",
                            lambda m: m["cnn_accuracy"] >= 0.91 and m["gru_accuracy"] >= 0.88 and m["mlp_accuracy"] <= 0.73,
                            lambda m: m["mlp_accuracy"] < min(m["cnn_accuracy"], m["gru_accuracy"])),
        measure=mnist1d_baselines),
    Claim(
        id="nll_binarized_mnist",
        paper="van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks, Table 4 (binarized MNIST); "
              "Burda, Grosse & Salakhutdinov 2016 (importance-weighted bound)",
        paper_setting="binarized MNIST (50,000 training digits); PixelCNN and a VAE/IWAE among the compared models",
        our_setting="mnist5k/binarized (4,000 training digits, bits drawn once); gated PixelCNN (32 features, 1,500 steps); conv VAE (16 features, latent 32, 3,000 steps) scored with k = 200 "
                    "importance samples; independent Bernoulli pixels; all on the same 1,000 test images",
        published=None, published_note=NOT_LOOKED_UP.format(where="Table 4 of van den Oord et al. 2016 (NLL in nats)"),
        unit="test NLL of the gated PixelCNN (nats per image)",
        criterion=ordered(("pixelcnn", "vae_iwae", "independent_pixels"), "test NLL in nats"),
        measure=nll_binarized_mnist),
    Claim(
        id="nll_recurrent_binarized_mnist",
        paper="van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent Neural Networks, Table 4 (binarized MNIST: "
              "Row LSTM, and DRAW's bound from Gregor et al. 2015)",
        paper_setting="binarized MNIST (50,000 training digits); Row LSTM PixelRNN; DRAW with 64 glimpses",
        our_setting="mnist5k/binarized, the same 1,000 test images as nll_binarized_mnist; Row LSTM (2 layers, 32 hidden, 1,500 steps "
                    "of 32); DRAW with 2x2 reads, 5x5 writes, 16 glimpses, 3,000 steps; its number is an upper bound on the NLL",
        published=None, published_note=NOT_LOOKED_UP.format(where="Table 4 of van den Oord et al. 2016 (NLL in nats)"),
        unit="test NLL of the Row LSTM PixelRNN (nats per image)",
        criterion=Criterion("reproduced if the PixelRNN's NLL and DRAW's bound are both below the independent-pixels NLL; "
                            "direction holds if the PixelRNN's is",
                            lambda m: max(m["pixelrnn"], m["draw_bound"]) < m["independent_pixels"],
                            lambda m: m["pixelrnn"] < m["independent_pixels"]),
        measure=nll_recurrent_binarized_mnist),
    Claim(
        id="ram_cluttered_mnist",
        paper="Mnih, Heess, Graves & Kavukcuoglu 2014, Recurrent Models of Visual Attention, Table 2 (cluttered translated MNIST)",
        paper_setting="60x60 cluttered translated MNIST; RAM with REINFORCE-trained glimpses against fully connected and conv baselines",
        our_setting="cluttered_mnist (60x60, four 8x8 fragments, 4,000 training digits); RAM with 6 glimpses of 12x12 at 3 scales "
                    "against the same networks with random glimpses, an MLP and a CNN (16 and 32 channels) on the whole canvas; "
                    "the CNN is reported beside them, not part of the criterion",
        published=None, published_note=NOT_LOOKED_UP.format(where="Table 2 (test errors on 60x60 cluttered MNIST)"),
        unit="RAM test error rate",
        criterion=Criterion("reproduced if RAM's test accuracy is above both the random-glimpse control's and the MLP's; "
                            "direction holds if above the random-glimpse control's",
                            lambda m: m["ram_accuracy"] > max(m["ram_random_accuracy"], m["mlp_accuracy"]),
                            lambda m: m["ram_accuracy"] > m["ram_random_accuracy"]),
        measure=ram_cluttered_mnist),
    Claim(
        id="dsd_lenet300",
        paper="Han et al. 2017, DSD: Dense-Sparse-Dense Training for Deep Neural Networks",
        paper_setting="the paper reports ImageNet CNNs, RNNs and LSTMs, not LeNet-300-100",
        our_setting="LeNet-300-100 on mnist5k, DSD (dense, 50% sparse, re-dense) vs dense training of the same steps, 3 seeds",
        published=None, published_note="no published LeNet-300-100 number: the paper's experiments are on larger networks",
        unit="mean test errors of DSD (of 1,000)",
        criterion=beats_by_spread("dsd", "dense", "test errors"),
        measure=dsd_lenet300),
    Claim(
        id="gan_mnist",
        paper="Goodfellow et al. 2014, Generative Adversarial Nets, Section 5 and Table 1 (MNIST)",
        paper_setting="MNIST; an MLP generator and maxout discriminator, scored by a Parzen-window log-likelihood",
        our_setting="mnist5k (grey, 4,000 digits); DCGAN with the WGAN-GP loss, 3,000 steps; Fréchet distance of 1,000 samples "
                    "to the test digits in LeNet-5 features, against uniform noise's; classes of the samples by that LeNet-5",
        published=None, published_note="no comparable published number: the paper reports a Parzen-window estimate "
                                       "(Table 1), which is known to be a poor likelihood measure, not a feature distance",
        unit="Fréchet distance of samples / of uniform noise (lower is better)",
        criterion=Criterion("reproduced if the samples' Fréchet distance is below 0.2 of noise's and all 10 classes appear "
                            "with at least 3% of samples each; direction holds if below 0.5 of noise's",
                            lambda m: m["measured"] < 0.2 and m["classes_covered"] == 10 and m["min_class_share"] >= 0.03,
                            lambda m: m["measured"] < 0.5),
        measure=gan_mnist),
    Claim(
        id="gradient_flow",
        paper="Pascanu, Mikolov & Bengio 2013, On the difficulty of training recurrent neural networks, Section 2 "
              "(vanishing below and exploding above a largest singular value of 1) and Section 3 (clipping)",
        paper_setting="a condition on the recurrent weights' largest singular value, not a measured number; clipping the "
                      "gradient's norm bounds the update",
        our_setting="vanilla RNN, 32 units, 50 steps, W_hh orthogonal times sigma; ||dL/dh_0|| for sigma 0.5, 1, 1.5; "
                    "one SGD update of W_hh with and without clip_by_global_norm(1.0) (`python -m train gradient_flow`)",
        published=None, published_note="no published number: the claim is an inequality (sigma < 1 vanishes, > 1 can explode)",
        unit="||dL/dh_0|| at sigma 0.5 over 50 steps",
        criterion=Criterion("reproduced if ||dL/dh_0|| < 1e-6 at sigma 0.5 and > 1e6 at sigma 1.5 and clipping keeps every "
                            "update below 1/100 of the largest unclipped one; direction holds if the norm grows with sigma",
                            lambda m: m["measured"] < 1e-6 and m["norm_sigma_1.5"] > 1e6
                            and m["max_update_clipped"] < m["max_update_unclipped"] / 100,
                            lambda m: m["measured"] < m["norm_sigma_1"] < m["norm_sigma_1.5"]),
        measure=gradient_flow),
]

BY_ID = {claim.id: claim for claim in CLAIMS}
