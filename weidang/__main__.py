"""`python -m weidang`: the same as the `weidang` command (the daemon starts harvests this way)."""

import sys

from weidang.cli import main

sys.exit(main())
