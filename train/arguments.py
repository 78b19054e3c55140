"""An argparse parser whose errors are one-line `UserError`s (the entry-point contract)."""

import argparse

from train.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` that raises `UserError` on bad arguments instead of exiting.

    The error reads `"<message> (<prog> --help)"`, instead of the usage block.
    """

    def error(self, message):
        """Raise `UserError("<message> (<prog> --help)")`."""
        raise UserError(f"{message} ({self.prog} --help)")
