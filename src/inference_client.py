#!/usr/bin/env python3
"""Lab 07 (the outline's src/ layout): the inference client, over gRPC or HTTP.

    python src/inference_client.py --url 127.0.0.1:8000 --protocol http IMAGES...
    python src/inference_client.py --help

The same entry point as ../inference.py; the work is in labkit.pipeline.
"""

import sys

from labkit.pipeline.cli import inference_script

if __name__ == "__main__":
    sys.exit(inference_script(prog="src/inference_client.py"))
