"""Command line of `rl`: trains several seeds of one algorithm in one compiled call and writes the run.

Usage: `python -m rl ALGO [--env NAME] [--seeds N] [--workdir DIR] [--config.KEY=VALUE ...]` and
`python -m rl --list`. Trains `--seeds` independent seeds in one compiled call (`jax.jit(jax.vmap(train))(keys)`)
and writes into the workdir: `summary.json` (final returns per seed, their mean and spread,
greedy-policy returns, environment steps per second, compile and wall time, config),
`metrics.jsonl` (one line per update: returns and losses averaged over seeds),
`figures/learning_curve.png`, and `checkpoints/` (the final parameters of every seed). A
finished run is not retrained when rerun with the same settings; the whole run is one
compiled call, so an interrupted run starts over.
"""

import importlib
import json
import os
import sys
import time

from train import compile_cache
from train.arguments import ArgumentParser
from train.errors import Interrupted, UserError
from train.files import make_workdir
from train.overrides import apply_overrides, split_config_args

ALGOS = {  # name: (module:function, config module, description)
    "ppo": ("rl.ppo:make_train", "rl.configs.ppo", "proximal policy optimization with GAE (clipped objective)"),
    "a2c": ("rl.pg:make_a2c", "rl.configs.a2c", "synchronous advantage actor-critic, n-step returns"),
    "reinforce": ("rl.pg:make_reinforce", "rl.configs.reinforce", "REINFORCE on whole episodes, learned baseline"),
    "dqn": ("rl.dqn:make_train", "rl.configs.dqn", "deep Q-network: replay buffer, target network, Double DQN"),
}
FINAL_FRACTION = 0.05  # "final return": mean episode return over the last 5% of updates


def parse_args(argv: list[str]):
    """Parses the command line (without the program name) into `(args, overrides)`.

    Returns:
        A tuple of the `argparse.Namespace` and the dict of `--config.KEY=VALUE` overrides.
    """
    parser = ArgumentParser(prog="python -m rl", description="Train a reinforcement-learning agent on gymnax.",
                            epilog="Any config field can be overridden: --config.learning_rate=3e-4")
    parser.add_argument("algo", nargs="?", help=f"one of {', '.join(ALGOS)}")
    parser.add_argument("--env", help="gymnax environment with discrete actions (default: the config's, CartPole-v1)")
    parser.add_argument("--seeds", type=int, default=1, help="independent seeds trained together (vmap)")
    parser.add_argument("--seed", type=int, default=0, help="first random key; seeds are split from it")
    parser.add_argument("--workdir", help="run directory (default runs/rl_ALGO_ENV)")
    parser.add_argument("--list", action="store_true", help="list the algorithms and exit")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    compile_cache.add_flag(parser)
    overrides, rest = split_config_args(argv)
    args = parser.parse_args(rest)
    return args, overrides


def make_train_of(algo: str):
    """Looks up the `make_train(config, progress=None)` of an algorithm name.

    Raises:
        UserError: If `algo` is not a key of `ALGOS`.
    """
    if algo not in ALGOS:
        raise UserError(f"unknown algorithm '{algo}'; choose one of {', '.join(ALGOS)} (python -m rl --list)")
    module, function = ALGOS[algo][0].split(":")
    return getattr(importlib.import_module(module), function)


def config_of(algo: str, env: str | None = None, overrides: dict | None = None):
    """Builds the algorithm's default config with `env` and `--config.KEY=VALUE` overrides applied.

    Args:
        algo: A key of `ALGOS`.
        env: gymnax environment name, or None for the config's default.
        overrides: Dict of config overrides, as parsed from `--config.KEY=VALUE`.

    Returns:
        The `ml_collections.ConfigDict`.

    Raises:
        UserError: If `algo` is unknown.
    """
    make_train_of(algo)  # checks the name
    config = apply_overrides(importlib.import_module(ALGOS[algo][1]).get_config(), overrides or {})
    if env is not None:
        config.env = env
    return config


def config_json(config) -> dict:
    """Converts the config to the dict `summary.json` stores (tuples become lists), for comparing runs."""
    return json.loads(json.dumps(config.to_dict()))


def _validate(algo: str, config) -> None:
    if algo in ("ppo", "a2c") and config.total_steps < config.num_envs * config.num_steps:
        raise UserError(f"--config.total_steps={config.total_steps} is less than one update (num_envs * num_steps)")
    if algo == "dqn" and config.total_steps < config.log_every:
        raise UserError(f"--config.total_steps={config.total_steps} is less than log_every={config.log_every}")
    if algo == "ppo" and (config.num_envs * config.num_steps) % config.num_minibatches:
        raise UserError("num_envs * num_steps must be divisible by num_minibatches")
    if algo == "dqn" and config.loss not in ("mse", "huber"):
        raise UserError(f"--config.loss must be mse or huber, got {config.loss!r}")


