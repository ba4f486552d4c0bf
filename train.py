#!/usr/bin/env python3
"""Lab 07, simplified version: train the classifier (DALI -> PyTorch), export ONNX, write the
Triton repository.

    python train.py                      # synthetic data, CPU or GPU, into build/pipeline/
    python train.py --data DIR --epochs 10
    torchrun --nproc_per_node=2 train.py # DDP (gloo on CPU, NCCL on GPUs)

Everything happens in labkit.pipeline (see ``python train.py --help``).
"""

import sys

from labkit.pipeline.cli import train_script

if __name__ == "__main__":
    sys.exit(train_script(prog="train.py"))
