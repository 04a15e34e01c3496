"""``python -m le_brian`` = the ``le-brian`` command."""

import sys

from .cli import main

sys.exit(main())
