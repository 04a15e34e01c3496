"""``python -m le_brian.cli`` = the ``le-brian`` command."""

import sys

from . import main

sys.exit(main())
