"""`python -m train gradient_flow [--workdir DIR] [--steps T]`: the exploding/vanishing
gradient study for recurrent cells, as numbers (`summary.json`) and a figure
(`figures/gradient_flow.png`).

(a) ||dL/dh_t|| against t for vanilla RNNs whose W_hh has every singular value sigma;
(b) ||dL/dh_0|| against sigma: the norm crosses 1 where sigma does;
(c) the same curve for a vanilla RNN and LSTMs at their initialization with random inputs,
    for several forget-gate biases (the cell state is the LSTM's gradient highway);
(d) the norm of one SGD update of W_hh with and without clipping by global norm
    (Pascanu et al. 2013): clipping bounds it whatever sigma is.
"""

import json
import os
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from train.arguments import ArgumentParser
from train.errors import UserError
from train.figures import save_figure
from train.state import init_variables
from zoo.rnn import LSTMCell, VanillaRNNCell
from zoo.rnn_gradients import carry_gradient_norms, scaled_orthogonal, with_recurrent_kernel

FEATURES, BATCH = 32, 8


@partial(jax.jit, static_argnums=1)
def vanilla_norms(sigma: float, steps: int):
    """`(steps,)` ||dL/dh_t|| of a tanh RNN with W_hh = sigma * orthogonal, zero inputs and state
    (the linearization at the origin, where the law is exact)."""
    cell, key = VanillaRNNCell(FEATURES), jax.random.key(0)
    xs = jnp.zeros((BATCH, steps, 1))
    params = cell.init(key, cell.initialize_carry(BATCH), xs[:, 0])["params"]
    params = with_recurrent_kernel(params, scaled_orthogonal(key, FEATURES, sigma))
    return carry_gradient_norms(cell, params, xs)


def initialized_norms(cell, steps: int, key=jax.random.key(1)):
    """`(steps,)` gradient norms of `cell` at its initialization, inputs ~ N(0, 1) of width 8."""
    xs = jax.random.normal(key, (BATCH, steps, 8))
    params = init_variables(cell, key, cell.initialize_carry(BATCH), xs[:, 0])["params"]
    return carry_gradient_norms(cell, params, xs)


def update_norms(sigma: float, steps: int, clip: float, lr: float = 0.1) -> float:
    """Norm of one SGD update (learning rate `lr`) of a linear RNN's parameters for the mean
    summed last state, inputs ~ N(0, 0.1^2), with (`clip > 0`) or without clipping."""
    return float(_update_norm(sigma, steps, clip, lr))


@partial(jax.jit, static_argnums=(1, 2, 3))
def _update_norm(sigma, steps, clip, lr):
    cell, key = VanillaRNNCell(FEATURES, act=_identity), jax.random.key(2)  # linear: sigma alone sets the scale
    xs = 0.1 * jax.random.normal(key, (BATCH, steps, 1))
    params = cell.init(key, cell.initialize_carry(BATCH), xs[:, 0])["params"]
    params = with_recurrent_kernel(params, scaled_orthogonal(key, FEATURES, sigma))

    def loss(params):
        def step(h, x):
            return cell.apply({"params": params}, h, x)
        h, _ = jax.lax.scan(step, cell.initialize_carry(BATCH), jnp.swapaxes(xs, 0, 1))
        return jnp.mean(h.sum(-1))

    grads = jax.grad(loss)(params)
    tx = optax.chain(optax.clip_by_global_norm(clip), optax.sgd(lr)) if clip > 0 else optax.sgd(lr)
    updates, _ = tx.update(grads, tx.init(params), params)
    return optax.global_norm(updates)


def _identity(z):
    return z


def study(steps: int = 50) -> dict:
    """All four panels' numbers as lists."""
    curve_sigmas = [0.5, 0.9, 1.0, 1.1, 1.5]
    sweep = np.round(np.linspace(0.5, 1.5, 21), 3).tolist()
    return {
        "steps": steps,
        "norms_by_step": {str(s): np.asarray(vanilla_norms(s, steps)).tolist() for s in curve_sigmas},
        "sigma_sweep": sweep,
        "first_step_norm": [float(vanilla_norms(s, steps)[0]) for s in sweep],
        "initialized": {
            "vanilla (orthogonal W_hh)": np.asarray(initialized_norms(VanillaRNNCell(FEATURES), steps)).tolist(),
            **{f"LSTM, forget bias {b:g}": np.asarray(initialized_norms(LSTMCell(FEATURES, forget_bias=b), steps)).tolist()
               for b in (1.0, 3.0, 5.0)},
        },
        "update_norm": {"no clipping": [update_norms(s, steps, 0.0) for s in sweep],
                        "clip_by_global_norm(1.0)": [update_norms(s, steps, 1.0) for s in sweep]},
    }


def plot(numbers: dict, path: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 4, figsize=(19, 4))
    t = np.arange(numbers["steps"])
    for sigma, norms in numbers["norms_by_step"].items():
        ax[0].semilogy(t, norms, label=f"sigma = {sigma}")
    ax[0].set(title="(a) vanilla RNN: ||dL/dh_t||", xlabel="step t (loss at the last step)")
    ax[1].semilogy(numbers["sigma_sweep"], numbers["first_step_norm"], marker="o")
    ax[1].axvline(1.0, color="gray", ls="--")
    ax[1].axhline(1.0, color="gray", ls=":")
    ax[1].set(title=f"(b) ||dL/dh_0|| over {numbers['steps']} steps", xlabel="largest singular value of W_hh")
    for name, norms in numbers["initialized"].items():
        ax[2].semilogy(t, norms, label=name)
    ax[2].set(title="(c) at initialization, random inputs", xlabel="step t")
    for name, norms in numbers["update_norm"].items():
        ax[3].semilogy(numbers["sigma_sweep"], norms, marker="o", label=name)
    ax[3].set(title="(d) norm of one SGD update (lr 0.1)", xlabel="largest singular value of W_hh")
    for a in ax:
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv: list[str]) -> None:
    parser = ArgumentParser(prog="python -m train gradient_flow", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=os.path.join("runs", "gradient_flow"), help="where to write the results")
    parser.add_argument("--steps", type=int, default=50, help="sequence length T")
    args = parser.parse_args(argv)
    if args.steps < 2:
        raise UserError("--steps must be at least 2")
    numbers = study(args.steps)
    os.makedirs(args.workdir, exist_ok=True)
    with open(os.path.join(args.workdir, "summary.json"), "w") as f:
        json.dump(numbers, f)
    figure = plot(numbers, os.path.join(args.workdir, "figures", "gradient_flow.png"))
    first = dict(zip(numbers["sigma_sweep"], numbers["first_step_norm"]))
    print(f"||dL/dh_0|| over {args.steps} steps: sigma 0.5 -> {first[0.5]:.2e}, 1.0 -> {first[1.0]:.2e}, "
          f"1.5 -> {first[1.5]:.2e} | {figure}")
