"""The `distill_digits` study: a student trained alone and distilled from teacher(s), and their test errors.

The study trains the teacher(s), the same student trained alone, and the student distilled from
the teacher(s), with the same architecture, seeds and steps, and reports the test errors of all.

Hinton et al. (2015) report on MNIST 67 test errors for the teacher, 146 for the student
alone and 74 for the distilled student. The task itself is `train.tasks.distillation`.
"""

import hashlib
import json
import os
import time

import ml_collections
import numpy as np

from train.tasks.distillation import distillation_loss


def _recipe(config, model: dict, num_steps: int, seed: int, learning_rate: float):
    """A classification recipe config (from `classify_digits`) for one model of the study."""
    from train import configs

    c = configs.get_config("classify_digits")
    c.dataset, c.data_dir, c.test_split, c.eval_split = config.dataset, config.data_dir, config.test_split, config.eval_split
    c.input_key = config.input_key
    c.seed, c.precision, c.num_steps, c.eval_every = seed, config.precision, num_steps, 0
    c.checkpoint_every, c.augment.crop_padding = num_steps, 0
    c.optimizer.learning_rate = learning_rate
    c.model = ml_collections.ConfigDict(model)
    return c


def _run_name(prefix: str, config) -> str:
    """`prefix` plus a digest of the run's config, so a changed setting never resumes a stale run."""
    digest = hashlib.sha1(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    return f"{prefix}_{digest}"


def _distilled(config, seed: int, teachers: list[str]):
    c = _recipe(config, config.student.to_dict(), config.student_steps, seed, config.student_learning_rate)
    c.task = "distillation"
    c.distill = ml_collections.ConfigDict({"teachers": tuple(teachers), "temperature": config.temperature,
                                           "alpha": config.alpha, "cache_teacher": config.cache_teacher})
    return c


def run_study(recipe: str, config, workdir: str, progress: bool = True) -> dict:
    """Train (or reuse) the teachers, then for every seed the student alone and distilled.

    Each is its own resumable run under `workdir`; writes `summary.json` and `distill.md`.
    """
    from train import data
    from train.files import write_json_atomic
    from train.loop import run

    start = time.perf_counter()
    n_test = len(data.load(config.dataset, config.test_split, config.data_dir or None)["label"])
    errors_of = lambda summary: int(round((1 - summary["test"][f"{data.split_name(config.test_split)}_accuracy"]) * n_test))
    teachers = list(config.teachers)
    teacher_errors = []
    if not teachers:
        for i in range(config.num_teachers):
            tc = _recipe(config, config.teacher.to_dict(), config.teacher_steps, 100 + i, config.teacher_learning_rate)
            teacher_dir = os.path.join(workdir, _run_name(f"teacher_{i}", tc))
            teacher_errors.append(errors_of(run(f"{recipe}/teacher_{i}", tc, teacher_dir, progress=progress)))
            teachers.append(teacher_dir)
    errors = {"alone": [], "distilled": []}
    for seed in config.seeds:
        alone = _recipe(config, config.student.to_dict(), config.student_steps, seed, config.student_learning_rate)
        for kind, c in (("alone", alone), ("distilled", _distilled(config, seed, teachers))):
            summary = run(f"{recipe}/{kind}_{seed}", c, os.path.join(workdir, _run_name(f"student_{kind}", c)),
                          progress=progress)
            errors[kind].append(errors_of(summary))
    mean = {k: float(np.mean(v)) for k, v in errors.items()}
    spread = {k: float(np.std(v)) for k, v in errors.items()}
    table = (f"| model | test errors (of {n_test}) per seed | mean | std |\n| --- | --- | --- | --- |\n"
             + (f"| teacher(s) | {teacher_errors} | {np.mean(teacher_errors):.1f} | - |\n" if teacher_errors else "")
             + "".join(f"| student {k} | {errors[k]} | {mean[k]:.2f} | {spread[k]:.2f} |\n" for k in errors))
    with open(os.path.join(workdir, "distill.md"), "w") as f:
        f.write(f"# {recipe}\n\nTemperature {config.temperature}, alpha {config.alpha}, seeds {list(config.seeds)}, "
                f"{config.student_steps} student steps.\n\n{table}")
    summary = {"recipe": recipe, "test_examples": n_test, "teacher_errors": teacher_errors, "student_errors": errors,
               "mean_errors": mean, "std_errors": spread, "teachers": teachers,
               "wall_time_s": round(time.perf_counter() - start, 3), "config": config.to_dict(),
               "headline": (f"test errors of {n_test}: teacher {teacher_errors or 'given'}, student alone "
                            f"{mean['alone']:.1f} +- {spread['alone']:.1f}, distilled {mean['distilled']:.1f} +- "
                            f"{spread['distilled']:.1f} ({len(config.seeds)} seeds) | {workdir}/distill.md")}
    write_json_atomic(os.path.join(workdir, "summary.json"), summary)
    return summary


__all__ = ["distillation_loss", "run_study"]
