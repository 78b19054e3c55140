"""Entry point for `python -m compress`: runs `compress.cli.main`."""

import sys

from compress.cli import main

sys.exit(main())
