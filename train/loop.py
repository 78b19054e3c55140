"""The one training loop: progress, logging, evaluation, checkpoint/resume, NaN stop.

Workdir layout (DESIGN.md, "Entry points"): `summary.json`, `metrics.jsonl` (one line per
log or eval step), `checkpoints/` (orbax), `figures/learning_curves.png`.
"""

import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from tqdm.auto import tqdm

from train import data
from train.checkpoint import Checkpointer
from train.errors import Interrupted, TrainingDiverged, UserError
from train.figures import plot_learning_curves
from train.files import make_workdir, write_json_atomic
from train.interrupts import ctrl_c_between_steps
from train.optim import make_optimizer
from train.precision import compute_dtype
from train.restore import load_pretrained, load_run
from train.overrides import changed_fields
from train.parallel import data_parallel_step, make_mesh, place_state, process_rows, replicate, shard_batch
from train.steps import make_train_step
from train.tasks import make_task


def _summary_writer():
    """Return tensorboardX's `SummaryWriter` class, imported without PyTorch.

    tensorboardX imports torch whenever it is installed (the `bench` extra), only to accept torch
    tensors in its `add_*` calls, which slows every run's start, and we log Python floats. While
    tensorboardX loads, `import torch` raises ImportError (its own fallback); torch imports normally
    before and after.
    """
    if "torch" in sys.modules:
        from tensorboardX import SummaryWriter
    else:
        sys.modules["torch"] = None
        try:
            from tensorboardX import SummaryWriter
        finally:
            del sys.modules["torch"]
    return SummaryWriter


