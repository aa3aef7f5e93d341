"""``python -m tensorgan ...`` is the ``tensorgan`` command."""
import sys

from .cli import main

sys.exit(main())
