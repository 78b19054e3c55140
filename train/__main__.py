"""`python -m train`: the command-line entry point (see `train.cli`)."""

import sys

from train.cli import main

sys.exit(main())
