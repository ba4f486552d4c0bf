"""The DALI -> PyTorch -> Triton pipeline of Lab 07, one module per stage.

- ``dataset``    synthetic ImageFolder of JPEG shapes; scanning with corrupt-file handling
- ``etl``        one DALI preprocessing definition for training and serving; PIL baseline
- ``train``      ShapesNet, the training loop (DALI iterator, atomic checkpoints, DDP)
- ``export``     ONNX with a dynamic batch axis and a pinned opset; parity check
- ``repository`` config.pbtxt from parameters; embedded (CPU) and NGC (GPU) layouts
- ``server``     the embedded tritonserver from the nvidia-pytriton wheel
- ``client``     HTTP and gRPC classification client with readable errors
- ``loadtest``   perf_analyzer's method: concurrency sweep, stability windows, CSV
- ``workflow``   the stages in order (``make pipeline``); ``cli``: ``python -m labkit.pipeline``
- ``bench``      the ``make bench pipeline`` suite

Submodules are imported on demand: ``import labkit.pipeline`` alone loads nothing heavy.
"""

__all__ = ["bench_verdicts"]


def bench_verdicts(runs: int = 5, quick: bool = True) -> list[dict]:
    """Lab 07-4's headline experiment for ``make bench``: see `optimise.bench_verdicts`."""
    from .optimise import bench_verdicts as run

    return run(runs=runs, quick=quick)
