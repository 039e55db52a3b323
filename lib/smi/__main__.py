"""Allow ``python -m smi``."""

import sys

try:
    from smi.cli import main
except KeyboardInterrupt:  # interrupted while importing, before ``main`` could handle it
    print("smi: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
