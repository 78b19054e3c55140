"""Entry point of `python -m rl`: runs `rl.cli.main`."""

import sys

from rl.cli import main

sys.exit(main())
