"""`python -m mailroom` runs the command line."""

import sys

from mailroom.cli import main

sys.exit(main())