def nanmean(x, axis=None):
    """Computes `np.nanmean`, returning NaN for all-NaN slices without a warning.

    Updates in which no episode ended have NaN returns.
    """
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=axis)


def final_returns(returns):
    """Computes the per-seed mean of `returns: (seeds, updates)` over the last FINAL_FRACTION of updates.

    The mean is NaN-aware; the result has shape `(seeds,)`.
    """
    tail = max(1, int(round(returns.shape[1] * FINAL_FRACTION)))
    return nanmean(returns[:, -tail:], axis=1)


def train_seeds(algo: str, config, seeds: int, seed: int = 0, progress: bool = True) -> dict:
    """Trains `seeds` seeds of `algo` in one jit call.

    Args:
        algo: A key of `ALGOS`.
        config: The algorithm's config (see `config_of`).
        seeds: Number of independent seeds, vmapped together.
        seed: First random key; the seeds' keys are split from it.
        progress: Whether to show a progress bar.

    Returns:
        A dict `{"metrics", "params", "timing"}` with every metric of shape `(seeds, ...)` as numpy,
        the parameters of every seed, and `timing` with `compile_s` and `run_s`.

    Raises:
        UserError: If `algo` or `config.env` is unknown.
    """
    import jax
    from tqdm import tqdm

    keys = jax.random.split(jax.random.key(seed), seeds)
    bar = None

    def report(update, episode_return):  # called from the device after every update of every seed
        import numpy as np

        bar.update(int(np.size(update)))
        returns = np.asarray(episode_return, dtype=float)
        if np.isfinite(returns).any():
            bar.set_postfix(ret=f"{np.nanmean(returns):.1f}", refresh=False)

    train_one = make_train_of(algo)(config, progress=report if progress else None)  # checks the env
    bar = tqdm(desc=f"{algo} {config.env} x{seeds}", unit="update", disable=not progress, dynamic_ncols=True,
               mininterval=1.0)
    train = jax.jit(jax.vmap(train_one))
    start = time.perf_counter()
    compiled = train.lower(keys).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.block_until_ready(compiled(keys))
    run_s = time.perf_counter() - start
    bar.close()
    out = jax.device_get(out)
    return {"metrics": out["metrics"], "params": out["params"], "timing": {"compile_s": compile_s, "run_s": run_s}}


def summarize(algo: str, config, seeds: int, result: dict) -> dict:
    """Builds the `summary.json` dict of a `train_seeds` result.

    It holds the final and greedy returns per seed with their mean and spread, environment steps,
    throughput, wall and compile time, the device kind and the config.
    """
    import jax
    import numpy as np

    m = result["metrics"]
    final = final_returns(m["episode_return"])
    env_steps = np.asarray(m["env_steps"])[:, -1]
    run_s = result["timing"]["run_s"]
    return {
        "algo": algo, "env": config.env, "seeds": seeds,
        "final_return": {"mean": float(np.mean(final)), "std": float(np.std(final)), "min": float(np.min(final)),
                         "max": float(np.max(final)), "per_seed": [float(x) for x in final],
                         "definition": f"mean episode return over the last {FINAL_FRACTION:.0%} of updates"},
        "greedy_return": {"mean": float(np.mean(m["greedy_return"])),
                          "per_seed": [float(x) for x in m["greedy_return"]],
                          "definition": "final policy's argmax action, 16 episodes per seed"},
        "env_steps_per_seed": int(np.mean(env_steps)),
        "env_steps_per_s": float(env_steps.sum() / run_s),
        "wall_time_s": run_s, "compile_time_s": result["timing"]["compile_s"],
        "device": str(jax.devices()[0].device_kind), "config": config_json(config),
    }


def write_metrics(path: str, metrics: dict) -> None:
    """Writes one JSON line per update to `path`, and the same scalars as a TensorBoard event file.

    Each line has `env_steps` (mean over seeds) and every per-update metric's mean over seeds, plus
    the seeds' min and max return. The scalars that are defined go to a TensorBoard event file in
    the same folder, replacing any earlier one.
    """
    import numpy as np
    from tensorboardX import SummaryWriter

    from train.files import event_files

    per_update = {k: np.asarray(v) for k, v in metrics.items() if np.ndim(v) == 2}
    rows = []
    for i in range(per_update["episode_return"].shape[1]):
        row = {"step": i + 1}
        for k, v in per_update.items():
            row[k] = float(nanmean(v[:, i])) if np.isfinite(v[:, i]).any() else None
        returns = per_update["episode_return"][:, i]
        if np.isfinite(returns).any():
            row["return_min"], row["return_max"] = float(np.nanmin(returns)), float(np.nanmax(returns))
        rows.append(row)
    with open(f"{path}.tmp", "w") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    os.replace(f"{path}.tmp", path)
    directory = os.path.dirname(path) or "."
    for old in event_files(directory):
        os.remove(old)
    with SummaryWriter(directory) as events:
        for row in rows:
            for k, v in row.items():
                if k != "step" and v is not None:
                    events.add_scalar(k, v, row["step"])


