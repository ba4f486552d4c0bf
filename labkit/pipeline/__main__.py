"""``python -m labkit.pipeline STAGE``: see labkit.pipeline.cli."""

import sys

from .cli import main

sys.exit(main())
