"""Knowledge distillation (Hinton, Vinyals & Dean 2015).

A student classifier is trained on a frozen teacher's softened outputs as well as the labels.

The teacher is one trained classification run, or an ensemble of them (their logits
averaged): the finished runs `distill.teachers` (workdirs), loaded by the loop as the run's
stages, so restoring a student needs no teacher. Its variables live in this task, never
in the student's train state: the optimizer never sees them and student checkpoints do not
hold them. Teacher logits reach the student's step inside the batch (`teacher_logits`),
computed by a jitted teacher forward pass either once for the whole training split
(`distill.cache_teacher`) or per batch; both feed the teacher exactly the inputs the
student sees, so input augmentation must be off (`augment.crop_padding=0`).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from train import data
from train.errors import UserError
from train.tasks.classification import Classification


def distillation_loss(student_logits, teacher_logits, labels, temperature: float, alpha: float):
    """The distillation loss, averaged over the batch.

    The loss is `alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(labels)`.
    The T^2 keeps the soft-target gradients' scale independent of T.

    Args:
        student_logits: `(batch, classes)` float.
        teacher_logits: `(batch, classes)` float.
        labels: `(batch,)` int.
        temperature: the softening temperature T.
        alpha: the weight of the soft-target term.

    Returns:
        `(loss, metrics)`: scalar loss and `{"kl_to_teacher", "cross_entropy"}` scalars.
    """
    log_p_student = jax.nn.log_softmax(student_logits / temperature)
    log_p_teacher = jax.nn.log_softmax(teacher_logits / temperature)
    kl = jnp.sum(jnp.exp(log_p_teacher) * (log_p_teacher - log_p_student), axis=-1).mean()
    ce = optax.softmax_cross_entropy_with_integer_labels(student_logits, labels).mean()
    loss = alpha * temperature ** 2 * kl + (1.0 - alpha) * ce
    return loss, {"kl_to_teacher": kl, "cross_entropy": ce}


class Distillation(Classification):
    """A `Classification` task whose loss is `distillation_loss`.

    Config: everything a classification recipe has, plus `distill.{teachers, temperature, alpha,
    cache_teacher}`.
    """

    def __init__(self, config, meta=None):
        super().__init__(config, meta)
        d = config.distill
        if not d.teachers:
            raise UserError("distillation needs --config.distill.teachers=(WORKDIR, ...) of trained classifiers")
        if config.augment.crop_padding or config.augment.flip:
            raise UserError("distillation feeds the teacher the student's exact inputs: set "
                            "--config.augment.crop_padding=0 and --config.augment.flip=False")
        if not (d.temperature > 0 and 0.0 <= d.alpha <= 1.0):
            raise UserError(f"distill.temperature must be > 0 and distill.alpha in [0, 1]; got "
                            f"{d.temperature}, {d.alpha}")
        self._teachers = []   # (logits_fn, variables) of each teacher, from `start_from`

    def stages(self) -> dict:
        """The teachers: the finished runs `distill.teachers`, loaded by the loop."""
        return {f"teacher{i}": workdir for i, workdir in enumerate(self.config.distill.teachers)}

    def start_from(self, runs: dict) -> None:
        """Keep each teacher's logits function and variables; every teacher must be a classification run."""
        for workdir, (task, state) in zip(self.config.distill.teachers, runs.values()):  # stages() order
            if task.config.task != "classification":
                raise UserError(f"distill.teachers must be classification runs; {workdir} holds a "
                                f"'{task.config.task}' run")
            self._teachers.append((task.logits, state.variables()))

    @functools.cached_property
    def _teacher_logits(self):
        """Jitted `inputs -> mean teacher logits (float32)`; teacher variables are arguments."""
        fns = [fn for fn, _ in self._teachers]

        @jax.jit
        def logits(variables, inputs):
            return jnp.mean(jnp.stack([fn(v, inputs).astype(jnp.float32) for fn, v in zip(fns, variables)]), 0)

        variables = [v for _, v in self._teachers]
        return lambda inputs: logits(variables, inputs)

    def teacher_logits(self, inputs, batch_size: int = 512) -> np.ndarray:
        """Mean teacher logits `(n, classes)` for `inputs: (n, ...)`, in chunks of `batch_size`."""
        return np.concatenate([np.asarray(self._teacher_logits(jnp.asarray(inputs[i:i + batch_size])))
                               for i in range(0, len(inputs), batch_size)])

    def train_batches(self, start_step):
        """Classification batches with the mean teacher logits added as `teacher_logits: (batch, classes)`.

        With `distill.cache_teacher` the teacher runs once over the whole training split; otherwise on
        each batch.
        """
        if not self._teachers:
            raise RuntimeError("no teachers: train.loop.run loads them from stages() before training")
        train = self.split("train")
        if self.config.distill.cache_teacher:
            train = dict(train, teacher_logits=self.teacher_logits(train["inputs"]))
            return data.train_batches(train, self.config.batch_size, self.config.seed, start_step)
        return (dict(b, teacher_logits=np.asarray(self._teacher_logits(jnp.asarray(b["inputs"]))))
                for b in super().train_batches(start_step))

    def loss_fn(self, params, state, batch, rng):
        """`distillation_loss` of the student on `batch`, plus its batch `accuracy`; updates `batch_stats`."""
        mutable = ["batch_stats"] if state.batch_stats is not None else []
        logits, updates = state.apply_fn(state.variables(params), batch["inputs"], train=True, mutable=mutable,
                                         rngs={"dropout": rng})
        logits = logits.astype(jnp.float32)
        d = self.config.distill
        loss, metrics = distillation_loss(logits, batch["teacher_logits"], batch["label"], d.temperature, d.alpha)
        metrics["accuracy"] = jnp.mean(jnp.argmax(logits, -1) == batch["label"])
        return loss, (metrics, dict(updates))