def plot_learning_curve(metrics: dict, title: str, out_path: str) -> str:
    """Plots episode return against environment steps: each seed thin, their mean thick.

    Both are drawn over the updates in which some episode ended.

    Returns:
        `out_path`, where the figure was saved.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from train.figures import save_figure

    returns, steps = np.asarray(metrics["episode_return"]), np.asarray(metrics["env_steps"])
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for s in range(returns.shape[0]):  # updates in which no episode ended are NaN: skip them
        ended = np.isfinite(returns[s])
        ax.plot(steps[s][ended], returns[s][ended], lw=0.6, alpha=0.35, color="tab:blue")
    mean = nanmean(returns, 0)
    ended = np.isfinite(mean)
    ax.plot(steps.mean(0)[ended], mean[ended], lw=2, color="tab:blue", label=f"mean of {returns.shape[0]}")
    ax.set(xlabel="environment steps per seed", ylabel="episode return", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, out_path, dpi=110)


def run(algo: str, config, seeds: int, workdir: str, seed: int = 0, progress: bool = True) -> dict:
    """Trains (or, when `workdir` holds the same finished run, rereads) and writes every output.

    Returns:
        The run's summary dict (with `resumed: True` when it was reread).

    Raises:
        UserError: If `seeds < 1`, the config is invalid for `algo`, or `workdir` holds a different
            finished run.
        Interrupted: If training is interrupted (nothing is saved).
    """
    from train.checkpoint import Checkpointer
    from train.files import write_json_atomic

    if seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {seeds}")
    _validate(algo, config)
    make_workdir(workdir)
    summary_path = os.path.join(workdir, "summary.json")
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            done = json.load(f)
        if (done.get("config"), done.get("seeds"), done.get("seed")) == (config_json(config), seeds, seed):
            done["resumed"] = True
            return done
        raise UserError(f"{workdir} holds a different finished run; use a new --workdir")
    try:
        result = train_seeds(algo, config, seeds, seed, progress)
    except KeyboardInterrupt:
        raise Interrupted("interrupted; nothing was saved (the whole run is one compiled call)") from None
    summary = summarize(algo, config, seeds, result) | {"seed": seed}
    write_metrics(os.path.join(workdir, "metrics.jsonl"), result["metrics"])
    plot_learning_curve(result["metrics"], f"{algo} on {config.env}",
                        os.path.join(workdir, "figures", "learning_curve.png"))
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), max_to_keep=1)
    ckpt.save(summary["env_steps_per_seed"], result["params"], {"algo": algo, "seeds": seeds})
    ckpt.close()
    write_json_atomic(summary_path, summary)  # last: its presence marks a finished run
    return summary


def format_summary(summary: dict, workdir: str) -> str:
    """Formats a run summary as the one line `python -m rl` prints."""
    f, g = summary["final_return"], summary["greedy_return"]
    again = " (already trained)" if summary.get("resumed") else ""
    return (f"{summary['algo']} {summary['env']} x{summary['seeds']} seeds: final return {f['mean']:.1f} "
            f"(min {f['min']:.1f}, max {f['max']:.1f}), greedy {g['mean']:.1f} | "
            f"{summary['env_steps_per_seed']:,} steps/seed, {summary['env_steps_per_s']:,.0f} steps/s, "
            f"{summary['wall_time_s']:.1f} s (compile {summary['compile_time_s']:.1f} s){again} | {workdir}")


def main(argv: list[str] | None = None) -> int:
    """Runs `python -m rl` on `argv` (default `sys.argv[1:]`) and returns the exit status."""
    argv = compile_cache.from_argv(sys.argv[1:] if argv is None else argv)
    try:
        args, overrides = parse_args(argv)
        if args.list:
            for name, (_, _, description) in ALGOS.items():
                print(f"{name:12s} {description}")
            return 0
        if args.algo is None:
            raise UserError(f"name an algorithm: python -m rl ALGO (one of {', '.join(ALGOS)})")
        config = config_of(args.algo, args.env, overrides)
        workdir = args.workdir or os.path.join("runs", f"rl_{args.algo}_{config.env}")
        summary = run(args.algo, config, args.seeds, workdir, args.seed, progress=not args.no_progress)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(format_summary(summary, workdir))
    return 0
