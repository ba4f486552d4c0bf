#!/usr/bin/env python3
"""Lab 07, simplified version: classify images with the trained model on Triton.

    python inference.py build/pipeline/data/val/circle            # embedded CPU server
    python inference.py --url 127.0.0.1:8001 photo.jpg            # docker compose triton-server

Everything happens in labkit.pipeline (see ``python inference.py --help``).
"""

import sys

from labkit.pipeline.cli import inference_script

if __name__ == "__main__":
    sys.exit(inference_script(prog="inference.py"))
