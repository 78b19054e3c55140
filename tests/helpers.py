"""Helpers shared by test modules."""


def train_digits(workdir: str, num_steps: int) -> str:
    """A short `classify_digits` run (default CNN, evaluated only at the end) in `workdir`."""
    from train import configs
    from train.loop import run
    from train.overrides import apply_overrides

    steps = str(num_steps)
    config = apply_overrides(configs.get_config("classify_digits"),
                             {"num_steps": steps, "eval_every": "0", "checkpoint_every": steps})
    run("classify_digits", config, workdir, progress=False)
    return workdir
