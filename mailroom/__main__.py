"""`python -m mailroom` runs the command line."""

import sys

from mailroom.cli.main import main

sys.exit(main())
