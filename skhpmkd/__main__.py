"""``python -m skhpmkd demo`` and ``python -m skhpmkd distill data.csv --target COLUMN``."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
