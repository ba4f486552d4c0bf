"""Lab 07 stage 3: export the trained model to ONNX (and optionally TorchScript).

The ONNX graph has one input ``images`` (float32, N x 3 x S x S) and one output ``logits``
(float32, N x classes), with a dynamic batch axis named ``batch`` so Triton can batch
requests, and a pinned opset. ``parity()`` runs the file with ONNX Runtime next to PyTorch
on a validation batch; the lab requires max |diff| <= 1e-4. Command-line equivalent::

    python -m labkit.pipeline export --checkpoint build/pipeline/checkpoints/epoch-008.pt
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

__all__ = ["OPSET", "INPUT_NAME", "OUTPUT_NAME", "PARITY_TOLERANCE", "export_onnx",
           "export_torchscript", "onnx_session", "parity"]

# Pinned so that the exported file does not change with the torch version; tests export at
# this opset and run the file with the pinned ONNX Runtime.
OPSET = 17
INPUT_NAME, OUTPUT_NAME = "images", "logits"
PARITY_TOLERANCE = 1e-4


def export_onnx(model: torch.nn.Module, path: str | Path, *, size: int,
                opset: int = OPSET) -> Path:
    """Write ``model`` (eval mode) as ONNX with a dynamic batch axis; check it with onnx.

    Uses torch's TorchScript-based exporter (``dynamo=False``): the newer exporter needs the
    onnxscript package, which the course does not install.
    """
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    example = torch.zeros(2, 3, size, size)
    tmp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation notices
        torch.onnx.export(model, (example,), str(tmp), dynamo=False, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    onnx.checker.check_model(str(tmp))
    tmp.replace(path)
    return path


def export_torchscript(model: torch.nn.Module, path: str | Path, *, size: int) -> Path:
    """Optional: a traced TorchScript file (Triton's ``pytorch_libtorch`` platform)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model.eval().cpu(), torch.zeros(1, 3, size, size))
    traced.save(str(path))
    return path


def onnx_session(path: str | Path, *, threads: int = 1):
    """An ONNX Runtime CPU session with ``threads`` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def parity(model: torch.nn.Module, path: str | Path, images: torch.Tensor | np.ndarray) -> float:
    """Max absolute difference between PyTorch's and ONNX Runtime's logits on ``images``."""
    batch = torch.as_tensor(images, dtype=torch.float32)
    with torch.no_grad():
        expected = model.eval().cpu()(batch).numpy()
    got = onnx_session(path).run([OUTPUT_NAME], {INPUT_NAME: batch.numpy()})[0]
    if got.shape != expected.shape:
        raise ValueError(f"ONNX output shape {got.shape} differs from PyTorch's "
                         f"{expected.shape}; re-export with a dynamic batch axis")
    return float(np.abs(got - expected).max())
