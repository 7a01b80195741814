"""`python -m mailroom.demo` tells the demo story."""

import sys

from mailroom.demo.story import main

sys.exit(main())
