import sys

from interpret.cli import main

sys.exit(main())
