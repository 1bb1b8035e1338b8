"""``python -m infolens``: the command line."""

import sys

from infolens.cli.main import main

sys.exit(main())
