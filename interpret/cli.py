"""`python -m interpret METHOD --workdir DIR [...]`: run an interpretation method on a trained run.

Texture and style run on bundled images instead; figures go to `DIR/figures/`, numbers into
`DIR/summary.json` under `"interpret"`.

`python -m interpret --list` lists the methods; `python -m interpret METHOD --help` their options.
"""

import sys

from interpret.commands import attribution, network, synthesis
from train import compile_cache
from train.errors import UserError

# method name -> the module whose function of that name runs it; descriptions live beside them.
METHODS = {name: module for module in (attribution, network, synthesis) for name in module.DESCRIPTIONS}


def main(argv: list[str] | None = None) -> int:
    """Run the command line `python -m interpret`.

    Args:
        argv: the arguments after the program name; `sys.argv[1:]` when `None`.

    Returns:
        The process exit status, 0 on success, the `UserError`'s exit code on a user error.
    """
    argv = compile_cache.from_argv(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if argv[0] == "--list":
            for name in sorted(METHODS):
                print(f"{name:12s} {METHODS[name].DESCRIPTIONS[name]}")
            return 0
        if argv[0] not in METHODS:
            raise UserError(f"unknown method '{argv[0]}'; choose one of: {', '.join(sorted(METHODS))} "
                            f"(python -m interpret --list)")
        print(getattr(METHODS[argv[0]], argv[0])(argv[1:]))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0