class MetricsLog:
    """Appends one JSON line per record to `metrics.jsonl`, and the same scalars to TensorBoard.

    On resume at step `s` it first drops records past `s`, so the log always matches the
    checkpoint it continues from.

    The same scalars go to TensorBoard event files in the same folder (tensorboardX, no
    TensorFlow needed; `tensorboard --logdir runs` shows every run under `runs/`): training
    records as `train/<name>`, evaluations under their own `{split}_{name}` keys. A resumed run
    opens a new event file that purges the old files' events past `s`, as the JSON log does.

    Args:
        path: The `metrics.jsonl` file.
        resume_step: The step the run resumes from (0 for a fresh run).

    Attributes:
        path: The `metrics.jsonl` file.
        resume_step: The step the run resumed from.
        events: The tensorboardX writer, opened with the first record (None before).
    """

    def __init__(self, path: str, resume_step: int):
        self.path = path
        if os.path.exists(path):
            with open(path) as f:
                kept = [line for line in f if line.strip() and json.loads(line)["step"] <= resume_step]
            with open(f"{path}.tmp", "w") as f:
                f.writelines(kept)
            os.replace(f"{path}.tmp", path)
        self.resume_step = resume_step
        self.events = None  # the tensorboardX writer, opened with the first record

    def write(self, step: int, metrics: dict) -> None:
        """Append `{"step": step, **metrics}` to the JSON log and the scalars to TensorBoard.

        Args:
            step: The training step the record belongs to.
            metrics: `{name: float}`; a record with a `loss` is a training record, logged as
                `train/<name>`, otherwise the names are used as they are.
        """
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")
        if self.events is None:
            self.events = _summary_writer()(os.path.dirname(self.path) or ".",
                                            purge_step=self.resume_step + 1 if self.resume_step else None)
        prefix = "train/" if "loss" in metrics else ""
        for name, value in metrics.items():
            self.events.add_scalar(prefix + name, value, step)

    def close(self) -> None:
        """Flush and close the event file (the JSON log is closed after every write)."""
        if self.events is not None:
            self.events.close()
            self.events = None

    def last_train(self) -> dict:
        """Return the latest training record (the one with a `loss`), without its step; {} if none."""
        if not os.path.exists(self.path):
            return {}
        with open(self.path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        train = [r for r in records if "loss" in r]
        return {k: v for k, v in train[-1].items() if k != "step"} if train else {}


def _validate(config: ml_collections.ConfigDict) -> None:
    for key in ("num_steps", "batch_size", "eval_batch_size", "log_every", "checkpoint_every"):
        if config[key] <= 0:
            raise UserError(f"--config.{key} must be a positive integer; got {config[key]}")
    if config.eval_every < 0:
        raise UserError(f"--config.eval_every must be >= 0 (0 disables periodic evaluation); got {config.eval_every}")
    if "precision" in config:
        compute_dtype(config.precision)  # unknown names stop here, whatever the task does with them


def run(recipe: str, config: ml_collections.ConfigDict, workdir: str, progress: bool = True) -> dict:
    """Train `config` in `workdir` (resuming from its latest checkpoint) and return the summary.

    A run that already reached `num_steps` is not retrained: its checkpoint is evaluated.

    Args:
        recipe: The recipe name, recorded in the summary and checkpoints.
        config: The recipe's config (`num_steps`, `batch_size`, `optimizer`, `seed`, ...).
        workdir: The run's folder; see the module docstring for its layout.
        progress: Whether to show a progress bar and stage messages on stderr.

    Returns:
        The summary dict also written to `summary.json`: `recipe`, `steps`, `resumed_from_step`,
        `compile_time_s`, `data_parallel_replicas`, `train` (the last training record), `test`
        (test-split scores), `primary_metric`, `wall_time_s`, `devices`, `config`, and `stages`
        and `report` when the task has them.

    Raises:
        UserError: For bad configs, unavailable data, or a checkpoint that does not match.
        TrainingDiverged: On a NaN/inf loss; the last good checkpoint is kept.
        Interrupted: On Ctrl-C, after saving.
    """
    _validate(config)
    if config.get("dataset"):  # an empty slice stops before training, not after
        for split in {config.eval_split, config.test_split}:
            data.check_split(config.dataset, split, config.get("data_dir") or None)
    start_time = time.perf_counter()
    make_workdir(workdir)
    task = make_task(config)
    task.workdir = workdir
    if config.get("precision", "fp32") not in task.precisions:
        raise UserError(f"{recipe} ({config.task}) trains in {' or '.join(task.precisions)} only; "
                        f"--config.precision={config.precision} is not supported there")
    stages = {name: _run_stage(recipe, name, stage, workdir, progress) for name, stage in task.stages().items()}
    if stages:
        task.start_from({name: (stage_task, state) for name, (stage_task, state, _) in stages.items()})
    tx, schedule = make_optimizer(config.optimizer, config.num_steps)
    init_rng, step_rng = jax.random.split(jax.random.key(config.seed))
    state = task.create_state(init_rng, tx)

    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
    log = None
    try:
        start = 0
        if (resume := ckpt.latest_intact_step(log=lambda line: print(line, file=sys.stderr))) is not None:
            _check_resumable(ckpt, resume, state, config)
            state, _ = ckpt.restore(state, resume)
            start = int(state.step)
        log = MetricsLog(os.path.join(workdir, "metrics.jsonl"), start)
        loop = _Loop(task, config, recipe, ckpt, log, progress)
        state = loop.train(state, start, make_train_step(task.loss_fn, schedule), step_rng)
        summary = {
            "recipe": recipe,
            "steps": int(state.step),
            "resumed_from_step": start,
            "compile_time_s": round(loop.compile_s, 3),
            "data_parallel_replicas": loop.replicas,
            "train": log.last_train(),
            "test": task.evaluate(state, config.test_split),
            "primary_metric": f"{data.split_name(config.test_split)}_{task.primary_metric}",
            "wall_time_s": round(time.perf_counter() - start_time, 3),
            "devices": f"{jax.device_count()} x {jax.devices()[0].device_kind}",
            "config": config.to_dict(),
        }
        if stages:
            summary["stages"] = {name: stage_summary["test"] for name, (_, _, stage_summary) in stages.items()
                                 if stage_summary is not None}
        report = task.report(state, workdir)
        if report:
            summary["report"] = report
            summary["wall_time_s"] = round(time.perf_counter() - start_time, 3)
    finally:
        ckpt.close()
        if log is not None:
            log.close()
    write_json_atomic(os.path.join(workdir, "summary.json"), summary)
    if os.path.exists(metrics_path := os.path.join(workdir, "metrics.jsonl")):
        plot_learning_curves(metrics_path, os.path.join(workdir, "figures", "learning_curves.png"))
    return summary


def _run_stage(recipe: str, name: str, stage, workdir: str, progress: bool):
    """Return `(task, state, summary)` of the first-stage run `name` of `recipe`.

    `stage` is either `(stage_recipe, config)`, trained or resumed in `<workdir>/<name>` (a
    finished one is only evaluated), or the workdir of a finished run or the name of a shipped model
    (`zoo.pretrained.list()`), loaded (`summary` None).
    """
    if isinstance(stage, str):
        from zoo import pretrained

        shipped = not os.path.exists(stage) and stage in pretrained.list()
        task, state, _ = load_pretrained(stage) if shipped else load_run(stage)
        return task, state, None
    stage_recipe, stage_config = stage
    path = os.path.join(workdir, name)
    if progress:
        print(f"{recipe}: first stage '{name}', {stage_recipe}, in {path}", file=sys.stderr)
    summary = run(stage_recipe, stage_config, path, progress)
    task, state, _ = load_run(path)
    return task, state, summary


def _check_resumable(ckpt: Checkpointer, step: int, state, config: ml_collections.ConfigDict) -> None:
    """Raise a `UserError` if the checkpoint's train state has other shapes than this config's.

    The error names the config fields that differ from the checkpoint's (a config that only
    trains longer resumes).
    """
    mismatches = ckpt.shape_mismatches(state, step)
    if not mismatches:
        return
    changed = changed_fields(ckpt.read_meta(step).get("config", {}), config.to_dict())
    raise UserError(f"checkpoint {step} in {ckpt.directory} has other shapes than this config "
                    f"({mismatches[0]}{f' and {len(mismatches) - 1} more' if len(mismatches) > 1 else ''}); "
                    f"changed fields: {', '.join(changed) or 'none (the recipe itself changed)'}; "
                    f"use the run's own config, a new --workdir, or --fresh to start afresh")


def _all_finite(tree) -> jax.Array:
    leaves = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.bool_(True)


class _Loop:
    """The step loop of one `run`: holds what the loop body needs between syncs."""

    def __init__(self, task, config, recipe, ckpt, log, progress):
        self.task, self.config, self.recipe, self.ckpt, self.log = task, config, recipe, ckpt, log
        self.progress = progress
        self.compile_s = 0.0
        self.replicas = 1  # data-parallel replicas the step ran on
        self.pending = []  # device metrics since the last log line
        self.checked = 0   # how many of `pending` are known finite
        self.step_fn = None  # the compiled train step
        self.finite_on_device = jax.jit(lambda state: _all_finite((state.params, state.opt_state, state.batch_stats)))
        self.batch = self.rng = None  # the batch the next step trains on, and the step key
        self.state = None  # the latest train state the step loop produced

    def healthy(self, state) -> bool:
        """Whether the state is finite and so is the loss the next step computes from it.

        Checks that the parameters, optimizer state and batch statistics are finite, and so is the
        loss the next step computes from them on `self.batch` (a step's own loss is computed before
        its update, so it cannot vouch for the state it produced). The loss comes from the compiled
        train step run on a copy of `state` (its input is donated), and in one process the
        finiteness is checked on the host: no program is compiled for the check.
        """
        if all(x.is_fully_addressable for x in jax.tree.leaves(state)):
            host = jax.device_get(state)
            if not all(np.isfinite(x).all() for x in jax.tree.leaves((host.params, host.opt_state, host.batch_stats))
                       if np.issubdtype(np.result_type(x), np.inexact)):
                return False
            copy = jax.device_put(host, jax.tree.map(lambda x: x.sharding, state))
        else:  # arrays spread over processes: one global answer from a program
            if not bool(self.finite_on_device(state)):
                return False
            copy = jax.tree.map(jnp.copy, state)
        _, metrics = self.step_fn(copy, self.batch, self.rng)
        return bool(np.isfinite(jax.device_get(metrics["loss"])))

    def save(self, state) -> None:
        """Checkpoint `state` if it is `healthy`, else raise `TrainingDiverged`."""
        step = int(state.step)
        if not self.healthy(state):
            raise TrainingDiverged(
                f"parameters or loss became NaN/inf by step {step}; {self._kept()}; "
                f"lower --config.optimizer.learning_rate or set --config.optimizer.grad_clip_norm")
        self.ckpt.save(step, state, {"step": step, "recipe": self.recipe, "config": self.config.to_dict(),
                                     **self.task.meta()})

    def _kept(self) -> str:
        last = self.ckpt.latest_step()
        return f"last good checkpoint: step {last} in {self.ckpt.directory}" if last is not None else \
            f"no checkpoint was written in {self.ckpt.directory}"

    def check_finite(self, step: int) -> None:
        """Host sync: raise `TrainingDiverged` if any loss or parameter norm since the last check is NaN/inf.

        The parameter norm is that of the parameters a step started from (`l2_params`): NaN weights
        do not always make the loss NaN (XLA's fused ReLU on a CPU can turn a NaN activation into 0).
        """
        if self.checked == len(self.pending):
            return
        # on the host: a device-side stack would compile a program for every distinct count
        new = self.pending[self.checked:]
        losses, norms = (np.asarray(x, np.float64) for x in jax.device_get(
            ([m["loss"] for m in new], [m["l2_params"] for m in new if "l2_params" in m])))
        self.checked = len(self.pending)
        if not np.all(np.isfinite(losses)):
            raise TrainingDiverged(
                f"loss became {losses[~np.isfinite(losses)][0]} by step {step}; {self._kept()}; "
                f"lower --config.optimizer.learning_rate or set --config.optimizer.grad_clip_norm")
        if not np.all(np.isfinite(norms)):
            raise TrainingDiverged(
                f"parameters became NaN/inf by step {step}; {self._kept()}; "
                f"lower --config.optimizer.learning_rate or set --config.optimizer.grad_clip_norm")

    def flush_log(self, step: int) -> dict:
        """Write the means of the pending metrics at `step` to the log, and return them."""
        pending = jax.device_get(self.pending)
        means = {k: float(np.mean([m[k] for m in pending])) for k in pending[0]}
        self.pending, self.checked = [], 0
        self.log.write(step, means)
        return means

    def train(self, state, start: int, train_step, rng):
        """Compile `train_step` and run it from step `start` to `num_steps`.

        Args:
            state: The train state at step `start`.
            start: The step to continue from.
            train_step: `(state, batch, rng) -> (state, metrics)` from `make_train_step`.
            rng: The run's step key.

        Returns:
            The train state after `num_steps` steps (`state` itself if `start` is past them).

        Raises:
            UserError: If data parallelism is asked for with an incompatible mesh or batch size.
            TrainingDiverged: On a NaN/inf loss or state.
            Interrupted: On Ctrl-C, after saving what it could.
        """
        config = self.config
        if start >= config.num_steps:
            return state
        mesh = None
        if config.get("data_parallel", False) and jax.device_count() > 1:
            try:
                mesh = make_mesh(model=config.get("model_parallel", 1))
            except ValueError as e:
                raise UserError(f"model_parallel: {e}") from None
            if config.batch_size % mesh.shape["data"]:
                raise UserError(f"data_parallel: batch_size {config.batch_size} must be divisible by the "
                                f"{mesh.shape['data']} data-parallel replicas")
        if mesh is not None:  # data parallel: state replicated, each process feeds its rows of the batch
            self.replicas = mesh.shape["data"]
            state, rng = place_state(state, mesh), replicate(rng, mesh)
            batches = (shard_batch(process_rows(b), mesh) for b in self.task.train_batches(start))
        else:
            batches = self.task.train_batches(start)
        first = next(batches)
        self.batch, self.rng = first, rng
        t0 = time.perf_counter()
        if mesh is not None:
            jitted = data_parallel_step(train_step, mesh, state, first)
        else:
            jitted = jax.jit(train_step, donate_argnums=0)
        step_fn = self.step_fn = jitted.lower(state, first, rng).compile()
        self.compile_s = time.perf_counter() - t0
        bar = tqdm(total=config.num_steps, initial=start, desc=self.recipe, unit="step", disable=not self.progress,
                   dynamic_ncols=True)
        postfix = {}
        try:
            with ctrl_c_between_steps() as requested:
                state = self._steps(state, start, first, batches, step_fn, rng, bar, postfix, requested)
        except KeyboardInterrupt:
            bar.close()
            raise Interrupted(self._interrupted(state)) from None
        bar.close()
        return state

    def _steps(self, state, start, batch, batches, step_fn, rng, bar, postfix, requested):
        """Run steps `start + 1 .. num_steps` with logging, evaluation and checkpoints.

        A Ctrl-C (`requested`) stops after the step in flight, as `KeyboardInterrupt`, with
        `state` current.
        """
        config = self.config
        self.state = state
        for step in range(start + 1, config.num_steps + 1):
            state, metrics = step_fn(state, batch, rng)
            self.state = state
            self.pending.append(metrics)
            bar.update(1)
            is_log = step % config.log_every == 0 or step == config.num_steps
            is_eval = config.eval_every and step % config.eval_every == 0
            is_ckpt = step % config.checkpoint_every == 0 or step == config.num_steps
            if is_log or is_eval or is_ckpt:
                self.check_finite(step)
            if is_log:
                postfix["loss"] = f"{self.flush_log(step)['loss']:.4f}"
            if is_eval:
                scores = self.task.evaluate(state, config.eval_split)
                self.log.write(step, scores)
                postfix.update({k: f"{v:.4f}" for k, v in scores.items()})
            if is_log or is_eval:
                bar.set_postfix(postfix, refresh=False)
            if step < config.num_steps:
                batch = self.batch = next(batches)
            if is_ckpt:
                self.save(state)
            if requested:
                raise KeyboardInterrupt
        return state

    def _interrupted(self, state) -> str:
        """Save what Ctrl-C left, if it is intact and finite, and say where to resume from."""
        state = self.state if self.state is not None else state
        try:
            step = int(state.step)
            self.check_finite(step)
            if step != self.ckpt.latest_step():
                self.save(state)
        except (TrainingDiverged, RuntimeError):  # diverged, or the state's buffers were donated mid-step
            pass
        return (f"interrupted; latest checkpoint is step {self.ckpt.latest_step()} in {self.ckpt.directory}: "
                f"rerun the same command to resume")
