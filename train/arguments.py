"""An argparse parser whose errors are one-line `UserError`s (the entry-point contract)."""

import argparse

from train.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` that raises `UserError("<message> (<prog> --help)")` instead of
    printing the usage block and exiting.
    """

    def error(self, message):
        raise UserError(f"{message} ({self.prog} --help)")
