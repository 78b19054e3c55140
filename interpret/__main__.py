"""Entry point for `python -m interpret`: runs `interpret.cli.main`."""

import sys

from interpret.cli import main

sys.exit(main())
