"""Lab 07 stage 1: ETL with NVIDIA DALI, and the PIL + DataLoader baseline it is measured against.

One preprocessing definition, ``preprocess()``, serves training and serving (no
train/serve skew): decode, resize to ``size`` x ``size``, (training only) random mirror,
normalise with the ImageNet mean and std into float32 CHW. ``DaliLoader`` puts
DALI's file reader in front of it; ``serving_pipeline()`` puts an ``external_source``
named ``DALI_INPUT_0`` in front of it, the input Triton's DALI backend feeds
(shared/reference/perf.md §2.4).

Without a GPU the pipelines run with ``device_id=None`` and CPU decoding; with one they
decode with ``device="mixed"`` (nvJPEG) (perf.md §2.2). Equivalent in DALI's own terms::

    @pipeline_def(batch_size=64, num_threads=2, device_id=None)
    def pipe():
        jpegs, labels = fn.readers.file(files=..., labels=..., name="Reader")
        images = fn.decoders.image(jpegs, device="cpu")
        ...
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .dataset import ImageFolder

__all__ = ["MEAN", "STD", "preprocess", "serving_pipeline",
           "serialize_serving_pipeline", "DaliLoader", "dali_loader", "PilImageDataset",
           "BaselineLoader", "baseline_loader", "measure_throughput", "Throughput",
           "default_device_id", "pil_preprocess"]

# ImageNet statistics in 0-255 units, the values torchvision and the DALI examples use.
MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)


def default_device_id() -> int | None:
    """0 when torch sees a CUDA GPU, else None (DALI's CPU-only mode)."""
    return 0 if torch.cuda.is_available() else None


def preprocess(jpegs, *, size: int, train: bool, decode_device: str = "cpu", mirror=None):
    """The shared transforms, as DALI operators: decode, resize, [mirror], normalise.

    ``jpegs`` is a DataNode of encoded images. ``decode_device`` is ``"cpu"`` or
    ``"mixed"`` (GPU decode; needs a pipeline with a ``device_id``). Returns float32 CHW.
    """
    from nvidia.dali import fn, types

    images = fn.decoders.image(jpegs, device=decode_device, output_type=types.RGB)
    images = fn.resize(images, resize_x=size, resize_y=size)
    if train and mirror is None:
        mirror = fn.random.coin_flip(probability=0.5)
    return fn.crop_mirror_normalize(images, dtype=types.FLOAT, output_layout="CHW",
                                    mean=list(MEAN), std=list(STD),
                                    mirror=mirror if train else 0)


def _decode_device(device_id: int | None) -> str:
    return "cpu" if device_id is None else "mixed"


def _training_pipeline(folder: ImageFolder, *, batch_size: int, size: int, train: bool,
                      num_threads: int = 2, device_id: int | None = None, seed: int = 0,
                      shard_id: int = 0, num_shards: int = 1):
    """A built DALI pipeline: file reader (named "Reader") -> ``preprocess`` -> (images, labels).

    ``train=True`` shuffles and mirrors at random; shards split the files between DDP ranks.
    Private: Lab 07-1's first exercise asks students to write this pipeline themselves.
    """
    from nvidia.dali import fn, pipeline_def

    @pipeline_def(batch_size=batch_size, num_threads=num_threads, device_id=device_id,
                  seed=seed)
    def pipe():
        jpegs, labels = fn.readers.file(files=[str(f) for f in folder.files],
                                        labels=list(folder.labels), random_shuffle=train,
                                        shard_id=shard_id, num_shards=num_shards,
                                        name="Reader", seed=seed)
        images = preprocess(jpegs, size=size, train=train,
                            decode_device=_decode_device(device_id))
        return images, labels

    p = pipe()
    p.build()
    return p


def serving_pipeline(*, batch_size: int, size: int, num_threads: int = 1,
                     device_id: int | None = None):
    """``external_source("DALI_INPUT_0")`` (encoded bytes, uint8) -> ``preprocess(train=False)``."""
    from nvidia.dali import fn, pipeline_def, types

    @pipeline_def(batch_size=batch_size, num_threads=num_threads, device_id=device_id)
    def pipe():
        jpegs = fn.external_source(name="DALI_INPUT_0", dtype=types.UINT8, ndim=1,
                                   device="cpu")
        return preprocess(jpegs, size=size, train=False,
                          decode_device=_decode_device(device_id))

    return pipe()


def serialize_serving_pipeline(path: str | Path, *, batch_size: int, size: int,
                               gpu: bool) -> Path:
    """Write ``model.dali`` for Triton (embedded Python backend or NGC's DALI backend).

    ``gpu=True`` serialises mixed (nvJPEG) decoding, which works without a GPU here: the
    DALI backend sets the device when it loads the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pipe = serving_pipeline(batch_size=batch_size, size=size, device_id=None)
    if gpu:
        from nvidia.dali import fn, pipeline_def, types

        @pipeline_def(batch_size=batch_size, num_threads=1, device_id=None)
        def gpu_pipe():
            jpegs = fn.external_source(name="DALI_INPUT_0", dtype=types.UINT8, ndim=1,
                                       device="cpu")
            return preprocess(jpegs, size=size, train=False, decode_device="mixed")

        pipe = gpu_pipe()
    tmp = path.with_suffix(".tmp")
    pipe.serialize(filename=str(tmp))
    tmp.replace(path)
    return path


class DaliLoader:
    """DALI's PyTorch iterator as ``(images, labels)`` batches; restarts every epoch.

    Uses ``DALIGenericIterator(reader_name="Reader")`` so shards and the last partial batch
    are counted right (perf.md §2.3).
    """

    def __init__(self, folder: ImageFolder, *, batch_size: int, size: int, train: bool,
                 num_threads: int = 2, device_id: int | None = None, seed: int = 0,
                 shard_id: int = 0, num_shards: int = 1):
        from nvidia.dali.plugin.pytorch import DALIGenericIterator, LastBatchPolicy

        self._pipeline = _training_pipeline(folder, batch_size=batch_size, size=size,
                                          train=train, num_threads=num_threads,
                                          device_id=device_id, seed=seed,
                                          shard_id=shard_id, num_shards=num_shards)
        policy = LastBatchPolicy.DROP if train else LastBatchPolicy.PARTIAL
        self.iterator = DALIGenericIterator([self._pipeline], ["images", "labels"],
                                            reader_name="Reader", auto_reset=True,
                                            last_batch_policy=policy)

    def __len__(self) -> int:
        return len(self.iterator)

    def __iter__(self):
        for batch in self.iterator:
            data = batch[0]
            yield data["images"], data["labels"].reshape(-1).long()


def dali_loader(folder: ImageFolder, *, batch_size: int = 64, size: int = 64,
                train: bool = True, num_threads: int = 2, device_id: int | None = None,
                seed: int = 0, shard_id: int = 0, num_shards: int = 1) -> DaliLoader:
    """A ``DaliLoader`` (Lab 07): DALI decodes and transforms, PyTorch gets tensors."""
    return DaliLoader(folder, batch_size=batch_size, size=size, train=train,
                      num_threads=num_threads, device_id=device_id, seed=seed,
                      shard_id=shard_id, num_shards=num_shards)


def _pil_resized(source, size: int, mirror: bool) -> np.ndarray:
    from PIL import Image

    with Image.open(source) as img:
        img = img.convert("RGB").resize((size, size), Image.BILINEAR)
        if mirror:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return np.array(img)  # uint8 HWC


def _normalise(batch_hwc: torch.Tensor) -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW, minus MEAN, over STD (one vectorised op per batch)."""
    mean = torch.tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (batch_hwc.permute(0, 3, 1, 2).float() - mean) / std


def pil_preprocess(data: bytes | Path | str, *, size: int, mirror: bool = False) -> np.ndarray:
    """The baseline's twin of ``preprocess`` for one image: float32 CHW, normalised."""
    import io

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    resized = torch.from_numpy(_pil_resized(source, size, mirror))
    return _normalise(resized[None])[0].numpy()


class PilImageDataset(torch.utils.data.Dataset):
    """The baseline's dataset: PIL decode, bilinear resize and mirror; uint8 HWC out.

    Normalisation happens once per batch in ``BaselineLoader``: moving uint8 rather than
    float32 between worker processes is four times less data (a tuned baseline, not a
    straw man).
    """

    def __init__(self, folder: ImageFolder, *, size: int, train: bool):
        self.folder, self.size, self.train = folder, size, train

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int):
        # torch's generator: the DataLoader seeds each worker's from its own generator.
        mirror = self.train and bool(torch.rand(()) < 0.5)
        image = _pil_resized(self.folder.files[index], self.size, mirror)
        return torch.from_numpy(image), self.folder.labels[index]


