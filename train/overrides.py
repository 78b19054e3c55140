"""`--config.KEY=VALUE` overrides, parsed against the types of the recipe's defaults."""

import ast

import ml_collections

from train.errors import UserError


def split_config_args(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split `--config.KEY=VALUE` / `--config.KEY VALUE` arguments off `argv`.

    They are split off before argparse (which misreads values with spaces).

    Returns:
        `({KEY: VALUE}, other args)`.
    """
    overrides, rest, it = {}, [], iter(argv)
    for arg in it:
        if not arg.startswith("--config."):
            rest.append(arg)
            continue
        key, sep, value = arg[len("--config."):].partition("=")
        if not sep:
            value = next(it, None)
            if value is None:
                raise UserError(f"--config.{key} needs a value: --config.{key}=VALUE")
        overrides[key] = value
    return overrides, rest


def flat_keys(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
    """Dotted names of every leaf field, e.g. `optimizer.learning_rate`."""
    keys = []
    for k, v in config.items():
        if isinstance(v, ml_collections.ConfigDict):
            keys += flat_keys(v, f"{prefix}{k}.")
        else:
            keys.append(f"{prefix}{k}")
    return keys


def parse_value(key: str, raw: str, current):
    """`raw` converted to the type of the default `current`; `UserError` when it does not fit."""
    expected = type(current).__name__
    bad = UserError(f"--config.{key}: expected {expected} like {current!r}, got {raw!r}")
    if isinstance(current, bool):
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise bad
    if isinstance(current, str):
        return raw
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        raise bad from None
    if isinstance(current, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, (tuple, list)) and isinstance(value, (tuple, list, int, float)):
        value = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        if current and not all(isinstance(v, type(current[0])) for v in value):
            raise bad
        return value
    if current is None or (type(value) is type(current)):
        return value
    raise bad


def apply_overrides(config: ml_collections.ConfigDict, overrides: dict[str, str]) -> ml_collections.ConfigDict:
    """Set each dotted `key` of `overrides` in `config` (in place) and return it."""
    valid = flat_keys(config)
    for key, raw in overrides.items():
        if key not in valid:
            raise UserError(f"unknown config key '{key}'; valid keys: {', '.join(valid)}")
        *path, leaf = key.split(".")
        node = config
        for part in path:
            node = node[part]
        node[leaf] = parse_value(key, raw, node[leaf])
    return config


def changed_fields(saved: dict, now: dict) -> list[str]:
    """List the dotted fields whose values differ between two config dicts.

    Nested dicts are flattened; tuples compare as lists, as JSON stores them.

    Returns:
        `["model.features [32, 64] -> [16, 32]", ...]`, sorted by field.
    """
    saved, now = _flatten(saved), _flatten(now)
    return [f"{k} {saved.get(k)!r} -> {now.get(k)!r}" for k in sorted(saved.keys() | now.keys())
            if saved.get(k) != now.get(k)]


def _flatten(tree: dict, prefix: str = "") -> dict:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`, tuples as lists."""
    flat = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = list(v) if isinstance(v, tuple) else v
    return flat
