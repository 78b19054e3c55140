"""RL algorithm configs: one module per algorithm with `get_config()`; the first docstring line
is what `python -m rl --list` prints.
"""
