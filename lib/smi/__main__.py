"""Allow ``python -m smi``."""

import sys

from smi.cli import main

sys.exit(main())
