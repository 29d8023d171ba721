"""``python -m contracts``: the same as the ``contracts`` console script."""

import sys

from contracts.cli import main

sys.exit(main())
