#!/usr/bin/env python3
"""Lab 07 (the outline's src/ layout): train, export and package the model for Triton.

    python src/train_model.py --target ngc      # repository for the NGC container (GPU)
    python src/train_model.py --help

The same entry point as ../train.py; the work is in labkit.pipeline.
"""

import sys

from labkit.pipeline.cli import train_script

if __name__ == "__main__":
    sys.exit(train_script(prog="src/train_model.py"))
