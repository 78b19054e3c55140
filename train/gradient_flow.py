"""`python -m train gradient_flow [--workdir DIR] [--steps T]`: exploding/vanishing gradients of recurrent cells.

The study's results are written as numbers (`summary.json`) and a figure
(`figures/gradient_flow.png`):

(a) `||dL/dh_t||` against t for vanilla RNNs whose W_hh has every singular value sigma;
(b) `||dL/dh_0||` against sigma: the norm crosses 1 where sigma does;
(c) the same curve for a vanilla RNN and LSTMs at their initialization with random inputs,
    for several forget-gate biases (the cell state is the LSTM's gradient highway);
(d) the norm of one SGD update of W_hh with and without clipping by global norm
    (Pascanu et al. 2013): clipping bounds it whatever sigma is;
(e) `||dL/dh_0||` with random inputs and a random initial state against the bound of Pascanu et
    al. 2013 (Section 2.1): `||dL/dh_0|| <= (gamma sigma)^(T-1) ||dL/dh_{T-1}||`, gamma = 1 for tanh,
    for moderate inputs and for inputs large enough to saturate tanh (which vanish above 1 too);
(f) a tanh RNN (sigma 1.5) trained by SGD to recall its first input, without clipping (the
    gradient explodes and the loss leaves the floats) and with clip_by_global_norm(1.0).
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
    """Return `||dL/dh_t||` of a tanh RNN with `W_hh = sigma * orthogonal`, zero inputs and state.

    This is the linearization at the origin, where the law is exact.

    Returns:
        A float32 array of shape `(steps,)`, one norm per step t.
    """
    cell, key = VanillaRNNCell(FEATURES), jax.random.key(0)
    xs = jnp.zeros((BATCH, steps, 1))
    params = cell.init(key, cell.initialize_carry(BATCH), xs[:, 0])["params"]
    params = with_recurrent_kernel(params, scaled_orthogonal(key, FEATURES, sigma))
    return carry_gradient_norms(cell, params, xs)


def initialized_norms(cell, steps: int, key=jax.random.key(1)):
    """Return the `(steps,)` gradient norms of `cell` at its initialization, inputs ~ N(0, 1) of width 8."""
    xs = jax.random.normal(key, (BATCH, steps, 8))
    params = init_variables(cell, key, cell.initialize_carry(BATCH), xs[:, 0])["params"]
    return carry_gradient_norms(cell, params, xs)


def update_norms(sigma: float, steps: int, clip: float, lr: float = 0.1) -> float:
    """Return the norm of one SGD update of a linear RNN's parameters for the mean summed last state.

    Inputs are drawn from N(0, 0.1^2).

    Args:
        sigma: Every singular value of the recurrent kernel W_hh.
        steps: The sequence length.
        clip: The global-norm clipping threshold; 0 for no clipping.
        lr: The SGD learning rate.
    """
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


BOUND_SIGMAS = (0.5, 0.9, 1.0, 1.1, 1.5, 2.0)
INPUT_SCALES = {"moderate": 1.0, "saturating": 5.0}


@partial(jax.jit, static_argnums=(1, 2))
def random_state_norms(sigma: float, steps: int, input_scale: float):
    """Return `||dL/dh_t||` of a tanh RNN with `W_hh = sigma * orthogonal` from random inputs and states.

    Inputs are drawn from N(0, input_scale^2), of width 8, through its initialized W_xh, and
    initial states from N(0, 0.5^2).

    Returns:
        A float32 array of shape `(steps,)`, one norm per step t.
    """
    cell = VanillaRNNCell(FEATURES)
    inputs_key, kernel_key, state_key, init_key = jax.random.split(jax.random.key(3), 4)
    xs = input_scale * jax.random.normal(inputs_key, (BATCH, steps, 8))
    params = cell.init(init_key, cell.initialize_carry(BATCH), xs[:, 0])["params"]
    params = with_recurrent_kernel(params, scaled_orthogonal(kernel_key, FEATURES, sigma))
    return carry_gradient_norms(cell, params, xs, 0.5 * jax.random.normal(state_key, (BATCH, FEATURES)))


def bound_check(steps: int) -> list[dict]:
    """Compare the measured gradient ratio with Pascanu et al.'s bound `sigma^(T-1)`.

    The ratio `||dL/dh_0|| / ||dL/dh_{T-1}||` is measured for every sigma of `BOUND_SIGMAS` and
    input scale of `INPUT_SCALES`.

    Args:
        steps: The sequence length T.

    Returns:
        One dict per (input scale, sigma) with keys `sigma`, `inputs` (the scale's name),
        `input_std`, `norm` (the measured ratio) and `bound`.
    """
    rows = []
    for name, scale in INPUT_SCALES.items():
        for sigma in BOUND_SIGMAS:
            norms = random_state_norms(sigma, steps, scale)
            rows.append({"sigma": sigma, "inputs": name, "input_std": scale,
                         "norm": float(norms[0] / norms[-1]), "bound": float(sigma ** (steps - 1))})
    return rows


def recall_training(clip: float, steps: int, train_steps: int = 300, lr: float = 0.05, sigma: float = 1.5) -> dict:
    """Train a tanh RNN by SGD to recall its first input, with or without gradient clipping.

    A tanh RNN (32 units, `W_hh = sigma * orthogonal`) and a linear readout of its last state are
    trained by SGD (batch 64) to output 10 x its first input (inputs ~ N(0, 0.1^2)) after `steps`
    steps.

    Args:
        clip: The global-norm clipping threshold for the gradient; 0 for no clipping.
        steps: The sequence length.
        train_steps: The number of SGD steps.
        lr: The SGD learning rate.
        sigma: Every singular value of the recurrent kernel W_hh.

    Returns:
        `{"loss": [...], "grad_norm": [...]}`: the per-step loss and unclipped gradient norm,
        as lists of `train_steps` floats.
    """
    cell = VanillaRNNCell(FEATURES)
    inputs_key, kernel_key, init_key = jax.random.split(jax.random.key(4), 3)
    xs = 0.1 * jax.random.normal(inputs_key, (64, steps, 1))
    params = cell.init(init_key, cell.initialize_carry(64), xs[:, 0])["params"]
    params = {"cell": with_recurrent_kernel(params, scaled_orthogonal(kernel_key, FEATURES, sigma)),
              "readout": jnp.zeros((FEATURES,))}

    def loss(params):
        h, _ = jax.lax.scan(lambda h, x: cell.apply({"params": params["cell"]}, h, x), cell.initialize_carry(64),
                            jnp.swapaxes(xs, 0, 1))
        return jnp.mean((h @ params["readout"] - 10 * xs[:, 0, 0]) ** 2)

    tx = optax.chain(optax.clip_by_global_norm(clip), optax.sgd(lr)) if clip > 0 else optax.sgd(lr)

    @jax.jit
    def step(params, opt_state):
        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value, optax.global_norm(grads)

    opt_state, losses, norms = tx.init(params), [], []
    for _ in range(train_steps):
        params, opt_state, value, norm = step(params, opt_state)
        losses.append(float(value))
        norms.append(float(norm))
    return {"loss": losses, "grad_norm": norms}


def study(steps: int = 50) -> dict:
    """All six panels' numbers as lists."""
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
        "bound_check": bound_check(steps),
        "recall_training": {"no clipping": recall_training(0.0, steps),
                            "clip_by_global_norm(1.0)": recall_training(1.0, steps)},
    }


def plot(numbers: dict, path: str) -> str:
    """Draw the six panels (a)-(f) of `study`'s numbers to `path` and return the saved figure's path."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 3, figsize=(15, 8))
    ax = ax.ravel()
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
    for inputs in INPUT_SCALES:
        rows = [r for r in numbers["bound_check"] if r["inputs"] == inputs]
        ax[4].semilogy([r["sigma"] for r in rows], [max(r["norm"], 1e-30) for r in rows], marker="o",
                       label=f"measured, {inputs} inputs")
    ax[4].semilogy(BOUND_SIGMAS, [r["bound"] for r in numbers["bound_check"][:len(BOUND_SIGMAS)]], "k--",
                   label="bound sigma^(T-1)")
    ax[4].set(title="(e) random inputs and states: ||dL/dh_0||", xlabel="largest singular value of W_hh")
    for name, run in numbers["recall_training"].items():
        ax[5].semilogy([v if np.isfinite(v) else np.nan for v in run["loss"]], label=name)
    ax[5].set(title="(f) training a tanh RNN, sigma 1.5: loss", xlabel="SGD step")
    for a in ax:
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv: list[str]) -> None:
    """Run the study from the command line and write `summary.json` and the figure to `--workdir`."""
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
