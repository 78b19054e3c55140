"""RL algorithm configs: one module per algorithm with `get_config()`.

The first docstring line of each module is what `python -m rl --list` prints.
"""