class BaselineLoader:
    """A torch DataLoader over ``PilImageDataset`` that yields normalised float batches."""

    def __init__(self, folder: ImageFolder, *, batch_size: int, size: int, train: bool,
                 workers: int, seed: int):
        generator = torch.Generator().manual_seed(seed)
        self.loader = torch.utils.data.DataLoader(
            PilImageDataset(folder, size=size, train=train), batch_size=batch_size,
            shuffle=train, drop_last=train, num_workers=workers, generator=generator,
            persistent_workers=workers > 0)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for images, labels in self.loader:
            yield _normalise(images), labels.long()


def baseline_loader(folder: ImageFolder, *, batch_size: int = 64, size: int = 64,
                    train: bool = True, workers: int = 2, seed: int = 0) -> BaselineLoader:
    """The PIL + DataLoader baseline (Lab 07) with ``workers`` worker processes."""
    return BaselineLoader(folder, batch_size=batch_size, size=size, train=train,
                          workers=workers, seed=seed)


@dataclass(frozen=True)
class Throughput:
    """Images per second over ``images`` images (after ``warmup`` discarded batches)."""

    images: int
    seconds: float

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


def measure_throughput(loader: Iterable, *, epochs: int = 1, warmup: int = 2,
                       progress: str | None = None) -> Throughput:
    """Time ``epochs`` passes over ``loader``, not counting the first ``warmup`` batches.

    The warm-up hides one-off costs (worker start, pipeline build, first prefetch).
    """
    iterator = loader
    if progress:
        from tqdm.auto import tqdm

        iterator = _Epochs(loader, epochs)
        iterator = tqdm(iterator, desc=progress, unit="batch", total=len(iterator))
    else:
        iterator = _Epochs(loader, epochs)
    images = 0
    start = None
    for step, (batch, _labels) in enumerate(iterator):
        if step == warmup:
            start = time.perf_counter()  # the clock starts once this batch has arrived
        elif step > warmup:
            images += int(batch.shape[0])
    seconds = time.perf_counter() - start if start is not None else 0.0
    return Throughput(images, seconds)


class _Epochs:
    def __init__(self, loader, epochs: int):
        self.loader, self.epochs = loader, epochs

    def __len__(self) -> int:
        return len(self.loader) * self.epochs

    def __iter__(self):
        for _ in range(self.epochs):
            yield from self.loader


def _grey_levels(a, b) -> float:
    """Mean |a - b| of two (N, 3, H, W) normalised batches in 0-255 grey levels.

    The course's answer to Lab 07-1's skew exercise, used only when the student's fails.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the batches differ in shape: {a.shape} and {b.shape}")
    return float((np.abs(a - b) * np.asarray(STD).reshape(1, 3, 1, 1)).mean())
