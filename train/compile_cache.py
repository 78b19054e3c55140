"""JAX's persistent compilation cache for the command lines (`python -m train|rl|compress|interpret`).

A second run of a recipe (another seed, a resumed run, a fresh workdir) loads its compiled
programs from disk instead of compiling them again. The cache lives in
`$XDG_CACHE_HOME/jaxzoo/jax` (`~/.cache/jaxzoo/jax` without it); `JAXZOO_COMPILE_CACHE_DIR`
moves it, a `JAX_COMPILATION_CACHE_DIR` the user already set wins, and `--no-compile-cache`
turns it off for one command.
"""

import os
import sys

FLAG = "--no-compile-cache"
ENV = "JAXZOO_COMPILE_CACHE_DIR"
# programs that compile faster than this are not worth a disk round trip
MIN_COMPILE_SECONDS = 0.2


def default_directory() -> str:
    """`$JAXZOO_COMPILE_CACHE_DIR`, else `$XDG_CACHE_HOME/jaxzoo/jax`, else `~/.cache/jaxzoo/jax`."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(home, "jaxzoo", "jax")


def add_flag(parser) -> None:
    """Document `--no-compile-cache` in `parser`'s help (`from_argv` acts on it before parsing)."""
    parser.add_argument(FLAG, action="store_true",
                        help=f"compile afresh instead of reusing compiled programs from {default_directory()}")


def from_argv(argv: list[str]) -> list[str]:
    """Turn the cache on unless `argv` holds `--no-compile-cache`; `argv` without that flag."""
    if FLAG not in argv:
        enable()
    return [a for a in argv if a != FLAG]


def enable(directory: str | None = None) -> str:
    """Point JAX's persistent compilation cache at `directory` and return the directory in use.

    The default is the `JAX_COMPILATION_CACHE_DIR` already set, else `default_directory()`. Set
    through the environment, so that JAX is imported only by the commands that compile.
    """
    directory = directory or os.environ.get("JAX_COMPILATION_CACHE_DIR") or default_directory()
    settings = {"jax_compilation_cache_dir": directory,  # thresholds the user already set are kept
                "jax_persistent_cache_min_compile_time_secs":
                    float(os.environ.get("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", MIN_COMPILE_SECONDS))}
    for name, value in settings.items():
        os.environ[name.upper()] = str(value)
    if "jax" in sys.modules:  # imported already: its config has read the environment
        for name, value in settings.items():
            sys.modules["jax"].config.update(name, value)
    return directory
